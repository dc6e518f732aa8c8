import {dnsArgs} from '../lib/cli/dns.js';
import {RouterCommand} from '../lib/cli/router-command.js';

export default class DnsArgs extends RouterCommand {
  static override summary = 'Print docker run flags that make a container resolve through weaveDNS';

  static override description = `--dns=<weaveDNS address> --dns-search=<domain>, without a newline, as the original: docker run $(weave dns-args) ...`;

  static override examples = ['docker run $(<%= config.bin %> dns-args) -ti busybox'];

  static override hidden = true;

  async run(): Promise<void> {
    const {flags} = await this.parse(DnsArgs);
    this.write(await dnsArgs(this.client(flags['http-addr'])));
  }
}
