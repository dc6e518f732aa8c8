/** A failed pass is retried after this, doubling up to RETRY_MAX_MS. */
const RETRY_MS = 1000;
const RETRY_MAX_MS = 30_000;

/**
 * Brings the kernel to a wanted state one pass at a time: a change asked for during a pass gets
 * one more pass after it, never two at once. A failed pass is reported to `failed` (which forgets
 * what it believed installed) and retried through `retryWithin`, backing off from 1 s to 30 s.
 * The overlay's device and the relays' devices keep in step with the mesh this way.
 */
export class ReconcileLoop {
  private running?: Promise<void>;
  private dirty = false;
  private stopped = false;
  private retryMs = RETRY_MS;

  constructor(
    private readonly pass: () => Promise<void>,
    private readonly failed: (error: Error, retryInMs: number) => void,
    private readonly retryWithin: (delayMs: number) => void,
  ) {}

  get isStopped(): boolean {
    return this.stopped;
  }

  /** A pass now, or one more after the pass under way. */
  update(): void {
    if (this.stopped) return;
    this.dirty = true;
    this.running ??= this.drain();
  }

  /** No pass starts any more; resolves once the one under way is over. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  private async drain(): Promise<void> {
    while (this.dirty && !this.stopped) {
      this.dirty = false;
      try {
        await this.pass();
        this.retryMs = RETRY_MS;
      } catch (error) {
        this.failed(error as Error, this.retryMs);
        this.retryWithin(this.retryMs);
        this.retryMs = Math.min(2 * this.retryMs, RETRY_MAX_MS);
      }
    }
    this.running = undefined;
  }
}
