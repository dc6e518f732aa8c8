import {v4Cidrs} from './address.js';
import type {AddrInfo} from './addressing.js';
import {type IpCommand, ipBatch} from './ip.js';
import {type LinkInfo, showLink} from './link.js';

/**
 * What the router does to the host's links: look at them and change them. Done over netlink in
 * its own process when its addon is there (netlink/link-ops.ts), else by `ip` processes
 * (ipLinkOps); both give the same answers and fail with the same IpErrors.
 */

/** A link with its IPv4 addresses as `a.b.c.d/len`, in the kernel's order. */
export type AddressedLink = LinkInfo & {cidrs: string[]};

/** A bridge port's settings, each left as it is when absent. */
export interface BridgePortSettings {
  isolated?: boolean;
  learning?: boolean;
  /** Unknown unicast, multicast and broadcast flooding out of the port. */
  flood?: boolean;
  mcastFlood?: boolean;
  bcastFlood?: boolean;
}

/** One change to one link: a line of an `ip -batch`, or one rtnetlink request. */
export type LinkChange =
  | {op: 'add-bridge'; name: string; mac: string}
  | {op: 'add-vxlan'; name: string; vni: number; port: number; learning: boolean; local?: string}
  | {op: 'del'; name: string}
  /** Settings of a link; `master`: the bridge to make it a port of. */
  | {op: 'set'; name: string; mac?: string; mtu?: number; master?: string; up?: true}
  /** No IPv6 link-local address (nor any other made by the kernel) on the link. */
  | {op: 'no-addrgen'; name: string}
  | ({op: 'bridge-port'; name: string} & BridgePortSettings);

export interface LinkOps {
  /** The link `name`; undefined when there is none, or no namespace at `netns`. */
  show(name: string, netns?: string): Promise<LinkInfo | undefined>;
  /** Every link, masters named, with its IPv4 addresses. */
  list(netns?: string): Promise<AddressedLink[]>;
  /** The changes in order; the first that fails stops the rest and throws its IpError. */
  apply(changes: readonly LinkChange[], netns?: string): Promise<void>;
  /** apply(), then the link `name` as it is now. */
  applyAndShow(changes: readonly LinkChange[], name: string, netns?: string): Promise<LinkInfo>;
}

const onOff = (on: boolean) => (on ? 'on' : 'off');

/** The `ip` command that makes `change`: the ip implementation runs it, the netlink one names it in errors. */
export function ipCommand(change: LinkChange): IpCommand {
  switch (change.op) {
    case 'add-bridge':
      return ['link', 'add', 'name', change.name, 'address', change.mac, 'type', 'bridge'];
    case 'add-vxlan':
      return ['link', 'add', 'name', change.name, 'type', 'vxlan', 'id', String(change.vni), 'dstport', String(change.port), ...(change.local ? ['local', change.local] : []), change.learning ? 'learning' : 'nolearning'];
    case 'del':
      return ['link', 'del', 'dev', change.name];
    case 'set':
      return [
        ...['link', 'set', 'dev', change.name],
        ...(change.mac ? ['address', change.mac] : []),
        ...(change.mtu === undefined ? [] : ['mtu', String(change.mtu)]),
        ...(change.master ? ['master', change.master] : []),
        ...(change.up ? ['up'] : []),
      ];
    case 'no-addrgen':
      return ['link', 'set', 'dev', change.name, 'addrgenmode', 'none'];
    case 'bridge-port': {
      const words: [string, boolean | undefined][] = [
        ['isolated', change.isolated],
        ['learning', change.learning],
        ['flood', change.flood],
        ['mcast_flood', change.mcastFlood],
        ['bcast_flood', change.bcastFlood],
      ];
      return ['link', 'set', 'dev', change.name, 'type', 'bridge_slave', ...words.flatMap(([word, on]) => (on === undefined ? [] : [word, onOff(on)]))];
    }
  }
}

/** LinkOps by `ip -j -d -batch` processes: where the addon is missing or too old. */
export const ipLinkOps: LinkOps = {
  show: showLink,

  async list(netns) {
    const [links] = (await ipBatch([['addr', 'show']], netns)) as [(LinkInfo & {addr_info?: AddrInfo[]})[]];
    return links.map(({addr_info: addrs, ...link}) => ({...link, cidrs: v4Cidrs(addrs ?? [])}));
  },

  async apply(changes, netns) {
    if (changes.length > 0) await ipBatch(changes.map(ipCommand), netns);
  },

  async applyAndShow(changes, name, netns) {
    const shown = await ipBatch([...changes.map(ipCommand), ['link', 'show', 'dev', name]], netns);
    return (shown.at(-1) as LinkInfo[])[0]!;
  },
};
