/** Lower bound of the delay between attempts at one address. */
export const INITIAL_INTERVAL_MS = 2_000;
/** Upper bound: an address that keeps failing is still tried every few minutes. */
export const MAX_INTERVAL_MS = 6 * 60_000;
/** A connection that lived this long past its last attempt reconnects at once when it drops. */
export const RESET_AFTER_MS = 60_000;

/**
 * When to try an address next, as weaveworks/mesh does: at once the first time; after each
 * failure a random delay in [i/2, 3i/2) where i starts at 2 s and grows by half each time, capped
 * at 6 minutes. The jitter keeps peers that lost each other together from retrying in step.
 */
export class Backoff {
  /** Epoch ms of the next attempt; undefined means never (until told otherwise). */
  tryAfter: number | undefined;
  private interval = INITIAL_INTERVAL_MS;

  constructor(
    private readonly now: () => number = Date.now,
    private readonly random: () => number = Math.random,
  ) {
    this.tryNow();
  }

  tryNow(): void {
    this.tryAfter = this.now();
    this.interval = INITIAL_INTERVAL_MS;
  }

  tryLater(): void {
    this.tryAfter = this.now() + this.interval / 2 + Math.floor(this.random() * this.interval);
    this.interval = Math.min(Math.floor((this.interval * 3) / 2), MAX_INTERVAL_MS);
  }

  /** The first try after `ms`, then as usual. */
  tryIn(ms: number): void {
    this.tryAfter = this.now() + ms;
  }

  /** At the longest interval from now on (with its jitter). */
  tryRarely(): void {
    this.interval = MAX_INTERVAL_MS;
    this.tryLater();
  }

  tryNever(): void {
    this.tryAfter = undefined;
    this.interval = MAX_INTERVAL_MS;
  }

  /** After a connection ends: at once if it lasted, else later (RESET_AFTER_MS). */
  afterDisconnect(): void {
    if (this.tryAfter !== undefined && this.now() > this.tryAfter + RESET_AFTER_MS) this.tryNow();
    else this.tryLater();
  }
}
