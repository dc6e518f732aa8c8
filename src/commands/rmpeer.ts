import * as Args from '@oclif/core/args';
import {HttpStatusError, NotFoundError} from '../lib/api/errors.js';
import {checkNames} from '../lib/cli/arguments.js';
import {RouterCommand} from '../lib/cli/router-command.js';
import {UsageError} from '../lib/errors.js';

export default class Rmpeer extends RouterCommand {
  static override summary = 'Take over the addresses of peers that are gone for good';

  static override description = `For each peer (its name or nickname), its IPAM ranges become ours; prints "<N> IPs taken over from <peer>". Exits 1 if any peer fails. Only for peers that will never come back.`;

  static override examples = ['<%= config.bin %> rmpeer host3', '<%= config.bin %> rmpeer 8a:3e:3e:3e:3e:3e 7e:21:4a:70:2f:45'];

  static override strict = false;

  static override args = {
    peer: Args.string({description: 'peer name (MAC) or nickname (repeatable)'}),
  };

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Rmpeer);
    const peers = argv as string[];
    if (peers.length === 0) throw new UsageError("'weave rmpeer' needs at least one peer name or nickname");
    checkNames(peers, 'peer name or nickname', 'rmpeer');
    const client = this.client(flags['http-addr']);
    let failed = false;
    for (const peer of peers) {
      try {
        this.write(await client.removePeer(peer));
      } catch (error) {
        // As the original: carry on with the other peers, then fail.
        if (!(error instanceof HttpStatusError || error instanceof NotFoundError)) throw error;
        process.stderr.write(error instanceof HttpStatusError && error.body.trim() ? error.body : `${error.message}\n`);
        failed = true;
      }
    }
    if (failed) this.exit(1);
  }
}
