import {closeSync, readdirSync} from 'node:fs';
import {type BridgeLinks, type HostLinks, NETNS_DIR, type PortLink} from '../host-links.js';
import {IpError} from '../ip-error.js';
import type {LinkInfo} from '../link.js';
import {dumpLinks, linkInfo, v4CidrsByLink} from './link-info.js';
import {cstring, ifinfomsg, IFLA, NETNSA, parseAttrs, readI32, RTM, rtgenmsg, u32} from './message.js';
import {loadNetlinkAddon, type NetlinkAddon, openNetns, type RouteSocket, withRouteSocket} from './socket.js';

/** A veth's other end in another namespace, as `ip` tells it: its index there, and that namespace's id here. */
function peerOf(link: LinkInfo): {ifindex: number; netnsid: number} | undefined {
  const {link_index: ifindex, link_netnsid: netnsid} = link;
  return ifindex !== undefined && netnsid !== undefined && netnsid >= 0 ? {ifindex, netnsid} : undefined;
}

/** The id this namespace gives the one at `path`, as `ip netns list` shows it; undefined when it gave none. */
async function nsid(socket: RouteSocket, path: string): Promise<number | undefined> {
  const as = ['netns', 'list-id'];
  let fd: number;
  try {
    fd = openNetns(path, as);
  } catch {
    return undefined; // deleted meanwhile
  }
  try {
    const [answer] = await socket.request(as, RTM.GETNSID, 0, rtgenmsg(), [{type: NETNSA.FD, value: u32(fd)}]);
    // After its rtgenmsg; -1 (NETNSA_NSID_NOT_ASSIGNED) when the namespace has no id here.
    const id = answer && parseAttrs(answer.payload.subarray(4)).get(NETNSA.NSID);
    return id && readI32(id) >= 0 ? readI32(id) : undefined;
  } finally {
    closeSync(fd);
  }
}

/** HostLinks read over rtnetlink in this process (no `ip` process per namespace): the router's addon opens the sockets. */
export class NetlinkHostLinks implements HostLinks {
  /** `hostNetns`: the namespace of the bridge, when not this process's (tests). */
  constructor(
    private readonly addon: NetlinkAddon,
    private readonly hostNetns?: string,
  ) {}

  bridge(name: string): Promise<BridgeLinks | undefined> {
    return withRouteSocket(this.addon, this.hostNetns, ['link', 'show', 'master', name], async socket => {
      const links = await dumpLinks(socket);
      const bridge = links.find(l => l.ifname === name);
      if (!bridge) return undefined;
      const ports = links.filter(l => l.master === name);
      // Only now: reading the ports made the kernel give ids to the namespaces of their peers.
      const names = ports.some(peerOf) ? namedNamespaces() : [];
      const ids: (number | undefined)[] = [];
      // One at a time: a socket carries one request at a time.
      for (const n of names) ids.push(await nsid(socket, `${NETNS_DIR}/${n}`));
      return {
        mac: bridge.address,
        cidrs: (await v4CidrsByLink(socket)).get(bridge.ifindex) ?? [],
        ports: ports.map((port): PortLink => {
          const peer = peerOf(port);
          const netns = peer && names.find((_, i) => ids[i] === peer.netnsid);
          return {
            ifname: port.ifname,
            ...(port.ifalias ? {ifalias: port.ifalias} : {}),
            ...(netns ? {peer: {netns, ifindex: peer!.ifindex}} : {}),
          };
        }),
      };
    });
  }

  async peerMac(peer: {netns: string; ifindex: number}): Promise<string | undefined> {
    const as = ['link', 'show'];
    try {
      return await withRouteSocket(this.addon, `${NETNS_DIR}/${peer.netns}`, as, async socket => {
        const [answer] = await socket.request(as, RTM.GETLINK, 0, ifinfomsg(peer.ifindex));
        return answer && linkInfo(answer.payload).address;
      });
    } catch {
      return undefined; // the pod went away meanwhile
    }
  }

  async interface(netns: string, ifname: string): Promise<{mac: string; cidrs: string[]} | undefined> {
    const as = ['addr', 'show', 'dev', ifname];
    try {
      return await withRouteSocket(this.addon, netns, as, async socket => {
        const [answer] = await socket.request(as, RTM.GETLINK, 0, ifinfomsg(), [{type: IFLA.IFNAME, value: cstring(ifname)}]);
        if (!answer) return undefined;
        const found = linkInfo(answer.payload);
        return {mac: found.address, cidrs: (await v4CidrsByLink(socket)).get(found.ifindex) ?? []};
      });
    } catch (error) {
      if (error instanceof IpError) return undefined; // gone meanwhile, or lost the interface
      throw error;
    }
  }
}

/** The names under /run/netns, as `ip netns list` reads them. */
function namedNamespaces(): string[] {
  try {
    return readdirSync(NETNS_DIR);
  } catch {
    return [];
  }
}

/** HostLinks over netlink when the addon loads and has it; otherwise why not, and the caller keeps `ip`. */
export function loadNetlinkHostLinks(hostNetns?: string): HostLinks | string {
  const addon = loadNetlinkAddon();
  return typeof addon === 'string' ? addon : new NetlinkHostLinks(addon, hostNetns);
}
