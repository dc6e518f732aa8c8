import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import {dnsAdd, parseDnsArgs} from '../lib/cli/dns.js';
import {RouterCommand} from '../lib/cli/router-command.js';
import {dockerContainer} from '../lib/docker/dns-container.js';

export default class DnsAdd extends RouterCommand {
  static override summary = 'Give addresses a name in weaveDNS, answered on every host';

  static override description = `With a container (a Docker container, or a CNI pod's container id) and no address, its weave addresses; with no -h, its own fully qualified hostname. Without a container, the addresses and -h are needed, and the name belongs to no container. A name outside the DNS domain (weave.local. unless the router's --dns-domain says otherwise) is ignored, as the original did.`;

  static override examples = [
    '<%= config.bin %> dns-add 10.32.0.7 -h db.weave.local',
    '<%= config.bin %> dns-add mycontainer',
    '<%= config.bin %> dns-add 10.32.0.8 mycontainer -h web.weave.local',
  ];

  static override strict = false;

  static override args = {
    words: Args.string({description: '[<ip_address> ...] [<container>]'}),
  };

  static override flags = {
    fqdn: Flags.string({char: 'h', description: 'Fully qualified name, e.g. web.weave.local'}),
  };

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(DnsAdd);
    await dnsAdd(this.client(flags['http-addr']), parseDnsArgs('dns-add', argv as string[], flags.fqdn), dockerContainer);
  }
}
