import {createHash} from 'node:crypto';
import type {Remote} from '../../net/fdb.js';
import type {Paths} from '../mesh/paths.js';

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
 * peers our overlay sends to directly. `paths` are over established connections (Routes.established()).
 * A full mesh needs nothing, and costs no path computation. At most `limit` devices, our own ends first.
 */
export function planRelays(paths: Paths, us: string, neighbours: ReadonlyMap<string, Remote>, limit = Infinity): RelayPlan {
  const devices = new Map<string, RelaySpec>();
  const clashes: string[] = [];
  let over = 0;
  const {peers} = paths;
  if (paths.fullMesh) return {devices, clashes, over};
  const ours = paths.firstHops(us);
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
  /** The copies `at` sends on down `source`'s tree: an inner child gets them at its tree device, a leaf at its end device. */
  const toChildren = (source: string, at: string): Remote[] =>
    paths.children(source, at).flatMap(child => via(child, paths.children(source, child).length > 0 ? treeVni(source, child) : relayVni(source, child)) ?? []);
  // Our neighbours get our broadcasts over the overlay's device; a tree copy only for those with peers beyond them.
  const ourTree = paths.children(us, us).flatMap(child => (paths.children(us, child).length > 0 ? (via(child, treeVni(us, child)) ?? []) : []));
  if (ourTree.length > 0) {
    const vni = treeVni(us, us, true);
    add({name: relayDevice(vni), vni, role: 'tree-source', sends: ourTree, peer: us});
  }
  for (const source of peers) {
    if (source === us) continue;
    const sends = toChildren(source, us);
    if (sends.length === 0) continue;
    const vni = treeVni(source, us);
    if (paths.linked(source, us)) {
      add({name: relayDevice(vni), vni, role: 'tree-hop', sends, peer: source});
      continue;
    }
    const back = via(ours.get(source), relayVni(us, source));
    if (!back) continue;
    const outVni = treeVni(source, us, true);
    add({name: relayDevice(outVni), vni: outVni, role: 'tree-out', sends, peer: source});
    add({name: relayDevice(vni), vni, role: 'tree-in', sends: [back], peer: source, mirror: relayDevice(outVni)});
  }
  for (const [source, destination] of paths.pairsThrough(us)) {
    const vni = relayVni(source, destination);
    const sends = via(ours.get(destination), vni);
    if (!sends) continue;
    add({name: relayDevice(vni), vni, role: 'relay', sends: [sends], peer: destination, source});
  }
  return {devices, clashes, over};
}

/**
 * What `at` does with broadcasts sent along the spanning trees, over the links `carried` (those a
 * data path sends on): `branching`, its children in its own tree that have children of their own
 * (they pass its broadcasts on; its other neighbours only deliver them); `branches`, by source,
 * its children in each other peer's tree (it passes that peer's broadcasts on to them). A full
 * mesh has neither: every tree is a star.
 */
export function treeBranches(paths: Paths, at: string, carried: (peer: string) => boolean): {branching: string[]; branches: Map<string, string[]>} {
  const branches = new Map<string, string[]>();
  if (paths.fullMesh) return {branching: [], branches};
  const branching = paths.children(at, at).filter(child => carried(child) && paths.children(at, child).length > 0);
  for (const source of paths.peers) {
    const children = paths.children(source, at).filter(carried);
    if (source !== at && children.length > 0) branches.set(source, children);
  }
  return {branching, branches};
}
