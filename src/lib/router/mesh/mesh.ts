import {randomInt} from 'node:crypto';
import {EventEmitter} from 'node:events';
import type {Logger} from '../log.js';
import type {RouterState} from '../state.js';
import {type PeerAddress, resolvePeers} from './address.js';
import type {MeshConnection} from './connection.js';
import {Connector, MeshError, randomU64} from './connector.js';
import {type DataPlaneKeys, passwordKey} from './crypto.js';
import {decodeGossip, type Gossip, GossipChannel, type GossipHeader, type GossipNetwork, type Gossiper, SurrogateGossiper} from './gossip.js';
import {GOSSIP_INTERVAL_MS, HANDSHAKE_TIMEOUT_MS, HEARTBEAT_MS, OUR_VERSIONS, ProtocolError, Tag} from './protocol.js';
import {Routes} from './routes.js';
import {type ConnectionFacts, connectionFacts, liveConnectionInfo, NO_OVERLAY, type OverlayDescriber, peerInfos} from './status.js';
import {initialTargets, type SavedTargets, TargetStore} from './target-store.js';
import {Pacer} from '../pacer.js';
import {LegacyPeers} from './legacy-peer.js';
import {ConnectionMaker, NeverRetryError} from './targets.js';
import {TopologyData, TopologyGossiper} from './topology-gossip.js';
import {Topology, type UpdateResult} from './topology.js';

export interface MeshOptions {
  /** Peer name, a MAC such as 8a:3e:3e:3e:3e:3e. */
  name: string;
  nickName: string;
  port: number;
  /** Address to listen on and dial from; all addresses when unset. */
  host?: string;
  /** With a password, peers must prove the same one, and all control traffic is encrypted. */
  password?: string;
  /** Most connections at once; 0 for no limit. */
  connLimit: number;
  /** Connect to the peers others are connected to (off with --no-discovery). */
  discovery: boolean;
  /** CIDRs whose peers may receive pod traffic unencrypted. */
  trustedSubnets: string[];
  /** Targets from the command line. */
  peers: string[];
  /** Start from the saved targets rather than `peers`. */
  resume: boolean;
  /** The saved targets live at `<dbPrefix>peers.json`. */
  dbPrefix: string;
  /** --min-protocol-version: the lowest protocol version offered and accepted (default: ours). */
  protocolMinVersion?: number;
  log: Logger;
  heartbeatMs?: number;
  gossipIntervalMs?: number;
  handshakeTimeoutMs?: number;
}

/** What the mesh tells its listeners (which must not throw: they run inside the mesh's own work). */
export interface MeshEvents {
  /** A peer became known (perhaps only by name, until it describes itself). */
  peerAdded: [name: string];
  /** A peer no path leads to any more was dropped from the topology. */
  peerRemoved: [name: string];
  connectionEstablished: [connection: ConnectionFacts];
  connectionClosed: [connection: ConnectionFacts, reason: string];
  /** Anything in the topology changed (peers, connections, addresses); once per burst. */
  topologyChanged: [];
}

/** What the mesh puts in RouterState for the status views. */
export type MeshStatus = Pick<RouterState, 'encryption' | 'peerDiscovery' | 'trustedSubnets' | 'targets' | 'connections' | 'peers' | 'unicastRoutes' | 'broadcastRoutes' | 'terminationCount'>;

/** How long changes to our own record gather before they are broadcast... */
const ANNOUNCE_AFTER_MS = 50;

/**
 * ...and how far apart announcements are at least when they bring no news of a peer (a
 * connection established to one others know already). Each costs every peer a decode and a
 * merge: while a mesh of 20 forms, they came by the hundred and took a third of its CPU. In a
 * larger mesh each goes to more peers, each peer hears from more, and each record is longer:
 * spaced by the square of the peers, the announcements of all cost in all about as much per
 * second as in a mesh of 30. 500 ms up to 31 peers, 1.25 s at 50, 5 s at 100. Peers learn of each
 * other at once still (a peer met is urgent), and the first peer, which all others dial, relays
 * everyone's announcements while the mesh is a star: at 2 s it spent all its CPU relaying.
 */
const announceGapMs = (peers: number): number => Math.max(500, (peers * peers) / 2);

/**
 * How far apart gossip is written to one neighbour at least, by the square of the neighbours: 8
 * ms at 20, 50 at 50, 200 at 100 and more. Each write is a TCP segment that wakes the peer. While
 * a mesh of 100 forms, the first peer relays everyone's announcements to everyone, and wrote each
 * on its own, on the 2% of a core it got: what comes meanwhile is merged, and goes in one write.
 * A small mesh keeps its gossip prompt: IPAM's consensus takes several rounds of it, and 40 ms a
 * hop at 20 peers doubled the time to the first allocation.
 */
const writeGapMs = (neighbours: number): number => Math.min(200, (neighbours * neighbours) / 50);

/**
 * Peers no path leads to any more are looked for this long after gossip that may have stranded
 * some, and no more often than every COLLECT_GAP_MS: each look goes through every connection of
 * every peer, and while a mesh of 100 forms most updates drop a connection somewhere. A peer
 * stranded for a moment meanwhile (its only reported connection replaced) is not dropped then.
 */
const COLLECT_AFTER_MS = 200;
const COLLECT_GAP_MS = 1000;

/** uid 0 marks a peer known only by name. */
const randomUid = (): bigint => randomU64() || randomUid();

/**
 * The peer mesh on TCP 6783, as weaveworks/mesh: connections to targets and discovered peers,
 * a topology every peer learns by gossip, and named gossip channels (IPAM's ring) relayed over
 * it. Single-threaded: every change happens in one event-loop turn, so there are no locks.
 */
export class Mesh extends EventEmitter<MeshEvents> implements GossipNetwork {
  readonly ourName: string;
  readonly uid = randomUid();
  readonly topology: Topology;
  readonly routes: Routes;
  /** How the data plane carries each connection, for `status connections`; the data plane sets it. */
  describeOverlay: OverlayDescriber = NO_OVERLAY;
  private readonly maker: ConnectionMaker;
  private readonly channels = new Map<string, GossipChannel>();
  private readonly topologyChannel: GossipChannel;
  private readonly topologyGossiper: TopologyGossiper;
  private readonly live = new Map<string, MeshConnection>();
  private readonly connector: Connector;
  private readonly log: Logger;
  private readonly legacyPeers: LegacyPeers;
  private gossipTimer?: NodeJS.Timeout;
  private stopping = false;
  private changeQueued = false;
  private readonly toAnnounce = new Set<string>();
  private readonly announcer = new Pacer(() => this.announce(), ANNOUNCE_AFTER_MS);
  private readonly collector = new Pacer(() => this.collect(), COLLECT_AFTER_MS, COLLECT_GAP_MS);
  /** What start() connects to, checked by create(). */
  private initial: {resolved: PeerAddress[]; discovered: string[]} = {resolved: [], discovered: []};

  private constructor(
    private readonly opts: MeshOptions,
    private readonly passwordKey: Buffer | undefined,
    private readonly store: TargetStore,
  ) {
    super();
    this.ourName = opts.name;
    this.log = opts.log;
    this.legacyPeers = new LegacyPeers(opts.log);
    this.topology = new Topology({name: opts.name, nickName: opts.nickName, uid: this.uid, shortId: randomInt(1 << 12), hasShortId: true, port: opts.port});
    this.routes = new Routes(this.topology);
    this.topologyGossiper = new TopologyGossiper(this.topology, result => this.merged(result), {
      unicast: (peer, message) => this.unicastToNeighbour(peer, message),
      send: (peer, data) => this.topologyChannel.sendTo(peer, data),
    });
    this.topologyChannel = this.addChannel('topology', this.topologyGossiper);
    this.maker = new ConnectionMaker({
      ourName: opts.name,
      port: opts.port,
      discovery: opts.discovery,
      connections: () => [...this.live.values()].map(c => ({peer: c.remote.name, address: c.address, outbound: c.outbound, listenPort: c.remote.port})),
      peers: () => this.topology.all(),
      attempt: (address, acceptNewPeer) => this.attempt(address, acceptNewPeer),
      discoveredChanged: () => this.store.saveSoon(() => this.saved()),
    });
    const {ourself} = this.topology;
    this.connector = new Connector(
      {
        port: opts.port,
        ...(opts.host ? {host: opts.host} : {}),
        ...(passwordKey ? {passwordKey} : {}),
        trustedSubnets: opts.trustedSubnets,
        versions: {...OUR_VERSIONS, min: opts.protocolMinVersion ?? OUR_VERSIONS.min},
        heartbeatMs: opts.heartbeatMs ?? HEARTBEAT_MS,
        writeGapMs: () => writeGapMs(this.live.size),
        handshakeTimeoutMs: opts.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS,
        log: opts.log,
        intro: () => ({name: ourself.name, nickName: ourself.nickName, uid: ourself.uid, shortId: ourself.shortId, port: opts.port}),
      },
      {
        handshaken: (conn, acceptNewPeer) => {
          this.legacyPeers.connected(conn.address);
          const refusal = this.stopping ? new Error('router stopping') : this.add(conn, acceptNewPeer);
          if (refusal) conn.shutdown(refusal);
          else conn.start();
        },
        aborted: (address, reason) => this.maker.connectionAborted(address, reason),
        failed: (address, outbound, reason) => {
          this.legacyPeers.failed(address, outbound, reason);
          this.maker.connectionTerminated(address, outbound, reason);
        },
        frame: (conn, body) => this.onFrame(conn, body),
        closed: (conn, reason) => this.onClosed(conn, reason),
      },
    );
  }

  /**
   * Prepares the mesh and checks its initial targets (the saved ones on a restart or with
   * --resume); a peer that does not resolve is fatal, as in the original. The port is bound
   * already, and peers that dial get their handshake answered, but no connection is made or
   * added until start(), so other concerns can add their gossip channels first.
   */
  static async create(options: MeshOptions): Promise<Mesh> {
    const key = options.password ? await passwordKey(options.password) : undefined;
    const store = new TargetStore(options.dbPrefix, options.log);
    const initial = await initialTargets(store, options.resume, options.peers, options.log);
    const {resolved, errors} = await resolvePeers(initial.targets);
    if (errors.length > 0) throw new MeshError(errors.join('\n'));
    const mesh = new Mesh(options, key, store);
    mesh.initial = {resolved, discovered: initial.discovered};
    await mesh.connector.listen();
    return mesh;
  }

  /** Takes the peers that dialled us meanwhile, connects to the initial targets and starts the periodic gossip. */
  async start(): Promise<void> {
    this.connector.open();
    this.maker.initiate(this.initial.resolved, false);
    this.maker.remember(this.initial.discovered);
    await this.persist();
    await this.store.markStarted();
    this.gossipTimer = setInterval(() => this.gossipAll(), this.opts.gossipIntervalMs ?? GOSSIP_INTERVAL_MS);
    this.log.info('mesh started', {name: `${this.ourName}(${this.opts.nickName})`, port: this.opts.port, encryption: this.passwordKey !== undefined});
  }

  // ----- the API other concerns use -----

  /** A named gossip channel (e.g. "IPallocation"); what arrives on it goes to `gossiper`. */
  newGossip(name: string, gossiper: Gossiper): Gossip {
    const existing = this.channels.get(name);
    if (existing && !(existing.gossiper instanceof SurrogateGossiper)) throw new Error(`duplicate gossip channel ${name}`);
    return this.addChannel(name, gossiper);
  }

  private addChannel(name: string, gossiper: Gossiper): GossipChannel {
    if (name === '' || Buffer.byteLength(name) > 255) throw new Error(`gossip channel name must be 1 to 255 bytes: "${name}"`);
    const channel = new GossipChannel(name, gossiper, this);
    this.channels.set(name, channel);
    return channel;
  }

  /** `POST /connect`: adds (or with replace, sets) targets; returns one error per bad peer, the rest are added. */
  async connect(peers: readonly string[], replace: boolean): Promise<string[]> {
    const {resolved, errors} = await resolvePeers(peers);
    this.maker.initiate(resolved, replace);
    await this.persist();
    return errors;
  }

  /** `POST /forget`. */
  async forget(peers: readonly string[]): Promise<void> {
    this.maker.forget(peers);
    await this.persist();
  }

  targets(): string[] {
    return this.maker.directPeers();
  }

  /** Whether we are still making our first connections to peers we know of (see ConnectionMaker.expectsConnections). */
  expectsConnections(): boolean {
    return this.maker.expectsConnections();
  }

  isKnownPeer(name: string): boolean {
    return this.topology.has(name);
  }

  /** The underlay IP of a peer, as we or others connect to it. */
  peerAddress(name: string): string | undefined {
    return this.topology.addressOf(name);
  }

  /** Our live connections (pending and established). */
  connections(): ConnectionFacts[] {
    return [...this.live.values()].map(connectionFacts);
  }

  /**
   * The encrypted data path's keys to `peer`: those of the established connection both ends
   * kept (of a duplicate pair, the survivor). Apart from ConnectionFacts, so no view shows them.
   */
  dataPlaneKeys(peer: string): DataPlaneKeys | undefined {
    const conn = this.live.get(peer);
    return conn?.established ? conn.dataPlaneKeys : undefined;
  }

  /** Closes the connection to `peer`: the next one brings a new handshake, hence new keys. */
  renewConnection(peer: string, reason: string): void {
    this.live.get(peer)?.shutdown(new Error(reason));
  }

  status(): MeshStatus {
    const usingPassword = this.passwordKey !== undefined;
    return {
      encryption: usingPassword,
      peerDiscovery: this.opts.discovery,
      trustedSubnets: this.opts.trustedSubnets,
      targets: this.maker.directPeers(),
      connections: [...[...this.live.values()].map(c => liveConnectionInfo(c, usingPassword, this.describeOverlay)), ...this.maker.status(), ...this.legacyPeers.status()],
      peers: peerInfos(this.topology, this.live.values()),
      unicastRoutes: this.routes.unicastTable(),
      broadcastRoutes: () => this.routes.broadcastTable(),
      terminationCount: this.maker.terminationCount,
    };
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.gossipTimer);
    this.announcer.cancel();
    this.collector.cancel();
    this.maker.stop();
    const closed = this.connector.close();
    for (const conn of this.live.values()) {
      conn.shutdown(new Error('router stopping'));
      conn.socket.destroy();
    }
    await closed;
    await this.store.flush(this.saved());
  }

  // ----- GossipNetwork -----

  link(peer: string): MeshConnection | undefined {
    return this.live.get(peer);
  }

  relayFailed(error: Error): void {
    this.log.warning('gossip not relayed', {error: error.message});
  }

  // ----- connections -----

  private saved(): SavedTargets {
    return {targets: this.maker.directPeers(), discovered: this.maker.discovered()};
  }

  private persist(): Promise<void> {
    return this.store.save(this.saved());
  }

  private limitReached(): boolean {
    return this.opts.connLimit > 0 && this.live.size >= this.opts.connLimit;
  }

  private attempt(address: string, acceptNewPeer: boolean): void {
    if (this.limitReached()) this.maker.connectionAborted(address, new Error(`Connection limit reached (${this.opts.connLimit})`));
    else this.connector.dial(address, acceptNewPeer);
  }

  /** Adds a connection that passed its handshake, or says why not. */
  private add(conn: MeshConnection, acceptNewPeer: boolean): Error | undefined {
    const {name, nickName, uid} = conn.remote;
    if (name === this.ourName) {
      if (uid === this.uid) return new NeverRetryError('cannot connect to ourself', false);
      return new NeverRetryError(`peer name collision: ${name} is the name of this router and of the peer at ${conn.address}; give each router its own --name`);
    }
    if (!acceptNewPeer && !this.topology.has(name)) return new Error(`Found unknown remote name: ${name} at ${conn.address}`);
    const duplicate = this.live.get(name);
    if (duplicate) {
      // Both ends see the same two connections with the same uids: they keep the same one.
      const error = new Error(`Multiple connections to ${name}(${nickName}) added to ${this.ourName}(${this.opts.nickName})`);
      if (conn.uid >= duplicate.uid) {
        if (conn.uid === duplicate.uid) duplicate.shutdown(error);
        return error;
      }
      this.live.set(name, conn);
      duplicate.shutdown(error);
    }
    if (!duplicate && this.limitReached()) return new Error(`Connection limit reached (${this.opts.connLimit})`);
    // A peer we already reach through others has our state from them; only a new one needs it all.
    const newPeer = this.routes.unicastAll(name) === undefined;
    this.live.set(name, conn);
    const met = this.topology.meet({name, nickName, uid, shortId: conn.remote.shortId, port: conn.remote.port});
    this.topology.setLocalConnection(name, {address: conn.address, outbound: conn.outbound, established: false});
    this.maker.connectionCreated(conn.address, conn.outbound);
    this.log.info(met ? 'connection added (new peer)' : 'connection added', {peer: `${name}(${nickName})`, address: conn.address, outbound: conn.outbound, protocolVersion: conn.version});
    if (met) this.emit('peerAdded', name);
    if (newPeer) for (const channel of this.channels.values()) channel.sendAllDown(conn);
    // A peer met for the first time is news to everyone: told at once.
    this.localChange([name], met !== undefined);
    return undefined;
  }

  private onClosed(conn: MeshConnection, reason: Error): void {
    if (this.stopping) return;
    const {name, nickName} = conn.remote;
    this.log.info('connection shutting down', {peer: `${name}(${nickName})`, address: conn.address, reason: reason.message});
    if (this.live.get(name) === conn) {
      this.live.delete(name);
      this.topology.deleteLocalConnection(name);
      this.emit('connectionClosed', connectionFacts(conn), reason.message);
      this.localChange([]);
      this.collector.ask();
    }
    this.maker.connectionTerminated(conn.address, conn.outbound, reason);
  }

  private async onFrame(conn: MeshConnection, body: Buffer): Promise<void> {
    switch (body[0]) {
      case Tag.Heartbeat:
        return;
      case Tag.Ready:
        return this.onReady(conn);
      case Tag.Gossip:
      case Tag.GossipUnicast:
      case Tag.GossipBroadcast:
        return this.onGossip(body);
      default:
        this.log.debug('ignoring unknown protocol tag', {tag: body[0], peer: conn.remote.name});
    }
  }

  private onReady(conn: MeshConnection): void {
    const {name} = conn.remote;
    if (conn.established || this.live.get(name) !== conn) return;
    conn.established = true;
    this.topology.setLocalConnection(name, {address: conn.address, outbound: conn.outbound, established: true});
    this.log.info('connection fully established', {peer: `${name}(${conn.remote.nickName})`, address: conn.address});
    this.localChange([]);
    this.emit('connectionEstablished', connectionFacts(conn));
  }

  private async onGossip(body: Buffer): Promise<void> {
    let h: GossipHeader;
    try {
      h = decodeGossip(body);
    } catch (error) {
      throw new ProtocolError(`malformed gossip message: ${(error as Error).message}`);
    }
    let channel = this.channels.get(h.channel);
    if (!channel) {
      this.log.debug('created surrogate gossip channel', {channel: h.channel});
      channel = this.addChannel(h.channel, new SurrogateGossiper());
    }
    if (h.tag === Tag.GossipUnicast) return channel.deliverUnicast(h, body);
    if (h.tag === Tag.GossipBroadcast) return channel.deliverBroadcast(h);
    return channel.deliverGossip(h);
  }

  // ----- topology -----

  /**
   * Our own record changed: everyone is told (with the records of `peers` too) a moment later,
   * so a connection added then established, or many added at once, make one message. Unless
   * `urgent` (a peer met), no sooner than announceGapMs() after the last. A connection lost is
   * not urgent: while a mesh of 100 formed, each of the 2,400 pairs that had dialled each other
   * dropped one of its two connections, and told everyone at once.
   */
  private localChange(peers: string[], urgent = false): void {
    for (const name of [this.ourName, ...peers]) this.toAnnounce.add(name);
    this.announcer.ask(urgent, announceGapMs(this.topology.size));
    this.maker.refresh();
    this.changed();
  }

  /** Broadcasts the records toAnnounce names: ours, and those of peers just met. */
  private announce(): void {
    const names = new Set(this.toAnnounce);
    this.toAnnounce.clear();
    this.topologyChannel.gossipBroadcast(new TopologyData(this.topology, names));
  }

  /** Gossip from others was merged into the topology. */
  private merged(result: UpdateResult): void {
    if (result.added.length === 0 && result.improved.size === 0 && !result.ourselfBumped) return;
    for (const peer of result.added) this.emit('peerAdded', peer.name);
    if (result.mayStrand) this.collector.ask();
    if (result.ourselfBumped) this.topologyChannel.gossipBroadcast(new TopologyData(this.topology, new Set([this.ourName])));
    this.maker.peersChanged(this.topology.size);
    this.changed();
  }

  /** Drops the peers no path leads to any more. */
  private collect(): void {
    const removed = this.topology.garbageCollect();
    if (removed.length === 0) return;
    for (const peer of removed) {
      this.log.info('removed unreachable peer', {peer: `${peer.name}(${peer.nickName})`});
      this.emit('peerRemoved', peer.name);
    }
    this.maker.peersChanged(this.topology.size);
    this.changed();
  }

  private changed(): void {
    if (this.changeQueued) return;
    this.changeQueued = true;
    setImmediate(() => {
      this.changeQueued = false;
      this.emit('topologyChanged');
    });
  }

  /** A topology unicast to a neighbour; none when it has gone meanwhile (the next round repairs). */
  private unicastToNeighbour(peer: string, message: Buffer): void {
    if (this.live.has(peer)) this.topologyChannel.gossipUnicast(peer, message);
  }

  private gossipAll(): void {
    for (const channel of this.channels.values()) {
      try {
        if (channel === this.topologyChannel) this.topologyGossiper.sendDigests(this.routes.randomNeighbours(this.ourName));
        else channel.gossipAll();
      } catch (error) {
        this.log.error('periodic gossip failed', {channel: channel.name, error: (error as Error).message});
      }
    }
  }
}
