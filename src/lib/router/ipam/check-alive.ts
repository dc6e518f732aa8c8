import type {ContainerObserver} from '../docker/watch.js';
import type {Logger} from '../log.js';
import type {IpamService} from './service.js';

/** How long a stopped container keeps its addresses, in case it starts again: the original's 30 s. */
export const DIED_GRACE_MS = 30_000;

/**
 * The original's check-alive for IPAM: a Docker container's addresses (allocated with
 * check-alive, which only `weave attach` asks for) are freed when it is removed, or 30 s after
 * it stopped unless it started again. CNI allocations are never touched: the service frees only
 * owners marked as containers.
 */
export class ContainerReaper implements ContainerObserver {
  private readonly dead = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly ipam: IpamService,
    private readonly log: Logger,
    private readonly graceMs = DIED_GRACE_MS,
  ) {}

  containerStarted(id: string): void {
    clearTimeout(this.dead.get(id));
    this.dead.delete(id);
  }

  containerDied(id: string): void {
    if (this.dead.has(id) || !this.ipam.isContainerOwner(id)) return;
    this.ipam.cancelPendingFor(id);
    this.dead.set(
      id,
      setTimeout(() => void this.release(id, 'stopped'), this.graceMs),
    );
  }

  containerDestroyed(id: string): void {
    this.containerStarted(id);
    void this.release(id, 'removed');
  }

  containersListed(running: ReadonlyMap<string, boolean>): void {
    for (const id of this.ipam.containerOwners()) {
      const state = running.get(id);
      if (state === undefined) this.containerDestroyed(id);
      else if (state) this.containerStarted(id);
      else this.containerDied(id);
    }
  }

  private async release(id: string, why: string): Promise<void> {
    this.dead.delete(id);
    try {
      if (await this.ipam.releaseContainer(id)) this.log.info(`Container ${id} ${why}: its addresses are free again`, {component: 'ipam'});
    } catch (error) {
      this.log.warning('cannot free the addresses of a container that went', {component: 'ipam', id, error: (error as Error).message});
    }
  }

  stop(): void {
    for (const timer of this.dead.values()) clearTimeout(timer);
    this.dead.clear();
  }
}
