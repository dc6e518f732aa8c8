import type {EventEmitter} from 'node:events';
import {isIP} from 'node:net';
import type {Logger} from '../log.js';
import type {DataPlaneKeys} from '../mesh/crypto.js';
import type {MeshEvents} from '../mesh/mesh.js';
import type {Routes} from '../mesh/routes.js';
import type {ConnectionFacts, OverlayDescriber} from '../mesh/status.js';
import {Pacer} from '../pacer.js';
import {treeBranches} from './relay-plan.js';
import {peerId} from './sleeve/keys.js';
import type {Route} from './sleeve/messages.js';
import {Sleeve, type SleeveStats} from './sleeve/sleeve.js';
import {attachTap} from './sleeve/tap.js';

/** A sleeve that failed is restarted after this, doubling up to RESTART_MAX_MS while it keeps failing. */
const RESTART_MS = 1000;
const RESTART_MAX_MS = 30_000;

/** /metrics does not wait longer than this for the sleeve's counters. */
const STATS_TIMEOUT_MS = 1000;

/** Routes follow the topology within this of a change, at most once per gap: telling the workers costs one message each. */
const ROUTES_SOON_MS = 100;
const ROUTES_GAP_MS = 500;

const ROUTE_EVENTS = ['topologyChanged', 'connectionEstablished', 'connectionClosed'] as const;

const RENEW_REASON = 'the encrypted data path restarted: a new handshake gives it new keys';

export interface EncryptedPathOptions {
  /** The weave bridge the sleeve's TAP joins. */
  bridge: string;
  /** --mtu, the pods'. */
  mtu: number;
  /** --port: the sleeve receives on UDP of the same number, as the original's. */
  port: number;
  /** --host: the address to receive on. */
  address?: string;
  /** TCP super-frames from the TAP, cut into MTU-sized datagrams in the sleeve (false: --no-sleeve-offloads). */
  offloads: boolean;
  log: Logger;
}

/** What the encrypted path needs of the mesh (the keys stay apart from ConnectionFacts). */
export type EncryptedMesh = EventEmitter<MeshEvents> & {
  readonly ourName: string;
  readonly routes: Pick<Routes, 'established'>;
  connections(): ConnectionFacts[];
  dataPlaneKeys(peer: string): DataPlaneKeys | undefined;
  renewConnection(peer: string, reason: string): void;
};

/** Pod traffic over this connection must be encrypted: a password, and the peer not trusted both ways. */
export function needsEncryption(c: ConnectionFacts): boolean {
  return c.encrypted && !c.trusted;
}

/** The connections the encrypted path is in charge of: those that need encryption, over IPv4 (the sleeve's only underlay). */
const handles = (c: ConnectionFacts): boolean => needsEncryption(c) && isIP(c.ip) === 4;

/**
 * Pod traffic to peers that share our password and are not trusted: the sleeve, keyed per
 * connection from the mesh handshake. Each established connection gives its peer fresh keys;
 * a closed one removes the peer. Fails closed: without a running sleeve (no TAP addon, no
 * /dev/net/tun, a failure being restarted) such peers get no pod traffic at all, as VXLAN never
 * carries them, and status says why. Peers we have no connection to are reached through those
 * we have, along the shortest path over the topology (as the VXLAN relays): each hop opens and
 * seals again with its own keys, so a relayed frame is never in clear on the wire. Broadcasts
 * go down their origin's spanning tree, the VXLAN relays' trees: one copy per link.
 */
export class EncryptedPath {
  private sleeve?: Sleeve;
  /** Why no sleeve runs, for status; undefined while one runs. */
  private unavailable?: string;
  /** Peers the running sleeve holds keys for. */
  private readonly peers = new Set<string>();
  private restartTimer?: NodeJS.Timeout;
  private restartMs = RESTART_MS;
  private stopped = false;
  private readonly onEstablished = (c: ConnectionFacts) => this.add(c);
  private readonly onClosed = (c: ConnectionFacts) => this.remove(c.peer);
  private readonly onPeerRemoved = (peer: string) => this.remove(peer);
  private readonly routing = new Pacer(() => this.route(), ROUTES_SOON_MS, ROUTES_GAP_MS);
  private readonly onTopology = () => this.routing.ask();
  /** Peers left out of routes for sharing an id, as last logged. */
  private clashes = '';

  private constructor(
    private readonly mesh: EncryptedMesh,
    /** Its MTU changes with the pods' (setMtu). */
    private readonly options: EncryptedPathOptions,
  ) {}

  /** Starts the sleeve (or records why it cannot run) and follows the mesh's connections. */
  static async start(mesh: EncryptedMesh, options: EncryptedPathOptions): Promise<EncryptedPath> {
    const path = new EncryptedPath(mesh, options);
    await path.startSleeve();
    mesh.on('connectionEstablished', path.onEstablished);
    mesh.on('connectionClosed', path.onClosed);
    mesh.on('peerRemoved', path.onPeerRemoved);
    for (const event of ROUTE_EVENTS) mesh.on(event, path.onTopology);
    for (const c of mesh.connections()) if (c.established) path.add(c);
    path.routing.ask();
    return path;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    this.mesh.off('connectionEstablished', this.onEstablished);
    this.mesh.off('connectionClosed', this.onClosed);
    this.mesh.off('peerRemoved', this.onPeerRemoved);
    for (const event of ROUTE_EVENTS) this.mesh.off(event, this.onTopology);
    this.routing.cancel();
    const sleeve = this.sleeve;
    this.sleeve = undefined;
    await sleeve?.stop();
  }

  /** A new pod MTU: the TAP's follows (the sleeve's workers need none). */
  async setMtu(mtu: number): Promise<void> {
    this.options.mtu = mtu;
    if (this.sleeve) await attachTap(this.sleeve.tap, this.options.bridge, mtu);
  }

  /** The bridge was made anew: the sleeve's TAP goes back on it. */
  async reattach(): Promise<void> {
    if (!this.sleeve) return;
    await attachTap(this.sleeve.tap, this.options.bridge, this.options.mtu);
    this.options.log.info('sleeve TAP put back on the bridge', {tap: this.sleeve.tap, bridge: this.options.bridge});
  }

  /** How `status connections` shows a connection it is in charge of; undefined for the others (VXLAN's). */
  describe(c: ConnectionFacts): ReturnType<OverlayDescriber> | undefined {
    if (!handles(c)) return undefined;
    if (!this.sleeve) return {name: 'blocked', attrs: {reason: `no encrypted data path: ${this.unavailable}`}};
    // `encrypted` as the original's encrypted fastdp, so that /metrics counts it as such.
    return {name: 'sleeve', attrs: {encrypted: true, mtu: this.options.mtu}};
  }

  /** The sleeve's counters; undefined when none runs or it does not answer. */
  async stats(): Promise<SleeveStats | undefined> {
    const sleeve = this.sleeve;
    if (!sleeve) return undefined;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>(resolve => (timer = setTimeout(() => resolve(undefined), STATS_TIMEOUT_MS)));
    try {
      return await Promise.race([sleeve.stats(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async startSleeve(): Promise<void> {
    const {bridge, mtu, port, address, offloads, log} = this.options;
    let sleeve: Sleeve;
    try {
      sleeve = await Sleeve.start({bridge, mtu, port, offloads, log, ...(address ? {address} : {})});
    } catch (error) {
      this.unavailable = (error as Error).message;
      log.error('no encrypted data path: peers outside --trusted-subnets get no pod traffic', {error: this.unavailable});
      return;
    }
    if (this.stopped) return sleeve.stop();
    sleeve.once('failed', error => this.failed(sleeve, error));
    this.sleeve = sleeve;
    this.unavailable = undefined;
  }

  private add(c: ConnectionFacts): void {
    const {sleeve} = this;
    if (!sleeve || !handles(c)) return;
    const keys = this.mesh.dataPlaneKeys(c.peer);
    if (!keys) {
      this.options.log.error('no sleeve keys for an established encrypted connection', {peer: c.peer});
      return;
    }
    try {
      // Again for a known peer: its new connection's keys replace the old ones (a rekey).
      sleeve.addPeer(c.peer, c.ip, keys, c.port);
    } catch (error) {
      this.options.log.error('the sleeve refused a peer', {peer: c.peer, error: (error as Error).message});
      return;
    }
    this.peers.add(c.peer);
    this.routing.ask();
    this.options.log.info('sleeve: sending to peer', {peer: `${c.peer}(${c.nickName})`, address: c.ip, port: c.port});
  }

  private remove(peer: string): void {
    if (!this.peers.delete(peer)) return;
    this.sleeve?.removePeer(peer);
    this.routing.ask();
    this.options.log.info('sleeve: no longer sending to peer', {peer});
  }

  /**
   * Tells the sleeve the first hop towards every peer it reaches, over connections both ends
   * report established, the first hop one of ours the sleeve carries (a path through VXLAN
   * hops is the VXLAN relays'), and our children in each peer's spanning tree, which the sleeve
   * carries (a full mesh has none: every tree is a star). Peers whose ids clash (16 bits) are
   * left out, with a warning.
   */
  private route(): void {
    const {sleeve} = this;
    if (!sleeve) return;
    const {ourName} = this.mesh;
    const paths = this.mesh.routes.established();
    const routes: Route[] = [...paths.firstHops(ourName)].filter(([, via]) => this.peers.has(via)).map(([name, via]) => ({name, id: peerId(name), via}));
    const us = peerId(ourName);
    const count = new Map<number, number>();
    for (const name of paths.peers) count.set(peerId(name), (count.get(peerId(name)) ?? 0) + 1);
    const clashing = routes.filter(r => count.get(r.id)! > 1).map(r => r.name);
    const clashes = clashing.join();
    if (clashes !== this.clashes && clashing.length > 0) this.options.log.warning('sleeve: peers share a relay id; frames relayed to or from them are dropped', {peers: clashing});
    this.clashes = clashes;
    const {branching, branches} = treeBranches(paths, ourName, peer => this.peers.has(peer));
    sleeve.setRoutes(
      us,
      routes.filter(r => count.get(r.id) === 1),
      branching,
      [...branches].filter(([source]) => count.get(peerId(source)) === 1).map(([source, children]) => ({origin: peerId(source), children})),
    );
  }

  private failed(sleeve: Sleeve, error: Error): void {
    if (this.sleeve !== sleeve) return;
    this.sleeve = undefined;
    this.peers.clear();
    this.unavailable = `the sleeve failed (${error.message}); restarting it`;
    this.options.log.error('encrypted data path failed; restarting it', {error: error.message, retryInMs: this.restartMs});
    void sleeve
      .stop()
      .catch(() => {})
      .then(() => this.scheduleRestart());
  }

  private scheduleRestart(): void {
    if (this.stopped) return;
    this.restartTimer = setTimeout(() => void this.restart(), this.restartMs);
    this.restartMs = Math.min(2 * this.restartMs, RESTART_MAX_MS);
  }

  /**
   * A new sleeve must never get the old one's keys: its counters restart at 0, which would
   * reuse nonces, and its fresh replay windows would take old packets. Each encrypted
   * connection is closed instead, and its successor's handshake brings new keys to both ends.
   */
  private async restart(): Promise<void> {
    this.restartTimer = undefined;
    await this.startSleeve();
    if (this.stopped) return;
    if (!this.sleeve) return this.scheduleRestart();
    this.restartMs = RESTART_MS;
    this.routing.ask(true);
    this.options.log.info('encrypted data path restarted; renewing the keys of its connections');
    for (const c of this.mesh.connections()) if (needsEncryption(c)) this.mesh.renewConnection(c.peer, RENEW_REASON);
  }
}
