import * as Args from '@oclif/core/args';
import {dnsLookup} from '../lib/cli/dns.js';
import {RouterCommand} from '../lib/cli/router-command.js';

export default class DnsLookup extends RouterCommand {
  static override summary = 'Ask weaveDNS for the addresses of a name';

  static override description = `Prints the addresses one a line (in the random order weaveDNS gives them), nothing for a name it does not know. A name without a dot is taken in the DNS domain: web means web.weave.local.`;

  static override examples = ['<%= config.bin %> dns-lookup web', '<%= config.bin %> dns-lookup web.weave.local'];

  static override args = {
    name: Args.string({description: 'Name to look up', required: true}),
  };

  async run(): Promise<void> {
    const {args, flags} = await this.parse(DnsLookup);
    this.write(await dnsLookup(this.client(flags['http-addr']), args.name));
  }
}
