import type {GossipData, Gossiper} from '../mesh/gossip.js';
import type {DnsEntries, DnsEntry} from './entries.js';

/**
 * weaveDNS's mesh channel. Not the original's `nameserver` channel (gob-encoded): a peer of
 * weave 2.8.1 keeps its names to itself, and its channel crosses us untouched.
 */
export const DNS_CHANNEL = 'weavedns';

type Wire = [hostname: string, origin: string, containerId: string, address: string, version: number, tombstone: number];

/** Entries on their way to a neighbour; merging keeps the highest version of each. */
export class DnsGossipData implements GossipData {
  constructor(readonly entries: readonly DnsEntry[]) {}

  encode(): Buffer[] {
    const wire: Wire[] = this.entries.map(e => [e.hostname, e.origin, e.containerId, e.address, e.version, e.tombstone]);
    return [Buffer.from(JSON.stringify(wire))];
  }

  merge(other: GossipData): GossipData {
    const byKey = new Map<string, DnsEntry>();
    for (const e of [...this.entries, ...(other as DnsGossipData).entries]) {
      const key = `${e.hostname.toLowerCase()}\0${e.origin}\0${e.containerId}\0${e.address}`;
      const seen = byKey.get(key);
      if (!seen || e.version > seen.version) byKey.set(key, e);
    }
    return new DnsGossipData([...byKey.values()]);
  }
}

/** Reads a message; a malformed one throws, which closes the connection it came on. */
export function decodeEntries(message: Buffer): DnsEntry[] {
  const wire = JSON.parse(message.toString('utf8')) as unknown;
  if (!Array.isArray(wire)) throw new Error('weaveDNS gossip: expected a list of entries');
  return wire.map(w => {
    if (!Array.isArray(w) || w.length !== 6 || typeof w[0] !== 'string' || typeof w[4] !== 'number') throw new Error('weaveDNS gossip: malformed entry');
    const [hostname, origin, containerId, address, version, tombstone] = w as Wire;
    return {hostname, origin, containerId, address, version, tombstone};
  });
}

export class DnsGossiper implements Gossiper {
  constructor(private readonly entries: DnsEntries) {}

  onGossipUnicast(): void {}

  onGossipBroadcast(_source: string, update: Buffer): GossipData | undefined {
    return this.receive(update);
  }

  gossip(): GossipData | undefined {
    const all = this.entries.all();
    return all.length === 0 ? undefined : new DnsGossipData(all);
  }

  onGossip(update: Buffer): GossipData | undefined {
    return this.receive(update);
  }

  private receive(update: Buffer): GossipData | undefined {
    const fresh = this.entries.merge(decodeEntries(update));
    return fresh.length === 0 ? undefined : new DnsGossipData(fresh);
  }
}
