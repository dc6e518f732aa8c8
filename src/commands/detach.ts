import * as Args from '@oclif/core/args';
import {ipsLine, parseAddressesAndContainer} from '../lib/host/addresses.js';
import {checkNames} from '../lib/cli/arguments.js';
import {DockerCommand} from '../lib/cli/docker-command.js';
import {detachContainer} from '../lib/docker/attach.js';
import {connectDocker} from '../lib/docker/client.js';

export default class Detach extends DockerCommand {
  static override summary = 'Take a Docker container off the weave network again (undo attach)';

  static override description = `With no address, every address the container holds from IPAM in the default subnet; net:<cidr> those in that subnet (both are returned to IPAM); [ip:]<cidr> the address given. Its interface "ethwe" goes with its last address. Prints the addresses on one line.`;

  static override examples = ['<%= config.bin %> detach mycontainer', '<%= config.bin %> detach net:10.32.1.0/24 mycontainer', '<%= config.bin %> detach 10.2.0.5/16 1a2b3c4d5e6f'];

  static override strict = false;

  static override args = {
    addr: Args.string({description: '[ip:]<cidr> | net:<cidr> | net:default (repeatable), then the container: a name or an id'}),
  };

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Detach);
    const {addresses, container} = parseAddressesAndContainer(argv as string[], 'detach');
    checkNames([container], 'container', 'detach');
    const {docker} = await connectDocker();
    this.write(ipsLine(await detachContainer(this.client(flags['http-addr']), docker, container, addresses)));
  }
}
