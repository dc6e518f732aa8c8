/**
 * Runs a job that many changes ask for, once per burst of them: within `soonMs` of the first
 * ask, and (unless urgent) no sooner than `gapMs` after the job last ran. An ask while a run is
 * pending brings it forward, never back. The overlay's device updates and the mesh's
 * announcements pace themselves this way while a mesh forms.
 */
export class Pacer {
  private timer?: NodeJS.Timeout;
  private dueAt = 0;
  private lastRun = 0;

  constructor(
    private readonly job: () => void,
    private readonly soonMs: number,
    private readonly gapMs: number,
  ) {}

  /** A change happened: run within soonMs, kept gapMs after the last run unless `urgent`. */
  ask(urgent = false): void {
    this.runWithin(urgent ? this.soonMs : Math.max(this.soonMs, this.lastRun + this.gapMs - Date.now()));
  }

  /** Runs within `delayMs` (a retry, an expiry), or sooner if already due sooner. */
  runWithin(delayMs: number): void {
    const due = Date.now() + delayMs;
    if (this.timer && this.dueAt <= due) return;
    clearTimeout(this.timer);
    this.dueAt = due;
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
