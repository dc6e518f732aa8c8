import {readdir, stat} from 'node:fs/promises';
import type {AddrInfo} from '../net/addressing.js';
import {v4Cidrs} from '../net/address.js';
import {CommandError} from '../net/exec.js';
import {ip} from '../net/ip.js';
import {runInNetns} from '../net/nsrun.js';
import type {PodPort} from './dataplane/host.js';
import {NO_CONTAINER_ID} from './ipam/allocator.js';
import type {Logger} from './log.js';

/** An address a live pod holds, to be claimed back for it before IPAM serves anyone. */
export interface PreClaim {
  /** The container id recorded on its veth; the original's `_` (no id known) otherwise. */
  id: string;
  cidr: string;
  /** A Docker container's (weave attach): its addresses go with it. */
  docker?: boolean;
}

/** A link as `ip -j addr show` lists it inside a pod's namespace. */
interface PodLink {
  ifindex: number;
  link_index?: number;
  addr_info?: AddrInfo[];
}

/** How many namespaces without a name are entered at once (one process each). */
const PARALLEL = 4;

/** Named network namespaces (under /run/netns) by their id here. */
async function namedNamespaces(netns?: string): Promise<Map<number, string>> {
  const listed = ((await ip(['netns', 'list'], netns)) ?? []) as {name: string; id?: number}[];
  return new Map(listed.filter(n => n.id !== undefined).map(n => [n.id!, n.name]));
}

const parseLines = (stdout: string): PodLink[] => stdout.split('\n').filter(line => line.startsWith('[')).flatMap(line => JSON.parse(line) as PodLink[]);

/**
 * The links of the named namespaces, in one `ip -batch` whose `netns exec` lines each run a
 * small `ip` there: forking this process once, not once per pod. A namespace gone meanwhile
 * fails its line only (-force); what the others printed is kept.
 */
async function linksInNamed(names: readonly string[], netns?: string): Promise<PodLink[]> {
  const input = names.map(name => `netns exec ${name} ip -j addr show`).join('\n') + '\n';
  try {
    return parseLines((await runInNetns(netns, 'ip', ['-force', '-batch', '-'], {input})).stdout);
  } catch (error) {
    if (error instanceof CommandError) return parseLines(error.stdout);
    throw error;
  }
}

/**
 * For pods whose namespace has no name (a runtime that passes /proc/<pid>/ns/net): the
 * namespace of every process, each once, entered one by one as the original does.
 */
async function linksInProcessNamespaces(ownNetns: string): Promise<PodLink[]> {
  const own = await stat(ownNetns);
  const seen = new Set<string>([`${own.dev}:${own.ino}`]);
  const paths: string[] = [];
  for (const pid of (await readdir('/proc')).filter(name => /^\d+$/.test(name))) {
    const path = `/proc/${pid}/ns/net`;
    const st = await stat(path).catch(() => undefined);
    if (!st || seen.has(`${st.dev}:${st.ino}`)) continue;
    seen.add(`${st.dev}:${st.ino}`);
    paths.push(path);
  }
  const links: PodLink[] = [];
  for (let i = 0; i < paths.length; i += PARALLEL) {
    const batch = await Promise.all(
      paths.slice(i, i + PARALLEL).map(path =>
        runInNetns(path, 'ip', ['-j', 'addr', 'show']).then(
          out => parseLines(out.stdout),
          () => [], // the process ended meanwhile
        ),
      ),
    );
    links.push(...batch.flat());
  }
  return links;
}

/** The pod's end of `port`: the link there whose peer is the port, as the port's peer is that link. */
const podEnd = (port: PodPort, links: readonly PodLink[]): PodLink | undefined => links.find(l => l.ifindex === port.peerIndex && l.link_index === port.ifindex);

/**
 * The original's findExistingAddresses (prog/weaver/reclaim.go) for pods: the IPv4 addresses of
 * every live pod on the bridge (or cut off from it), read inside its namespace, under the
 * container id its veth records. Named namespaces are read in one process; the others, only
 * when some pod is still not found, by visiting every process's namespace.
 */
export async function findExistingAddresses(pods: readonly PodPort[], log: Logger, netns?: string): Promise<PreClaim[]> {
  if (pods.length === 0) return [];
  const named = await namedNamespaces(netns);
  const names = [...new Set(pods.flatMap(pod => named.get(pod.netnsid) ?? []))];
  let links = names.length > 0 ? await linksInNamed(names, netns) : [];
  if (pods.some(pod => !podEnd(pod, links))) links = [...links, ...(await linksInProcessNamespaces(netns ?? '/proc/self/ns/net'))];
  const claims: PreClaim[] = [];
  for (const pod of pods) {
    const end = podEnd(pod, links);
    if (!end) {
      log.warning('cannot read the addresses of a pod on the bridge: its namespace was not found', {veth: pod.ifname});
      continue;
    }
    const id = pod.containerId ?? NO_CONTAINER_ID;
    for (const cidr of v4Cidrs(end.addr_info ?? [])) {
      log.info(`Found address ${cidr} for ID ${id}`);
      claims.push({id, cidr, ...(pod.docker ? {docker: true} : {})});
    }
  }
  return claims;
}
