import type {Logger} from '../log.js';
import type {IpamStatus} from '../state.js';
import {Allocator, type AllocationFlags} from './allocator.js';
import {type Cidr, cidrSize, cidrSpan, formatAddress, formatCidr, hostSpan, IpamInputError, networkOf, parseSubnet, spansOverlap} from './range.js';
import type {IpamStore} from './records.js';
import {FileStore, readStore, type StoreIdentity} from './store.js';

export interface IpamOptions {
  /** --ipalloc-range, a subnet such as 10.32.0.0/12. */
  range: string;
  /** --ipalloc-default-subnet (defaults to the range). */
  defaultSubnet?: string;
  peerName: string;
  nickname: string;
  logger: Logger;
  /** --ipalloc-init seed=...: the ring is split between these peers at once instead of on first use. */
  seed?: string[];
}

export interface FileIpamOptions extends IpamOptions {
  dbPrefix: string;
  /** Size of a fresh log file (tests shrink it to exercise compaction). */
  minLogBytes?: number;
}

/** A blocked request that gave up: the client went away, or the router is shutting down. */
export const CANCELLED = 'cancelled';
export type Cancelled = typeof CANCELLED;

interface PendingAllocate {
  id: string;
  subnet: Cidr;
  flags: AllocationFlags;
  settle(result: Cidr | Cancelled | Error): void;
}

/**
 * The IPAM service of one router: the allocation rules, a durable store, and what the original's
 * actor adds: allocations that wait while the space is full and give up when the client goes
 * away, the lazily established ring, shutdown and status. Every answer waits until the state it
 * reports is on disk.
 */
export class IpamService {
  readonly defaultSubnet: Cidr;
  private readonly defaultSubnetText: string;
  private pendingAllocates: PendingAllocate[] = [];
  private pendingPrimes: (() => void)[] = [];
  private shuttingDown = false;

  constructor(
    private readonly options: IpamOptions,
    readonly allocator: Allocator,
    private readonly store: IpamStore,
  ) {
    this.defaultSubnetText = options.defaultSubnet || options.range;
    this.defaultSubnet = parseSubnet(this.defaultSubnetText);
    if (!spansOverlap(cidrSpan(this.defaultSubnet), allocator.universeSpan)) {
      throw new IpamInputError(`IP address allocation default subnet ${this.defaultSubnetText} does not overlap with allocation range ${this.universeText}`);
    }
    if (options.seed?.length && allocator.ring.empty) allocator.createRing(options.seed);
  }

  /** A service over the data under `--db-prefix`, after loading it and starting a new generation. */
  static async open(options: FileIpamOptions): Promise<IpamService> {
    const universe = parseSubnet(options.range);
    const identity: StoreIdentity = {peer: options.peerName, range: formatCidr(universe)};
    let store: FileStore | undefined;
    const allocator = new Allocator(universe, options.peerName, options.nickname, mutation => store!.append(mutation));
    const disk = await readStore(options.dbPrefix, identity, options.logger);
    allocator.load(disk.state, disk.mutations);
    store = await FileStore.create(options.dbPrefix, identity, disk.gen + 1, () => allocator.snapshot(), {
      logger: options.logger,
      minLogBytes: options.minLogBytes,
    });
    return new IpamService(options, allocator, store);
  }

  /** A service over any store (tests use one in memory). */
  static withStore(options: IpamOptions, store: IpamStore): IpamService {
    const allocator = new Allocator(parseSubnet(options.range), options.peerName, options.nickname, mutation => store.append(mutation));
    return new IpamService(options, allocator, store);
  }

  get universeText(): string {
    return formatCidr(this.allocator.universe);
  }

  /**
   * The ring comes to exist on first use, as in the original. On one host there is nobody to
   * agree with: we own the whole range. Issue 4 puts the consensus between peers here.
   */
  private establishRing(): void {
    if (!this.allocator.ring.empty) return;
    this.allocator.createRing([this.options.peerName]);
    this.ringChanged();
  }

  private ringChanged(): void {
    const primes = this.pendingPrimes;
    this.pendingPrimes = [];
    for (const done of primes) done();
    this.retryPending();
  }

  /**
   * An address for `id` in `subnet`: the one it holds there already, else the lowest free one.
   * Waits while none is free; `cancelled` when `signal` aborts first or on shutdown.
   */
  async allocate(id: string, subnet: Cidr, flags: AllocationFlags = {}, signal?: AbortSignal): Promise<Cidr | Cancelled> {
    if (this.shuttingDown || signal?.aborted) return CANCELLED;
    this.establishRing();
    const addr = this.allocator.allocate(id, subnet, flags);
    if (addr !== undefined) {
      await this.store.durable();
      return {addr, prefix: subnet.prefix};
    }
    return new Promise<Cidr | Cancelled>((resolve, reject) => {
      const onAbort = () => {
        this.pendingAllocates = this.pendingAllocates.filter(p => p !== pending);
        pending.settle(CANCELLED);
      };
      const pending: PendingAllocate = {
        id,
        subnet,
        flags,
        settle: result => {
          signal?.removeEventListener('abort', onAbort);
          if (result instanceof Error) reject(result);
          else resolve(result);
        },
      };
      signal?.addEventListener('abort', onAbort, {once: true});
      this.pendingAllocates.push(pending);
      this.options.logger.debug('Allocation waits for a free address', {component: 'ipam', id, subnet: formatCidr(subnet)});
    });
  }

  /** Gives waiting allocations the addresses that became free, first come first served. */
  private retryPending(): void {
    const still: PendingAllocate[] = [];
    for (const pending of this.pendingAllocates) {
      let addr: number | undefined;
      try {
        addr = this.allocator.allocate(pending.id, pending.subnet, pending.flags);
      } catch (error) {
        pending.settle(error as Error);
        continue;
      }
      if (addr === undefined) {
        still.push(pending);
        continue;
      }
      const cidr = {addr, prefix: pending.subnet.prefix};
      this.store.durable().then(
        () => pending.settle(cidr),
        (error: Error) => pending.settle(error),
      );
    }
    this.pendingAllocates = still;
  }

  /**
   * Records that `id` uses the address of `cidr` (PUT /ip/{id}/{ip}/{len}). With
   * `noErrorOnUnknown`, an address whose owner is not known yet is accepted without error.
   */
  async claim(id: string, cidr: Cidr, flags: AllocationFlags & {noErrorOnUnknown?: boolean} = {}, signal?: AbortSignal): Promise<'ok' | Cancelled> {
    if (this.shuttingDown || signal?.aborted) return CANCELLED;
    if (this.allocator.ring.contains(cidr.addr)) {
      this.establishRing();
      if (this.allocator.ring.empty) {
        if (flags.noErrorOnUnknown) return 'ok';
        throw new IpamInputError(`${formatAddress(cidr.addr)} is in the range ${this.universeText}, but the allocator is not initialized yet`);
      }
    } else {
      this.options.logger.info(`Address ${formatCidr(cidr)} claimed by ${id} - not in our range`, {component: 'ipam'});
    }
    this.allocator.claim(id, cidr, flags);
    await this.store.durable();
    return 'ok';
  }

  /** GET /ring: waits until the ring is established (at once on one host). */
  async prime(signal?: AbortSignal): Promise<void> {
    this.establishRing();
    if (!this.allocator.ring.empty || signal?.aborted) return;
    await new Promise<void>(resolve => {
      this.pendingPrimes.push(resolve);
      signal?.addEventListener('abort', () => resolve(), {once: true});
    });
  }

  /** The addresses `id` holds in `subnet` (default: the default subnet); never waits for space. */
  async lookup(id: string, subnet: Cidr = this.defaultSubnet): Promise<Cidr[]> {
    const found = this.allocator.lookup(id, hostSpan(subnet));
    await this.store.durable();
    return found;
  }

  async list(): Promise<{id: string; cidrs: Cidr[]}[]> {
    const owned = this.allocator.list();
    await this.store.durable();
    return owned;
  }

  async free(id: string, addr: number): Promise<void> {
    this.allocator.free(id, addr);
    this.retryPending();
    await this.store.durable();
  }

  async delete(id: string): Promise<void> {
    this.allocator.delete(id);
    this.retryPending();
    await this.store.durable();
  }

  /** CNI GC: frees the CNI allocations of every id not in `keep`; returns those ids. */
  async collectCni(keep: Iterable<string>): Promise<string[]> {
    const freed = this.allocator.collectCni(new Set(keep));
    this.retryPending();
    await this.store.durable();
    return freed;
  }

  /** rmpeer (DELETE /peer/{name}): the number of addresses taken over. */
  async takeOver(nameOrNickname: string): Promise<number> {
    if (nameOrNickname === this.options.peerName || nameOrNickname === this.options.nickname) {
      this.options.logger.warning('attempt to take over range from ourself', {component: 'ipam'});
      return 0;
    }
    const taken = this.allocator.takeOver(nameOrNickname);
    if (taken > 0) this.ringChanged();
    await this.store.durable();
    return taken;
  }

  /**
   * DELETE /peer (`weave reset`): cancels waiting requests and refuses new allocations and
   * claims, as the original. It would hand our spans to another peer; on one host there is none,
   * so, as the original does then, the allocations stay persisted and come back if the router
   * starts again over the same data (`weave reset` deletes that data).
   */
  async shutdown(): Promise<void> {
    this.options.logger.info('Shutdown', {component: 'ipam'});
    this.shuttingDown = true;
    const pending = this.pendingAllocates;
    this.pendingAllocates = [];
    for (const p of pending) p.settle(CANCELLED);
    await this.store.durable();
  }

  status(): IpamStatus {
    const {ring, nicknames} = this.allocator;
    let status = 'idle';
    if (!ring.empty) status = this.pendingAllocates.length > 0 ? 'waiting for IP(s) to become available' : 'ready';
    return {
      status,
      range: this.universeText,
      rangeNumIps: cidrSize(this.allocator.universe),
      activeIps: this.allocator.numUsed(),
      defaultSubnet: this.defaultSubnetText,
      entries: ring.entries().map(e => ({...e, nickname: nicknames.get(e.peer) ?? '', isKnownPeer: e.peer === this.options.peerName})),
      pendingClaims: [],
      pendingAllocates: this.pendingAllocates.map(p => `${p.id} ${formatCidr({addr: networkOf(p.subnet), prefix: p.subnet.prefix})}`),
      owned: [...ring.sizes()].map(([peer, ips]) => ({peer, nickname: nicknames.get(peer) ?? '', ips, reachable: true})),
    };
  }

  /** Cancels what waits and closes the store once everything is on disk. */
  async close(): Promise<void> {
    const pending = this.pendingAllocates;
    this.pendingAllocates = [];
    for (const p of pending) p.settle(CANCELLED);
    await this.store.close();
  }
}
