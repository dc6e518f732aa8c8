import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import {imageFlag} from '../lib/cli/flags.js';
import {DockerCommand} from '../lib/cli/docker-command.js';
import {runSteps} from '../lib/display/task-list.js';
import {RouterLaunch} from '../lib/docker/launch.js';
import {LOG_LEVELS} from '../lib/router/log.js';

export default class Launch extends DockerCommand {
  static override summary = 'Start the weave router in a Docker container, connecting to the peers given';

  static override description = `Builds the router image locally when no registry has it, installs the weave CNI plugin, starts the container 'weave' (WEAVE_CONTAINER_NAME) with host networking, a few capabilities instead of --privileged, restart policy "always" and a volume for its state, waits until the router answers, and prints the container's id. Progress goes to stderr.

Router flags not listed below (--name, --nickname, --ipalloc-init, --ipalloc-default-subnet, --trusted-subnets, --no-discovery, --conn-limit, --resume, --mtu, ...) are passed to the router as given. The password reaches the router in its environment, never its arguments. Exit codes: 3 the router already runs, 2 another container is named 'weave', 1 other failures.`;

  static override examples = [
    '<%= config.bin %> launch',
    '<%= config.bin %> launch 192.168.1.12 192.168.1.13',
    '<%= config.bin %> launch --password s3cret --ipalloc-range 10.40.0.0/16 host2',
    '<%= config.bin %> launch --no-restart --log-level debug',
    'WEAVE_IMAGE=registry.example.com/weave-net:1.0.0 <%= config.bin %> launch host2',
  ];

  // The arguments are parsed as the original did (parseLaunchArgs): unknown router flags pass through.
  static override strict = false;

  static override args = {
    peers: Args.string({description: 'peers to connect to: <ip_address_or_fqdn>[:<port>]'}),
  };

  static override flags = {
    password: Flags.string({description: 'Encrypt the traffic between peers with this password [default: $WEAVE_PASSWORD]'}),
    port: Flags.integer({description: 'TCP port of the peer mesh [default: $WEAVE_PORT, else 6783]'}),
    'ipalloc-range': Flags.string({description: 'IP range all peers allocate from; "" disables IPAM [default: 10.32.0.0/12]', aliases: ['iprange']}),
    'no-restart': Flags.boolean({description: 'Do not let Docker restart the router (restart policy "no" instead of "always")'}),
    image: imageFlag,
    'log-level': Flags.string({description: "The router's log level [default: info]", options: LOG_LEVELS}),
  };

  async run(): Promise<void> {
    const launch = new RouterLaunch(this.argv);
    await runSteps(launch.steps());
    for (const line of launch.warnings) this.warning(line);
    this.log(launch.containerId);
  }
}
