import {EXPOSE_ID} from '../../defaults.js';
import {formatAddress} from '../../net/cidr.js';
import {
  cidrSpan,
  formatCidr,
  hostSpan,
  type IpamCidr,
  IpamInputError,
  parseIpamCidr,
  type Span,
  spanContains,
  spansOverlap,
} from './range.js';
import type {Mutation, OwnedRecord, PersistedState} from './records.js';
import {type ForeignRing, Ring, type RingRecord} from './ring.js';
import {Space} from './space.js';

/** The original's UnknownPeerName: who owns what a peer leaving alone gave up. */
export const NO_PEER = '00:00:00:00:00:00';

/** The original's NoContainerID: allocations under it are filed by their address. */
export const NO_CONTAINER_ID = '_';

interface Owned {
  cidrs: IpamCidr[];
  container: boolean;
  cni: boolean;
}

export interface AllocationFlags {
  /** check-alive: the id is a Docker container, whose addresses go with it (ipam/check-alive.ts). */
  container?: boolean;
  /** origin=cni: the CNI plugin made it, so CNI GC may free it. */
  cni?: boolean;
}

/**
 * The allocation rules over the spans this peer owns, synchronous and free of I/O: every change
 * goes through apply(), both live (then handed to the journal to persist) and when replaying the
 * log at start, so what is replayed is exactly what was done.
 */
export class Allocator {
  readonly ring: Ring;
  readonly universeSpan: Span;
  private readonly space = new Space();
  private readonly owned = new Map<string, Owned>();
  /** Peer names to nicknames, for the status and rmpeer by nickname. */
  readonly nicknames = new Map<string, string>();
  /** The ring as last recorded, once abandon() has given ours to no one in memory alone. */
  private recordedRing?: RingRecord;

  constructor(
    readonly universe: IpamCidr,
    readonly ourName: string,
    ourNickname: string,
    private readonly journal: (mutation: Mutation) => void,
  ) {
    this.universeSpan = cidrSpan(universe);
    this.ring = new Ring(this.universeSpan);
    this.nicknames.set(ourName, ourNickname);
  }

  /** Restores the persisted state, then replays the mutations logged after it. */
  load(state: PersistedState | undefined, mutations: readonly Mutation[]): void {
    if (state) {
      this.apply({t: 'ring', ring: state.ring, seeds: state.seeds ?? []});
      for (const record of state.owned) {
        for (const cidr of record.cidrs) {
          this.apply({t: 'add', id: record.id, cidr, container: record.container ?? false, cni: record.cni ?? false});
        }
      }
    }
    for (const mutation of mutations) this.apply(mutation);
  }

  snapshot(): PersistedState {
    const owned: OwnedRecord[] = [];
    for (const [id, entry] of this.owned) {
      const record: OwnedRecord = {id, cidrs: entry.cidrs.map(formatCidr)};
      if (entry.container) record.container = true;
      if (entry.cni) record.cni = true;
      owned.push(record);
    }
    const {tokens, seeds} = this.recordedRing ?? this.ring.toRecord();
    return {ring: tokens, seeds, owned};
  }

  private record(mutation: Mutation): void {
    this.apply(mutation);
    this.journal(mutation);
  }

  /** The one place where state changes; replaying a mutation twice changes nothing more. */
  private apply(mutation: Mutation): void {
    switch (mutation.t) {
      case 'ring':
        this.ring.restore({tokens: mutation.ring, seeds: mutation.seeds});
        this.space.setOwned(this.ring.ownedSpans(this.ourName));
        return;
      case 'add': {
        const cidr = parseIpamCidr(mutation.cidr);
        const entry = this.owned.get(mutation.id) ?? {cidrs: [], container: false, cni: false};
        if (!entry.cidrs.some(c => c.addr === cidr.addr)) entry.cidrs.push(cidr);
        entry.container = mutation.container;
        entry.cni = mutation.cni;
        this.owned.set(mutation.id, entry);
        if (this.ring.owner(cidr.addr) === this.ourName) this.space.claim(cidr.addr);
        return;
      }
      case 'free': {
        const addr = parseIpamCidr(`${mutation.addr}/32`).addr;
        const entry = this.owned.get(mutation.id);
        if (!entry) return;
        entry.cidrs = entry.cidrs.filter(c => c.addr !== addr);
        if (entry.cidrs.length === 0) this.owned.delete(mutation.id);
        this.space.release(addr);
        return;
      }
      case 'delete':
        for (const cidr of this.owned.get(mutation.id)?.cidrs ?? []) this.space.release(cidr.addr);
        this.owned.delete(mutation.id);
        return;
    }
  }

  private recordRing(ring: Ring): void {
    const {tokens, seeds} = ring.toRecord();
    this.record({t: 'ring', ring: tokens, seeds});
  }

  /** Establishes the ring split between `peers` (on one host: ourselves alone). */
  createRing(peers: readonly string[]): void {
    const ring = new Ring(this.universeSpan);
    ring.claimForPeers(peers);
    this.recordRing(ring);
  }

  /**
   * Merges a ring from another peer (see Ring.merge); a span holding allocations is never given
   * up. Returns whether ours changed; throws RingMergeError, changing nothing.
   */
  mergeRing(other: ForeignRing): boolean {
    const ring = this.ring.copy();
    if (!ring.merge(other, this.ourName, span => this.space.usedIn(span))) return false;
    this.recordRing(ring);
    return true;
  }

  /** Gives `to` part of our free space in `span`; undefined when we have none free there. */
  donate(span: Span, to: string): Span | undefined {
    const chunk = this.space.donation(span);
    if (!chunk) return undefined;
    const ring = this.ring.copy();
    ring.grant(chunk, to, this.ourName);
    this.recordRing(ring);
    return chunk;
  }

  /**
   * Shutdown with no peer to take our spans: they go to no one (the original's unknown peer,
   * so shown unreachable) in memory alone, as the original, which persisted the ring only when
   * handing it to a peer; a router started again over the same data owns them again.
   */
  abandon(): void {
    const ring = this.ring.copy();
    if (ring.transfer(this.ourName, NO_PEER).length === 0) return;
    this.recordedRing ??= this.ring.toRecord();
    const {tokens, seeds} = ring.toRecord();
    this.apply({t: 'ring', ring: tokens, seeds});
  }

  /** Shutdown: every span of ours goes to `heir`. */
  handOver(heir: string): void {
    const ring = this.ring.copy();
    if (ring.transfer(this.ourName, heir).length > 0) this.recordRing(ring);
  }

  /** Puts our current free counts in the ring, where others look for donors; true when any changed. */
  reportFree(): boolean {
    const ring = this.ring.copy();
    if (!ring.reportFree(this.ourName, span => this.space.numFreeIn(span))) return false;
    this.recordRing(ring);
    return true;
  }

  /** The addresses `id` holds inside `span`, in the order they were given. */
  lookup(id: string, span: Span): IpamCidr[] {
    return (this.owned.get(id)?.cidrs ?? []).filter(c => spanContains(span, c.addr));
  }

  /**
   * An address for `id` in `subnet`: the one it already holds there, else the lowest free one.
   * Undefined when none is free (the caller waits); throws when the subnet is outside the range.
   * The ring must be established.
   */
  allocate(id: string, subnet: IpamCidr, flags: AllocationFlags): number | undefined {
    const hosts = hostSpan(subnet);
    const existing = this.lookup(id, hosts)[0];
    if (existing) return existing.addr;
    if (!spansOverlap(this.universeSpan, cidrSpan(subnet))) {
      throw new IpamInputError(`range ${formatCidr(subnet)} out of bounds: ${formatCidr(this.universe)}`);
    }
    const addr = this.space.lowestFree(hosts);
    if (addr === undefined) return undefined;
    const cidr = formatCidr({addr, prefix: subnet.prefix});
    this.record({t: 'add', id: id === NO_CONTAINER_ID ? formatAddress(addr) : id, cidr, container: flags.container ?? false, cni: flags.cni ?? false});
    return addr;
  }

  /**
   * Records that `id` uses `cidr.addr`, as the original's claim: an address outside the range is
   * taken on trust; inside, it must be ours and not held by another id. The ring must be
   * established.
   */
  claim(id: string, cidr: IpamCidr, flags: AllocationFlags): void {
    const add = (ident: string) => this.record({t: 'add', id: ident, cidr: formatCidr(cidr), container: flags.container ?? false, cni: flags.cni ?? false});
    const anonymous = id === NO_CONTAINER_ID;
    if (!this.ring.contains(cidr.addr)) {
      if (!(anonymous && this.holderOf(cidr.addr) !== undefined)) add(anonymous ? formatAddress(cidr.addr) : id);
      return;
    }
    const owner = this.ring.owner(cidr.addr);
    if (owner !== this.ourName) {
      const nickname = owner === undefined ? undefined : this.nicknames.get(owner);
      throw new IpamInputError(`address ${formatAddress(cidr.addr)} is owned by other peer ${owner}${nickname ? ` (${nickname})` : ''}`);
    }
    const holder = this.holderOf(cidr.addr);
    if (holder === undefined) {
      if (!this.space.isFree(cidr.addr)) throw new IpamInputError(`address ${formatAddress(cidr.addr)} is not free to claim`);
      add(anonymous ? formatAddress(cidr.addr) : id);
    } else if (anonymous) {
      // As the original: a claim that names no container cannot prove the holder wrong, so the holder keeps it.
    } else if (holder === formatAddress(cidr.addr)) {
      if (holder !== id) throw new IpamInputError(`address ${formatCidr(cidr)} already in use`);
    } else if (holder !== id) {
      throw new IpamInputError(`address ${formatCidr(cidr)} is already owned by ${holder}`);
    }
  }

  private holderOf(addr: number): string | undefined {
    for (const [id, entry] of this.owned) {
      if (entry.cidrs.some(c => c.addr === addr)) return id;
    }
    return undefined;
  }

  /** Frees one address of `id` (for `_`, the entry filed under the address). */
  free(id: string, addr: number): void {
    const ident = id === NO_CONTAINER_ID ? formatAddress(addr) : id;
    if (!this.owned.get(ident)?.cidrs.some(c => c.addr === addr)) {
      throw new IpamInputError(`Free: address ${formatAddress(addr)} not found for ${id}`);
    }
    this.record({t: 'free', id: ident, addr: formatAddress(addr)});
  }

  /** Frees every address of `id`. */
  delete(id: string): void {
    if (!this.owned.has(id)) throw new IpamInputError(`Delete: no addresses for ${id}`);
    this.record({t: 'delete', id});
  }

  /** Whether `id` holds addresses as a Docker container (check-alive), and never as a CNI pod. */
  isContainerOwner(id: string): boolean {
    const entry = this.owned.get(id);
    return entry !== undefined && entry.container && !entry.cni;
  }

  /** Every id that holds addresses as a Docker container. */
  containerOwners(): string[] {
    return [...this.owned.keys()].filter(id => this.isContainerOwner(id));
  }

  /** CNI GC: frees every CNI allocation whose id is not in `keep`; returns the freed ids. */
  collectCni(keep: ReadonlySet<string>): string[] {
    const freed = [...this.owned].filter(([id, entry]) => entry.cni && id !== EXPOSE_ID && !keep.has(id)).map(([id]) => id);
    for (const id of freed) this.record({t: 'delete', id});
    return freed;
  }

  /**
   * rmpeer: takes over the spans of a peer named by name or nickname; returns how many addresses
   * became ours. Never from ourselves.
   */
  takeOver(nameOrNickname: string): number {
    const peer = [...this.nicknames].find(([, nick]) => nick === nameOrNickname)?.[0] ?? nameOrNickname;
    if (peer === this.ourName) return 0;
    const ring = this.ring.copy();
    if (ring.transfer(peer, this.ourName).length === 0) return 0;
    const before = this.space.numFree();
    this.recordRing(ring);
    return this.space.numFree() - before;
  }

  /** Every holder and its addresses, for GET /ip. */
  list(): {id: string; cidrs: IpamCidr[]}[] {
    return [...this.owned].map(([id, entry]) => ({id, cidrs: entry.cidrs}));
  }

  /** Addresses of our spans in use. */
  numUsed(): number {
    return this.space.numUsed();
  }

  numFree(): number {
    return this.space.numFree();
  }
}
