import type {Logger} from '../log.js';

/** How often the original looks for its canary chains. */
export const CANARY_INTERVAL_MS = 10_000;

/**
 * Polls for the canary chains and calls `restore` when one is gone: firewalld reloads and
 * `iptables -F`/`-X` take our rules with them, and the router puts them back.
 */
export class Canary {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = true;

  constructor(
    private readonly present: () => Promise<boolean>,
    private readonly restore: () => Promise<void>,
    private readonly log: Logger,
    private readonly intervalMs = CANARY_INTERVAL_MS,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  /** Stops polling and waits for a check under way to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    // A timeout chain, not an interval: a slow check never overlaps the next one.
    this.timer = setTimeout(() => {
      this.running = this.check().finally(() => this.schedule());
    }, this.intervalMs);
    // The HTTP servers keep the router alive; the canary alone must not.
    this.timer.unref();
  }

  private async check(): Promise<void> {
    try {
      if (await this.present()) return;
      if (this.stopped) return;
      this.log.info('iptables canary deleted: reloading the rules');
      await this.restore();
    } catch (error) {
      this.log.warning('iptables canary check failed', {error: (error as Error).message});
    }
  }
}
