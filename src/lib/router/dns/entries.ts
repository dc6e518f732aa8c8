import type {DnsRecord} from '../state.js';

/**
 * weaveDNS's records, as the original's nameserver keeps them: one entry per (hostname, origin
 * peer, container id, address), with a version and a tombstone (when it was deleted) so that a
 * deletion spreads by gossip like an addition. Only the origin changes its entries; a peer that
 * is removed takes its entries with it. Hostnames are fully qualified with the trailing dot, as
 * supplied; lookups ignore case.
 */
export type DnsEntry = DnsRecord;

const keyOf = (e: Pick<DnsEntry, 'hostname' | 'origin' | 'containerId' | 'address'>) => `${e.hostname.toLowerCase()}\0${e.origin}\0${e.containerId}\0${e.address}`;

const now = () => Math.floor(Date.now() / 1000);

/** A selector of our entries to delete: a missing part matches every entry (the original's `*`). */
export interface EntryMatch {
  containerId?: string;
  address?: string;
  hostname?: string;
}

export class DnsEntries {
  private readonly byKey = new Map<string, DnsEntry>();
  /** Lower-case hostname to keys, for A lookups. */
  private readonly byName = new Map<string, Set<string>>();
  /** Address to keys, for PTR lookups. */
  private readonly byAddress = new Map<string, Set<string>>();

  constructor(private readonly ourName: string) {}

  /** Adds (or revives) one of our entries; returns it to gossip, or undefined if it was live already. */
  add(hostname: string, containerId: string, address: string): DnsEntry | undefined {
    const key = keyOf({hostname, origin: this.ourName, containerId, address});
    const existing = this.byKey.get(key);
    if (existing) {
      if (existing.tombstone === 0) return undefined;
      existing.tombstone = 0;
      existing.version++;
      return {...existing};
    }
    const entry: DnsEntry = {hostname, origin: this.ourName, containerId, address, version: 0, tombstone: 0};
    this.insert(key, entry);
    return {...entry};
  }

  /** Tombstones our live entries that match; returns them to gossip. */
  delete(match: EntryMatch): DnsEntry[] {
    const lower = match.hostname?.toLowerCase();
    const deleted: DnsEntry[] = [];
    for (const e of this.byKey.values()) {
      if (e.origin !== this.ourName || e.tombstone !== 0) continue;
      if (match.containerId !== undefined && e.containerId !== match.containerId) continue;
      if (match.address !== undefined && e.address !== match.address) continue;
      if (lower !== undefined && e.hostname.toLowerCase() !== lower) continue;
      e.version++;
      e.tombstone = now();
      deleted.push({...e});
    }
    return deleted;
  }

  /** Entries from a peer: those new to us or of a higher version are kept and returned. */
  merge(incoming: readonly DnsEntry[]): DnsEntry[] {
    const changed: DnsEntry[] = [];
    for (const e of incoming) {
      const key = keyOf(e);
      const existing = this.byKey.get(key);
      if (!existing) {
        this.insert(key, {...e});
        changed.push(e);
      } else if (e.version > existing.version) {
        existing.version = e.version;
        existing.tombstone = e.tombstone;
        changed.push(e);
      }
    }
    return changed;
  }

  /** Forgets every entry of a peer that is gone (no tombstones: the peer is gone for everyone). */
  removeOrigin(peer: string): number {
    let removed = 0;
    for (const [key, e] of this.byKey) {
      if (e.origin !== peer) continue;
      this.remove(key, e);
      removed++;
    }
    return removed;
  }

  /** Drops tombstones older than `maxAgeSeconds`: by then every peer has heard of them. */
  expireTombstones(maxAgeSeconds: number): void {
    const limit = now() - maxAgeSeconds;
    for (const [key, e] of this.byKey) if (e.tombstone !== 0 && e.tombstone < limit) this.remove(key, e);
  }

  /** Live entries of a name, any case. */
  lookup(hostname: string): DnsEntry[] {
    return this.live(this.byName.get(hostname.toLowerCase()));
  }

  /** Live entries holding an address. */
  reverse(address: string): DnsEntry[] {
    return this.live(this.byAddress.get(address));
  }

  /** Every entry, tombstones too: what gossip carries. */
  all(): DnsEntry[] {
    return [...this.byKey.values()].map(e => ({...e}));
  }

  /** Every entry in the original's order (hostname, origin, container id, address). */
  sorted(): DnsEntry[] {
    return this.all().sort((a, b) => compare(a.hostname, b.hostname) || compare(a.origin, b.origin) || compare(a.containerId, b.containerId) || compare(a.address, b.address));
  }

  get liveCount(): number {
    let n = 0;
    for (const e of this.byKey.values()) if (e.tombstone === 0) n++;
    return n;
  }

  private live(keys: Set<string> | undefined): DnsEntry[] {
    if (!keys) return [];
    const found: DnsEntry[] = [];
    for (const key of keys) {
      const e = this.byKey.get(key)!;
      if (e.tombstone === 0) found.push(e);
    }
    return found;
  }

  private insert(key: string, e: DnsEntry): void {
    this.byKey.set(key, e);
    index(this.byName, e.hostname.toLowerCase(), key);
    index(this.byAddress, e.address, key);
  }

  private remove(key: string, e: DnsEntry): void {
    this.byKey.delete(key);
    unindex(this.byName, e.hostname.toLowerCase(), key);
    unindex(this.byAddress, e.address, key);
  }
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function index(map: Map<string, Set<string>>, k: string, key: string): void {
  const set = map.get(k);
  if (set) set.add(key);
  else map.set(k, new Set([key]));
}

function unindex(map: Map<string, Set<string>>, k: string, key: string): void {
  const set = map.get(k);
  set?.delete(key);
  if (set?.size === 0) map.delete(k);
}
