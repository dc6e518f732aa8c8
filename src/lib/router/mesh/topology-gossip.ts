import type {GossipData, Gossiper} from './gossip.js';
import {ProtocolError} from './protocol.js';
import type {Topology, UpdateResult} from './topology.js';

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

/** The mesh's own channel, "topology": peers and their connections. */
export class TopologyGossiper implements Gossiper {
  constructor(
    private readonly topology: Topology,
    /** Told of every merge, to react to what changed. */
    private readonly merged: (result: UpdateResult) => void,
  ) {}

  private apply(update: Buffer): UpdateResult {
    const result = this.topology.applyUpdate(update);
    this.merged(result);
    return result;
  }

  onGossipUnicast(): void {
    throw new ProtocolError('unexpected topology gossip unicast');
  }

  onGossipBroadcast(_source: string, update: Buffer): GossipData | undefined {
    const {received} = this.apply(update);
    return received.size > 0 ? new TopologyData(this.topology, received) : undefined;
  }

  gossip(): GossipData {
    return new TopologyData(this.topology, this.topology.names());
  }

  onGossip(update: Buffer): GossipData | undefined {
    const {improved} = this.apply(update);
    return improved.size > 0 ? new TopologyData(this.topology, improved) : undefined;
  }
}
