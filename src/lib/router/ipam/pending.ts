import type {AllocationFlags} from './allocator.js';
import {formatCidr, type IpamCidr, networkOf} from './range.js';

/** A blocked request that gave up: the client went away, or the router is shutting down. */
export const CANCELLED = 'cancelled';
export type Cancelled = typeof CANCELLED;

/** A blocked allocation that waited as long as its caller allows. */
export const TIMED_OUT = Symbol('timed out');
export type TimedOut = typeof TIMED_OUT;

export interface PendingAllocate {
  id: string;
  subnet: IpamCidr;
  flags: AllocationFlags;
  settle(result: IpamCidr | Cancelled | TimedOut | Error): void;
}

export interface PendingClaim {
  id: string;
  cidr: IpamCidr;
  flags: AllocationFlags & {noErrorOnUnknown?: boolean};
  /** When we last asked the owner for the address. */
  askedAt?: number;
  /** The caller has its answer; the claim goes on in the background (noErrorOnUnknown). */
  answered: boolean;
  settle(result: 'ok' | Cancelled | Error): void;
}

/**
 * What waits in the IPAM service, as the original's actor keeps it: allocations (for the ring,
 * for space from peers, for a freed address), claims (for the owner's answer) and primes (for
 * the ring), each given up when its caller's signal aborts or on shutdown. The service decides
 * what a retry does (`retryOnce`); this queue runs retries one at a time, in arrival order.
 */
export class PendingQueue {
  private allocates: PendingAllocate[] = [];
  private claims: PendingClaim[] = [];
  private primes: (() => void)[] = [];
  private retrying = false;
  private retryAgain = false;

  constructor(private readonly retryOnce: () => void) {}

  get empty(): boolean {
    return this.allocates.length + this.claims.length + this.primes.length === 0;
  }

  get allocationsWaiting(): boolean {
    return this.allocates.length > 0;
  }

  /** A retry asked for during one (it established the ring, say) runs after it. */
  retry(): void {
    if (this.retrying) {
      this.retryAgain = true;
      return;
    }
    this.retrying = true;
    try {
      do {
        this.retryAgain = false;
        this.retryOnce();
      } while (this.retryAgain);
    } finally {
      this.retrying = false;
    }
  }

  /**
   * An allocation that waits until a retry settles it, `signal` aborts, or `waitMs` pass (its
   * timer is armed only here: most allocations never wait).
   */
  allocate(id: string, subnet: IpamCidr, flags: AllocationFlags, signal?: AbortSignal, waitMs?: number): Promise<IpamCidr | Cancelled | TimedOut> {
    return new Promise<IpamCidr | Cancelled | TimedOut>((resolve, reject) => {
      const giveUp = (result: Cancelled | TimedOut) => {
        this.allocates = this.allocates.filter(p => p !== pending);
        pending.settle(result);
      };
      const onAbort = () => giveUp(CANCELLED);
      const timer = waitMs === undefined ? undefined : setTimeout(() => giveUp(TIMED_OUT), waitMs);
      const pending: PendingAllocate = {
        id,
        subnet,
        flags,
        settle: result => {
          signal?.removeEventListener('abort', onAbort);
          clearTimeout(timer);
          if (result instanceof Error) reject(result);
          else resolve(result);
        },
      };
      signal?.addEventListener('abort', onAbort, {once: true});
      this.allocates.push(pending);
    });
  }

  /**
   * A claim: `tryNow` makes the first attempt (true when settled for good), else it waits for
   * a retry. A failure after its caller was answered goes to `lateFailure`.
   */
  claim(
    claim: Pick<PendingClaim, 'id' | 'cidr' | 'flags'>,
    tryNow: (claim: PendingClaim) => boolean,
    lateFailure: (error: Error) => void,
    signal?: AbortSignal,
  ): Promise<'ok' | Cancelled> {
    return new Promise<'ok' | Cancelled>((resolve, reject) => {
      const onAbort = () => {
        this.claims = this.claims.filter(p => p !== pending);
        pending.settle(CANCELLED);
      };
      const pending: PendingClaim = {
        ...claim,
        answered: false,
        settle: result => {
          if (pending.answered) {
            // The caller was told "ok" already: a later failure can only be logged, as the original.
            if (result instanceof Error) lateFailure(result);
            return;
          }
          pending.answered = true;
          signal?.removeEventListener('abort', onAbort);
          if (result instanceof Error) reject(result);
          else resolve(result);
        },
      };
      signal?.addEventListener('abort', onAbort, {once: true});
      if (!tryNow(pending)) this.claims.push(pending);
    });
  }

  /** Waits for the ring (releasePrimes), or until `signal` aborts. */
  prime(signal?: AbortSignal): Promise<void> {
    return new Promise<void>(resolve => {
      // The signal may outlive the wait (it is the client's connection's): no listener left on it.
      const done = () => {
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.primes.push(done);
      signal?.addEventListener('abort', done, {once: true});
    });
  }

  releasePrimes(): void {
    const primes = this.primes;
    this.primes = [];
    for (const done of primes) done();
  }

  /** Keeps the claims for which `keep` is true (it settles the others). */
  retainClaims(keep: (claim: PendingClaim) => boolean): void {
    this.claims = this.claims.filter(keep);
  }

  /** Keeps the allocations for which `keep` is true (it settles the others), in their order. */
  retainAllocates(keep: (pending: PendingAllocate) => boolean): void {
    this.allocates = this.allocates.filter(keep);
  }

  /** What `gone` matches gives up (a Docker container that stopped, as the original's check-alive). */
  cancelWhere(gone: (pending: {id: string; flags: AllocationFlags}) => boolean): void {
    const allocates = this.allocates.filter(gone);
    const claims = this.claims.filter(gone);
    this.allocates = this.allocates.filter(p => !gone(p));
    this.claims = this.claims.filter(p => !gone(p));
    for (const p of allocates) p.settle(CANCELLED);
    for (const c of claims) c.settle(CANCELLED);
  }

  /** Shutdown: everything that waits gives up. */
  cancelAll(): void {
    const allocates = this.allocates;
    const claims = this.claims;
    this.allocates = [];
    this.claims = [];
    for (const p of allocates) p.settle(CANCELLED);
    for (const c of claims) c.settle(CANCELLED);
    this.releasePrimes();
  }

  /** The status lists of the original (`weave status ipam`, the report). */
  status(): {pendingClaims: {ident: string; cidr: string}[]; pendingAllocates: string[]} {
    return {
      pendingClaims: this.claims.map(c => ({ident: c.id, cidr: formatCidr(c.cidr)})),
      pendingAllocates: this.allocates.map(p => `${p.id} ${formatCidr({addr: networkOf(p.subnet), prefix: p.subnet.prefix})}`),
    };
  }
}
