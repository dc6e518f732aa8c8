import {importLegacyState} from '../legacy/import.js';
import type {Logger} from '../log.js';
import type {IpamStatus} from '../state.js';
import {Allocator, type AllocationFlags} from './allocator.js';
import type {IpamInit} from './consensus.js';
import {type IpamMesh, RingGossiper} from './gossiper.js';
import {formatAddress} from '../../net/cidr.js';
import {cidrSize, cidrSpan, formatCidr, hostSpan, type IpamCidr, IpamInputError, parseSubnet, type Span, spanContains, spansOverlap} from './range.js';
import type {IpamStore} from './records.js';
import {FileStore} from './store.js';
import {CANCELLED, type Cancelled, type PendingClaim, PendingQueue, TIMED_OUT, type TimedOut} from './pending.js';
import {readStore, type StoreIdentity} from './store-load.js';

export interface IpamOptions {
  /** --ipalloc-range, a subnet such as 10.32.0.0/12. */
  range: string;
  /** --ipalloc-default-subnet (defaults to the range). */
  defaultSubnet?: string;
  peerName: string;
  nickname: string;
  logger: Logger;
  /** --ipalloc-init; consensus when unset. */
  init?: IpamInit;
  /** The peer mesh. Without it (one host, the standalone process) the whole range is ours on first use. */
  mesh?: IpamMesh;
  /** How often waiting work is retried with peers. */
  tickMs?: number;
}

export interface FileIpamOptions extends IpamOptions {
  dbPrefix: string;
  /** Size of a fresh log file (tests shrink it to exercise compaction). */
  minLogBytes?: number;
  /** --ipam-recover: start from what precedes damage in the data, moving the damaged files aside. */
  recover?: boolean;
}

/** An allocation that waited as long as its caller allows; `reason` says why and what to do. */
export class IpamWaitError extends Error {
  constructor(
    readonly reason: string,
    readonly waitedMs: number,
  ) {
    super(`${reason} (gave up after ${waitedMs / 1000} s)`);
    this.name = 'IpamWaitError';
  }
}

/**
 * A consensus that made no progress this long is proposed again, and peers are asked again (the
 * original re-proposes every 5 s regardless). Consensus itself moves on each message, not on this.
 */
const TICK_MS = 2000;

/**
 * The IPAM service of one router: the allocation rules, a durable store, and what the original's
 * actor adds: requests that wait (for the ring, for space from peers, for a freed address) and
 * give up when the client goes away, the lazily established ring, shutdown and status. Every
 * answer waits until the state it reports is on disk.
 */
export class IpamService {
  readonly defaultSubnet: IpamCidr;
  private readonly defaultSubnetText: string;
  private readonly pending = new PendingQueue(() => this.retryOnce());
  private shuttingDown = false;
  private readonly gossiper?: RingGossiper;
  private readonly releaseListeners: ((id: string, addr?: number) => void)[] = [];

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
    const init = options.init ?? {mode: 'consensus'};
    if (init.mode === 'seed') {
      if (allocator.ring.empty) {
        options.logger.info('Initialising with supplied IPAM seed', {component: 'ipam', seed: init.peers});
        allocator.createRing(init.peers);
      } else {
        options.logger.info('Found persisted IPAM data, ignoring supplied IPAM seed', {component: 'ipam'});
      }
    }
    if (options.mesh) {
      this.gossiper = new RingGossiper({
        allocator,
        store,
        logger: options.logger,
        mesh: options.mesh,
        init,
        tickMs: this.tickMs,
        hooks: {
          ringChanged: () => this.retryPending(),
          denied: (sender, span) => this.denied(sender, span),
          hasPending: () => !this.pending.empty,
          retry: () => this.retryPending(),
        },
      });
    }
  }

  /** A service over the data under `--db-prefix`, after loading it and starting a new generation. */
  static async open(options: FileIpamOptions): Promise<IpamService> {
    const universe = parseSubnet(options.range);
    const identity: StoreIdentity = {peer: options.peerName, range: formatCidr(universe)};
    let store: FileStore | undefined;
    const allocator = new Allocator(universe, options.peerName, options.nickname, mutation => store!.append(mutation));
    const disk = await readStore(options.dbPrefix, identity, {logger: options.logger, recover: options.recover});
    const legacy = await importLegacyState({prefix: options.dbPrefix, universe: cidrSpan(universe), ourPeer: options.peerName, haveOwnState: disk.gen > 0, logger: options.logger});
    allocator.load(legacy?.state ?? disk.state, disk.mutations);
    store = await FileStore.open(options.dbPrefix, identity, disk, () => allocator.snapshot(), {
      logger: options.logger,
      minLogBytes: options.minLogBytes,
    });
    // Only now that our store holds it: a crash before leaves the file to import again.
    await legacy?.done();
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

  private get tickMs(): number {
    return this.options.tickMs ?? TICK_MS;
  }

  /**
   * The ring comes to exist on first use, as in the original: with peers, by consensus (or from
   * another peer); on one host there is nobody to agree with, and we own the whole range.
   */
  private establishRing(): void {
    if (!this.allocator.ring.empty) return;
    if (this.gossiper) {
      this.gossiper.establish();
      return;
    }
    this.allocator.createRing([this.options.peerName]);
    this.retryPending();
  }

  /**
   * An address for `id` in `subnet`: the one it holds there already, else the lowest free one.
   * Waits for the ring, for space from a peer, or for an address to be freed; `cancelled` when
   * `signal` aborts first or on shutdown.
   */
  allocate(id: string, subnet: IpamCidr, flags: AllocationFlags = {}, signal?: AbortSignal): Promise<IpamCidr | Cancelled> {
    return this.allocateOrWait(id, subnet, flags, signal) as Promise<IpamCidr | Cancelled>;
  }

  /** allocate(), giving up after `waitMs` with an IpamWaitError that says what it waits for. */
  async allocateWithin(id: string, subnet: IpamCidr, flags: AllocationFlags, waitMs: number, signal?: AbortSignal): Promise<IpamCidr | Cancelled> {
    const result = await this.allocateOrWait(id, subnet, flags, signal, waitMs);
    if (result === TIMED_OUT) throw new IpamWaitError(this.waitReason(subnet), waitMs);
    return result;
  }

  /** An allocation that waits at most `waitMs` when it must wait (timed out only with `waitMs`). */
  private async allocateOrWait(id: string, subnet: IpamCidr, flags: AllocationFlags, signal?: AbortSignal, waitMs?: number): Promise<IpamCidr | Cancelled | TimedOut> {
    if (this.shuttingDown || signal?.aborted) return CANCELLED;
    this.checkRoom();
    const addr = this.tryAllocate(id, subnet, flags);
    if (addr !== undefined) {
      await this.store.durable('refuse');
      return {addr, prefix: subnet.prefix};
    }
    const waiting = this.pending.allocate(id, subnet, flags, signal, waitMs);
    this.options.logger.debug('Allocation waits', {component: 'ipam', id, subnet: formatCidr(subnet), ring: this.allocator.ring.empty ? 'none yet' : 'established'});
    return waiting;
  }

  /** Why an allocation in `subnet` cannot be answered yet, and what would unblock it. */
  waitReason(subnet: IpamCidr): string {
    const {ring} = this.allocator;
    if (ring.empty) {
      const consensus = this.gossiper?.consensusStatus();
      if (consensus?.elector) {
        return `IPAM awaits consensus: ${consensus.known} of ${consensus.quorum} peers known; connect the peers (weave connect) or use --ipalloc-init seed=<peer names>`;
      }
      return 'IPAM awaits the ring from a peer (this router is an observer, or no peer holding the ring has answered yet); connect it to a peer that holds the ring';
    }
    if (![...ring.sizes()].some(([peer, size]) => size > 0 && this.isKnownPeer(peer))) {
      return "IPAM: all IP ranges are owned by unreachable peers; use 'weave rmpeer' for peers that are gone for good";
    }
    return `IPAM has no free address in ${formatCidr(subnet)} and waits for a peer to give space or for an address to be freed; free addresses that are no longer used, or widen the range`;
  }

  /** An address now, or undefined (then peers are asked for space); throws for a subnet out of range. */
  private tryAllocate(id: string, subnet: IpamCidr, flags: AllocationFlags): number | undefined {
    let addr = this.allocator.allocate(id, subnet, flags);
    if (addr === undefined && this.allocator.ring.empty) {
      this.establishRing();
      addr = this.allocator.allocate(id, subnet, flags);
    }
    if (addr === undefined && !this.allocator.ring.empty) this.gossiper?.askForSpace(hostSpan(subnet));
    return addr;
  }

  /** Retries what waits; the queue runs one retry at a time. */
  private retryPending(): void {
    this.pending.retry();
  }

  /** One retry, as the original: primes, then claims, then allocations in arrival order. */
  private retryOnce(): void {
    if (!this.allocator.ring.empty) this.pending.releasePrimes();
    this.pending.retainClaims(claim => !this.tryClaim(claim));
    this.pending.retainAllocates(pending => {
      let addr: number | undefined;
      try {
        this.checkRoom();
        addr = this.tryAllocate(pending.id, pending.subnet, pending.flags);
      } catch (error) {
        pending.settle(error as Error);
        return false;
      }
      if (addr === undefined) return true;
      const cidr = {addr, prefix: pending.subnet.prefix};
      this.store.durable('refuse').then(
        () => pending.settle(cidr),
        (error: Error) => pending.settle(error),
      );
      return false;
    });
  }

  /**
   * Records that `id` uses the address of `cidr` (PUT /ip/{id}/{ip}/{len}). An address another
   * peer owns is asked of it, and the claim waits for its answer. With `noErrorOnUnknown`, a
   * claim that cannot be settled yet (no ring, owner unreachable) is answered at once and goes on
   * in the background.
   */
  async claim(id: string, cidr: IpamCidr, flags: AllocationFlags & {noErrorOnUnknown?: boolean} = {}, signal?: AbortSignal): Promise<'ok' | Cancelled> {
    if (this.shuttingDown || signal?.aborted) return CANCELLED;
    this.checkRoom();
    if (!this.allocator.ring.contains(cidr.addr)) {
      this.options.logger.info(`Address ${formatCidr(cidr)} claimed by ${id} - not in our range`, {component: 'ipam'});
      this.allocator.claim(id, cidr, flags);
      await this.store.durable('refuse');
      return 'ok';
    }
    return this.pending.claim(
      {id, cidr, flags},
      claim => this.tryClaim(claim),
      error => this.options.logger.error(`Claim ${formatCidr(cidr)} for ${id}: ${error.message}`, {component: 'ipam'}),
      signal,
    );
  }

  /** Before a change a client asked for: refused while the disk is full (HTTP 503, CNI code 11), so that it is never applied unsaved. */
  private checkRoom(): void {
    const error = this.store.roomError();
    if (error) throw error;
  }

  private ownedByOther(addr: number, owner: string): IpamInputError {
    const nickname = this.allocator.nicknames.get(owner);
    return new IpamInputError(`address ${formatAddress(addr)} is owned by other peer ${owner}${nickname ? ` (${nickname})` : ''}`);
  }

  /** One attempt at a claim; true when it is settled for good. */
  private tryClaim(claim: PendingClaim): boolean {
    const {addr} = claim.cidr;
    const waitOrGiveUp = (error: Error): boolean => {
      if (!claim.flags.noErrorOnUnknown) {
        claim.settle(error);
        return true;
      }
      if (!claim.answered) this.options.logger.info(`Claim ${formatAddress(addr)} for ${claim.id}: ${error.message}; will try later.`, {component: 'ipam'});
      claim.settle('ok');
      return false;
    };
    this.establishRing();
    const owner = this.allocator.ring.owner(addr);
    if (owner === undefined) return waitOrGiveUp(new IpamInputError(`${formatAddress(addr)} is in the range ${this.universeText}, but the allocator is not initialized yet`));
    if (owner !== this.options.peerName) {
      const now = Date.now();
      if (claim.askedAt !== undefined && now - claim.askedAt < this.tickMs) return false;
      if (!this.gossiper?.askOwner(owner, addr)) return waitOrGiveUp(this.ownedByOther(addr, owner));
      claim.askedAt = now;
      return false;
    }
    try {
      this.checkRoom();
      this.allocator.claim(claim.id, claim.cidr, claim.flags);
    } catch (error) {
      claim.settle(error as Error);
      return true;
    }
    this.store.durable('refuse').then(
      () => claim.settle('ok'),
      (error: Error) => claim.settle(error),
    );
    return true;
  }

  /** A peer refused the space we asked for: claims of addresses there fail. */
  private denied(sender: string, span: Span): void {
    this.pending.retainClaims(claim => {
      if (!spanContains(span, claim.cidr.addr)) return true;
      claim.settle(this.ownedByOther(claim.cidr.addr, sender));
      return false;
    });
  }

  /** GET /ring: waits until the ring is established. */
  async prime(signal?: AbortSignal): Promise<void> {
    this.establishRing();
    if (!this.allocator.ring.empty || signal?.aborted) return;
    await this.pending.prime(signal);
  }

  /** The addresses `id` holds in `subnet` (default: the default subnet); never waits for space. */
  async lookup(id: string, subnet: IpamCidr = this.defaultSubnet): Promise<IpamCidr[]> {
    const found = this.allocator.lookup(id, hostSpan(subnet));
    await this.store.durable('read');
    return found;
  }

  async list(): Promise<{id: string; cidrs: IpamCidr[]}[]> {
    const owned = this.allocator.list();
    await this.store.durable('read');
    return owned;
  }

  /** Called when `id` lets go of `addr`, or of all its addresses (no `addr`): weaveDNS drops their names. */
  onRelease(listener: (id: string, addr?: number) => void): void {
    this.releaseListeners.push(listener);
  }

  private released(id: string, addr?: number): void {
    for (const listener of this.releaseListeners) listener(id, addr);
  }

  async free(id: string, addr: number): Promise<void> {
    this.checkRoom();
    this.allocator.free(id, addr);
    this.released(id, addr);
    this.retryPending();
    await this.store.durable('refuse');
  }

  async delete(id: string): Promise<void> {
    this.checkRoom();
    this.allocator.delete(id);
    this.released(id);
    this.retryPending();
    await this.store.durable('refuse');
  }

  isContainerOwner(id: string): boolean {
    return this.allocator.isContainerOwner(id);
  }

  /** Ids that hold addresses as Docker containers (check-alive), for the router's watch of Docker. */
  containerOwners(): string[] {
    return this.allocator.containerOwners();
  }

  /** A Docker container stopped: what it still waits for is given up, as the original. */
  cancelPendingFor(id: string): void {
    this.pending.cancelWhere(p => p.id === id && p.flags.container === true);
  }

  /**
   * Frees everything a Docker container held, once it is gone: only an owner that allocated
   * with check-alive, never a CNI pod's allocation. False when `id` is no such owner.
   */
  async releaseContainer(id: string): Promise<boolean> {
    if (!this.allocator.isContainerOwner(id)) return false;
    this.cancelPendingFor(id);
    this.checkRoom();
    this.allocator.delete(id);
    this.released(id);
    this.retryPending();
    await this.store.durable('refuse');
    return true;
  }

  /** CNI GC: frees the CNI allocations of every id not in `keep`; returns those ids. */
  async collectCni(keep: Iterable<string>): Promise<string[]> {
    this.checkRoom();
    const freed = this.allocator.collectCni(new Set(keep));
    for (const id of freed) this.released(id);
    this.retryPending();
    await this.store.durable('refuse');
    return freed;
  }

  /** rmpeer (DELETE /peer/{name}): the number of addresses taken over; others hear of it once durable. */
  async takeOver(nameOrNickname: string): Promise<number> {
    if (nameOrNickname === this.options.peerName || nameOrNickname === this.options.nickname) {
      this.options.logger.warning('attempt to take over range from ourself', {component: 'ipam'});
      return 0;
    }
    this.checkRoom();
    const taken = this.allocator.takeOver(nameOrNickname);
    if (taken > 0) {
      this.retryPending();
      await this.gossiper?.takenOver();
    }
    await this.store.durable('refuse');
    return taken;
  }

  /**
   * DELETE /peer (`weave reset`): cancels waiting requests, refuses new allocations and claims,
   * and hands our spans to a live peer, as the original. With no peer to hand them to (one
   * host), they go to no one in memory alone (shown unreachable, as the original): the
   * allocations stay persisted and come back if the router starts again over the same data
   * (`weave reset` deletes that data).
   */
  async shutdown(): Promise<void> {
    this.checkRoom();
    this.options.logger.info('Shutdown', {component: 'ipam'});
    this.shuttingDown = true;
    this.pending.cancelAll();
    await this.gossiper?.handOver();
    await this.store.durable('refuse');
  }

  private isKnownPeer(name: string): boolean {
    return this.gossiper ? this.gossiper.isKnownPeer(name) : name === this.options.peerName;
  }

  /** The status texts of the original (`weave status`, `status ipam`, the report). */
  private statusText(): string {
    const {ring} = this.allocator;
    if (!ring.empty) {
      const reachable = [...ring.sizes()].some(([peer, size]) => size > 0 && this.isKnownPeer(peer));
      if (!reachable) return "all IP ranges owned by unreachable peers - use 'rmpeer' if they are dead";
      return this.pending.allocationsWaiting ? 'waiting for IP(s) to become available' : 'ready';
    }
    const consensus = this.gossiper?.consensusStatus();
    if (!consensus?.awaiting) return 'idle';
    return consensus.elector ? `awaiting consensus (quorum: ${consensus.quorum}, known: ${consensus.known})` : 'priming';
  }

  status(): IpamStatus {
    const {ring, nicknames} = this.allocator;
    return {
      status: this.statusText(),
      range: this.universeText,
      rangeNumIps: cidrSize(this.allocator.universe),
      activeIps: this.allocator.numUsed(),
      defaultSubnet: this.defaultSubnetText,
      entries: ring.entries().map(e => ({...e, nickname: nicknames.get(e.peer) ?? '', isKnownPeer: this.isKnownPeer(e.peer)})),
      ...this.pending.status(),
      owned: [...ring.sizes()].map(([peer, ips]) => ({peer, nickname: nicknames.get(peer) ?? '', ips, reachable: this.isKnownPeer(peer)})),
    };
  }

  /** Cancels what waits, stops talking to peers, and closes the store once everything is on disk. */
  async close(): Promise<void> {
    this.pending.cancelAll();
    this.gossiper?.close();
    await this.store.close();
  }
}
