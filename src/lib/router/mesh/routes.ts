import type {BroadcastRoute, UnicastRoute} from '../state.js';
import {establishedGraph, Paths, ReportedGraph} from './paths.js';
import type {Topology} from './topology.js';

/** What is worked out from one state of the topology. */
interface Worked {
  changes: number;
  all?: Paths;
  established?: Paths;
  broadcastAll: Map<string, string[]>;
}

/**
 * Next hops from us, worked out again after the topology changes, and only when asked for: gossip
 * goes over every reported connection, pod traffic (and the report) over established ones.
 */
export class Routes {
  private worked: Worked = {changes: -1, broadcastAll: new Map()};
  private readonly reported: ReportedGraph;

  constructor(private readonly topology: Topology) {
    this.reported = new ReportedGraph(topology);
  }

  private current(): Worked {
    if (this.worked.changes !== this.topology.changes) this.worked = {changes: this.topology.changes, broadcastAll: new Map()};
    return this.worked;
  }

  /** Paths over every connection the records report: gossip's (the original's unicastAll/broadcastAll). */
  private all(): Paths {
    const worked = this.current();
    worked.all ??= new Paths(this.reported.current());
    return worked.all;
  }

  /**
   * Paths over the connections both ends report established, one set for the data plane and the
   * report: each peer's first hops and spanning tree, worked out once per change of the topology.
   */
  established(): Paths {
    const worked = this.current();
    worked.established ??= new Paths(establishedGraph(this.topology));
    return worked.established;
  }

  /** The neighbour to send a message for `peer` through; undefined when no path is known. */
  unicastAll(peer: string): string | undefined {
    return this.all().hop(this.topology.ourself.name, peer);
  }

  /** The neighbours to pass a broadcast from `source` on to (all of them when the source is us). */
  broadcastAll(source: string): string[] {
    const {broadcastAll} = this.current();
    let hops = broadcastAll.get(source);
    if (hops) return hops;
    hops = this.all().passOn(source, this.topology.ourself.name);
    broadcastAll.set(source, hops);
    return hops;
  }

  /**
   * Every peer a path of established connections leads to, by name, with its next hop ('' for
   * ourselves): the report's UnicastRoutes, as the original's (its unicast, not unicastAll).
   */
  unicastTable(): UnicastRoute[] {
    const us = this.topology.ourself.name;
    const hops = this.established().firstHops(us);
    return [us, ...hops.keys()].sort().map(dest => ({dest, via: hops.get(dest) ?? ''}));
  }

  /**
   * For each of those peers, our children in its spanning tree, where the data plane passes its
   * broadcasts on to: the report's BroadcastRoutes.
   */
  broadcastTable(): BroadcastRoute[] {
    const us = this.topology.ourself.name;
    const paths = this.established();
    return this.unicastTable().map(({dest}) => ({source: dest, via: paths.children(dest, us)}));
  }

  /**
   * About log2(peers) distinct neighbours, at random, never `except`: where periodic gossip goes.
   * Drawn from the next hops of all routes, so a neighbour leading to many peers is likelier.
   */
  randomNeighbours(except: string, random: () => number = Math.random): string[] {
    const hops = this.all().firstHops(this.topology.ourself.name);
    // Counting ourselves, as the original's table of routes does.
    const count = Math.max(1, Math.floor(Math.log2(hops.size + 1)));
    const candidates = [...hops.values()].filter(hop => hop !== except);
    const chosen = new Set<string>();
    while (chosen.size < count && candidates.length > 0) {
      const i = Math.floor(random() * candidates.length);
      chosen.add(candidates[i]!);
      candidates.splice(i, 1);
    }
    return [...chosen];
  }
}
