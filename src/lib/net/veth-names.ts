/** How the original names veths and what their host ends record: pure, so ps loads no `ip` with it. */

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
