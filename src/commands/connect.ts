import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import {checkPeers} from '../lib/cli/arguments.js';
import {RouterCommand} from '../lib/cli/router-command.js';
import {UsageError} from '../lib/errors.js';

export default class Connect extends RouterCommand {
  static override summary = 'Add peers for the router to connect to (its targets)';

  static override description = `Each peer is <ip_address_or_fqdn>[:<port>]. With --replace, the peers given replace all the targets; --replace alone forgets them all. Targets persist across router restarts.`;

  static override examples = [
    '<%= config.bin %> connect 192.168.48.12',
    '<%= config.bin %> connect --replace host2:6783 host3',
    '<%= config.bin %> connect --replace',
  ];

  static override strict = false;

  static override args = {
    peer: Args.string({description: '<ip_address_or_fqdn>[:<port>] (repeatable)'}),
  };

  static override flags = {
    replace: Flags.boolean({description: 'Replace all targets with the peers given (none: forget them all)'}),
  };

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Connect);
    const peers = argv as string[];
    if (peers.length === 0 && !flags.replace) throw new UsageError("'weave connect' needs at least one peer (or --replace to forget all targets)");
    checkPeers(peers, 'connect');
    await this.client(flags['http-addr']).connect(peers, flags.replace);
  }
}
