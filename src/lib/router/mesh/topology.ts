import {createHash} from 'node:crypto';
import {NAME_BYTES, Reader, Writer} from './codec.js';

/** One end's view of a connection: to whom, at which address (as that end sees it), which way. */
export interface ConnectionSummary {
  address: string;
  outbound: boolean;
  established: boolean;
}

export interface PeerRecord {
  name: string;
  nickName: string;
  /** 0 for a placeholder: a peer named in someone's connections that has not described itself yet. */
  uid: bigint;
  /** Raised by the peer at each change of its own record; the newest description wins. */
  version: number;
  shortId: number;
  hasShortId: boolean;
  /** Where it listens for the mesh; 0 when not known. */
  port: number;
  /** By the name of the peer at the other end. */
  connections: Map<string, ConnectionSummary>;
}

export interface UpdateResult {
  /** Peers the update described. */
  received: Set<string>;
  /** Peers the update taught us something about: what is worth passing on. */
  improved: Set<string>;
  added: PeerRecord[];
  /** Peers may have become unreachable (a record lost a connection, or named new peers): garbageCollect() drops them. */
  mayStrand: boolean;
  /** The update described an earlier incarnation of ourselves: our record now outranks it. */
  ourselfBumped: boolean;
}

function placeholder(name: string): PeerRecord {
  return {name, nickName: '', uid: 0n, version: 0, shortId: 0, hasShortId: false, port: 0, connections: new Map()};
}

/** What tells two copies of a record apart: which is newer, or that they are the same. */
export type Rank = Pick<PeerRecord, 'version' | 'uid' | 'hasShortId'>;

/** A rank as writeRanks() puts it: the name, uid, version and whether it has a short id. */
export const RANK_BYTES = NAME_BYTES + 8 + 8 + 1;

/** What Topology.writeRanks() wrote, by name, up to the end of `r`. */
export function readRanks(r: Reader): Map<string, Rank> {
  const ranks = new Map<string, Rank>();
  while (!r.done) ranks.set(r.name(), {uid: r.u64(), version: Number(r.u64()), hasShortId: r.bool()});
  return ranks;
}

/** Whether `incoming` is no newer than `current`: lower version, or equal and not outranking it. */
export function isStale(incoming: Rank, current: Rank): boolean {
  if (incoming.version !== current.version) return incoming.version < current.version;
  if (incoming.uid !== current.uid) return incoming.uid < current.uid;
  return !incoming.hasShortId || current.hasShortId;
}

/** Topology messages stay well under the frame limit however large the mesh. */
const MESSAGE_BYTES = 1 << 20;

const ESTABLISHED = 1;
const OUTBOUND = 2;

function encodePeer(p: PeerRecord): Buffer {
  const w = new Writer(40 + p.nickName.length + 14 * p.connections.size);
  w.name(p.name).str(p.nickName).u64(p.uid).u64(BigInt(p.version)).u16(p.shortId).bool(p.hasShortId).u16(p.port).u16(p.connections.size);
  for (const [name, c] of p.connections) w.name(name).address(c.address).u8((c.established ? ESTABLISHED : 0) | (c.outbound ? OUTBOUND : 0));
  return w.finish();
}

type PeerHead = Omit<PeerRecord, 'connections'>;

/** A record as received: its head decoded, its connections left in `body` until wanted. */
interface RawPeer {
  head: PeerHead;
  count: number;
  body: Buffer;
  /** The whole record, as encodePeer() writes it. */
  bytes: Buffer;
}

function decodeHead(r: Reader): PeerHead {
  return {name: r.name(), nickName: r.str(), uid: r.u64(), version: Number(r.u64()), shortId: r.u16(), hasShortId: r.bool(), port: r.u16()};
}

function decodeConnections(r: Reader, count: number): Map<string, ConnectionSummary> {
  const connections = new Map<string, ConnectionSummary>();
  for (let n = count; n > 0; n--) {
    const name = r.name();
    const address = r.address();
    const flags = r.u8();
    connections.set(name, {address, outbound: (flags & OUTBOUND) !== 0, established: (flags & ESTABLISHED) !== 0});
  }
  return connections;
}

/** Every record of an update, checked whole, each one's connections passed over undecoded. */
function splitUpdate(update: Buffer): RawPeer[] {
  const r = new Reader(update);
  const peers: RawPeer[] = [];
  while (!r.done) {
    const recordStart = r.offset;
    const head = decodeHead(r);
    const count = r.u16();
    const start = r.offset;
    for (let n = count; n > 0; n--) {
      r.pass(NAME_BYTES);
      r.skipAddress();
      r.pass(1);
    }
    peers.push({head, count, body: update.subarray(start, r.offset), bytes: update.subarray(recordStart, r.offset)});
  }
  return peers;
}

const connectionsOf = (p: RawPeer) => decodeConnections(new Reader(p.body), p.count);

export function decodeUpdate(update: Buffer): PeerRecord[] {
  return splitUpdate(update).map(p => ({...p.head, connections: connectionsOf(p)}));
}

/**
 * Every peer known in the mesh and the connections each reports, merged from gossip: a CRDT
 * where each peer alone writes its own record and the newest version of a record wins. Our own
 * record follows our live connections. garbageCollect() drops the peers that became unreachable from us.
 */
export class Topology {
  private readonly peers = new Map<string, PeerRecord>();
  readonly ourself: PeerRecord;
  /** Encodings made since the last change: the same records go to many neighbours at once. */
  private readonly encoded = new Map<string, Buffer[]>();
  /**
   * Each record's bytes while it stays the same: a forming mesh changes some record many times a
   * second, and encoding all the others again each time (the whole topology to each new
   * neighbour) was most of a hub's work. A record changes with its version, its uid (a
   * placeholder described) or its connections (replaced whole by an update).
   */
  private readonly recordBytes = new WeakMap<PeerRecord, {version: number; uid: bigint; connections: Map<string, ConnectionSummary>; bytes: Buffer}>();
  /** The digest of every record's rank, until the next change. */
  private digestCache?: Buffer;
  /** Counts the changes to the records: what is worked out from them holds while this stays the same. */
  private changeCount = 0;
  /** Counts the peers added and removed: what is numbered by peer holds while this stays the same. */
  private membershipCount = 0;

  constructor(ourself: Omit<PeerRecord, 'connections' | 'version'>) {
    this.ourself = {...ourself, version: 0, connections: new Map()};
    this.peers.set(ourself.name, this.ourself);
  }

  private changedRecords(): void {
    this.changeCount++;
    this.encoded.clear();
    this.digestCache = undefined;
  }

  get changes(): number {
    return this.changeCount;
  }

  get membership(): number {
    return this.membershipCount;
  }

  /** Every record's name and rank, in name order, onto `w` (readRanks() reads them back). */
  writeRanks(w: Writer): Writer {
    for (const name of [...this.peers.keys()].sort()) {
      const p = this.peers.get(name)!;
      w.name(name).u64(p.uid).u64(BigInt(p.version)).bool(p.hasShortId);
    }
    return w;
  }

  /**
   * A hash of every record's name and rank: two peers with the same digest hold the same
   * records, so periodic gossip sends this rather than the whole topology.
   */
  digest(): Buffer {
    this.digestCache ??= createHash('sha256')
      .update(this.writeRanks(new Writer(this.peers.size * RANK_BYTES)).finish())
      .digest()
      .subarray(0, 16);
    return this.digestCache;
  }

  get(name: string): PeerRecord | undefined {
    return this.peers.get(name);
  }

  has(name: string): boolean {
    return this.peers.has(name);
  }

  all(): PeerRecord[] {
    return [...this.peers.values()];
  }

  /** How many peers are known, ourselves included. */
  get size(): number {
    return this.peers.size;
  }

  names(): Set<string> {
    return new Set(this.peers.keys());
  }

  /**
   * A peer met on a new connection of ours: recorded from its introduction until its own gossip
   * brings the rest. Returns the record when the peer was not known before.
   */
  meet(intro: {name: string; nickName: string; uid: bigint; shortId: number; port: number}): PeerRecord | undefined {
    this.changedRecords();
    const known = this.peers.get(intro.name);
    const described = {...intro, hasShortId: true};
    if (known) {
      if (known.uid === 0n) Object.assign(known, described);
      return undefined;
    }
    const peer: PeerRecord = {...described, version: 0, connections: new Map()};
    this.peers.set(intro.name, peer);
    this.membershipCount++;
    return peer;
  }

  /** Adds or changes one of our connections; our record gets a new version. */
  setLocalConnection(name: string, summary: ConnectionSummary): void {
    this.changedRecords();
    this.ourself.connections.set(name, summary);
    this.ourself.version++;
  }

  deleteLocalConnection(name: string): void {
    this.changedRecords();
    if (this.ourself.connections.delete(name)) this.ourself.version++;
  }

  /** The records of `names`, in messages of about MESSAGE_BYTES each (a peer is never split). */
  encode(names: Iterable<string>): Buffer[] {
    const key = [...names].sort().join();
    const cached = this.encoded.get(key);
    if (cached) return cached;
    const messages: Buffer[] = [];
    let parts: Buffer[] = [];
    let size = 0;
    for (const name of names) {
      const peer = this.peers.get(name);
      if (!peer) continue;
      const bytes = this.bytesOf(peer);
      parts.push(bytes);
      size += bytes.length;
      if (size >= MESSAGE_BYTES) {
        messages.push(Buffer.concat(parts, size));
        parts = [];
        size = 0;
      }
    }
    if (size > 0) messages.push(Buffer.concat(parts, size));
    this.encoded.set(key, messages);
    return messages;
  }

  private bytesOf(peer: PeerRecord): Buffer {
    const cached = this.recordBytes.get(peer);
    if (cached && cached.version === peer.version && cached.uid === peer.uid && cached.connections === peer.connections) return cached.bytes;
    const bytes = encodePeer(peer);
    this.recordBytes.set(peer, {version: peer.version, uid: peer.uid, connections: peer.connections, bytes});
    return bytes;
  }

  /**
   * Merges a peer's gossip (see UpdateResult). Throws DecodeError on a malformed update, before
   * changing anything. A record no newer than ours is not decoded further than its version.
   */
  applyUpdate(update: Buffer): UpdateResult {
    const incoming = splitUpdate(update);
    const result: UpdateResult = {received: new Set(), improved: new Set(), added: [], mayStrand: false, ourselfBumped: false};
    const add = (name: string): PeerRecord => {
      const fresh = placeholder(name);
      this.peers.set(name, fresh);
      this.membershipCount++;
      result.added.push(fresh);
      return fresh;
    };
    for (const peer of incoming) {
      const {head} = peer;
      result.received.add(head.name);
      const current = this.peers.get(head.name) ?? add(head.name);
      if (current === this.ourself) {
        if (head.uid !== this.ourself.uid && head.version >= this.ourself.version) {
          // News of an earlier incarnation of ours: outrank it so ours replaces it everywhere.
          this.ourself.version = head.version + 1;
          result.ourselfBumped = true;
          this.changedRecords();
        }
        continue;
      }
      if (isStale(head, current)) continue;
      const connections = connectionsOf(peer);
      for (const name of connections.keys()) if (!this.peers.has(name)) add(name);
      // Peers can only become unreachable when a record loses a connection, or arrives unconnected.
      if (!result.mayStrand) for (const name of current.connections.keys()) if (!connections.has(name)) result.mayStrand = true;
      Object.assign(current, head, {connections});
      // Passed on as it came, rather than encoded again by each peer it goes through (copied: the
      // update it came in may be large, and is not kept).
      this.recordBytes.set(current, {version: current.version, uid: current.uid, connections, bytes: Buffer.from(peer.bytes)});
      result.improved.add(head.name);
    }
    if (result.added.length > 0) result.mayStrand = true;
    if (result.added.length > 0 || result.improved.size > 0) this.changedRecords();
    return result;
  }

  /** Peers reachable from us over anyone's connections, established or not. */
  reachable(): Set<string> {
    const seen = new Set([this.ourself.name]);
    const queue = [this.ourself];
    for (let peer = queue.shift(); peer; peer = queue.shift()) {
      for (const name of peer.connections.keys()) {
        const next = this.peers.get(name);
        if (next && !seen.has(name)) {
          seen.add(name);
          queue.push(next);
        }
      }
    }
    return seen;
  }

  /** Drops the peers no path leads to any more; returns them. */
  garbageCollect(): PeerRecord[] {
    const reachable = this.reachable();
    const removed: PeerRecord[] = [];
    for (const [name, peer] of this.peers) {
      if (reachable.has(name)) continue;
      this.peers.delete(name);
      this.membershipCount++;
      removed.push(peer);
    }
    if (removed.length > 0) this.changedRecords();
    return removed;
  }

  /**
   * The underlay IP of a peer: from our own connection to it, else from any peer's connection to
   * it (the address that peer dialled, or the source of the connection it accepted).
   */
  addressOf(name: string): string | undefined {
    const ip = (address: string) => address.slice(0, address.lastIndexOf(':')).replace(/^\[|\]$/g, '');
    const ours = this.ourself.connections.get(name);
    if (ours) return ip(ours.address);
    for (const peer of this.peers.values()) {
      const c = peer.connections.get(name);
      if (c) return ip(c.address);
    }
    return undefined;
  }
}
