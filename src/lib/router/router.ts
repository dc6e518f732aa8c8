import {chmod, rm} from 'node:fs/promises';
import {networkInterfaces} from 'node:os';
import {bridgeFdb} from '../net/fdb.js';
import {hostLinkOps} from '../net/netlink/link-ops.js';
import type {Server} from 'node:http';
import {WeaveIpam} from '../cni/ipam/weave.js';
import {VERSION} from '../package.js';
import {localRouterIpam} from './cni/local-ipam.js';
import {CniSocketServer} from './cni/server.js';
import {DEFAULTS} from '../defaults.js';
import type {ListenAddr} from '../net/listen-addr.js';
import type {DnsConfig, RouterConfig} from './config.js';
import {bridgeIdentity} from './dataplane/bridge.js';
import {Dataplane, type DataplaneStart} from './dataplane/dataplane.js';
import {registerDnsRoutes} from './dns/http.js';
import {DnsService} from './dns/service.js';
import {dockerEngine} from './docker/engine.js';
import {ContainerWatch} from './docker/watch.js';
import {EncryptedPath, needsEncryption} from './dataplane/encrypted-path.js';
import {registerDataplaneRoutes} from './dataplane/http.js';
import {AutoMtu, initialMtu} from './dataplane/auto-mtu.js';
import {Overlay, overlayDevice} from './dataplane/overlay.js';
import {createApiServer} from './http/server.js';
import {RouteTable} from './http/routes.js';
import {ContainerReaper} from './ipam/check-alive.js';
import {registerIpamRoutes, registerPeerRoutes} from './ipam/http.js';
import {EXPOSE_ID} from '../defaults.js';
import {NO_CONTAINER_ID} from './ipam/allocator.js';
import {parseIpamCidr} from './ipam/range.js';
import {formatAddress} from '../net/cidr.js';
import type {IpamMesh} from './ipam/gossiper.js';
import {IpamService} from './ipam/service.js';
import {persistedPeer} from './ipam/store-load.js';
import {importLegacyState} from './legacy/import.js';
import {createLogger, type Logger} from './log.js';
import {registerMeshRoutes} from './mesh/http.js';
import {Mesh} from './mesh/mesh.js';
import {PROTOCOL_MAX_VERSION} from './mesh/protocol.js';
import {derivePeerName} from './peer-name.js';
import {findExistingAddresses, type PreClaim} from './reclaim.js';
import type {RouterState} from './state.js';
import {StateLock} from './state-lock.js';
import {registerMetricsRoute, registerStatusRoutes, type StatusSources} from './status/http.js';
import {seenMacs} from './status/macs.js';

function listen(server: Server, addr: ListenAddr): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const done = () => {
      server.off('error', reject);
      resolve();
    };
    if ('socket' in addr) server.listen(addr.socket, done);
    else server.listen(addr.port, addr.host, done);
  });
}

/** What IPAM uses of the mesh: its gossip channel, the peers it knows, and who it was told to connect to. */
function ipamMesh(mesh: Mesh): IpamMesh {
  return {
    ourName: mesh.ourName,
    uid: mesh.uid,
    newGossip: (channel, gossiper) => mesh.newGossip(channel, gossiper),
    isKnownPeer: peer => mesh.isKnownPeer(peer),
    targets: () => mesh.targets(),
    onPeerRemoved: listener => mesh.on('peerRemoved', listener),
  };
}

/**
 * Before IPAM serves anyone, as the original's pre-claims: the bridge's addresses belong to
 * weave:expose, and every address a live pod on the bridge holds to that pod, whatever our data
 * says (wiped, fresh, another router's), so that none is handed out twice. A pod whose recorded
 * id our data already knows is not visited (a restart over intact data costs no process). Before
 * the ring exists such claims are answered at once and completed first when it comes.
 */
async function reclaim(ipam: IpamService, bridge: string, found: DataplaneStart, log: Logger): Promise<void> {
  log.info(`Checking for pre-existing addresses on ${bridge} bridge`);
  for (const cidr of found.cidrs) log.info(`${bridge} bridge has address ${cidr}`);
  const known = new Set((await ipam.list()).map(owned => owned.id));
  const unknown = found.pods.filter(pod => pod.containerId === undefined || !known.has(pod.containerId));
  const claims: PreClaim[] = [...found.cidrs.map(cidr => ({id: EXPOSE_ID, cidr})), ...(await findExistingAddresses(unknown, log))];
  await Promise.all(
    claims.map(async ({id, cidr, docker}) => {
      try {
        // Pods' addresses are the CNI plugin's (GC may free them), unless no id says whose they
        // are; a Docker container's go with it (check-alive), as its attach asked.
        const cni = !docker && id !== EXPOSE_ID && id !== NO_CONTAINER_ID;
        await ipam.claim(id, parseIpamCidr(cidr), {noErrorOnUnknown: true, cni, container: docker === true});
      } catch (error) {
        log.warning('cannot claim an address found in use', {id, cidr, error: (error as Error).message});
      }
    }),
  );
}

/**
 * weaveDNS: on the address asked for, else where the original's script put it (docker0's
 * address, port 53), else, on a host without Docker, on every address (the weaver's own default).
 */
function dnsService(config: DnsConfig, mesh: Mesh, log: Logger): DnsService {
  const docker = networkInterfaces()[DEFAULTS.dockerBridge]?.find(a => a.family === 'IPv4')?.address;
  const listen = config.listen ?? {host: docker ?? '0.0.0.0', port: DEFAULTS.dnsPort};
  return new DnsService(
    {domain: config.domain, ttl: config.ttl, host: listen.host, port: listen.port, defaulted: !config.listen, fallbackTimeoutMs: config.fallbackTimeoutMs, resolvConf: config.resolvConf},
    {ourName: mesh.ourName, newGossip: (channel, gossiper) => mesh.newGossip(channel, gossiper), onPeerRemoved: listener => mesh.on('peerRemoved', listener)},
    log,
  );
}

/**
 * The original's check-alive, with --docker-api and IPAM: Docker's containers are watched, and
 * the addresses of those attached with `weave attach` are freed when they go, also those that
 * went while the router was down. The engine is followed in the background once the router serves.
 */
function watchContainers(config: RouterConfig, ipam: IpamService | undefined, log: Logger): ContainerWatch | undefined {
  if (!config.dockerApi || !ipam) return undefined;
  const watch = new ContainerWatch(dockerEngine(config.dockerApi), log);
  watch.observe(new ContainerReaper(ipam, log));
  return watch;
}

/**
 * Without --mtu, the MTU until the mesh settles it: the bridge's on a restart (its pods keep
 * talking meanwhile), else one never too big, as raising it later harms no pod made meanwhile
 * and lowering it would: 1376, or less when the links towards the peers given are smaller.
 */
async function startMtu(config: RouterConfig): Promise<number> {
  const bridge = await hostLinkOps().ops.show(config.weaveBridge);
  if (bridge) return bridge.mtu;
  return Math.min(DEFAULTS.mtu, (await initialMtu(config.peers)) ?? DEFAULTS.mtu);
}

const describe = (addr: ListenAddr) => ('socket' in addr ? addr.socket : `${addr.host}:${addr.port}`);

/**
 * One router: the data plane, IPAM, the HTTP control and status APIs, and the warm CNI
 * socket, started in that order and stopped in reverse.
 */
export class WeaveRouter {
  private ready = false;
  private readonly servers: Server[] = [];
  private cniServer?: CniSocketServer;

  private constructor(
    readonly config: RouterConfig,
    readonly name: string,
    readonly dataplane: Dataplane,
    readonly ipam: IpamService | undefined,
    readonly mesh: Mesh,
    readonly dns: DnsService | undefined,
    private readonly overlay: Overlay,
    private readonly encrypted: EncryptedPath | undefined,
    private readonly autoMtu: AutoMtu | undefined,
    private readonly log: Logger,
    /** With --docker-api: Docker's containers, watched for check-alive. */
    readonly containers?: ContainerWatch,
  ) {}

  /**
   * `--name`; else the name our persisted data belongs to, so that a bridge re-created without our
   * MAC, or gone after a reboot, never makes us drop the allocations of live pods (this also
   * covers the original's keeping of a name derived the old way); else the MAC of an existing
   * bridge that has one of its own, where the original remembers its name (so we take over a
   * host from it); else the original's derivation from the host's ids. Also `--print-peer-name`.
   */
  static async peerName(config: Pick<RouterConfig, 'name' | 'weaveBridge' | 'hostRoot' | 'dbPrefix'>): Promise<string> {
    if (config.name) return config.name;
    const persisted = await persistedPeer(config.dbPrefix);
    if (persisted) return persisted;
    const fromBridge = await bridgeIdentity(config.weaveBridge);
    return fromBridge ?? (await derivePeerName({hostRoot: config.hostRoot}));
  }

  static async start(config: RouterConfig, log: Logger): Promise<WeaveRouter> {
    const name = await WeaveRouter.peerName(config);
    log.info('starting weave router', {version: VERSION, name, nickname: config.nickname, peers: config.peers});
    const {fallback} = hostLinkOps();
    if (fallback) log.info('host links through ip, as the addon has no netlink', {addon: fallback});
    const httpPort = config.httpAddr && 'port' in config.httpAddr ? config.httpAddr.port : undefined;
    // With a password, VXLAN from untrusted peers is dropped on the way in (fail closed).
    const overlaySources = config.password ? {overlaySources: config.trustedSubnets} : {};
    const mtu = config.mtu || (await startMtu(config));
    const dataplane = new Dataplane({bridge: config.weaveBridge, mtu, mac: name, meshPort: config.port, log, ...(httpPort ? {httpPort} : {}), ...overlaySources});
    const found = await dataplane.start();
    let ipam: IpamService | undefined;
    let dns: DnsService | undefined;
    let mesh: Mesh | undefined;
    let overlay: Overlay | undefined;
    let encrypted: EncryptedPath | undefined;
    let autoMtu: AutoMtu | undefined;
    let router: WeaveRouter | undefined;
    try {
      mesh = await Mesh.create({
        name,
        nickName: config.nickname,
        port: config.port,
        ...(config.host ? {host: config.host} : {}),
        ...(config.password ? {password: config.password} : {}),
        connLimit: config.connLimit,
        discovery: config.discovery,
        trustedSubnets: config.trustedSubnets,
        peers: config.peers,
        resume: config.resume,
        dbPrefix: config.dbPrefix,
        protocolMinVersion: config.protocolMinVersion,
        log,
      });
      // Before the mesh starts, as IPAM's: the channel must exist when the first peer connects.
      if (config.dns) dns = dnsService(config.dns, mesh, log);
      if (config.ipallocRange) {
        // Before the mesh starts: IPAM's gossip channel must exist when the first peer connects.
        ipam = await IpamService.open({
          range: config.ipallocRange,
          defaultSubnet: config.ipallocDefaultSubnet,
          peerName: name,
          nickname: config.nickname,
          logger: log,
          dbPrefix: config.dbPrefix,
          init: config.ipallocInit,
          mesh: ipamMesh(mesh),
          recover: config.ipamRecover,
        });
        await reclaim(ipam, config.weaveBridge, found, log);
        const names = dns;
        // A container's names go with its addresses (the original watched Docker for its death).
        if (names) ipam.onRelease((id, addr) => names.delete({containerId: id, ...(addr === undefined ? {} : {address: formatAddress(addr)})}));
      } else {
        // No IPAM to carry weave 2.8.1's state into: refused if it holds a ring, else moved aside.
        await (await importLegacyState({prefix: config.dbPrefix, ourPeer: name, haveOwnState: false, logger: log}))?.done();
      }
      overlay = await Overlay.start(mesh, {
        bridge: config.weaveBridge,
        meshPort: config.port,
        mtu,
        encryptionRequired: config.password !== undefined,
        trustedSubnets: config.trustedSubnets,
        ...(config.host ? {local: config.host} : {}),
        log,
      });
      // Each hop of a VXLAN relay is one its sender carries over VXLAN (trusted, with a password): never the sleeve's peers.
      overlay.startRelays(mesh);
      if (config.password) {
        // Peers outside --trusted-subnets get the sleeve; VXLAN (above) never carries their traffic.
        const sleeve = await EncryptedPath.start(mesh, {bridge: config.weaveBridge, mtu, port: config.port, offloads: config.sleeveOffloads, log, ...(config.host ? {address: config.host} : {})});
        const vxlan = overlay;
        encrypted = sleeve;
        mesh.describeOverlay = c => sleeve.describe(c) ?? vxlan.describe(c);
      }
      const ports = [overlay, ...(encrypted ? [encrypted] : [])];
      dataplane.onBridgeRestored(async () => {
        for (const port of ports) await port.reattach();
      });
      if (!config.mtu) {
        const [vxlan, sleeve] = [overlay, encrypted];
        autoMtu = new AutoMtu(mesh, {
          initial: mtu,
          sleeved: c => sleeve !== undefined && needsEncryption(c),
          apply: async m => {
            await dataplane.setMtu(m);
            await vxlan.setMtu(m);
            await sleeve?.setMtu(m);
          },
          log,
        });
        autoMtu.start();
      }
      await dns?.start();
      router = new WeaveRouter(config, name, dataplane, ipam, mesh, dns, overlay, encrypted, autoMtu, log, watchContainers(config, ipam, log));
      await router.serve();
      return router;
    } catch (error) {
      // The bridge, rules and overlay device stay (pods may use them); only what runs is stopped,
      // listeners too, or the process would outlive its failure.
      await router?.stopServing();
      await dns?.stop();
      await autoMtu?.stop();
      await encrypted?.stop();
      await overlay?.stop();
      await mesh?.stop();
      await ipam?.close();
      await dataplane.stop();
      throw error;
    }
  }

  private async serve(): Promise<void> {
    const {config, log} = this;
    const state = () => this.state();
    const sources: StatusSources = {
      sleeveStats: async () => this.encrypted?.stats(),
      macs: async current => seenMacs(await bridgeFdb(config.weaveBridge), current, [overlayDevice(config.port)], Date.now()),
    };
    const api = new RouteTable();
    registerStatusRoutes(api, state, sources);
    registerDataplaneRoutes(api, this.dataplane);
    if (this.ipam) registerIpamRoutes(api, this.ipam, config.cniIpamWaitMs, this.containers && (id => this.containers!.notRunning(id)));
    registerPeerRoutes(api, this.ipam);
    registerMeshRoutes(api, this.mesh);
    if (this.dns) registerDnsRoutes(api, this.dns);
    if (config.httpAddr) await this.listen(api, config.httpAddr, 'control API');
    if (config.statusAddr) {
      const status = new RouteTable();
      registerStatusRoutes(status, state, sources);
      await this.listen(status, config.statusAddr, 'status API');
    }
    if (config.metricsAddr) {
      const metrics = new RouteTable();
      registerMetricsRoute(metrics, state, sources);
      await this.listen(metrics, config.metricsAddr, 'metrics API');
    }
    this.cniServer = new CniSocketServer(config.cniSocketDir, new WeaveIpam(async () => localRouterIpam(this.ipam, this.dataplane, this.dns, config.cniIpamWaitMs)), log, {
      name: config.weaveBridge,
      link: () => this.dataplane.bridge(),
      addresses: () => this.dataplane.bridgeAddresses(),
    });
    await this.cniServer.start();
    await this.mesh.start();
    this.containers?.start();
    this.ready = true;
    log.info('router ready');
  }

  private async listen(table: RouteTable, addr: ListenAddr, what: string): Promise<void> {
    const server = createApiServer(table, line => this.log.debug(line));
    if ('socket' in addr) await rm(addr.socket, {force: true});
    try {
      await listen(server, addr);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new Error(`cannot listen on ${describe(addr)} for the ${what}: ${code === 'EADDRINUSE' ? 'the address is in use (is another router running?)' : (error as Error).message}`);
    }
    if ('socket' in addr) await chmod(addr.socket, 0o600);
    this.servers.push(server);
    this.log.info(`${what} listening`, {addr: describe(addr)});
  }

  /** Closes the warm CNI socket and the HTTP listeners. */
  private async stopServing(): Promise<void> {
    await this.cniServer?.stop();
    await Promise.all(
      this.servers.map(
        s =>
          new Promise<void>(resolve => {
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    );
  }

  state(): RouterState {
    const {config} = this;
    return {
      ready: this.ready,
      version: VERSION,
      name: this.name,
      nickName: config.nickname,
      port: config.port,
      protocolMinVersion: config.protocolMinVersion,
      protocolMaxVersion: PROTOCOL_MAX_VERSION,
      ...this.mesh.status(),
      ...(this.ipam ? {ipam: this.ipam.status()} : {}),
      ...(this.dns ? {dns: this.dns.status()} : {}),
    };
  }

  async stop(): Promise<void> {
    this.ready = false;
    this.containers?.stop();
    await this.autoMtu?.stop();
    await this.encrypted?.stop();
    await this.overlay.stop();
    await this.mesh.stop();
    await this.stopServing();
    await this.dns?.stop();
    await this.ipam?.close();
    await this.dataplane.stop();
    this.log.info('router stopped');
  }
}

/** `weave router`: runs until SIGTERM or SIGINT, then stops cleanly. */
export async function runRouter(config: RouterConfig): Promise<void> {
  const log = createLogger(config.logLevel);
  let lock: StateLock | undefined;
  let router: WeaveRouter;
  try {
    // First: a second router over the same state must change nothing before it is refused.
    lock = await StateLock.acquire(config.dbPrefix, config.nickname);
    router = await WeaveRouter.start(config, log);
  } catch (error) {
    log.error('router failed to start', {error: (error as Error).message});
    await lock?.release();
    // Exit now: whatever start left running (a child process, a timer) must not keep a failed
    // router alive, where `weave launch` and Docker would take it for one still starting.
    process.exit(1);
  }
  await new Promise<void>(resolve => {
    const stop = (signal: string) => {
      log.info('shutting down', {signal});
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  await router.stop();
  await lock.release();
}
