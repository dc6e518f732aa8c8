import {Args, Command, Flags} from '@oclif/core';
import {DEFAULTS, RouterConfigError, routerConfig} from '../lib/router/config.js';
import {runRouter} from '../lib/router/router.js';

export default class Router extends Command {
  static override hidden = true;
  static override strict = false;
  static override description = 'Run the weave router in the foreground (the entrypoint of the router container; also runs as a plain process)';
  static override examples = [
    '<%= config.bin %> router --nickname host1 --db-prefix /var/lib/weave/weave 192.168.1.12',
    'WEAVE_PASSWORD=secret <%= config.bin %> router --ipalloc-range 10.40.0.0/16 host2 host3',
  ];

  static override args = {peers: Args.string({description: 'peers to connect to: <ip_address_or_fqdn>[:<port>]', required: false})};

  static override flags = {
    port: Flags.integer({description: 'TCP port of the peer mesh', default: DEFAULTS.port}),
    name: Flags.string({description: 'peer name: a MAC address, or a short form such as ::1'}),
    nickname: Flags.string({description: 'peer nickname (default: the host name)'}),
    'ipalloc-range': Flags.string({description: 'IP range all peers allocate from; "" disables IPAM', default: DEFAULTS.ipallocRange}),
    'ipalloc-default-subnet': Flags.string({description: 'subnet to allocate in when none is named (default: the whole range)'}),
    'ipalloc-init': Flags.string({description: 'how the IPAM ring starts: consensus[=<count>], seed=<mac>,... or observer'}),
    'http-addr': Flags.string({description: 'control API address (host:port or a unix socket path)', default: DEFAULTS.httpAddr}),
    'status-addr': Flags.string({description: 'read-only status and metrics address; "" disables it', default: DEFAULTS.statusAddr}),
    'db-prefix': Flags.string({description: 'path prefix of the files the router keeps its state in', default: DEFAULTS.dbPrefix}),
    'weave-bridge': Flags.string({description: 'name of the bridge pods attach to', default: DEFAULTS.weaveBridge}),
    mtu: Flags.integer({description: 'MTU of the weave bridge and its pods', default: Number(process.env.WEAVE_MTU) || DEFAULTS.mtu}),
    'log-level': Flags.string({description: 'debug, info, warning or error', default: DEFAULTS.logLevel}),
    'cni-socket-dir': Flags.string({description: 'directory of the root-only socket of the warm CNI path', default: DEFAULTS.cniSocketDir}),
    host: Flags.string({description: 'address the mesh listens on and dials from (default: all)'}),
    'conn-limit': Flags.integer({description: 'most peer connections at once; 0 for no limit', default: DEFAULTS.connLimit}),
    'no-discovery': Flags.boolean({description: 'connect only to the peers given, not to peers learnt from them'}),
    resume: Flags.boolean({description: 'connect to the peers saved by the previous run (no peers may be given)'}),
    'trusted-subnets': Flags.string({description: 'comma-separated CIDRs of peers that may get pod traffic unencrypted'}),
  };

  async run(): Promise<void> {
    const {flags, argv} = await this.parse(Router);
    let config;
    try {
      config = routerConfig(flags, argv as string[], process.env);
    } catch (error) {
      if (error instanceof RouterConfigError) this.error(error.message, {exit: 1});
      throw error;
    }
    await runRouter(config);
  }
}
