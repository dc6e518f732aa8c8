import {IpError} from '../ip-error.js';
import type {LinkInfo} from '../link.js';
import {type AddressedLink, type BridgePortSettings, ipCommand, type LinkChange, ipLinkOps, type LinkOps} from '../link-ops.js';
import {dumpLinks, getLink, v4CidrsByLink} from './link-info.js';
import {addressBytes, AF, type Attr, BRPORT, cstring, IFF_UP, ifinfomsg, IFLA, INFO, macBytes, NLM_F, RTM, u32, u8, VXLAN} from './message.js';
import {loadNetlinkAddon, type NetlinkAddon, type RouteSocket, withRouteSocket} from './socket.js';

const CREATE = NLM_F.CREATE | NLM_F.EXCL;
/** linux/if_link.h: per-family settings of a link; IPv6's way of making its addresses. */
const IFLA_AF_SPEC = 26;
const IFLA_INET6_ADDR_GEN_MODE = 8;
const IN6_ADDR_GEN_MODE_NONE = 1;

const kind = (name: string, data: readonly Attr[] = []): Attr => ({
  type: IFLA.LINKINFO,
  value: [{type: INFO.KIND, value: Buffer.from(name)}, ...(data.length > 0 ? [{type: INFO.DATA, value: data}] : [])],
});

/** A port's settings as IFLA_BRPORT_* flags; the kernel takes them once the link is a port. */
function portSettings(change: BridgePortSettings): Attr[] {
  const flags: [number, boolean | undefined][] = [
    [BRPORT.ISOLATED, change.isolated],
    [BRPORT.LEARNING, change.learning],
    [BRPORT.UNICAST_FLOOD, change.flood],
    [BRPORT.MCAST_FLOOD, change.mcastFlood],
    [BRPORT.BCAST_FLOOD, change.bcastFlood],
  ];
  return flags.flatMap(([type, on]) => (on === undefined ? [] : [{type, value: u8(on ? 1 : 0)}]));
}

/** Port in network byte order, as the kernel keeps it. */
function be16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

/** One change as the request `ip` sends for it (iproute2's ip/iplink.c and ip/iplink_vxlan.c). */
async function request(socket: RouteSocket, change: LinkChange): Promise<void> {
  const as = ipCommand(change);
  const name = {type: IFLA.IFNAME, value: cstring(change.name)};
  switch (change.op) {
    case 'add-bridge':
      await socket.request(as, RTM.NEWLINK, CREATE, ifinfomsg(), [name, {type: IFLA.ADDRESS, value: macBytes(change.mac)}, kind('bridge')]);
      return;
    case 'add-vxlan': {
      const data: Attr[] = [
        {type: VXLAN.ID, value: u32(change.vni)},
        ...(change.local ? [{type: VXLAN.LOCAL, value: addressBytes(change.local)}] : []),
        {type: VXLAN.LEARNING, value: u8(change.learning ? 1 : 0)},
        {type: VXLAN.PORT, value: be16(change.port)},
      ];
      await socket.request(as, RTM.NEWLINK, CREATE, ifinfomsg(), [name, kind('vxlan', data)]);
      return;
    }
    case 'del':
      await socket.request(as, RTM.DELLINK, 0, ifinfomsg(), [name]);
      return;
    case 'set': {
      // `ip` looks the master up by name first, and fails as for a missing link when it is not there.
      const master = change.master ? (await getLinkAs(socket, change.master, as)).ifindex : undefined;
      await socket.request(as, RTM.NEWLINK, 0, ifinfomsg(0, change.up ? IFF_UP : 0), [
        name,
        ...(change.mac ? [{type: IFLA.ADDRESS, value: macBytes(change.mac)}] : []),
        ...(change.mtu === undefined ? [] : [{type: IFLA.MTU, value: u32(change.mtu)}]),
        ...(master === undefined ? [] : [{type: IFLA.MASTER, value: u32(master)}]),
      ]);
      return;
    }
    case 'no-addrgen':
      await socket.request(as, RTM.NEWLINK, 0, ifinfomsg(), [
        name,
        {type: IFLA_AF_SPEC, value: [{type: AF[6], value: [{type: IFLA_INET6_ADDR_GEN_MODE, value: u8(IN6_ADDR_GEN_MODE_NONE)}]}]},
      ]);
      return;
    case 'bridge-port':
      await socket.request(as, RTM.NEWLINK, 0, ifinfomsg(), [name, {type: IFLA.LINKINFO, value: [{type: INFO.SLAVE_DATA, value: portSettings(change)}]}]);
  }
}

/** getLink, failing as the command `as` that needed the link. */
async function getLinkAs(socket: RouteSocket, name: string, as: readonly string[]): Promise<LinkInfo> {
  try {
    return await getLink(socket, name);
  } catch (error) {
    if (error instanceof IpError) throw new IpError(as, error.reason, error.errno);
    throw error;
  }
}

/**
 * LinkOps over rtnetlink in this process: no `ip` process, so no fork of the router, per call.
 * Every request waits on libuv's pool (see SocketIo): the kernel answers a link change, and most
 * reads, only once it holds the RTNL lock, which a host of busy routers and pods contends for,
 * and the router's event loop must not stand still meanwhile (its peers' handshakes wait on it).
 */
export class NetlinkLinkOps implements LinkOps {
  constructor(private readonly addon: NetlinkAddon) {}

  async show(name: string, netns?: string): Promise<LinkInfo | undefined> {
    try {
      return await withRouteSocket(this.addon, netns, ['link', 'show', 'dev', name], socket => getLink(socket, name), 'pool');
    } catch (error) {
      if (error instanceof IpError && error.notFound) return undefined;
      throw error;
    }
  }

  list(netns?: string): Promise<AddressedLink[]> {
    return withRouteSocket(
      this.addon,
      netns,
      ['addr', 'show'],
      async socket => {
        const links = await dumpLinks(socket);
        const cidrs = await v4CidrsByLink(socket);
        return links.map(link => ({...link, cidrs: cidrs.get(link.ifindex) ?? []}));
      },
      'pool',
    );
  }

  async apply(changes: readonly LinkChange[], netns?: string): Promise<void> {
    if (changes.length === 0) return;
    await withRouteSocket(
      this.addon,
      netns,
      ipCommand(changes[0]!),
      async socket => {
        for (const change of changes) await request(socket, change);
      },
      'pool',
    );
  }

  applyAndShow(changes: readonly LinkChange[], name: string, netns?: string): Promise<LinkInfo> {
    return withRouteSocket(
      this.addon,
      netns,
      ipCommand(changes[0] ?? {op: 'set', name}),
      async socket => {
        for (const change of changes) await request(socket, change);
        return getLink(socket, name);
      },
      'pool',
    );
  }
}

/** LinkOps over netlink when the addon loads and has it; otherwise why not, and the caller keeps `ip`. */
export function loadNetlinkLinkOps(): LinkOps | string {
  const addon = loadNetlinkAddon();
  return typeof addon === 'string' ? addon : new NetlinkLinkOps(addon);
}

let chosen: {ops: LinkOps; fallback?: string} | undefined;

/** The router's LinkOps, chosen once: netlink, else `ip` (and why, for its log). */
export function hostLinkOps(): {ops: LinkOps; fallback?: string} {
  if (!chosen) {
    const netlink = loadNetlinkLinkOps();
    chosen = typeof netlink === 'string' ? {ops: ipLinkOps, fallback: netlink} : {ops: netlink};
  }
  return chosen;
}
