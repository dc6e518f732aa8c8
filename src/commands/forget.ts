import * as Args from '@oclif/core/args';
import {checkPeers} from '../lib/cli/arguments.js';
import {RouterCommand} from '../lib/cli/router-command.js';
import {UsageError} from '../lib/errors.js';

export default class Forget extends RouterCommand {
  static override summary = "Remove peers from the router's targets";

  static override description = `Connections already made stay up; the router just stops reconnecting to them.`;

  static override examples = ['<%= config.bin %> forget 192.168.48.12', '<%= config.bin %> forget host2 host3:6783'];

  static override strict = false;

  static override args = {
    peer: Args.string({description: '<ip_address_or_fqdn>[:<port>] (repeatable)'}),
  };

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Forget);
    const peers = argv as string[];
    if (peers.length === 0) throw new UsageError("'weave forget' needs at least one peer");
    checkPeers(peers, 'forget');
    await this.client(flags['http-addr']).forget(peers);
  }
}
