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

/** The device carrying one VNI: `vxr` and the VNI in hex (9 bytes, well under IFNAMSIZ). */
export const relayDevice = (vni: number): string => `vxr${vni.toString(16).padStart(6, '0')}`;

/** Every relay device's name starts so (`weave reset` and a restart find them by it). */
export const RELAY_PREFIX = 'vxr';

/**
 * One device for relayed frames. An end device sits on the bridge: it receives what a peer we have
 * no connection to sends us (`vni`) and sends our frames for that peer (`sendVni`) to the first
 * hop. A relay device is on no bridge: what it receives goes straight out again (a tc redirect),
 * to our next hop towards the destination, with the same VNI.
 */
export interface RelaySpec {
  name: string;
  vni: number;
  sendVni: number;
  /** On the bridge (an end) or not (a relay). */
  bridged: boolean;
  /** The first hop: a peer we are connected to. */
  via: Remote;
  /** For the log and status: the far peer, and the source for a relay. */
  peer: string;
  source?: string;
}

/** Equal specs need no change to the device. */
export const sameSpec = (a: RelaySpec, b: RelaySpec): boolean =>
  a.vni === b.vni && a.sendVni === b.sendVni && a.bridged === b.bridged && a.via.dst === b.via.dst && a.via.port === b.via.port;

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
 * through us. Each pair's traffic goes hop by hop along the shortest path; a broadcast is sent
 * once to every peer (by head-end replication, relayed like unicast), so no peer gets a frame
 * twice and no frame loops. `neighbours` are the peers our overlay sends to directly. A full
 * mesh needs nothing, and costs no path computation. At most `limit` devices, our own ends first.
 */
export function planRelays(graph: Graph, us: string, neighbours: ReadonlyMap<string, Remote>, limit = Infinity): RelayPlan {
  const devices = new Map<string, RelaySpec>();
  const clashes: string[] = [];
  let over = 0;
  const peers = [...graph.keys()];
  if (peers.every(p => (graph.get(p)?.size ?? 0) === peers.length - 1)) return {devices, clashes, over};
  const hops = new Map(peers.map(p => [p, firstHops(graph, p)]));
  const ours = hops.get(us) ?? new Map<string, string>();
  const add = (spec: RelaySpec) => {
    const existing = devices.get(spec.name);
    if (existing) clashes.push(`${spec.source ?? spec.peer}>${spec.peer}`);
    else if (devices.size >= limit) over++;
    else devices.set(spec.name, spec);
  };
  for (const [peer, hop] of ours) {
    const via = neighbours.get(hop);
    if (hop === peer || !via) continue;
    const vni = relayVni(peer, us);
    add({name: relayDevice(vni), vni, sendVni: relayVni(us, peer), bridged: true, via, peer});
  }
  for (const source of peers) {
    if (source === us) continue;
    for (const destination of peers) {
      if (destination === source || destination === us || graph.get(source)?.has(destination)) continue;
      if (!passesThrough(hops, source, destination, us)) continue;
      const via = neighbours.get(ours.get(destination) ?? '');
      if (!via) continue;
      const vni = relayVni(source, destination);
      add({name: relayDevice(vni), vni, sendVni: vni, bridged: false, via, peer: destination, source});
    }
  }
  return {devices, clashes, over};
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
