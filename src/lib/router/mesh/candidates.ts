import {ipOf} from './address.js';
import type {PeerRecord} from './topology.js';

/** A peer someone is connected to, and where to dial it: the address, or the IP to dial at its port. */
export interface Candidate {
  other: string;
  address?: string;
  ip?: string;
}

interface Counted {
  candidate: Candidate;
  /** How many records report it. */
  count: number;
}

/**
 * The peers others report connections to, each (peer, address) once: in a full mesh of 100 the
 * 9,900 connections reported name about 100. Kept up to date from the records whose connections
 * changed since the last look (an update replaces them whole), so that a look costs the number of
 * peers, not of connections: the maker looks after each event of our own connections, which come
 * by the thousand while a large mesh forms.
 */
export class CandidateIndex {
  /** What each record contributed, while its connections stay the same. */
  private readonly contributed = new Map<PeerRecord, {connections: PeerRecord['connections']; keys: string[]}>();
  private readonly counted = new Map<string, Counted>();

  /** The candidates of `peers` (all but `ourName`'s own record). */
  update(peers: Iterable<PeerRecord>, ourName: string): IterableIterator<Counted> {
    const present = new Set<PeerRecord>();
    for (const peer of peers) {
      if (peer.name === ourName) continue;
      present.add(peer);
      const had = this.contributed.get(peer);
      if (had?.connections === peer.connections) continue;
      if (had) this.forget(had.keys);
      this.contributed.set(peer, {connections: peer.connections, keys: this.count(peer)});
    }
    for (const [peer, had] of this.contributed) {
      if (present.has(peer)) continue;
      this.forget(had.keys);
      this.contributed.delete(peer);
    }
    return this.counted.values();
  }

  /**
   * Counts the peers `peer` reports connections to, with the address it dialled, or the IP of one
   * it accepted (the source port is ephemeral: that peer is dialled where it listens).
   */
  private count(peer: PeerRecord): string[] {
    const keys: string[] = [];
    for (const [other, c] of peer.connections) {
      const candidate: Candidate = c.outbound ? {other, address: c.address} : {other, ip: ipOf(c.address)};
      const key = `${other} ${candidate.address ?? candidate.ip}`;
      keys.push(key);
      const known = this.counted.get(key);
      if (known) known.count++;
      else this.counted.set(key, {candidate, count: 1});
    }
    return keys;
  }

  private forget(keys: string[]): void {
    for (const key of keys) {
      const known = this.counted.get(key)!;
      if (--known.count === 0) this.counted.delete(key);
    }
  }
}
