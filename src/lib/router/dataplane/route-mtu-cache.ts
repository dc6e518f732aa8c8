import type {RouteMtu} from '../../net/mtu.js';

/**
 * How long a peer's link is taken as read: an operator's change of the underlay's MTU is followed
 * at the first measurement after this long.
 */
export const ROUTE_MTU_RECHECK_MS = 30_000;

/** routeMtus() of one network namespace: a destination with no route is left out. */
export type RouteMtuLookup = (dsts: readonly string[]) => Promise<Map<string, RouteMtu>>;

/**
 * The link towards each peer, looked up again only once older than the re-check interval: the MTU
 * is measured on every connection change, and a forming mesh of 100 made each router look up
 * every peer's route about 100 times a second.
 */
export class RouteMtuCache {
  private readonly entries = new Map<string, {link: RouteMtu; at: number}>();

  constructor(
    private readonly lookup: RouteMtuLookup,
    private readonly recheckMs = ROUTE_MTU_RECHECK_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The link towards each of `dsts` (those with a route), looking up only those not read within the
   * interval; the others are forgotten (peers gone). A lookup that fails leaves the cache as it was.
   */
  async links(dsts: readonly string[]): Promise<Map<string, RouteMtu>> {
    const now = this.now();
    const wanted = new Set(dsts);
    for (const dst of this.entries.keys()) if (!wanted.has(dst)) this.entries.delete(dst);
    const found = new Map<string, RouteMtu>();
    const due: string[] = [];
    for (const dst of wanted) {
      const entry = this.entries.get(dst);
      if (entry && now - entry.at < this.recheckMs) found.set(dst, entry.link);
      else due.push(dst);
    }
    if (due.length === 0) return found;
    const read = await this.lookup(due);
    for (const dst of due) {
      const link = read.get(dst);
      // No route now: not kept, so the next measurement looks again.
      if (!link) {
        this.entries.delete(dst);
        continue;
      }
      this.entries.set(dst, {link, at: now});
      found.set(dst, link);
    }
    return found;
  }
}
