import type {AddrInfo} from '../../net/addressing.js';
import {v4Cidrs} from '../../net/address.js';
import {ip} from '../../net/ip.js';
import type {LinkInfo} from '../../net/link.js';
import {DOCKER_BRIDGE} from './rules.js';

/** The original's ODP datapath name, looked at only to recognise a fastdp set-up left behind. */
export const DATAPATH = 'datapath';

export interface HostLink extends LinkInfo {
  /** IPv4 addresses as `a.b.c.d/len`. */
  cidrs: string[];
}

/** What the data plane needs to know of the host's links, read in one `ip` call. */
export interface HostLinks {
  bridge?: HostLink;
  datapath?: HostLink;
  docker?: HostLink;
  /** Names of every link, for tear-down (`vethwe*`). */
  names: string[];
}

export async function readHostLinks(bridge: string, netns?: string): Promise<HostLinks> {
  const links = (await ip(['addr', 'show'], netns)) as (LinkInfo & {addr_info?: AddrInfo[]})[];
  const find = (name: string): HostLink | undefined => {
    const link = links.find(l => l.ifname === name);
    return link && {...link, cidrs: v4Cidrs(link.addr_info ?? [])};
  };
  return {bridge: find(bridge), datapath: find(DATAPATH), docker: find(DOCKER_BRIDGE), names: links.map(l => l.ifname)};
}


/** docker0 as the base rules take it: absent, or present with its first IPv4 address if any. */
export function dockerOf(host: HostLinks): {ip?: string} | undefined {
  return host.docker && {ip: host.docker.cidrs[0]?.split('/')[0]};
}
