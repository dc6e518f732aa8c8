import * as Args from '@oclif/core/args';
import {ipsLine, parseAddresses} from '../lib/host/addresses.js';
import {hideAddresses} from '../lib/host/expose.js';
import {RouterCommand} from '../lib/cli/router-command.js';

export default class Hide extends RouterCommand {
  static override summary = "Take the host's addresses off the weave network again (undo expose)";

  static override description = `With no address, every address the bridge has from IPAM in the default subnet; net:<cidr> those in that subnet (both are returned to IPAM); [ip:]<cidr> the address given. Prints the addresses on one line. Hiding what is not exposed does nothing.`;

  static override examples = ['<%= config.bin %> hide', '<%= config.bin %> hide 10.32.0.100/12', '<%= config.bin %> hide net:10.32.1.0/24'];

  static override strict = false;

  static override args = {
    addr: Args.string({description: '[ip:]<cidr> | net:<cidr> | net:default (repeatable)'}),
  };

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Hide);
    const addresses = parseAddresses(argv as string[], 'hide');
    this.write(ipsLine(await hideAddresses(this.client(flags['http-addr']), addresses)));
  }
}
