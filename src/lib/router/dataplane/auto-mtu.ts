import type {EventEmitter} from 'node:events';
import {isIP} from 'node:net';
import {routeMtus, VXLAN_OVERHEAD} from '../../net/mtu.js';
import {SLEEVE_OVERHEAD} from './sleeve/packet.js';
import type {Logger} from '../log.js';
import type {Gossip, GossipData, Gossiper} from '../mesh/gossip.js';
import type {MeshEvents} from '../mesh/mesh.js';
import {ProtocolError} from '../mesh/protocol.js';
import type {ConnectionFacts} from '../mesh/status.js';
import {Pacer} from '../pacer.js';
import {ReconcileLoop} from './reconcile-loop.js';
import {RouteMtuCache} from './route-mtu-cache.js';

/** The gossip channel: peers that do not know it (weave 2.8.1) pass it on unread. */
export const MTU_CHANNEL = 'weave-mtu';

/** The smallest pod MTU accepted from a peer, as --mtu's. */
const MIN_MTU = 576;
const MAX_MTU = 65535;

/** Connection changes this close together make one measurement. */
const MEASURE_SOON_MS = 200;
const MEASURE_GAP_MS = 1000;

/** One peer's largest pod MTU its underlay carries, and when it measured it (later wins). */
interface Entry {
  mtu: number;
  version: number;
}

type Entries = Map<string, Entry>;

function encode(entries: Entries): Buffer {
  return Buffer.from(JSON.stringify([...entries].map(([peer, {mtu, version}]) => [peer, mtu, version])));
}

function decode(update: Buffer): Entries {
  let rows: unknown;
  try {
    rows = JSON.parse(update.toString('utf8'));
  } catch {
    throw new ProtocolError('malformed MTU gossip');
  }
  if (!Array.isArray(rows)) throw new ProtocolError('malformed MTU gossip');
  const entries: Entries = new Map();
  for (const row of rows) {
    const [peer, mtu, version] = row as [unknown, unknown, unknown];
    if (typeof peer !== 'string' || !Number.isInteger(mtu) || (mtu as number) < MIN_MTU || (mtu as number) > MAX_MTU || typeof version !== 'number') throw new ProtocolError('malformed MTU gossip');
    entries.set(peer, {mtu: mtu as number, version});
  }
  return entries;
}

class MtuData implements GossipData {
  constructor(readonly entries: Entries) {}

  encode(): Buffer[] {
    return [encode(this.entries)];
  }

  merge(other: GossipData): GossipData {
    const merged = new Map(this.entries);
    for (const [peer, entry] of (other as MtuData).entries) if ((merged.get(peer)?.version ?? -1) < entry.version) merged.set(peer, entry);
    return new MtuData(merged);
  }
}

/** Every peer's entry, merged: a newer measurement replaces an older one. */
export class MtuGossiper implements Gossiper {
  readonly entries: Entries = new Map();
  /** Whose entry set() sets: ours. */
  private own?: string;

  constructor(private readonly changed: () => void) {}

  onGossipUnicast(): void {
    throw new ProtocolError('unexpected MTU gossip unicast');
  }

  onGossipBroadcast(_source: string, update: Buffer): GossipData | undefined {
    return this.onGossip(update);
  }

  gossip(): GossipData | undefined {
    return this.entries.size > 0 ? new MtuData(new Map(this.entries)) : undefined;
  }

  /**
   * Our entry alone: each peer's goes round from its owner, and what is news to a neighbour goes
   * on from there. Every entry to a few neighbours every 30 s was 48 KB a minute per peer in an
   * idle mesh of 100, most of its control traffic.
   */
  periodic(): GossipData | undefined {
    if (this.own === undefined) return undefined;
    const entry = this.entries.get(this.own);
    return entry && new MtuData(new Map([[this.own, entry]]));
  }

  onGossip(update: Buffer): GossipData | undefined {
    const news: Entries = new Map();
    for (const [peer, entry] of decode(update)) {
      if ((this.entries.get(peer)?.version ?? -1) >= entry.version) continue;
      this.entries.set(peer, entry);
      news.set(peer, entry);
    }
    if (news.size === 0) return undefined;
    this.changed();
    return new MtuData(news);
  }

  /** Our own entry, to be broadcast. */
  set(peer: string, mtu: number): GossipData {
    this.own = peer;
    const entry = {mtu, version: Math.max(Date.now(), (this.entries.get(peer)?.version ?? 0) + 1)};
    this.entries.set(peer, entry);
    return new MtuData(new Map([[peer, entry]]));
  }
}

/** What the MTU needs of the mesh. */
export type MtuMesh = EventEmitter<MeshEvents> & {
  readonly ourName: string;
  connections(): ConnectionFacts[];
  isKnownPeer(peer: string): boolean;
  newGossip(channel: string, gossiper: Gossiper): Gossip;
};

export interface AutoMtuOptions {
  /** The MTU before any peer is measured. */
  initial: number;
  /** Pod traffic to this peer goes through the sleeve (its datagrams carry more than VXLAN's). */
  sleeved: (c: ConnectionFacts) => boolean;
  /** Applies a new MTU to the bridge and the overlay's devices. */
  apply: (mtu: number) => Promise<void>;
  netns?: string;
  log: Logger;
  /** Reads the links towards peers: routeMtus() unless a test gives its own. */
  routeMtus?: typeof routeMtus;
}

/**
 * The pods' MTU when --mtu is not given: each peer measures the links towards the peers it is
 * connected to (the route's device MTU, less VXLAN's or the sleeve's overhead; a peer's link is
 * read again only once RouteMtuCache's interval has passed), gossips the smallest, and every peer
 * uses the smallest of all peers' figures, so a pod's packet fits every path of the mesh whole.
 * Pods made from then on get it through the bridge's MTU; pods made before keep theirs.
 */
export class AutoMtu {
  private readonly gossiper = new MtuGossiper(() => this.settle());
  private gossip?: Gossip;
  private current: number;
  private applying: Promise<void> = Promise.resolve();
  private readonly measurements = new Pacer(() => this.loop.update(), MEASURE_SOON_MS, MEASURE_GAP_MS);
  /**
   * One measurement at a time: a forming mesh's lookups take seconds on a busy host, and one begun
   * meanwhile looked up the same peers again, and could end first and be overwritten by an older figure.
   */
  private readonly loop = new ReconcileLoop(
    () => this.measure(),
    (error, retryInMs) => this.options.log.debug('could not measure the MTU towards peers', {error: error.message, retryInMs}),
    delayMs => this.measurements.runWithin(delayMs),
  );
  private readonly onChange = () => this.measurements.ask();
  private readonly links = new RouteMtuCache(dsts => (this.options.routeMtus ?? routeMtus)(dsts, this.options.netns));
  private stopped = false;

  constructor(
    private readonly mesh: MtuMesh,
    private readonly options: AutoMtuOptions,
  ) {
    this.current = options.initial;
  }

  /** The MTU pods get now. */
  get mtu(): number {
    return this.current;
  }

  /** Joins the gossip; before the mesh starts, so the first peer gets our figure with the rest. */
  start(): void {
    this.gossip = this.mesh.newGossip(MTU_CHANNEL, this.gossiper);
    for (const event of ['connectionEstablished', 'connectionClosed', 'peerRemoved'] as const) this.mesh.on(event, this.onChange);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.measurements.cancel();
    for (const event of ['connectionEstablished', 'connectionClosed', 'peerRemoved'] as const) this.mesh.off(event, this.onChange);
    await this.loop.stop();
    await this.applying;
  }

  /** Our figure: the smallest over our established connections; unchanged while we have none. */
  private async measure(): Promise<void> {
    const peers = this.mesh.connections().filter(c => c.established && isIP(c.ip) === 4);
    if (peers.length > 0) {
      const {log, sleeved} = this.options;
      let found;
      try {
        found = await this.links.links(peers.map(c => c.ip));
      } catch (error) {
        log.debug('could not read the links towards peers', {error: (error as Error).message});
        return;
      }
      const fits = peers.flatMap(c => {
        const link = found.get(c.ip);
        return link ? [link.mtu - (sleeved(c) ? SLEEVE_OVERHEAD : VXLAN_OVERHEAD)] : [];
      });
      const ours = Math.max(MIN_MTU, Math.min(...fits));
      if (fits.length > 0 && this.gossiper.entries.get(this.mesh.ourName)?.mtu !== ours && !this.stopped) this.gossip?.gossipBroadcast(this.gossiper.set(this.mesh.ourName, ours));
    }
    this.settle();
  }

  /** The smallest figure of the peers in the mesh now, applied when it differs. */
  private settle(): void {
    const figures = [...this.gossiper.entries].filter(([peer]) => peer === this.mesh.ourName || this.mesh.isKnownPeer(peer)).map(([, e]) => e.mtu);
    const mtu = figures.length > 0 ? Math.min(...figures) : this.options.initial;
    if (mtu === this.current || this.stopped) return;
    const was = this.current;
    this.current = mtu;
    this.options.log.info('pod MTU follows the network', {mtu, was});
    this.applying = this.applying.then(() => this.options.apply(mtu)).catch((error: Error) => this.options.log.error('could not apply the MTU', {mtu, error: error.message}));
  }
}

/**
 * A guess before any peer is measured: the links towards the peers given as addresses, else the
 * link of the default route; undefined when neither is known.
 */
export async function initialMtu(peers: readonly string[], netns?: string): Promise<number | undefined> {
  const addresses = peers.map(p => p.replace(/:\d+$/, '')).filter(p => isIP(p) === 4);
  const found = await routeMtus(addresses.length > 0 ? addresses : ['1.1.1.1'], netns);
  const mtus = [...found.values()].map(link => link.mtu - VXLAN_OVERHEAD);
  return mtus.length > 0 ? Math.max(MIN_MTU, Math.min(...mtus)) : undefined;
}
