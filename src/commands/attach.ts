import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import {ipsLine, parseAddressesAndContainer} from '../lib/host/addresses.js';
import {checkNames} from '../lib/cli/arguments.js';
import {DockerCommand} from '../lib/cli/docker-command.js';
import {registerAttached} from '../lib/cli/dns.js';
import {attachContainer} from '../lib/docker/attach.js';
import {connectDocker} from '../lib/docker/client.js';
import {containerFqdn} from '../lib/docker/container.js';
import {parseExtraHost} from '../lib/docker/hosts-file.js';

export default class Attach extends DockerCommand {
  static override summary = 'Put a running Docker container on the weave network';

  static override description = `Gives the container an interface "ethwe" on the weave bridge (its host end is vethwepl<pid>, MTU of the bridge, hairpin on) with addresses from IPAM, held under the container's full id until it is detached, stops or is removed (the router watches Docker). With no address, one in the default subnet; net:<cidr> one in that subnet; [ip:]<cidr> the address given (claimed in IPAM when it is on). Attaching again gives the same addresses and changes nothing. Prints the addresses on one line.

Inside the container, multicast (224.0.0.0/4) goes out through ethwe and only multicast from its weave subnets comes in, as weave 2.8.1 set it up. --rewrite-hosts writes the container's /etc/hosts with its name on its weave addresses and the --add-host entries.`;

  static override examples = [
    '<%= config.bin %> attach mycontainer',
    '<%= config.bin %> attach net:10.32.1.0/24 10.2.0.5/16 mycontainer',
    '<%= config.bin %> attach --rewrite-hosts --add-host db:10.32.0.9 1a2b3c4d5e6f',
  ];

  static override strict = false;

  static override args = {
    addr: Args.string({description: '[ip:]<cidr> | net:<cidr> | net:default (repeatable), then the container: a name or an id'}),
  };

  static override flags = {
    'without-dns': Flags.boolean({description: 'Do not register the container in weaveDNS'}),
    'rewrite-hosts': Flags.boolean({description: "Rewrite the container's /etc/hosts with its weave addresses"}),
    'add-host': Flags.string({description: 'An extra /etc/hosts entry <name>:<ip> for --rewrite-hosts (repeatable)', multiple: true, multipleNonGreedy: true}),
    'no-multicast-route': Flags.boolean({description: 'Do not route multicast (224.0.0.0/4) through the weave interface'}),
  };

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Attach);
    const {addresses, container} = parseAddressesAndContainer(argv as string[], 'attach');
    checkNames([container], 'container', 'attach');
    const extraHosts = (flags['add-host'] ?? []).map(value => parseExtraHost(value, 'attach'));
    const {docker} = await connectDocker();
    const client = this.client(flags['http-addr']);
    const attached = await attachContainer(client, docker, container, {
      addresses,
      multicastRoute: !flags['no-multicast-route'],
      rewriteHosts: flags['rewrite-hosts'],
      extraHosts,
    });
    const fqdn = containerFqdn(attached.container);
    if (fqdn && !flags['without-dns']) await registerAttached(client, attached.container.id, attached.cidrs.map(c => c.split('/')[0]!), fqdn);
    this.write(ipsLine(attached.cidrs));
  }
}
