import {Topology} from '../../src/lib/router/mesh/topology.js';

/** A peer's own view, whose records it alone writes; the uid from the name's last byte unless given. */
export function peer(name: string, uid = BigInt(parseInt(name.slice(-2), 16))): Topology {
  return new Topology({name, nickName: `nick-${name.slice(-1)}`, uid, shortId: 1, hasShortId: true, port: 6783});
}

/** `from` connected to each of `to` (outbound), as its own record says: established, unless named as `name?`. */
export function link(from: Topology, ...to: string[]): Topology {
  for (const peer of to) {
    const name = peer.replace(/\?$/, '');
    from.setLocalConnection(name, {address: `192.168.90.${parseInt(name.slice(-2), 16)}:6783`, outbound: true, established: name === peer});
  }
  return from;
}

/** Its own record, as it gossips it. */
export const own = (t: Topology): Buffer => Buffer.concat(t.encode([t.ourself.name]));

/** `us`'s view of a mesh given as each peer's own connections (as link() takes them), after every record reached it. */
export function view(us: string, records: Record<string, string[]>): Topology {
  const ours = link(peer(us), ...(records[us] ?? []));
  // In one update: one at a time, a record from beyond our neighbours would be dropped as unreachable.
  ours.applyUpdate(Buffer.concat(Object.entries(records).flatMap(([name, to]) => (name === us ? [] : [own(link(peer(name), ...to))]))));
  return ours;
}
