import {createHash} from 'node:crypto';
import {Reader, Writer} from './codec.js';
import {Tag} from './protocol.js';
import type {Routes} from './routes.js';

type MaybePromise<T> = T | Promise<T>;

/**
 * State that merges: what a channel sends. Senders merge what is still queued for a neighbour, so
 * a slow link carries the latest state once rather than every step on the way.
 */
export interface GossipData {
  /** One or more messages; each is delivered to the receiving Gossiper separately. */
  encode(): Buffer[];
  merge(other: GossipData): GossipData;
}

/**
 * The receiving side of a channel, as weaveworks/mesh's Gossiper. A callback that throws closes
 * the connection the message came on, with its message as the reason (shown by `status
 * connections`): that is how a peer with incompatible state (another IPAM seed) is refused.
 */
export interface Gossiper {
  /** A message sent to us alone. */
  onGossipUnicast(source: string, message: Buffer): MaybePromise<void>;
  /** A broadcast from `source`: merge it, and return what to pass on (usually what was received). */
  onGossipBroadcast(source: string, update: Buffer): MaybePromise<GossipData | undefined>;
  /** Everything we know, sent to each new neighbour, and periodically unless periodic() is given; undefined for nothing. */
  gossip(): GossipData | undefined;
  /** What periodic gossip sends, when less than everything repairs what others missed. */
  periodic?(): GossipData | undefined;
  /** Gossip from a neighbour: merge it, and return only what was new to us (undefined if nothing). */
  onGossip(update: Buffer): MaybePromise<GossipData | undefined>;
}

/** The sending side a channel offers its Gossiper. */
export interface Gossip {
  /** To one peer, relayed hop by hop; throws when no path to it is known. */
  gossipUnicast(destination: string, message: Buffer): void;
  /** To every peer, along our spanning tree. */
  gossipBroadcast(update: GossipData): void;
  /** To a few random neighbours, who pass on what is new to them. */
  gossipNeighbourSubset(update: GossipData): void;
}

/** What a channel needs of a connection. */
export interface GossipLink {
  readonly outbox: Outbox;
  /** Writes one frame body now. */
  sendBody(body: Buffer): void;
}

/** What a channel needs of the mesh. */
export interface GossipNetwork {
  readonly ourName: string;
  readonly routes: Routes;
  link(peer: string): GossipLink | undefined;
  /** A message that could not be passed on (no path to its destination): logged, not fatal. */
  relayFailed(error: Error): void;
}

export interface GossipHeader {
  tag: number;
  channel: string;
  source: string;
  destination?: string;
  payload: Buffer;
}

export function encodeGossip(h: GossipHeader): Buffer {
  const channel = Buffer.from(h.channel, 'utf8');
  // Tag, channel length and up to two peer names besides.
  const w = new Writer(h.payload.length + channel.length + 14).u8(h.tag);
  w.u8(channel.length).raw(channel).name(h.source);
  if (h.tag === Tag.GossipUnicast) w.name(h.destination!);
  return w.raw(h.payload).finish();
}

export function decodeGossip(body: Buffer): GossipHeader {
  const r = new Reader(body);
  const tag = r.u8();
  const channel = r.fixed(r.u8()).toString('utf8');
  const source = r.name();
  const destination = tag === Tag.GossipUnicast ? r.name() : undefined;
  return {tag, channel, source, ...(destination ? {destination} : {}), payload: r.rest()};
}

/**
 * What waits to go to one neighbour, per channel: gossip, and broadcasts per source. Written when
 * the socket can take it; whatever piles up meanwhile is merged.
 */
export class Outbox {
  private readonly gossip = new Map<string, GossipData>();
  private readonly broadcasts = new Map<string, {channel: string; source: string; data: GossipData}>();
  private flushing = false;
  private lastFlush = -Infinity;

  constructor(
    /** Gossip goes out under our name; a broadcast keeps its source's. */
    private readonly ourName: string,
    private readonly link: {send(body: Buffer): boolean; writable(): Promise<void>; shutdown(reason: Error): void; readonly closed: boolean},
    /** How far apart writes are at least (what comes meanwhile is merged); asked at each. */
    private readonly gapMs: () => number = () => 0,
  ) {}

  send(channel: string, data: GossipData): void {
    const queued = this.gossip.get(channel);
    this.gossip.set(channel, queued ? queued.merge(data) : data);
    this.kick();
  }

  broadcast(channel: string, source: string, data: GossipData): void {
    const key = `${channel}\0${source}`;
    const queued = this.broadcasts.get(key);
    this.broadcasts.set(key, {channel, source, data: queued ? queued.data.merge(data) : data});
    this.kick();
  }

  private kick(): void {
    if (this.flushing) return;
    this.flushing = true;
    const wait = this.lastFlush + this.gapMs() - Date.now();
    // Once the current operation ends, so changes made together go out as one message. Not after
    // the whole I/O phase: in a busy router every reply then waited for all the other sockets.
    if (wait <= 0) process.nextTick(() => void this.flush());
    else setTimeout(() => void this.flush(), wait);
  }

  /** Gossip first (it is usually the more important), then broadcasts. */
  private pick(): {tag: number; channel: string; source?: string; data: GossipData} | undefined {
    for (const [channel, data] of this.gossip) {
      this.gossip.delete(channel);
      return {tag: Tag.Gossip, channel, data};
    }
    for (const [key, b] of this.broadcasts) {
      this.broadcasts.delete(key);
      return {tag: Tag.GossipBroadcast, ...b};
    }
    return undefined;
  }

  private async flush(): Promise<void> {
    this.lastFlush = Date.now();
    try {
      for (let item = this.pick(); item && !this.link.closed; item = this.pick()) {
        for (const payload of item.data.encode()) {
          const body = encodeGossip({tag: item.tag, channel: item.channel, source: item.source ?? this.ourName, payload});
          if (!this.link.send(body)) await this.link.writable();
        }
      }
    } catch (error) {
      // Data that cannot be encoded: the neighbour would miss it, so the connection starts over.
      this.link.shutdown(error as Error);
    } finally {
      this.flushing = false;
    }
  }
}

/** One named channel of a mesh: delivers what arrives to its Gossiper and relays as weaveworks/mesh does. */
export class GossipChannel implements Gossip {
  constructor(
    readonly name: string,
    readonly gossiper: Gossiper,
    private readonly net: GossipNetwork,
  ) {}

  gossipUnicast(destination: string, message: Buffer): void {
    this.relayUnicast(destination, encodeGossip({tag: Tag.GossipUnicast, channel: this.name, source: this.net.ourName, destination, payload: message}));
  }

  gossipBroadcast(update: GossipData): void {
    this.relayBroadcast(this.net.ourName, update);
  }

  gossipNeighbourSubset(update: GossipData): void {
    this.relay(this.net.ourName, update);
  }

  /** A unicast frame: ours to deliver, or to pass one hop closer to its destination. */
  async deliverUnicast(h: GossipHeader, body: Buffer): Promise<void> {
    if (h.destination === this.net.ourName) return this.gossiper.onGossipUnicast(h.source, h.payload);
    try {
      this.relayUnicast(h.destination!, body);
    } catch (error) {
      this.net.relayFailed(error as Error);
    }
  }

  async deliverBroadcast(h: GossipHeader): Promise<void> {
    const data = await this.gossiper.onGossipBroadcast(h.source, h.payload);
    if (data) this.relayBroadcast(h.source, data);
  }

  /** Gossip from the neighbour `h.source`: what was new to us goes on to others. */
  async deliverGossip(h: GossipHeader): Promise<void> {
    const data = await this.gossiper.onGossip(h.payload);
    if (data) this.relay(h.source, data);
  }

  /** Sends everything the Gossiper knows down one new connection. */
  sendAllDown(link: GossipLink): void {
    const data = this.gossiper.gossip();
    if (data) link.outbox.send(this.name, data);
  }

  /** Gossip to one neighbour (nothing when it is no longer one). */
  sendTo(peer: string, data: GossipData): void {
    this.net.link(peer)?.outbox.send(this.name, data);
  }

  /** Periodic: everything the Gossiper knows (or what it sends periodically), to a few random neighbours. */
  gossipAll(): void {
    const data = this.gossiper.periodic ? this.gossiper.periodic() : this.gossiper.gossip();
    if (data) this.relay(this.net.ourName, data);
  }

  private relayUnicast(destination: string, body: Buffer): void {
    const hop = this.net.routes.unicastAll(destination);
    if (!hop) throw new Error(`unknown relay destination: ${destination}`);
    const link = this.net.link(hop);
    if (!link) throw new Error(`unable to find connection to relay peer ${hop}`);
    link.sendBody(body);
  }

  private relayBroadcast(source: string, data: GossipData): void {
    for (const hop of this.net.routes.broadcastAll(source)) this.net.link(hop)?.outbox.broadcast(this.name, source, data);
  }

  private relay(except: string, data: GossipData): void {
    for (const hop of this.net.routes.randomNeighbours(except)) this.net.link(hop)?.outbox.send(this.name, data);
  }
}

/** Messages passed on as they came. */
class RawData implements GossipData {
  constructor(private readonly parts: Buffer[]) {}

  encode(): Buffer[] {
    return this.parts;
  }

  merge(other: GossipData): GossipData {
    return new RawData([...this.parts, ...other.encode()]);
  }
}

const SURROGATE_MEMORY = 1024;

/**
 * Stands in for a channel this router does not run (IPAM turned off here but on elsewhere), so
 * its traffic still crosses us: broadcasts are passed on as they came, and gossip once, never
 * twice (a loop would otherwise carry it for ever).
 */
export class SurrogateGossiper implements Gossiper {
  private readonly seen = new Set<string>();

  onGossipUnicast(): void {}

  onGossipBroadcast(_source: string, update: Buffer): GossipData {
    return new RawData([update]);
  }

  gossip(): undefined {
    return undefined;
  }

  onGossip(update: Buffer): GossipData | undefined {
    const digest = createHash('sha256').update(update).digest('base64');
    if (this.seen.has(digest)) return undefined;
    this.seen.add(digest);
    if (this.seen.size > SURROGATE_MEMORY) this.seen.delete(this.seen.values().next().value!);
    return new RawData([update]);
  }
}
