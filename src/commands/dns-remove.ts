import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import {dnsRemove, parseDnsArgs} from '../lib/cli/dns.js';
import {RouterCommand} from '../lib/cli/router-command.js';
import {dockerContainer} from '../lib/docker/dns-container.js';

export default class DnsRemove extends RouterCommand {
  static override summary = 'Take names out of weaveDNS again';

  static override description = `With a container and no address, every name of the container; with addresses, the names of those addresses; with -h, only that name. Without a container, the addresses and -h are needed (names given by dns-add without a container).`;

  static override examples = [
    '<%= config.bin %> dns-remove 10.32.0.7 -h db.weave.local',
    '<%= config.bin %> dns-remove mycontainer',
    '<%= config.bin %> dns-remove 10.32.0.8 mycontainer',
  ];

  static override strict = false;

  static override args = {
    words: Args.string({description: '[<ip_address> ...] [<container>]'}),
  };

  static override flags = {
    fqdn: Flags.string({char: 'h', description: 'Only this name, e.g. web.weave.local'}),
  };

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(DnsRemove);
    await dnsRemove(this.client(flags['http-addr']), parseDnsArgs('dns-remove', argv as string[], flags.fqdn), dockerContainer);
  }
}
