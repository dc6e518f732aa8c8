import type {BroadcastRoute, UnicastRoute} from '../state.js';
import type {PeerRecord, Topology} from './topology.js';

/**
 * Breadth-first widening from `from` over every reported connection, each level in name order:
 * the same data gives the same routes on every peer, which keeps relays free of loops. Maps each
 * peer reached to the neighbour of `from` that leads to it; stops when `stopAt` is reached.
 */
export function widen(topology: Topology, from: PeerRecord, stopAt?: string): {found: boolean; hops: Map<string, string>} {
  const hops = new Map([[from.name, '']]);
  let next = [from];
  while (next.length > 0) {
    const work = next.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    next = [];
    for (const current of work) {
      if (current.name === stopAt) return {found: true, hops};
      for (const name of current.connections.keys()) {
        const remote = topology.get(name);
        if (!remote || hops.has(name)) continue;
        next.push(remote);
        hops.set(name, current === from ? name : hops.get(current.name)!);
      }
    }
  }
  return {found: false, hops};
}

/** Next hops from us, worked out again whenever the topology changes. */
export class Routes {
  private unicast?: Map<string, string>;
  private readonly broadcast = new Map<string, string[]>();

  constructor(private readonly topology: Topology) {}

  invalidate(): void {
    this.unicast = undefined;
    this.broadcast.clear();
  }

  private unicastRoutes(): Map<string, string> {
    this.unicast ??= widen(this.topology, this.topology.ourself).hops;
    return this.unicast;
  }

  /** The neighbour to send a message for `peer` through; undefined when no path is known. */
  unicastAll(peer: string): string | undefined {
    const hop = this.unicastRoutes().get(peer);
    return hop || undefined;
  }

  /**
   * The neighbours to pass a broadcast from `source` on to: those the source's spanning tree
   * reaches through us (all of them when the source is us).
   */
  broadcastAll(source: string): string[] {
    let hops = this.broadcast.get(source);
    if (hops) return hops;
    const {ourself} = this.topology;
    const peer = this.topology.get(source);
    hops = [];
    if (peer) {
      const {found, hops: reached} = widen(this.topology, peer, ourself.name);
      if (found) hops = [...ourself.connections.keys()].filter(name => !reached.has(name) && this.topology.has(name));
    }
    this.broadcast.set(source, hops);
    return hops;
  }

  /** Every peer a path leads to, by name, with its next hop ('' for ourselves): the report's UnicastRoutes. */
  unicastTable(): UnicastRoute[] {
    return [...this.unicastRoutes()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([dest, via]) => ({dest, via}));
  }

  /** For each of those peers, where its broadcasts go on from here: the report's BroadcastRoutes. */
  broadcastTable(): BroadcastRoute[] {
    return this.unicastTable().map(({dest}) => ({source: dest, via: this.broadcastAll(dest)}));
  }

  /**
   * About log2(peers) distinct neighbours, at random, never `except`: where periodic gossip goes.
   * Drawn from the next hops of all routes, so a neighbour leading to many peers is likelier.
   */
  randomNeighbours(except: string, random: () => number = Math.random): string[] {
    const routes = this.unicastRoutes();
    const count = Math.max(1, Math.floor(Math.log2(routes.size)));
    const candidates = [...routes.values()].filter(hop => hop !== '' && hop !== except);
    const chosen = new Set<string>();
    while (chosen.size < count && candidates.length > 0) {
      const i = Math.floor(random() * candidates.length);
      chosen.add(candidates[i]!);
      candidates.splice(i, 1);
    }
    return [...chosen];
  }
}
