import {closeSync} from 'node:fs';
import type {RouteSpec} from '../addressing.js';
import {parseCidr} from '../cidr.js';
import {type IpCommand, IpError} from '../ip.js';
import {deleteLinkPromptly, type LinkInfo} from '../link.js';
import {randomMac} from '../mac.js';
import type {PodNet} from '../pod-net.js';
import {MAX_ALIAS, type VethSpec} from '../veth.js';
import {
  addressBytes,
  cstring,
  encodeAttrs,
  IFA,
  IFA_F_NODAD,
  ifaddrmsg,
  IFF_UP,
  ifinfomsg,
  IFLA,
  BRPORT,
  INFO,
  macBytes,
  NLM_F,
  RT_SCOPE,
  RTA,
  RTM,
  rtmsg,
  u32,
  u8,
  VETH_INFO_PEER,
} from './message.js';
import {getLink} from './link-info.js';
import {loadNetlinkAddon, type NetlinkAddon, openNetns, type SocketIo, type RouteSocket, withRouteSocket} from './socket.js';

const CREATE = NLM_F.CREATE | NLM_F.EXCL;

/** The CNI path's link work over netlink; see PodNet. Each call opens its own sockets. */
export class NetlinkPodNet implements PodNet {
  /** `hostNetns`: the namespace of the host ends and bridges, when not this process's (tests). */
  constructor(
    private readonly addon: NetlinkAddon,
    private readonly hostNetns?: string,
  ) {}

  /** Runs `body` with a socket in `netns` (a path), else in the host's. Only deletions wait on the pool (see SocketIo). */
  private withSocket<T>(netns: string | undefined, as: IpCommand, body: (socket: RouteSocket) => Promise<T>, io: SocketIo = 'inline'): Promise<T> {
    return withRouteSocket(this.addon, netns ?? this.hostNetns, as, body, io);
  }

  async createVeth(spec: VethSpec): Promise<string> {
    const mac = randomMac();
    const mtu = u32(spec.mtu);
    const add = ['link', 'add', 'name', spec.hostName, 'type', 'veth', 'peer', 'name', spec.peerName, 'netns', spec.netns];
    const nsFd = openNetns(spec.netns, add);
    try {
      await this.withSocket(undefined, add, async host => {
        const bridge = await getLink(host, spec.bridge);
        // The peer is born in the container's namespace, as `ip link add ... peer ... netns` does.
        const peer = Buffer.concat([ifinfomsg(), encodeAttrs([{type: IFLA.IFNAME, value: cstring(spec.peerName)}, {type: IFLA.MTU, value: mtu}, {type: IFLA.NET_NS_FD, value: u32(nsFd)}])]);
        await host.request(add, RTM.NEWLINK, CREATE, ifinfomsg(0, IFF_UP), [
          {type: IFLA.IFNAME, value: cstring(spec.hostName)},
          {type: IFLA.ADDRESS, value: macBytes(mac)},
          {type: IFLA.MTU, value: mtu},
          {type: IFLA.MASTER, value: u32(bridge.ifindex)},
          {type: IFLA.LINKINFO, value: [{type: INFO.KIND, value: Buffer.from('veth')}, {type: INFO.DATA, value: [{type: VETH_INFO_PEER, value: peer}]}]},
        ]);
        // Not in the same message: the kernel takes no alias for a new link, and a port's mode only once it is one.
        const alias = spec.alias && Buffer.byteLength(spec.alias) <= MAX_ALIAS ? [{type: IFLA.IFALIAS, value: Buffer.from(spec.alias)}] : [];
        await host.request(['link', 'set', 'dev', spec.hostName, 'type', 'bridge_slave', 'hairpin', spec.hairpin ? 'on' : 'off'], RTM.NEWLINK, 0, ifinfomsg(), [
          {type: IFLA.IFNAME, value: cstring(spec.hostName)},
          ...alias,
          {type: IFLA.LINKINFO, value: [{type: INFO.SLAVE_DATA, value: [{type: BRPORT.MODE, value: u8(spec.hairpin ? 1 : 0)}]}]},
        ]);
      });
    } finally {
      closeSync(nsFd);
    }
    return mac;
  }

  configureInterface(netns: string, ifname: string, addresses: readonly string[], routes: readonly RouteSpec[]): Promise<LinkInfo> {
    return this.withSocket(netns, ['link', 'set', 'dev', ifname, 'up'], async socket => {
      const {ifindex} = await getLink(socket, ifname);
      await socket.request(['link', 'set', 'dev', ifname, 'up'], RTM.NEWLINK, 0, ifinfomsg(ifindex, IFF_UP));
      for (const address of addresses) {
        const cidr = parseCidr(address);
        if (!cidr) throw new IpError(['addr', 'add', address, 'dev', ifname], 'not an address with a prefix length');
        const bytes = addressBytes(cidr.ip);
        // IPv6 duplicate address detection would hold the address unusable for a second or more.
        await socket.request(['addr', 'add', address, 'dev', ifname], RTM.NEWADDR, CREATE, ifaddrmsg(cidr.family, cidr.prefix, cidr.family === 6 ? IFA_F_NODAD : 0, ifindex), [
          {type: IFA.LOCAL, value: bytes},
          {type: IFA.ADDRESS, value: bytes},
        ]);
      }
      for (const route of routes) {
        const dst = parseCidr(route.dst);
        const as = ['route', 'add', route.dst, ...(route.gw ? ['via', route.gw] : []), 'dev', ifname];
        if (!dst) throw new IpError(as, 'not a destination with a prefix length');
        // As `ip route add` does: a route without a gateway reaches its destination on the link.
        const scope = !route.gw && (dst.family === 4 || dst.prefix === 128) ? RT_SCOPE.LINK : RT_SCOPE.UNIVERSE;
        await socket.request(as, RTM.NEWROUTE, CREATE, rtmsg(dst.family, dst.prefix, scope), [
          {type: RTA.DST, value: addressBytes(dst.ip)},
          ...(route.gw ? [{type: RTA.GATEWAY, value: addressBytes(route.gw)}] : []),
          {type: RTA.OIF, value: u32(ifindex)},
        ]);
      }
      return getLink(socket, ifname);
    });
  }

  async showLink(name: string, netns?: string): Promise<LinkInfo | undefined> {
    try {
      return await this.withSocket(netns, ['link', 'show', 'dev', name], socket => getLink(socket, name));
    } catch (error) {
      if (error instanceof IpError && error.notFound) return undefined;
      throw error;
    }
  }

  async deleteLink(name: string, netns?: string): Promise<boolean> {
    const as = ['link', 'del', 'dev', name];
    try {
      await this.withSocket(netns, as, socket => socket.request(as, RTM.DELLINK, 0, ifinfomsg(), [{type: IFLA.IFNAME, value: cstring(name)}]), 'pool');
      return true;
    } catch (error) {
      if (error instanceof IpError && error.notFound) return false;
      throw error;
    }
  }

  deleteLinkPromptly(name: string): Promise<boolean> {
    // What it watches (/proc/sys/net) is this process's namespace.
    return this.hostNetns ? this.deleteLink(name) : deleteLinkPromptly(name, n => this.deleteLink(n));
  }
}

/**
 * Netlink for the CNI path when the router's addon loads and has it; otherwise why not, and the
 * caller keeps `ip`.
 */
export function loadNetlinkPodNet(hostNetns?: string): PodNet | string {
  const addon = loadNetlinkAddon();
  return typeof addon === 'string' ? addon : new NetlinkPodNet(addon, hostNetns);
}
