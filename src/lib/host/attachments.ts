import type {Allocation, RouterClient} from '../api/client.js';
import {NotFoundError} from '../api/errors.js';
import {ipBatch, IpError} from '../net/ip.js';
import {hostVethName} from '../net/veth.js';
import {EXPOSE_ID} from '../defaults.js';

/** One `weave ps` line: who is on the bridge, with which MAC and addresses. */
export interface Attachment {
  id: string;
  /** `-` when the pod's namespace has no name under /run/netns, so its side cannot be read. */
  mac: string;
  cidrs: string[];
}

interface AddrLink {
  ifindex: number;
  ifname: string;
  address: string;
  link_index?: number;
  link_netnsid?: number;
  addr_info?: {family: string; local: string; prefixlen: number}[];
}

/** Shown instead of a MAC that cannot be read from the host. */
export const UNKNOWN_MAC = '-';

/** The MAC of the interface at the other end of `port`, read in the pod's named namespace. */
async function peerMac(port: AddrLink, namespaces: {name: string; id?: number}[]): Promise<string> {
  const netns = namespaces.find(n => n.id !== undefined && n.id === port.link_netnsid);
  if (!netns || port.link_index === undefined) return UNKNOWN_MAC;
  try {
    const [links] = (await ipBatch([['link', 'show']], `/run/netns/${netns.name}`)) as [AddrLink[]];
    return links.find(l => l.ifindex === port.link_index)?.address ?? UNKNOWN_MAC;
  } catch {
    return UNKNOWN_MAC; // the pod went away meanwhile
  }
}

/** Allocations that `wanted` names (ids or their prefixes), in that order; all but the bridge's when none. */
function select(allocations: Allocation[], wanted: readonly string[]): {allocation: Allocation; shown: string}[] {
  if (wanted.length === 0) {
    return allocations.filter(a => a.containerid !== EXPOSE_ID).map(allocation => ({allocation, shown: allocation.containerid.slice(0, 12)}));
  }
  return wanted
    .filter(id => id !== EXPOSE_ID)
    .flatMap(id => allocations.filter(a => a.containerid !== EXPOSE_ID && a.containerid.startsWith(id)).map(allocation => ({allocation, shown: id})));
}

/**
 * `weave ps`: the bridge itself (`weave:expose`, its MAC and addresses) first, then every
 * allocation whose `vethwepl<id[:7]>` is on the bridge: the id and addresses from IPAM, the MAC
 * of the pod's side of the veth, read in its network namespace when that has a name under
 * /run/netns (as podman, containerd and CRI-O give them), else `-`. No bridge, no lines.
 */
export async function listAttachments(client: RouterClient, bridge: string, wanted: readonly string[] = []): Promise<Attachment[]> {
  let bridgeLink: AddrLink;
  let ports: AddrLink[];
  let namespaces: {name: string; id?: number}[];
  try {
    const [addrs, master, netns] = (await ipBatch([['addr', 'show', 'dev', bridge], ['link', 'show', 'master', bridge], ['netns', 'list']])) as [
      AddrLink[],
      AddrLink[],
      {name: string; id?: number}[] | undefined,
    ];
    [bridgeLink, ports, namespaces] = [addrs[0]!, master, netns ?? []];
  } catch (error) {
    if (error instanceof IpError && error.notFound) return [];
    throw error;
  }

  const bridgeCidrs = (bridgeLink.addr_info ?? []).filter(a => a.family === 'inet').map(a => `${a.local}/${a.prefixlen}`);
  const bridgeRows: Attachment[] = wanted.length === 0 || wanted.includes(EXPOSE_ID) ? [{id: EXPOSE_ID, mac: bridgeLink.address, cidrs: bridgeCidrs}] : [];
  let allocations: Allocation[] = [];
  try {
    allocations = await client.allocations();
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error; // IPAM off: nothing allocated
  }
  const attached = select(allocations, wanted).flatMap(({allocation, shown}) => {
    const port = ports.find(p => p.ifname === hostVethName(allocation.containerid));
    return port ? [{port, shown, cidrs: allocation.addrs}] : []; // no port: allocated but not attached
  });
  const macs = await Promise.all(attached.map(a => peerMac(a.port, namespaces)));
  return [...bridgeRows, ...attached.map((a, i) => ({id: a.shown, mac: macs[i]!, cidrs: a.cidrs}))];
}
