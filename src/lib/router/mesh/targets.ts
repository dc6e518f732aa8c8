import type {ConnectionInfo} from '../state.js';
import {hostPort, ipOf, type PeerAddress} from './address.js';
import {Pacer} from '../pacer.js';
import {Backoff} from './backoff.js';
import {CandidateIndex} from './candidates.js';
import {LegacyPeerError} from './legacy-peer.js';
import type {PeerRecord} from './topology.js';

/** A refusal that retrying cannot cure (we dialled ourselves, or another peer has our name). */
export class NeverRetryError extends Error {
  constructor(
    message: string,
    /** Counted as a connection termination (a dial to ourself is not). */
    readonly counts = true,
  ) {
    super(message);
    this.name = 'NeverRetryError';
  }
}

/**
 * Two peers that learn of each other at once would both dial, and one connection would be
 * dropped. Of two, the peer with the lower name waits this long before dialling the other, in
 * case the other's connection arrives first; a peer the other cannot reach is still dialled.
 * Longer in a larger mesh (DEFER_PER_PEER_MS a peer, 100 s at 100), where the other dials its
 * many discovered peers a few at a time (MAX_DIALS), each handshake taking seconds while all
 * start: at 100 routers on 2 cores, 250 ms a peer let 2,400 pairs both dial, and each lost
 * connection cost every peer an update.
 */
export const DISCOVERY_DEFER_MS = 2_000;
const DEFER_PER_PEER_MS = 1000;

/**
 * At most this many dials under way at once; the others wait their turn, which each dial's end
 * brings. A router that learns of 99 peers at once and dials them all shares its CPU, and theirs,
 * among 99 handshakes: in a mesh of 100 on 2 cores most missed their 10 s deadline and started
 * over later, doing it all again.
 */
export const MAX_DIALS = 4;

/**
 * Gossip that changes who others are connected to is looked at no more often than every 10 ms a
 * peer (250 ms at least, 1 s at 100): in a forming mesh of 100 it comes dozens of times a second,
 * and each look costs in proportion to the peers, as does the dialling it leads to.
 */
const gossipLookGapMs = (peers: number): number => Math.max(250, 10 * peers);

/** Waiting for its next try; being tried; connected; or a target we are connected to otherwise. */
type TargetState = 'waiting' | 'attempting' | 'connected' | 'suspended';

interface Target {
  state: TargetState;
  lastError?: Error;
  backoff: Backoff;
}

/** One of our live connections, as the maker sees it. */
export interface LiveConnection {
  peer: string;
  address: string;
  outbound: boolean;
  /** Where the peer says it listens: an accepted connection then also counts for that address. */
  listenPort: number;
}

export interface MakerContext {
  ourName: string;
  /** Our mesh port: for peers named without one, and peers seen only through accepted connections. */
  port: number;
  discovery: boolean;
  connections(): Iterable<LiveConnection>;
  peers(): Iterable<PeerRecord>;
  /** Dial `address`; the outcome comes back through connectionAborted/Created/Terminated. */
  attempt(address: string, acceptNewPeer: boolean): void;
  /** The addresses learnt from other peers changed: worth persisting for --resume. */
  discoveredChanged(): void;
  now?: () => number;
  random?: () => number;
}

/** Go's time.Time.String() shape, which `status connections` shows for the next retry. */
function goTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)} +0000 UTC`;
}

/**
 * Which addresses to connect to and when, as weaveworks/mesh's connectionMaker: the targets given
 * by the operator (`connect`, `forget`, launch arguments), plus with discovery the peers others
 * are connected to and we are not. Each address is retried with capped exponential backoff.
 */
export class ConnectionMaker {
  /** By the peer as the operator wrote it. */
  private direct = new Map<string, PeerAddress>();
  /** Addresses learnt in an earlier run (--resume), dialled like direct ones. */
  private readonly remembered = new Set<string>();
  private readonly targets = new Map<string, Target>();
  private timer?: NodeJS.Timeout;
  private checkQueued = false;
  private stopped = false;
  private lastDiscovered = '';
  private readonly candidateIndex = new CandidateIndex();
  private readonly gossipLook = new Pacer(() => this.refresh());
  terminationCount = 0;

  constructor(private readonly ctx: MakerContext) {}

  private now(): number {
    return (this.ctx.now ?? Date.now)();
  }

  /** `weave connect [--replace]`: the peers (resolved) become targets; with replace, the only ones. */
  initiate(peers: readonly PeerAddress[], replace: boolean): void {
    if (replace) this.direct = new Map();
    for (const p of peers) {
      this.direct.set(p.peer, p);
      // An address the operator names again is tried at once, whatever its backoff.
      this.targets.get(this.completeAddress(p))?.backoff.tryNow();
    }
    this.refresh();
  }

  /** `weave forget`: no longer targets. Connections already made stay. */
  forget(peers: readonly string[]): void {
    for (const peer of peers) this.direct.delete(peer);
    this.refresh();
  }

  remember(addresses: readonly string[]): void {
    for (const a of addresses) this.remembered.add(a);
    this.refresh();
  }

  /** The targets as given, for `status targets` and persistence. */
  directPeers(): string[] {
    return [...this.direct.keys()];
  }

  /** Targets that come from discovery rather than from the operator. */
  discovered(): string[] {
    const direct = new Set([...this.direct.values()].map(p => this.completeAddress(p)));
    return [...this.targets.keys()].filter(a => !direct.has(a));
  }

  connectionCreated(address: string, outbound: boolean): void {
    const target = outbound ? this.targets.get(address) : undefined;
    if (target) target.state = 'connected';
  }

  /** A dial that failed before any connection existed. */
  connectionAborted(address: string, error: Error): void {
    const target = this.targets.get(address);
    if (target) {
      target.state = 'waiting';
      target.lastError = error;
      target.backoff.tryLater();
    }
    this.refresh();
  }

  connectionTerminated(address: string, outbound: boolean, error: Error): void {
    if (!(error instanceof NeverRetryError) || error.counts) this.terminationCount++;
    const target = outbound ? this.targets.get(address) : undefined;
    if (target) {
      target.state = 'waiting';
      target.lastError = error;
      if (error instanceof NeverRetryError) target.backoff.tryNever();
      // It will not do until someone moves it over: no point knocking every few seconds.
      else if (error instanceof LegacyPeerError) target.backoff.tryRarely();
      else target.backoff.afterDisconnect();
    }
    this.refresh();
  }

  /** Looks again at what to connect to, once the current turn is over (many changes, one look). */
  refresh(): void {
    if (this.checkQueued || this.stopped) return;
    this.checkQueued = true;
    setImmediate(() => {
      this.checkQueued = false;
      if (!this.stopped) this.check();
    });
  }

  /** Gossip changed the records of others (`peers` known now): looked at soon, once for many (gossipLookGapMs). */
  peersChanged(peers: number): void {
    this.gossipLook.ask(false, gossipLookGapMs(peers));
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.gossipLook.cancel();
  }

  /**
   * Whether a connection of ours may come soon: a target not tried yet, or being tried for the
   * first time (one that failed before is not counted: a peer we cannot reach would keep it so).
   */
  expectsConnections(): boolean {
    for (const t of this.targets.values()) {
      if (!t.lastError && (t.state === 'attempting' || (t.state === 'waiting' && t.backoff.tryAfter !== undefined))) return true;
    }
    return false;
  }

  /** Targets not connected, as `status connections` lists them after the live connections. */
  status(): ConnectionInfo[] {
    const out: ConnectionInfo[] = [];
    for (const [address, t] of this.targets) {
      const add = (state: ConnectionInfo['state'], info: string) => out.push({address, outbound: true, state, info, attrs: {}});
      // A target waiting without a failure is a discovered one held back (DISCOVERY_DEFER_MS): not shown yet.
      if (t.state === 'waiting' && t.lastError) {
        const until = t.backoff.tryAfter === undefined ? 'never' : goTime(t.backoff.tryAfter);
        add('failed', `${t.lastError.message}, retry: ${until}`);
      } else if (t.state === 'attempting') {
        if (t.lastError) add('retrying', t.lastError.message);
        else add('connecting', '');
      }
    }
    return out;
  }

  private completeAddress(p: PeerAddress): string {
    return hostPort(p.ip, p.port || this.ctx.port);
  }

  private check(): void {
    const valid = new Set<string>();
    const direct = new Set<string>();
    const connectedPeers = new Set<string>();
    const connectedAddresses = new Set<string>();
    const inboundIps = new Set<string>();
    for (const c of this.ctx.connections()) {
      connectedPeers.add(c.peer);
      connectedAddresses.add(c.address);
      if (c.outbound) continue;
      inboundIps.add(ipOf(c.address));
      if (c.listenPort) connectedAddresses.add(hostPort(ipOf(c.address), c.listenPort));
    }
    const addTarget = (address: string, deferMs = 0) => {
      if (connectedAddresses.has(address)) return;
      valid.add(address);
      if (this.targets.has(address)) return;
      const backoff = new Backoff(this.ctx.now, this.ctx.random);
      if (deferMs > 0) backoff.tryIn(deferMs);
      this.targets.set(address, {state: 'waiting', backoff});
    };
    for (const p of this.direct.values()) {
      const address = this.completeAddress(p);
      direct.add(address);
      // A peer named without a port that already connected to us needs no connection back.
      if (p.port === 0 && inboundIps.has(p.ip)) continue;
      addTarget(address);
    }
    if (this.ctx.discovery) {
      this.addPeerTargets(connectedPeers, addTarget);
      for (const address of this.remembered) {
        addTarget(address);
        // Not learnt from gossip this run: dialled as if given, so a peer not yet known is accepted.
        direct.add(address);
      }
    }
    this.connect(valid, direct);
    const discovered = this.discovered().sort().join(',');
    if (discovered !== this.lastDiscovered) {
      this.lastDiscovered = discovered;
      this.ctx.discoveredChanged();
    }
  }

  /** Peers others are connected to and we are not: dial the address they know them by. */
  private addPeerTargets(connectedPeers: Set<string>, addTarget: (address: string, deferMs: number) => void): void {
    const peers = [...this.ctx.peers()];
    const byName = new Map<string, PeerRecord>();
    for (const p of peers) byName.set(p.name, p);
    const deferMs = Math.max(DISCOVERY_DEFER_MS, DEFER_PER_PEER_MS * peers.length);
    for (const {candidate} of this.candidateIndex.update(peers, this.ctx.ourName)) {
      const {other, address, ip} = candidate;
      if (other === this.ctx.ourName || connectedPeers.has(other)) continue;
      addTarget(address ?? hostPort(ip!, byName.get(other)?.port || this.ctx.port), other > this.ctx.ourName ? deferMs : 0);
    }
  }

  private connect(valid: Set<string>, direct: Set<string>): void {
    const now = this.now();
    let next = Infinity;
    let dialling = 0;
    for (const t of this.targets.values()) if (t.state === 'attempting') dialling++;
    for (const [address, t] of this.targets) {
      if (t.state !== 'waiting' && t.state !== 'suspended') continue;
      if (!valid.has(address)) {
        // Connected some other way: a direct target waits suspended, a discovered one is dropped.
        if (direct.has(address)) t.state = 'suspended';
        else this.targets.delete(address);
        continue;
      }
      t.state = 'waiting';
      if (t.backoff.tryAfter === undefined) continue;
      const wait = t.backoff.tryAfter - now;
      if (wait <= 0) {
        if (dialling >= MAX_DIALS) continue;
        dialling++;
        t.state = 'attempting';
        this.ctx.attempt(address, direct.has(address));
      } else {
        next = Math.min(next, wait);
      }
    }
    clearTimeout(this.timer);
    if (next !== Infinity) this.timer = setTimeout(() => this.check(), next);
  }
}
