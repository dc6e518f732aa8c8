import {IpError} from '../../net/ip.js';
import type {LinkInfo} from '../../net/link.js';
import type {LinkChange} from '../../net/link-ops.js';
import {hostLinkOps} from '../../net/netlink/link-ops.js';
import {randomMac} from '../../net/mac.js';
import {setSysctls} from '../../net/sysctl.js';
import type {Logger} from '../log.js';
import {type HostLink, type HostLinks, readHostLinks} from './host.js';

/** The original's bridge set-ups; ours is always a plain Linux bridge (no ODP in this kernel). */
export type BridgeType = 'bridge' | 'fastdp' | 'bridged_fastdp';
export const OUR_BRIDGE_TYPE: BridgeType = 'bridge';

/** The host holds a bridge set-up we cannot adopt: only `weave reset` sorts that out. */
export class BridgeStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BridgeStateError';
  }
}

function kind(link: LinkInfo): string {
  return link.linkinfo?.info_kind ?? '';
}

// A link of no reported kind counts as a datapath, as in the original (old kernels omit it).
const isDatapath = (link: LinkInfo | undefined): boolean => link !== undefined && (kind(link) === 'openvswitch' || kind(link) === '');
const isBridge = (link: LinkInfo | undefined): boolean => link !== undefined && kind(link) === 'bridge';

/** What the original would call the set-up found on the host; undefined when there is none. */
export function existingBridgeType(bridge: LinkInfo | undefined, datapath: LinkInfo | undefined): BridgeType | undefined {
  if (!bridge && !datapath) return undefined;
  if (isBridge(bridge) && !datapath) return 'bridge';
  if (isDatapath(bridge) && !datapath) return 'fastdp';
  if (isDatapath(datapath) && isBridge(bridge)) return 'bridged_fastdp';
  throw new BridgeStateError("Inconsistent bridge state detected. Please do 'weave reset' and try again");
}

/**
 * The MAC of the bridge when it can be a router's identity (the peer name when --name is not
 * given, as the original remembers it there); undefined when there is no bridge or its MAC was
 * never set: all zeros, or taken from one of its ports, as a bridge created without a MAC (by a
 * CNI plugin) does.
 */
export async function bridgeIdentity(bridge: string, netns?: string): Promise<string | undefined> {
  let links: LinkInfo[];
  try {
    links = await hostLinkOps().ops.list(netns);
  } catch (error) {
    if (error instanceof IpError && error.notFound) return undefined;
    throw error;
  }
  const ports = links.filter(l => l.master === bridge);
  const mac = links.find(l => l.ifname === bridge)?.address;
  if (!mac || mac === '00:00:00:00:00:00' || ports.some(port => port.address === mac)) return undefined;
  return mac;
}

export interface BridgeSpec {
  name: string;
  mtu: number;
  /** The MAC to give it (the peer name); else it keeps its own, or gets a random one when created. */
  mac?: string;
  netns?: string;
}

/**
 * Creates the bridge or adopts the one there, then gives it its MAC and MTU and brings it up.
 * The MAC is always set explicitly: a bridge whose MAC was never set takes the lowest MAC of its
 * ports, which would change the peer name as pods come and go.
 */
export async function ensureWeaveBridge(spec: BridgeSpec, host: HostLinks, log: Logger): Promise<HostLink> {
  const existing = existingBridgeType(host.bridge, host.datapath);
  if (existing && existing !== OUR_BRIDGE_TYPE) {
    throw new BridgeStateError(`Existing bridge type "${existing}" is different than requested "${OUR_BRIDGE_TYPE}". Please do 'weave reset' and try again`);
  }
  const mac = spec.mac ?? host.bridge?.address ?? randomMac();
  const changes: LinkChange[] = [];
  if (!host.bridge) changes.push({op: 'add-bridge', name: spec.name, mac});
  // The MTU is set apart from creation so that the kernel keeps it whatever ports come and go.
  changes.push({op: 'set', name: spec.name, mac, mtu: spec.mtu, up: true});
  let link: LinkInfo;
  try {
    link = await hostLinkOps().ops.applyAndShow(changes, spec.name, spec.netns);
  } catch (error) {
    if (host.bridge || !(error instanceof IpError && error.exists)) throw error;
    // A cold CNI plugin created it between our look and our add: adopt that one.
    const now = await readHostLinks(spec.name, spec.netns);
    if (!now.bridge) throw error;
    return ensureWeaveBridge(spec, now, log);
  }
  log.info(host.bridge ? 'adopted the existing bridge' : 'created the bridge', {bridge: spec.name, mac: link.address, mtu: link.mtu});
  return {...link, cidrs: host.bridge?.cidrs ?? []};
}

/**
 * No router advertisements on the bridge, and an ARP cache that notices a moved MAC quickly,
 * as the original sets them. Best effort: a host without IPv6 lacks the first file.
 */
export async function tuneBridge(name: string, netns: string | undefined, log: Logger): Promise<void> {
  try {
    await setSysctls(
      {
        [`net/ipv6/conf/${name}/accept_ra`]: '0',
        [`net/ipv4/neigh/${name}/base_reachable_time`]: '5',
        [`net/ipv4/neigh/${name}/delay_first_probe_time`]: '2',
        [`net/ipv4/neigh/${name}/ucast_solicit`]: '1',
        [`net/ipv4/conf/${name}/arp_accept`]: '1',
      },
      netns,
    );
  } catch (error) {
    log.warning('could not tune the bridge', {bridge: name, error: (error as Error).message});
  }
}
