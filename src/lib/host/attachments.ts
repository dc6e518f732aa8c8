import type {Allocation, RouterClient} from '../api/client.js';
import {NotFoundError} from '../api/errors.js';
import type {HostLinks} from '../net/host-links.js';
import {loadNetlinkHostLinks} from '../net/netlink/host-links.js';
import {DOCKER_IFNAME, dockerVethOwner, hostVethName} from '../net/veth-names.js';
import {EXPOSE_ID} from '../defaults.js';

/** One `weave ps` line: who is on the bridge, with which MAC and addresses. */
export interface Attachment {
  id: string;
  /** `-` when the pod's namespace has no name under /run/netns, so its side cannot be read. */
  mac: string;
  cidrs: string[];
}

/** Shown instead of a MAC that cannot be read from the host. */
export const UNKNOWN_MAC = '-';

/**
 * How ps reads the host: over netlink in this process when the router's addon is there, else
 * with `ip` (loaded only then: it brings node:child_process, whose import alone is ~25 ms).
 * `hostNetns`: the namespace of the bridge, when not this process's (tests).
 */
export async function hostLinks(hostNetns?: string): Promise<HostLinks> {
  const netlink = loadNetlinkHostLinks(hostNetns);
  return typeof netlink === 'string' ? new (await import('../net/host-links-ip.js')).IpHostLinks(hostNetns) : netlink;
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
async function dockerRow(links: HostLinks, pid: number, shown: string): Promise<Attachment[]> {
  const found = await links.interface(`/proc/${pid}/ns/net`, DOCKER_IFNAME);
  return found ? [{id: shown, mac: found.mac, cidrs: found.cidrs}] : [];
}

/**
 * `weave ps`: the bridge itself (`weave:expose`, its MAC and addresses) first, then every Docker
 * container attached (`vethwepl<pid>` on the bridge, recording its id) with its `ethwe` as the
 * original lists it, then every allocation whose `vethwepl<id[:7]>` is on the bridge: the id
 * and addresses from IPAM, the MAC
 * of the pod's side of the veth, read in its network namespace when that has a name under
 * /run/netns (as podman, containerd and CRI-O give them), else `-`. No bridge, no lines.
 */
export async function listAttachments(client: RouterClient, bridge: string, wanted: readonly string[] = [], links?: HostLinks): Promise<Attachment[]> {
  links ??= await hostLinks();
  const found = await links.bridge(bridge);
  if (!found) return [];
  const {ports} = found;
  const bridgeRows: Attachment[] = wanted.length === 0 || wanted.includes(EXPOSE_ID) ? [{id: EXPOSE_ID, mac: found.mac, cidrs: found.cidrs}] : [];
  let allocations: Allocation[] = [];
  try {
    allocations = await client.allocations();
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error; // IPAM off: nothing allocated
  }
  const docker = ports.flatMap(port => dockerVethOwner(port) ?? []);
  const dockerRows = await Promise.all(select(docker, c => c.id, wanted).map(({owner, shown}) => dockerRow(links, owner.pid, shown)));
  const pods = allocations.filter(a => !docker.some(c => c.id === a.containerid));
  const attached = select(pods, a => a.containerid, wanted).flatMap(({owner, shown}) => {
    const port = ports.find(p => p.ifname === hostVethName(owner.containerid));
    return port ? [{port, shown, cidrs: owner.addrs}] : []; // no port: allocated but not attached
  });
  const macs = await Promise.all(attached.map(async a => (a.port.peer && (await links.peerMac(a.port.peer))) ?? UNKNOWN_MAC));
  return [...bridgeRows, ...dockerRows.flat(), ...attached.map((a, i) => ({id: a.shown, mac: macs[i]!, cidrs: a.cidrs}))];
}
