import type {Logger} from '../log.js';
import type {ContainerEvent, DockerEngine} from './engine.js';

/**
 * Who wants to know what happens to Docker containers, as the original's ContainerObserver:
 * IPAM frees what a container held; weaveDNS can forget its names the same way.
 */
export interface ContainerObserver {
  containerStarted(id: string): void;
  /** Stopped; it may start again. */
  containerDied(id: string): void;
  /** Removed for good. */
  containerDestroyed(id: string): void;
  /**
   * Every container the engine has, by id, with whether it runs: at start and after each
   * reconnection, so that what happened while nobody watched (the router down, the engine
   * restarting) is seen too.
   */
  containersListed(running: ReadonlyMap<string, boolean>): void;
  /** The watch stops (the router does): timers of its own end. */
  stop?(): void;
}

export interface WatchTiming {
  /** First wait before subscribing again after the engine went away; it grows by half each time. */
  retryMs: number;
  retryMaxMs: number;
}

const TIMING: WatchTiming = {retryMs: 1000, retryMaxMs: 30_000};

/**
 * Follows the Docker engine's container events for the router's check-alive, and lists its
 * containers each time it (re)subscribes: events first, then the list, so that a change between
 * the two is seen at least once. An engine that goes away is subscribed to again, with backoff.
 */
export class ContainerWatch {
  private readonly observers: ContainerObserver[] = [];
  private subscription?: {close(): void};
  private retryTimer?: NodeJS.Timeout;
  private delayMs: number;
  private stopped = false;
  private connected = false;

  constructor(
    private readonly engine: DockerEngine,
    private readonly log: Logger,
    private readonly timing: WatchTiming = TIMING,
  ) {
    this.delayMs = timing.retryMs;
  }

  observe(observer: ContainerObserver): void {
    this.observers.push(observer);
  }

  /** Subscribes in the background: the router does not wait for the engine. */
  start(): void {
    void this.subscribe();
  }

  /**
   * The original's check-alive at allocation: true only when the engine says the container
   * does not run (or does not exist); an engine that does not answer proves nothing.
   */
  async notRunning(id: string): Promise<boolean> {
    try {
      return (await this.engine.running(id)) !== true;
    } catch (error) {
      this.log.warning('cannot ask the Docker engine whether a container runs', {id, error: (error as Error).message});
      return false;
    }
  }

  private async subscribe(): Promise<void> {
    try {
      this.subscription = await this.engine.events(
        event => this.dispatch(event),
        error => this.lost(error),
      );
      if (this.stopped) return this.subscription.close();
      const listed = new Map((await this.engine.containers()).map(c => [c.id, c.running]));
      if (this.stopped) return;
      for (const observer of this.observers) observer.containersListed(listed);
      if (!this.connected) this.log.info('watching Docker containers', {containers: listed.size});
      this.connected = true;
      this.delayMs = this.timing.retryMs;
    } catch (error) {
      this.lost(error as Error);
    }
  }

  private dispatch({id, action}: ContainerEvent): void {
    for (const observer of this.observers) {
      if (action === 'start') observer.containerStarted(id);
      else if (action === 'die') observer.containerDied(id);
      else observer.containerDestroyed(id);
    }
  }

  private lost(error?: Error): void {
    this.subscription?.close();
    this.subscription = undefined;
    if (this.stopped || this.retryTimer) return;
    this.log.warning('lost the Docker engine; watching its containers again shortly', {error: error?.message, retryMs: this.delayMs});
    this.connected = false;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.subscribe();
    }, this.delayMs);
    this.delayMs = Math.min(this.delayMs * 1.5, this.timing.retryMaxMs);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.subscription?.close();
    for (const observer of this.observers) observer.stop?.();
  }
}
