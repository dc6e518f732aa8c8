import type {PeerRecord, Topology} from './topology.js';

/** Who connects to whom: each peer's neighbours, each once, by name (those not themselves peers of the graph are ignored). */
export type Graph = ReadonlyMap<string, Iterable<string>>;

/** A graph as Paths works on it: peers numbered in name order, each one's links as sorted numbers. */
export interface NumberedGraph {
  readonly peers: readonly string[];
  readonly numbers: ReadonlyMap<string, number>;
  readonly links: readonly Int32Array[];
}

/** Numbers peers in name order, so sorting numbers sorts names. */
function numberPeers(names: Iterable<string>): Pick<NumberedGraph, 'peers' | 'numbers'> {
  const peers = [...names].sort(byName);
  return {peers, numbers: new Map(peers.map((name, i) => [name, i]))};
}

/** The links to those of `names` that are numbered, as sorted numbers. */
function linksOf(numbers: ReadonlyMap<string, number>, names: Iterable<string>): Int32Array {
  const links: number[] = [];
  for (const name of names) {
    const n = numbers.get(name);
    if (n !== undefined) links.push(n);
  }
  return Int32Array.from(links).sort();
}

function numberGraph(graph: Graph): NumberedGraph {
  const {peers, numbers} = numberPeers(graph.keys());
  return {peers, numbers, links: peers.map(name => linksOf(numbers, graph.get(name)!))};
}

/**
 * Every connection the records report, in the direction reported: what gossip travels over
 * (the original's unicastAll/broadcastAll routes), so that it reaches peers whose connections
 * are still being set up. Kept from one change to the next: only the records that changed are
 * read again (and all of them when peers come or go). A forming mesh of 100 changes some record
 * dozens of times a second, and building the whole graph each time was most of the work of
 * passing on each broadcast.
 */
export class ReportedGraph {
  private numbering = {membership: -1, ...numberPeers([])};
  private readonly rows = new WeakMap<PeerRecord, {connections: PeerRecord['connections']; version: number; membership: number; links: Int32Array}>();

  constructor(private readonly topology: Topology) {}

  current(): NumberedGraph {
    const {membership} = this.topology;
    if (this.numbering.membership !== membership) this.numbering = {membership, ...numberPeers(this.topology.names())};
    const {peers, numbers} = this.numbering;
    const links = peers.map(name => {
      const peer = this.topology.get(name)!;
      const row = this.rows.get(peer);
      if (row && row.connections === peer.connections && row.version === peer.version && row.membership === membership) return row.links;
      // Our own record changes in place, with its version.
      const fresh = {connections: peer.connections, version: peer.version, membership, links: linksOf(numbers, peer.connections.keys())};
      this.rows.set(peer, fresh);
      return fresh.links;
    });
    return {peers, numbers, links};
  }
}

/**
 * The connections both ends report established: what pod traffic travels over (the original's
 * unicast/broadcast routes, which its report shows).
 */
export function establishedGraph(topology: Topology): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const peer of topology.all()) {
    const links: string[] = [];
    for (const [name, c] of peer.connections) if (c.established && topology.get(name)?.connections.get(peer.name)?.established) links.push(name);
    graph.set(peer.name, links);
  }
  return graph;
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
  /** Every peer linked to every other: no path passes through a third, every tree is a star. */
  readonly fullMesh: boolean;
  /** How many links there are, each end counted. */
  readonly linkCount: number;
  private readonly numbers: ReadonlyMap<string, number>;
  private readonly links: readonly Int32Array[];
  /** By source: the first hop towards each peer (NONE where no path leads; the source itself for it). */
  private readonly hops: (Int32Array | undefined)[];
  /** By source: the peers reached, nearest first, each distance in name order (the source first). */
  private readonly orders: (Int32Array | undefined)[];
  private readonly hopMaps: (Map<string, string> | undefined)[];
  /** Each peer's parent in each source's spanning tree, at source * peers + peer (NONE: the source, or not reached). */
  private parents?: Int32Array;

  constructor(graph: Graph | NumberedGraph) {
    ({peers: this.peers, numbers: this.numbers, links: this.links} = 'links' in graph ? graph : numberGraph(graph));
    this.fullMesh = this.links.every(links => links.length === this.peers.length - 1);
    this.linkCount = this.links.reduce((sum, links) => sum + links.length, 0);
    this.hops = new Array(this.peers.length);
    this.orders = new Array(this.peers.length);
    this.hopMaps = new Array(this.peers.length);
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
   * The neighbours `at` passes `source`'s broadcasts on to as the original's gossip does: those
   * that `source`'s search has not reached by `at`'s turn (none when that turn never comes).
   */
  passOn(source: string, at: string): string[] {
    const s = this.numbers.get(source);
    const a = this.numbers.get(at);
    if (s === undefined || a === undefined) return [];
    const {hops, stopped} = this.search(s, a);
    if (!stopped) return [];
    const names: string[] = [];
    for (const n of this.links[a]!) if (hops[n] === NONE) names.push(this.peers[n]!);
    return names;
  }

  /**
   * `at`'s children in `source`'s spanning tree, in name order: the peers whose hop-by-hop path
   * from `source` reaches them through `at`. Paths are shortest, so each peer has one parent.
   */
  children(source: string, at: string): string[] {
    const s = this.numbers.get(source);
    const a = this.numbers.get(at);
    if (s === undefined || a === undefined) return [];
    if (this.fullMesh) return s === a ? this.peers.filter(peer => peer !== source) : [];
    this.parents ??= this.spanningTrees();
    const n = this.peers.length;
    const children: string[] = [];
    for (let d = 0; d < n; d++) if (this.parents[s * n + d] === a) children.push(this.peers[d]!);
    return children;
  }

  /**
   * The pairs (source, destination) whose hop-by-hop path passes through `via`, neither end
   * itself: those it relays. By source, then destination, in name order.
   */
  pairsThrough(via: string): [string, string][] {
    const v = this.numbers.get(via);
    if (v === undefined) return [];
    const n = this.peers.length;
    const rows = this.peers.map((_, s) => this.row(s));
    const through = new Uint8Array(n * n);
    // Towards one destination, whether the path from a peer passes through `via` after it: as
    // for the peer it hops to first, unless that is `via` or the destination. Found once per peer.
    const known = new Int8Array(n);
    const walked = new Int32Array(n);
    for (let d = 0; d < n; d++) {
      if (d === v) continue;
      known.fill(0);
      for (let s = 0; s < n; s++) {
        if (s === d || s === v || rows[s]![d] === NONE) continue;
        let count = 0;
        let found = 0;
        for (let x: number = s; found === 0; ) {
          if (known[x] !== 0) found = known[x]!;
          else {
            walked[count++] = x;
            const next: number = rows[x]![d]!;
            if (next === d) found = -1;
            else if (next === v) found = 1;
            else x = next;
          }
        }
        for (let i = 0; i < count; i++) known[walked[i]!] = found;
        if (found === 1) through[s * n + d] = 1;
      }
    }
    const pairs: [string, string][] = [];
    for (let s = 0; s < n; s++) for (let d = 0; d < n; d++) if (through[s * n + d]) pairs.push([this.peers[s]!, this.peers[d]!]);
    return pairs;
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
   * Breadth-first from `s`, level by level in number (so name) order; `stopped` when `stop`'s
   * turn came (what was reached by then is in `hops`).
   */
  private search(s: number, stop: number): {hops: Int32Array; order: Int32Array; stopped: boolean} {
    const hops = new Int32Array(this.peers.length).fill(NONE);
    const order = new Int32Array(this.peers.length);
    hops[s] = s;
    order[0] = s;
    let end = 1;
    for (let start = 0; start < end; ) {
      const levelEnd = end;
      for (let i = start; i < levelEnd; i++) {
        const current = order[i]!;
        if (current === stop) return {hops, order: order.subarray(0, end), stopped: true};
        for (const next of this.links[current]!) {
          if (hops[next] !== NONE) continue;
          hops[next] = current === s ? next : hops[current]!;
          order[end++] = next;
        }
      }
      order.subarray(levelEnd, end).sort();
      start = levelEnd;
    }
    return {hops, order: order.subarray(0, end), stopped: false};
  }

  /**
   * Every source's tree at once. Towards one destination, the peer before it on the hop-by-hop
   * path from x is x itself when x's first hop is the destination, else the same as from that
   * first hop: remembered along each path walked, it is found once per (peer, destination).
   */
  private spanningTrees(): Int32Array {
    const n = this.peers.length;
    const parents = new Int32Array(n * n).fill(NONE);
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
        parents[x * n + d] = last[x]!;
      }
    }
    return parents;
  }
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
