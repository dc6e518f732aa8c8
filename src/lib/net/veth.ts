import {ipBatch} from './ip.js';
import {randomMac} from './mac.js';

/** The original's host-side name, so scripts that look for `vethwepl<id[:7]>` keep working. */
export function hostVethName(containerId: string): string {
  return `vethwepl${containerId.slice(0, 7)}`;
}

/** A Docker container's interface on the weave network (`weave attach`), as the original names it. */
export const DOCKER_IFNAME = 'ethwe';

/** The host end of a Docker container's veth: `vethwepl<pid>`, as the original. */
export function dockerVethName(pid: number): string {
  return `vethwepl${pid}`;
}

/**
 * The alias a Docker container's host end records (`weave attach`): `docker:<container id>`. A
 * CNI pod's records its bare container id; the router tells them apart by it, freeing a Docker
 * container's addresses when it goes, never a pod's.
 */
export const DOCKER_ALIAS_PREFIX = 'docker:';

export function dockerVethAlias(containerId: string): string {
  return `${DOCKER_ALIAS_PREFIX}${containerId}`;
}

/** The Docker container a host end belongs to, from its name and alias; undefined for a pod's. */
export function dockerVethOwner(link: {ifname: string; ifalias?: string}): {id: string; pid: number} | undefined {
  const pid = /^vethwepl(\d+)$/.exec(link.ifname)?.[1];
  const id = link.ifalias?.startsWith(DOCKER_ALIAS_PREFIX) ? link.ifalias.slice(DOCKER_ALIAS_PREFIX.length) : '';
  return pid && id ? {id, pid: Number(pid)} : undefined;
}

export interface VethSpec {
  hostName: string;
  /** Name of the peer inside `netns`; creation fails if the namespace already has it. */
  peerName: string;
  netns: string;
  mtu: number;
  bridge: string;
  hairpin: boolean;
  /** Recorded as the host end's alias: the router reads pods' container ids back from it at start. */
  alias?: string;
}

/** The kernel keeps 255 bytes of an alias: a longer id (libcni sets no limit) is not recorded. */
export const MAX_ALIAS = 255;

/**
 * Creates the pair with the peer born inside the container's namespace (no rename race), the
 * host end on the bridge and up, in one command: a pair that cannot be made leaves nothing
 * changed. Then its alias (its container's id; the kernel takes none with a new link) and hairpin
 * mode, in the same `ip -batch`, which stops at the first failure. The host end's MAC is chosen
 * here, as the kernel would, so nothing has to be read back. Returns that MAC.
 */
export async function createVeth(spec: VethSpec): Promise<string> {
  const mtu = String(spec.mtu);
  const mac = randomMac();
  const alias = spec.alias && Buffer.byteLength(spec.alias) <= MAX_ALIAS ? ['alias', spec.alias] : [];
  await ipBatch([
    ['link', 'add', 'name', spec.hostName, 'address', mac, 'mtu', mtu, 'master', spec.bridge, 'up', 'type', 'veth', 'peer', 'name', spec.peerName, 'mtu', mtu, 'netns', spec.netns],
    ['link', 'set', 'dev', spec.hostName, ...alias, 'type', 'bridge_slave', 'hairpin', spec.hairpin ? 'on' : 'off'],
  ]);
  return mac;
}
