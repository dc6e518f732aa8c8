import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import {ipsLine, parseAddresses} from '../lib/host/addresses.js';
import {exposeAddresses} from '../lib/host/expose.js';
import {RouterCommand} from '../lib/cli/router-command.js';

export default class Expose extends RouterCommand {
  static override summary = 'Give the host an address on the weave network, so it reaches the pods';

  static override description = `With no address, the bridge gets one from IPAM in the default subnet (the same one again if it has one). net:<cidr> takes one from IPAM in that subnet; [ip:]<cidr> uses the address given. Traffic between the host and the network is masqueraded unless --without-masquerade. Prints the addresses on one line.`;

  static override examples = [
    '<%= config.bin %> expose',
    '<%= config.bin %> expose net:10.32.1.0/24',
    '<%= config.bin %> expose 10.32.0.100/12 --without-masquerade',
  ];

  static override strict = false;

  static override args = {
    addr: Args.string({description: '[ip:]<cidr> | net:<cidr> | net:default (repeatable)'}),
  };

  static override flags = {
    'without-masquerade': Flags.boolean({description: 'Do not masquerade traffic between the host and the weave network'}),
  };

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Expose);
    const addresses = parseAddresses(argv as string[], 'expose');
    const cidrs = await exposeAddresses(this.client(flags['http-addr']), addresses, flags['without-masquerade']);
    this.write(ipsLine(cidrs));
  }
}
