import {isIP} from 'node:net';
import type {RouteMtu} from '../mtu.js';
import {linkInfo} from './link-info.js';
import {addressBytes, ifinfomsg, parseRoute, readU32, RTA, RTM, rtmsgGet} from './message.js';
import {type NetlinkAddon, type RouteSocket, withRouteSocket} from './socket.js';

/**
 * The device each destination is routed through and its MTU, as `ip route get` and `ip link show`
 * would tell, over one rtnetlink socket in this process: the router measures each peer it connects
 * to, and an `ip` process per peer blocked its event loop (Node waits for each child to start) long
 * enough to miss its peers' handshakes. A destination with no route is left out.
 */
export function netlinkRouteMtus(addon: NetlinkAddon, dsts: readonly string[], netns?: string): Promise<Map<string, RouteMtu>> {
  // On the pool: a link lookup waits for the RTNL lock, which a host making and deleting links holds for long.
  return withRouteSocket(addon, netns, ['route', 'get'], socket => readRouteMtus(socket, dsts), 'pool');
}

async function readRouteMtus(socket: RouteSocket, dsts: readonly string[]): Promise<Map<string, RouteMtu>> {
  const found = new Map<string, RouteMtu>();
  const links = new Map<number, RouteMtu | undefined>();
  for (const dst of dsts) {
    const ifindex = await routeDevice(socket, dst);
    if (ifindex === undefined) continue;
    if (!links.has(ifindex)) links.set(ifindex, await linkMtu(socket, ifindex));
    const link = links.get(ifindex);
    if (link) found.set(dst, link);
  }
  return found;
}

/** The output link's index of the route to `dst`; undefined when there is none (or `dst` is no address). */
async function routeDevice(socket: RouteSocket, dst: string): Promise<number | undefined> {
  const family = isIP(dst);
  if (family !== 4 && family !== 6) return undefined;
  try {
    const [answer] = await socket.request(['route', 'get', dst], RTM.GETROUTE, 0, rtmsgGet(family), [{type: RTA.DST, value: addressBytes(dst)}]);
    const oif = answer && parseRoute(answer.payload).get(RTA.OIF);
    return oif ? readU32(oif) : undefined;
  } catch {
    return undefined; // unreachable (ENETUNREACH), as `ip` leaves it out
  }
}

async function linkMtu(socket: RouteSocket, ifindex: number): Promise<RouteMtu | undefined> {
  try {
    const [answer] = await socket.request(['link', 'show'], RTM.GETLINK, 0, ifinfomsg(ifindex));
    if (!answer) return undefined;
    const {ifname, mtu} = linkInfo(answer.payload);
    return ifname ? {dev: ifname, mtu} : undefined;
  } catch {
    return undefined; // gone meanwhile
  }
}
