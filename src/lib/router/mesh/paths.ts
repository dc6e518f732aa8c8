import type {Topology} from './topology.js';

/** Who connects to whom: each peer's neighbours, by name (those not themselves peers of the graph are ignored). */
export type Graph = ReadonlyMap<string, Iterable<string>>;

/**
 * Every connection the records report, in the direction reported: what gossip travels over
 * (the original's unicastAll/broadcastAll routes), so that it reaches peers whose connections
 * are still being set up.
 */
export function reportedGraph(topology: Topology): Map<string, string[]> {
  return new Map(topology.all().map(peer => [peer.name, [...peer.connections.keys()].filter(name => topology.has(name))]));
}

/**
 * The connections both ends report established: what pod traffic travels over (the original's
 * unicast/broadcast routes, which its report shows).
 */
export function establishedGraph(topology: Topology): Map<string, string[]> {
  const links = (peer: string, connections: Topology['ourself']['connections']) =>
    [...connections].filter(([name, c]) => c.established && topology.get(name)?.connections.get(peer)?.established).map(([name]) => name);
  return new Map(topology.all().map(peer => [peer.name, links(peer.name, peer.connections)]));
}

const NONE = -1;

/**
 * Shortest paths over one graph, worked out breadth-first, each level in name order, ties going
 * to the lower name: the same graph gives the same paths on every peer, so hop-by-hop
 * forwarding never loops and every peer agrees on each spanning tree. Each peer's neighbours are
 * sorted once; each source's search runs once, when first asked for, and the spanning trees once
 * for all sources. Peers are numbered in name order, so sorting numbers sorts names.
 */
export class Paths {
  /** Every peer, in name order; a peer's number is its place here. */
  readonly peers: readonly string[];
  private readonly numbers: ReadonlyMap<string, number>;
  private readonly links: Int32Array[];
  /** By source: the first hop towards each peer (NONE where no path leads; the source itself for it). */
  private readonly hops: (Int32Array | undefined)[];
  /** By source: the peers reached, nearest first, each distance in name order (the source first). */
  private readonly orders: (Int32Array | undefined)[];
  private readonly hopMaps: (Map<string, string> | undefined)[];
  /** By source, then by peer: its children in the source's spanning tree. */
  private trees?: string[][][];

  constructor(graph: Graph) {
    this.peers = [...graph.keys()].sort(byName);
    this.numbers = new Map(this.peers.map((name, i) => [name, i]));
    this.links = this.peers.map(name => {
      const numbers = [...graph.get(name)!].flatMap(peer => this.numbers.get(peer) ?? []);
      return Int32Array.from(new Set(numbers)).sort();
    });
    this.hops = new Array(this.peers.length);
    this.orders = new Array(this.peers.length);
    this.hopMaps = new Array(this.peers.length);
  }

  /** Every peer linked to every other: no path passes through a third, every tree is a star. */
  get fullMesh(): boolean {
    return this.links.every(links => links.length === this.peers.length - 1);
  }

  linked(from: string, to: string): boolean {
    const a = this.numbers.get(from);
    const b = this.numbers.get(to);
    return a !== undefined && b !== undefined && this.links[a]!.includes(b);
  }

  /** The first hop from `from` towards each peer it reaches (not itself), nearest first. */
  firstHops(from: string): ReadonlyMap<string, string> {
    const s = this.numbers.get(from);
    if (s === undefined) return new Map();
    let hops = this.hopMaps[s];
    if (!hops) {
      const row = this.row(s);
      hops = new Map([...this.orders[s]!.subarray(1)].map(p => [this.peers[p]!, this.peers[row[p]!]!]));
      this.hopMaps[s] = hops;
    }
    return hops;
  }

  /** The first hop from `from` towards `to`; undefined when no path leads there, or `to` is `from`. */
  hop(from: string, to: string): string | undefined {
    return this.firstHops(from).get(to);
  }

  /**
   * The peers `source`'s search reaches before it comes to `stopAt`'s turn, `stopAt` included,
   * or undefined when it never does: `stopAt` passes `source`'s broadcasts on to its neighbours
   * outside this set (the original's broadcast routes).
   */
  reachedBefore(source: string, stopAt: string): Set<string> | undefined {
    const s = this.numbers.get(source);
    const stop = this.numbers.get(stopAt);
    if (s === undefined || stop === undefined) return undefined;
    const {order, reached} = this.search(s, stop);
    return reached < 0 ? undefined : new Set([...order.subarray(0, reached)].map(p => this.peers[p]!));
  }

  /** The neighbours of `peer`, in name order. */
  neighbours(peer: string): string[] {
    const p = this.numbers.get(peer);
    return p === undefined ? [] : [...this.links[p]!].map(n => this.peers[n]!);
  }

  /**
   * `at`'s children in `source`'s spanning tree, in name order: the peers whose hop-by-hop path
   * from `source` reaches them through `at`. Paths are shortest, so each peer has one parent.
   */
  children(source: string, at: string): readonly string[] {
    const s = this.numbers.get(source);
    const a = this.numbers.get(at);
    if (s === undefined || a === undefined) return [];
    this.trees ??= this.spanningTrees();
    return this.trees[s]![a]!;
  }

  /** Whether the hop-by-hop path from `source` to `destination` passes through `via`. */
  passesThrough(source: string, destination: string, via: string): boolean {
    let current = this.numbers.get(source);
    const d = this.numbers.get(destination);
    const v = this.numbers.get(via);
    if (current === undefined || d === undefined || v === undefined) return false;
    while (current !== d) {
      const next: number = this.row(current)[d]!;
      if (next === NONE) return false;
      if (next === v) return true;
      current = next;
    }
    return false;
  }

  private row(s: number): Int32Array {
    let hops = this.hops[s];
    if (!hops) {
      let order;
      ({hops, order} = this.search(s, NONE));
      this.hops[s] = hops;
      this.orders[s] = order;
    }
    return hops;
  }

  /**
   * Breadth-first from `s`, level by level in number (so name) order; `reached` is how many
   * peers were reached when `stop`'s turn came (-1 when it never came, or no stop was given).
   */
  private search(s: number, stop: number): {hops: Int32Array; order: Int32Array; reached: number} {
    const hops = new Int32Array(this.peers.length).fill(NONE);
    const order = new Int32Array(this.peers.length);
    hops[s] = s;
    order[0] = s;
    let end = 1;
    for (let start = 0; start < end; ) {
      const levelEnd = end;
      for (let i = start; i < levelEnd; i++) {
        const current = order[i]!;
        if (current === stop) return {hops, order: order.subarray(0, end), reached: end};
        for (const next of this.links[current]!) {
          if (hops[next] !== NONE) continue;
          hops[next] = current === s ? next : hops[current]!;
          order[end++] = next;
        }
      }
      order.subarray(levelEnd, end).sort();
      start = levelEnd;
    }
    return {hops, order: order.subarray(0, end), reached: -1};
  }

  /**
   * Every source's tree at once. Towards one destination, the peer before it on the hop-by-hop
   * path from x is x itself when x's first hop is the destination, else the same as from that
   * first hop: remembered along each path walked, it is found once per (peer, destination).
   */
  private spanningTrees(): string[][][] {
    const n = this.peers.length;
    const trees = this.peers.map(() => this.peers.map((): string[] => []));
    const rows = this.peers.map((_, s) => this.row(s));
    const last = new Int32Array(n);
    const walked = new Int32Array(n);
    for (let d = 0; d < n; d++) {
      last.fill(NONE);
      for (let x = 0; x < n; x++) {
        if (x === d || rows[x]![d] === NONE) continue;
        let count = 0;
        let p = x;
        for (; last[p] === NONE && rows[p]![d] !== d; p = rows[p]![d]!) walked[count++] = p;
        if (last[p] === NONE) last[p] = p;
        for (let i = 0; i < count; i++) last[walked[i]!] = last[p]!;
        trees[x]![last[x]!]!.push(this.peers[d]!);
      }
    }
    return trees;
  }
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
