import type {Allocation, RouterClient} from '../api/client.js';
import {NotFoundError} from '../api/errors.js';
import {ipBatch, IpError} from '../net/ip.js';
import {DOCKER_IFNAME, dockerVethOwner, hostVethName} from '../net/veth.js';
import {v4Cidrs} from '../net/address.js';
import type {AddrInfo} from '../net/addressing.js';
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
  ifalias?: string;
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

/** Owners that `wanted` names (ids or their prefixes), in that order; all but the bridge when none. */
function select<T>(owners: readonly T[], idOf: (owner: T) => string, wanted: readonly string[]): {owner: T; shown: string}[] {
  const listed = owners.filter(owner => idOf(owner) !== EXPOSE_ID);
  if (wanted.length === 0) return listed.map(owner => ({owner, shown: idOf(owner).slice(0, 12)}));
  return wanted.filter(id => id !== EXPOSE_ID).flatMap(id => listed.filter(owner => idOf(owner).startsWith(id)).map(owner => ({owner, shown: id})));
}

/**
 * A Docker container's line (weave attach), as the original's: the MAC and addresses of its
 * `ethwe`, read in its namespace; none when it went meanwhile or lost the interface.
 */
async function dockerRow(pid: number, shown: string): Promise<Attachment[]> {
  try {
    const [[link]] = (await ipBatch([['addr', 'show', 'dev', DOCKER_IFNAME]], `/proc/${pid}/ns/net`)) as [[AddrLink]];
    return [{id: shown, mac: link.address, cidrs: v4Cidrs((link.addr_info ?? []) as AddrInfo[])}];
  } catch {
    return [];
  }
}

/**
 * `weave ps`: the bridge itself (`weave:expose`, its MAC and addresses) first, then every Docker
 * container attached (`vethwepl<pid>` on the bridge, recording its id) with its `ethwe` as the
 * original lists it, then every allocation whose `vethwepl<id[:7]>` is on the bridge: the id
 * and addresses from IPAM, the MAC
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
  const docker = ports.flatMap(port => dockerVethOwner(port) ?? []);
  const dockerRows = await Promise.all(select(docker, c => c.id, wanted).map(({owner, shown}) => dockerRow(owner.pid, shown)));
  const pods = allocations.filter(a => !docker.some(c => c.id === a.containerid));
  const attached = select(pods, a => a.containerid, wanted).flatMap(({owner, shown}) => {
    const port = ports.find(p => p.ifname === hostVethName(owner.containerid));
    return port ? [{port, shown, cidrs: owner.addrs}] : []; // no port: allocated but not attached
  });
  const macs = await Promise.all(attached.map(a => peerMac(a.port, namespaces)));
  return [...bridgeRows, ...dockerRows.flat(), ...attached.map((a, i) => ({id: a.shown, mac: macs[i]!, cidrs: a.cidrs}))];
}
