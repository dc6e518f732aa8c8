import {Reader, Writer} from './codec.js';
import type {GossipData, Gossiper} from './gossip.js';
import {ProtocolError} from './protocol.js';
import {isStale, RANK_BYTES, type Rank, readRanks, type Topology, type UpdateResult} from './topology.js';

/** Names of peers whose records to send; encoded from the topology as it is when sent. */
export class TopologyData implements GossipData {
  constructor(
    private readonly topology: Topology,
    readonly names: ReadonlySet<string>,
  ) {}

  encode(): Buffer[] {
    return this.topology.encode(this.names);
  }

  merge(other: GossipData): GossipData {
    return new TopologyData(this.topology, new Set([...this.names, ...(other as TopologyData).names]));
  }
}

/**
 * The topology's unicasts, between neighbours: a digest of all records (periodic), and the rank
 * of every record (when digests differ), each side then sending the records the other lacks.
 */
const DIGEST = 1;
const SUMMARY = 2;

/** How the gossiper answers a neighbour. */
export interface TopologyReplies {
  /** A topology unicast to a neighbour. */
  unicast(peer: string, message: Buffer): void;
  /** Records to a neighbour, as gossip: what is new to it goes on from there. */
  send(peer: string, data: GossipData): void;
}

function encodeSummary(topology: Topology, wantReply: boolean): Buffer {
  return topology.writeRanks(new Writer(2 + topology.all().length * RANK_BYTES).u8(SUMMARY).bool(wantReply)).finish();
}

/**
 * The mesh's own channel, "topology": peers and their connections. Changes are broadcast as
 * they happen; the periodic repair sends each neighbour chosen only a 16-byte digest, and whole
 * records only where the two differ, so an idle mesh of N peers costs each O(1) per round
 * rather than the whole O(N²) topology.
 */
export class TopologyGossiper implements Gossiper {
  constructor(
    private readonly topology: Topology,
    /** Told of every merge, to react to what changed. */
    private readonly merged: (result: UpdateResult) => void,
    private readonly replies: TopologyReplies,
  ) {}

  private apply(update: Buffer): UpdateResult {
    const result = this.topology.applyUpdate(update);
    this.merged(result);
    return result;
  }

  /** Periodic: our digest to `neighbours`; one whose records differ asks for more. */
  sendDigests(neighbours: Iterable<string>): void {
    const message = Buffer.concat([Buffer.of(DIGEST), this.topology.digest()]);
    for (const peer of neighbours) this.replies.unicast(peer, message);
  }

  onGossipUnicast(source: string, message: Buffer): void {
    const r = new Reader(message);
    const kind = r.u8();
    if (kind === DIGEST) {
      if (!r.fixed(16).equals(this.topology.digest())) this.replies.unicast(source, encodeSummary(this.topology, true));
    } else if (kind === SUMMARY) {
      const wantReply = r.bool();
      this.reconcile(source, readRanks(r), wantReply);
    } else {
      throw new ProtocolError(`unexpected topology gossip unicast (kind ${kind})`);
    }
  }

  /** A neighbour's ranks: it gets the records we hold newer; when it holds newer ones, our ranks so it sends them. */
  private reconcile(source: string, theirs: Map<string, Rank>, wantReply: boolean): void {
    const newer = new Set<string>();
    let theyHaveNewer = false;
    for (const p of this.topology.all()) {
      const rank = theirs.get(p.name);
      if (!rank || !isStale(p, rank)) newer.add(p.name);
    }
    for (const [name, rank] of theirs) {
      const ours = this.topology.get(name);
      if (!ours || !isStale(rank, ours)) theyHaveNewer = true;
    }
    if (newer.size > 0) this.replies.send(source, new TopologyData(this.topology, newer));
    if (wantReply && theyHaveNewer) this.replies.unicast(source, encodeSummary(this.topology, false));
  }

  onGossipBroadcast(_source: string, update: Buffer): GossipData | undefined {
    const {received} = this.apply(update);
    return received.size > 0 ? new TopologyData(this.topology, received) : undefined;
  }

  gossip(): GossipData {
    return new TopologyData(this.topology, this.topology.names());
  }

  /**
   * Records from a neighbour (a new connection's, a repair's): passed on to others only when they
   * name peers we did not know, as when two meshes join. Newer versions of known records reach
   * everyone by their owners' broadcasts, and what one missed is repaired by digests between
   * neighbours: passed on from neighbour to neighbour as well, while a mesh of 100 formed, they
   * were 80 messages a second to its first peer, four times its broadcasts.
   */
  onGossip(update: Buffer): GossipData | undefined {
    const {improved, added} = this.apply(update);
    return added.length > 0 && improved.size > 0 ? new TopologyData(this.topology, improved) : undefined;
  }
}
