import {ipv4Addresses} from '../net/address.js';
import {configureInterface, type RouteSpec} from '../net/addressing.js';
import {announceAddress} from '../net/arp.js';
import {ipBatch, IpError} from '../net/ip.js';
import {deleteLink, showLink} from '../net/link.js';
import {setSysctls} from '../net/sysctl.js';
import {createVeth} from '../net/veth.js';
import {DOCKER_IFNAME} from '../net/veth-names.js';
import {Iptables, RestoreScript} from '../router/dataplane/iptables.js';
import {networkText} from '../net/cidr.js';
import type {Rule} from '../router/dataplane/rules.js';
import {DockerOperatorError} from './errors.js';

const MULTICAST = '224.0.0.0/4';

/** Multicast from outside the container's weave subnets is dropped, as the original sets it up. */
const dropMulticast = (): Rule => ({table: 'filter', chain: 'INPUT', args: ['-d', MULTICAST, '-i', DOCKER_IFNAME, '-j', 'DROP']});
const acceptMulticast = (network: string): Rule => ({table: 'filter', chain: 'INPUT', args: ['-s', network, '-d', MULTICAST, '-i', DOCKER_IFNAME, '-j', 'ACCEPT']});

/** ARP entries go stale fast (an address moves to another container), as the original tunes them. */
const ARP_CACHE = {
  [`net/ipv4/neigh/${DOCKER_IFNAME}/base_reachable_time`]: '5',
  [`net/ipv4/neigh/${DOCKER_IFNAME}/delay_first_probe_time`]: '2',
  [`net/ipv4/neigh/${DOCKER_IFNAME}/ucast_solicit`]: '1',
};

export interface AttachSpec {
  /** The container's network namespace, e.g. /proc/<pid>/ns/net. */
  netns: string;
  /** What `ethwe` holds now (interfaceAddresses); undefined when the container has none. */
  existing: readonly string[] | undefined;
  /** The host end's name (dockerVethName). */
  hostName: string;
  /** Recorded on the host end (dockerVethAlias). */
  alias: string;
  bridge: string;
  /** Addresses to give `ethwe`, `a.b.c.d/len`. */
  cidrs: readonly string[];
  /** The route 224.0.0.0/4 via `ethwe` (off with --no-multicast-route). */
  multicastRoute: boolean;
}

const ipOf = (cidr: string) => cidr.split('/')[0]!;

/** The IPv4 addresses `ethwe` holds in `netns`, or undefined when it has no `ethwe`. */
export async function interfaceAddresses(netns: string): Promise<string[] | undefined> {
  try {
    return await ipv4Addresses(DOCKER_IFNAME, netns);
  } catch (error) {
    if (error instanceof IpError && error.notFound) return undefined;
    throw error;
  }
}

/**
 * The original's attach-container: `ethwe` in the container on a veth whose host end is on the
 * bridge (MTU of the bridge, hairpin on), the addresses it lacks, the multicast rules and route.
 * An `ethwe` already there is kept and only given what it lacks, so attaching twice changes
 * nothing. A veth made here is removed again when a later step fails.
 */
export async function attachInterface(spec: AttachSpec): Promise<void> {
  const bridge = await showLink(spec.bridge);
  if (!bridge) throw new DockerOperatorError(`bridge "${spec.bridge}" not present; did you launch weave?`);
  const {netns, existing} = spec;
  const created = existing === undefined;
  try {
    if (created) {
      await createVeth({hostName: spec.hostName, peerName: DOCKER_IFNAME, netns, mtu: bridge.mtu, bridge: spec.bridge, hairpin: true, alias: spec.alias});
      await setSysctls(ARP_CACHE, netns);
    }
    const fresh = spec.cidrs.filter(cidr => !(existing ?? []).some(have => ipOf(have) === ipOf(cidr)));
    const iptables = new Iptables(netns);
    const saved = await iptables.save();
    const script = new RestoreScript();
    for (const network of new Set(fresh.map(networkText))) {
      if (saved.count(acceptMulticast(network)) === 0) script.insert(acceptMulticast(network), 1);
    }
    if (saved.count(dropMulticast()) === 0) script.append(dropMulticast());
    await iptables.restore(script);
    const routes: RouteSpec[] = spec.multicastRoute && !(await hasMulticastRoute(netns)) ? [{dst: MULTICAST}] : [];
    await configureInterface(netns, DOCKER_IFNAME, fresh, routes);
    // Best effort, as the original: neighbours drop a MAC they may hold for a reused address.
    for (const cidr of fresh) await announceAddress(DOCKER_IFNAME, ipOf(cidr), netns).catch(() => false);
  } catch (error) {
    if (created) await deleteLink(spec.hostName).catch(() => undefined);
    throw error;
  }
}

async function hasMulticastRoute(netns: string): Promise<boolean> {
  const [routes] = (await ipBatch([['route', 'show', 'dev', DOCKER_IFNAME]], netns)) as [{dst: string}[]];
  return routes.some(route => route.dst === MULTICAST);
}

/**
 * The original's detach-container: the addresses come off `ethwe`, with the multicast rules of
 * subnets it no longer has; with no address left, the interface goes (its route with it). A
 * container without `ethwe`, or without these addresses, is left as it is.
 */
export async function detachInterface(netns: string, cidrs: readonly string[]): Promise<void> {
  const existing = await interfaceAddresses(netns);
  if (existing === undefined) return;
  const gone = existing.filter(have => cidrs.some(cidr => ipOf(cidr) === ipOf(have)));
  if (gone.length > 0) await ipBatch(gone.map(cidr => ['addr', 'del', cidr, 'dev', DOCKER_IFNAME]), netns);
  const left = existing.filter(have => !gone.includes(have));
  const kept = new Set(left.map(networkText));
  const iptables = new Iptables(netns);
  const saved = await iptables.save();
  const script = new RestoreScript();
  for (const network of new Set(gone.map(networkText))) {
    const rule = acceptMulticast(network);
    if (!kept.has(network) && saved.count(rule) > 0) script.deleteText(rule.table, rule.chain, rule.args.join(' '));
  }
  if (left.length === 0 && saved.count(dropMulticast()) > 0) script.deleteText('filter', 'INPUT', dropMulticast().args.join(' '));
  await iptables.restore(script);
  if (left.length === 0) await deleteLink(DOCKER_IFNAME, netns);
}
