import {v4Cidrs} from './address.js';
import type {AddrInfo} from './addressing.js';
import type {BridgeLinks, HostLinks} from './host-links.js';
import {NETNS_DIR} from './host-links.js';
import {ipBatch, IpError} from './ip.js';

interface IpLink {
  ifindex: number;
  ifname: string;
  address: string;
  ifalias?: string;
  link_index?: number;
  link_netnsid?: number;
  addr_info?: AddrInfo[];
}

/** HostLinks read with `ip -j -batch` processes: where the addon is missing or too old. */
export class IpHostLinks implements HostLinks {
  /** `hostNetns`: the namespace of the bridge, when not this process's (tests). */
  constructor(private readonly hostNetns?: string) {}

  async bridge(name: string): Promise<BridgeLinks | undefined> {
    let answers: [IpLink[], IpLink[], {name: string; id?: number}[] | undefined];
    try {
      answers = (await ipBatch([['addr', 'show', 'dev', name], ['link', 'show', 'master', name], ['netns', 'list']], this.hostNetns)) as typeof answers;
    } catch (error) {
      if (error instanceof IpError && error.notFound) return undefined;
      throw error;
    }
    const [[bridge], ports, namespaces = []] = answers;
    if (!bridge) return undefined;
    return {
      mac: bridge.address,
      cidrs: v4Cidrs(bridge.addr_info ?? []),
      ports: ports.map(port => {
        const netns = namespaces.find(n => n.id !== undefined && n.id === port.link_netnsid);
        const peer = netns && port.link_index !== undefined ? {peer: {netns: netns.name, ifindex: port.link_index}} : {};
        return {ifname: port.ifname, ...(port.ifalias === undefined ? {} : {ifalias: port.ifalias}), ...peer};
      }),
    };
  }

  async peerMac(peer: {netns: string; ifindex: number}): Promise<string | undefined> {
    try {
      const [links] = (await ipBatch([['link', 'show']], `${NETNS_DIR}/${peer.netns}`)) as [IpLink[]];
      return links.find(l => l.ifindex === peer.ifindex)?.address;
    } catch {
      return undefined; // the pod went away meanwhile
    }
  }

  async interface(netns: string, ifname: string): Promise<{mac: string; cidrs: string[]} | undefined> {
    try {
      const [[link]] = (await ipBatch([['addr', 'show', 'dev', ifname]], netns)) as [IpLink[]];
      return link && {mac: link.address, cidrs: v4Cidrs(link.addr_info ?? [])};
    } catch {
      return undefined;
    }
  }
}
