/**
 * Runs a job that many changes ask for, once per burst of them: within `soonMs` of the first
 * ask, and (unless urgent) no sooner than `gapMs` after the job last ran. An ask while a run is
 * pending brings it forward, never back. The overlay's device updates and the mesh's
 * announcements pace themselves this way while a mesh forms. settle() instead waits for a burst
 * to end (relay devices, which a forming mesh would make and remove by the hundred).
 */
export class Pacer {
  private timer?: NodeJS.Timeout;
  private dueAt = 0;
  private lastRun = 0;
  /** When the pending run was first asked for. */
  private askedAt = 0;

  constructor(
    private readonly job: () => void,
    private readonly soonMs = 0,
    private readonly gapMs = 0,
  ) {}

  /** A change happened: run within soonMs, kept `gapMs` after the last run unless `urgent`. */
  ask(urgent = false, gapMs = this.gapMs): void {
    this.runWithin(urgent ? this.soonMs : Math.max(this.soonMs, this.lastRun + gapMs - Date.now()));
  }

  /** A change: run once none came for `quietMs`, but no later than `maxWaitMs` after the first pending one. */
  settle(quietMs: number, maxWaitMs: number): void {
    const now = Date.now();
    if (!this.timer) this.askedAt = now;
    this.arm(Math.max(0, Math.min(quietMs, this.askedAt + maxWaitMs - now)));
  }

  /** Runs within `delayMs` (a retry, an expiry), or sooner if already due sooner. */
  runWithin(delayMs: number): void {
    if (this.timer && this.dueAt <= Date.now() + delayMs) return;
    if (!this.timer) this.askedAt = Date.now();
    this.arm(delayMs);
  }

  private arm(delayMs: number): void {
    clearTimeout(this.timer);
    this.dueAt = Date.now() + delayMs;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.lastRun = Date.now();
      this.job();
    }, delayMs);
  }

  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
