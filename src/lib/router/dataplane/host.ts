import type {LinkInfo} from '../../net/link.js';
import type {AddressedLink} from '../../net/link-ops.js';
import {hostLinkOps} from '../../net/netlink/link-ops.js';
import {DOCKER_ALIAS_PREFIX, dockerVethOwner, hostVethName} from '../../net/veth-names.js';
import {DOCKER_BRIDGE} from './rules.js';

/** The original's ODP datapath name, looked at only to recognise a fastdp set-up left behind. */
export const DATAPATH = 'datapath';

export type HostLink = AddressedLink;

/** The host end of a pod's veth, as the CNI plugin made it (`vethwepl<id[:7]>`), or weave attach (`vethwepl<pid>`). */
export interface PodPort {
  ifname: string;
  ifindex: number;
  /** The pod's end: its index in the pod's namespace, and that namespace's id here. */
  peerIndex: number;
  netnsid: number;
  /** The container id the plugin recorded (undefined for veths made before it did, or by weave 2.8.1). */
  containerId?: string;
  /** A Docker container's (`weave attach`, which records `docker:<id>`), not a CNI pod's. */
  docker?: boolean;
  /** Whether it is a port of the bridge now (else it lost it: the bridge was deleted). */
  attached: boolean;
}

/** What the data plane needs to know of the host's links, read at once. */
export interface HostLinks {
  bridge?: HostLink;
  datapath?: HostLink;
  docker?: HostLink;
  /** Names of every link, for tear-down (`vethwe*`). */
  names: string[];
  /** Pods' veths on the bridge, or on no bridge at all. */
  pods: PodPort[];
}

const POD_VETH_PREFIX = 'vethwepl';

/**
 * The owner a veth records: a CNI pod's id counts only when the veth's name was made from it;
 * a Docker container's is marked, on `vethwepl<pid>`.
 */
function recordedOwner(link: LinkInfo): {containerId: string; docker?: true} | undefined {
  const alias = link.ifalias;
  if (!alias) return undefined;
  if (alias.startsWith(DOCKER_ALIAS_PREFIX)) {
    const owner = dockerVethOwner(link);
    return owner && {containerId: owner.id, docker: true};
  }
  return hostVethName(alias) === link.ifname ? {containerId: alias} : undefined;
}

export function podPorts(links: readonly LinkInfo[], bridge: string): PodPort[] {
  return links.flatMap(link => {
    const {ifname, ifindex, link_index: peerIndex, link_netnsid: netnsid, master} = link;
    if (!ifname.startsWith(POD_VETH_PREFIX) || link.linkinfo?.info_kind !== 'veth') return [];
    if (peerIndex === undefined || netnsid === undefined || (master !== undefined && master !== bridge)) return [];
    return [{ifname, ifindex, peerIndex, netnsid, attached: master === bridge, ...recordedOwner(link)}];
  });
}

export async function readHostLinks(bridge: string, netns?: string): Promise<HostLinks> {
  const links = await hostLinkOps().ops.list(netns);
  const find = (name: string): HostLink | undefined => links.find(l => l.ifname === name);
  return {bridge: find(bridge), datapath: find(DATAPATH), docker: find(DOCKER_BRIDGE), names: links.map(l => l.ifname), pods: podPorts(links, bridge)};
}

/** docker0 as the base rules take it: absent, or present with its first IPv4 address if any. */
export function dockerOf(host: HostLinks): {ip?: string} | undefined {
  return host.docker && {ip: host.docker.cidrs[0]?.split('/')[0]};
}
