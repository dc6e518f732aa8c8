import {createHash} from 'node:crypto';
import type {Remote} from '../../net/fdb.js';
import type {Topology} from '../mesh/topology.js';

/** Who is connected to whom, over connections both ends report established (the data plane's view). */
export type Graph = ReadonlyMap<string, ReadonlySet<string>>;

/** The established, symmetric connections of the topology, as the original's data-plane routes use. */
export function establishedGraph(topology: Topology): Map<string, Set<string>> {
  const peers = [topology.ourself, ...topology.all()];
  const records = new Map(peers.map(p => [p.name, p]));
  const graph = new Map<string, Set<string>>();
  for (const peer of peers) {
    const links = new Set<string>();
    for (const [name, c] of peer.connections) if (c.established && records.get(name)?.connections.get(peer.name)?.established) links.add(name);
    graph.set(peer.name, links);
  }
  return graph;
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Breadth-first from `from`, each level in name order: the same graph gives the same paths on
 * every peer, so hop-by-hop forwarding never loops. Maps each peer reached to the first hop.
 */
export function firstHops(graph: Graph, from: string): Map<string, string> {
  const hops = new Map<string, string>();
  let level = [from];
  const seen = new Set(level);
  while (level.length > 0) {
    const next: string[] = [];
    for (const current of level) {
      for (const name of [...(graph.get(current) ?? [])].sort(byName)) {
        if (seen.has(name)) continue;
        seen.add(name);
        next.push(name);
        hops.set(name, current === from ? name : hops.get(current)!);
      }
    }
    level = next.sort(byName);
  }
  return hops;
}

/**
 * The VXLAN network id of frames from `source` to `destination` when they go through relays:
 * 24 bits of a hash of both names, never 0 or 1 (the direct overlay's). Both ends and every relay
 * work out the same number.
 */
export function relayVni(source: string, destination: string): number {
  const vni = createHash('sha256').update(`${source}>${destination}`).digest().readUIntBE(0, 3);
  return vni < 2 ? vni + 2 : vni;
}

/**
 * The VNI of the copies of `source`'s broadcasts that `at` receives to deliver and pass on down
 * `source`'s spanning tree (or, `out`, that it sends them on with): a hash as relayVni()'s, of
 * other words, so never one of those.
 */
export function treeVni(source: string, at: string, out = false): number {
  return relayVni(`${source}*`, out ? `${at}*` : at);
}

/** The device carrying one VNI: `vxr` and the VNI in hex (9 bytes, well under IFNAMSIZ). */
export const relayDevice = (vni: number): string => `vxr${vni.toString(16).padStart(6, '0')}`;

/** Every relay device's name starts so (`weave reset` and a restart find them by it). */
export const RELAY_PREFIX = 'vxr';

/**
 * What a relay device does (each is a VXLAN device receiving one VNI, sending to `sends`):
 * - end: on the bridge, for one far peer: receives what it sends us, sends it our known unicast
 *   (the bridge floods nothing there: broadcasts and unknown addresses take the trees);
 * - relay: on no bridge, for one (source, destination) pair through us: what it receives goes
 *   out again to our next hop (a tc redirect), unchanged;
 * - tree-source: on the bridge, our broadcasts and unknown unicast, one copy to each neighbour
 *   with peers beyond it in our spanning tree (the others get them over the overlay's device);
 * - tree-hop: on no bridge, at a neighbour of a broadcast's source: its copies, passed on to our
 *   children in its tree (we got our own copy over the overlay's device);
 * - tree-in: on the bridge, at a peer further on with children of its own: delivers the copies
 *   and mirrors them to its tree-out, which sends them to those children.
 * A leaf of a tree gets its copies at its end device for the source, as unicast from it: it
 * learns the source's MACs behind it, as a tree-in does behind its own (whose unicast goes the
 * end device's way).
 */
export type RelayRole = 'end' | 'relay' | 'tree-source' | 'tree-hop' | 'tree-in' | 'tree-out';

export interface RelaySpec {
  name: string;
  vni: number;
  role: RelayRole;
  /** The copies it sends: each remote with the VNI it sends with. */
  sends: Remote[];
  /** For the log and status: the far peer (end), the destination (relay) or the broadcasts' source (trees). */
  peer: string;
  /** A relay's source. */
  source?: string;
  /** A tree-in's tree-out. */
  mirror?: string;
}

/** Whether the device is a port of the bridge. */
export const bridged = (spec: RelaySpec): boolean => spec.role === 'end' || spec.role === 'tree-source' || spec.role === 'tree-in';

/** Equal specs need no change to the device. */
export const sameSpec = (a: RelaySpec, b: RelaySpec): boolean => JSON.stringify(a) === JSON.stringify(b);

export interface RelayPlan {
  devices: Map<string, RelaySpec>;
  /** Pairs left out because their VNI is taken by another pair here (24 bits: very rare). */
  clashes: string[];
  /** Devices left out beyond `limit`. */
  over: number;
}

/**
 * The relay devices `us` needs: an end device per peer reached only through others, and a relay
 * device per (source, destination) pair with no connection between them whose path passes
 * through us. Each pair's traffic goes hop by hop along the shortest path. Broadcasts (and
 * unknown unicast) go along the source's spanning tree, made of those same paths, as the
 * original's broadcast routes: each peer gets one copy and none loops. `neighbours` are the
 * peers our overlay sends to directly. A full mesh needs nothing, and costs no path
 * computation. At most `limit` devices, our own ends first.
 */
export function planRelays(graph: Graph, us: string, neighbours: ReadonlyMap<string, Remote>, limit = Infinity): RelayPlan {
  const devices = new Map<string, RelaySpec>();
  const clashes: string[] = [];
  let over = 0;
  const peers = [...graph.keys()];
  if (fullMesh(graph)) return {devices, clashes, over};
  const hops = allFirstHops(graph);
  const ours = hops.get(us) ?? new Map<string, string>();
  const add = (spec: RelaySpec) => {
    const existing = devices.get(spec.name);
    if (existing) clashes.push(`${spec.source ?? spec.peer}>${spec.peer}`);
    else if (devices.size >= limit) over++;
    else devices.set(spec.name, spec);
  };
  const via = (hop: string | undefined, vni: number): Remote | undefined => {
    const remote = hop === undefined ? undefined : neighbours.get(hop);
    return remote && {...remote, vni};
  };
  for (const [peer, hop] of ours) {
    const sends = via(hop, relayVni(us, peer));
    if (hop === peer || !sends) continue;
    const vni = relayVni(peer, us);
    add({name: relayDevice(vni), vni, role: 'end', sends: [sends], peer});
  }
  const trees = spanningTrees(hops);
  const children = (source: string, at: string): string[] => trees.get(source)?.get(at) ?? [];
  /** The copies `at` sends on down `source`'s tree: an inner child gets them at its tree device, a leaf at its end device. */
  const toChildren = (source: string, at: string): Remote[] =>
    children(source, at).flatMap(child => via(child, children(source, child).length > 0 ? treeVni(source, child) : relayVni(source, child)) ?? []);
  // Our neighbours get our broadcasts over the overlay's device; a tree copy only for those with peers beyond them.
  const ourTree = children(us, us).flatMap(child => (children(us, child).length > 0 ? (via(child, treeVni(us, child)) ?? []) : []));
  if (ourTree.length > 0) {
    const vni = treeVni(us, us, true);
    add({name: relayDevice(vni), vni, role: 'tree-source', sends: ourTree, peer: us});
  }
  for (const source of peers) {
    if (source === us) continue;
    const sends = toChildren(source, us);
    if (sends.length === 0) continue;
    const vni = treeVni(source, us);
    if (graph.get(source)?.has(us)) {
      add({name: relayDevice(vni), vni, role: 'tree-hop', sends, peer: source});
      continue;
    }
    const back = via(ours.get(source), relayVni(us, source));
    if (!back) continue;
    const outVni = treeVni(source, us, true);
    add({name: relayDevice(outVni), vni: outVni, role: 'tree-out', sends, peer: source});
    add({name: relayDevice(vni), vni, role: 'tree-in', sends: [back], peer: source, mirror: relayDevice(outVni)});
  }
  for (const source of peers) {
    if (source === us) continue;
    for (const destination of peers) {
      if (destination === source || destination === us || graph.get(source)?.has(destination)) continue;
      if (!passesThrough(hops, source, destination, us)) continue;
      const vni = relayVni(source, destination);
      const sends = via(ours.get(destination), vni);
      if (!sends) continue;
      add({name: relayDevice(vni), vni, role: 'relay', sends: [sends], peer: destination, source});
    }
  }
  return {devices, clashes, over};
}

/** Every peer connected to every other: no path passes through a third peer, every tree is a star. */
export function fullMesh(graph: Graph): boolean {
  return [...graph.values()].every(links => links.size === graph.size - 1);
}

/** Each peer's first hops (firstHops()) towards every other. */
export function allFirstHops(graph: Graph): Map<string, Map<string, string>> {
  return new Map([...graph.keys()].map(p => [p, firstHops(graph, p)]));
}

/** Every peer's spanning tree (spanningTree()), by source. */
export function spanningTrees(hops: ReadonlyMap<string, ReadonlyMap<string, string>>): Map<string, Map<string, string[]>> {
  return new Map([...hops.keys()].map(source => [source, spanningTree(hops, source)]));
}

/**
 * `source`'s spanning tree: each peer's children, those whose hop-by-hop path from `source`
 * reaches them through it. The paths are shortest, so each peer has one parent a hop nearer.
 */
export function spanningTree(hops: ReadonlyMap<string, ReadonlyMap<string, string>>, source: string): Map<string, string[]> {
  const tree = new Map<string, string[]>();
  for (const peer of hops.get(source)?.keys() ?? []) {
    let parent = source;
    for (let steps = 0; steps < hops.size; steps++) {
      const next = hops.get(parent)?.get(peer);
      if (next === undefined) break;
      if (next === peer) {
        tree.set(parent, [...(tree.get(parent) ?? []), peer].sort(byName));
        break;
      }
      parent = next;
    }
  }
  return tree;
}

/**
 * What `at` does with broadcasts sent along the spanning trees, over the links `carried` (those a
 * data path sends on): `branching`, its children in its own tree that have children of their own
 * (they pass its broadcasts on; its other neighbours only deliver them); `branches`, by source,
 * its children in each other peer's tree (it passes that peer's broadcasts on to them). A full
 * mesh has neither: every tree is a star.
 */
export function treeBranches(graph: Graph, at: string, carried: (peer: string) => boolean): {branching: string[]; branches: Map<string, string[]>} {
  const branches = new Map<string, string[]>();
  if (fullMesh(graph)) return {branching: [], branches};
  const trees = spanningTrees(allFirstHops(graph));
  const ours = trees.get(at);
  const branching = (ours?.get(at) ?? []).filter(child => carried(child) && (ours?.get(child)?.length ?? 0) > 0);
  for (const [source, tree] of trees) {
    const children = (tree.get(at) ?? []).filter(carried);
    if (source !== at && children.length > 0) branches.set(source, children);
  }
  return {branching, branches};
}

/** Whether the hop-by-hop path from `source` to `destination` passes through `us`. */
function passesThrough(hops: ReadonlyMap<string, ReadonlyMap<string, string>>, source: string, destination: string, us: string): boolean {
  let current = source;
  for (let steps = 0; steps < hops.size && current !== destination; steps++) {
    const next = hops.get(current)?.get(destination);
    if (next === undefined) return false;
    if (next === us) return true;
    current = next;
  }
  return false;
}
