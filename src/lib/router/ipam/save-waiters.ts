import type {WhileFull} from './records.js';

interface Waiter {
  /** Resolves once this many mutations are saved. */
  upTo: number;
  whileFull: WhileFull;
  /** The write that will save it (see wait()). */
  batch: number;
  promise: Promise<void>;
  resolve(): void;
  reject(error: Error): void;
}

/** Who waits for how many mutations (counted from the store's opening) to be on disk, in order. */
export class SaveWaiters {
  private waiters: Waiter[] = [];

  /**
   * Settles once `upTo` mutations are saved. Callers waiting for the same `batch` (no write
   * started between them) share one promise: the next write saves all of them.
   */
  wait(upTo: number, whileFull: WhileFull, batch: number): Promise<void> {
    const last = this.waiters.at(-1);
    if (last?.batch === batch && last.whileFull === whileFull) {
      last.upTo = upTo;
      return last.promise;
    }
    let resolve!: () => void;
    let reject!: (error: Error) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.waiters.push({upTo, whileFull, batch, promise, resolve, reject});
    return promise;
  }

  /** `count` mutations are on disk now. */
  saved(count: number): void {
    while (this.waiters.length > 0 && this.waiters[0]!.upTo <= count) this.waiters.shift()!.resolve();
  }

  /** Nothing past `savable` can be saved for now: clients hear `error` at once, reads go on, the rest waits. */
  noSpace(savable: number, error: Error): void {
    this.waiters = this.waiters.filter(w => {
      if (w.upTo <= savable || w.whileFull === 'wait') return true;
      if (w.whileFull === 'refuse') w.reject(error);
      else w.resolve();
      return false;
    });
  }

  /** A write failed for good. */
  fail(error: Error): void {
    for (const waiter of this.waiters) waiter.reject(error);
    this.waiters = [];
  }
}
