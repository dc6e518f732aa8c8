import {access} from 'node:fs/promises';
import {setTimeout as delay} from 'node:timers/promises';
import {ip, IpError} from './ip.js';

/** The fields of `ip -j -d link show` the plugin reads. */
export interface LinkInfo {
  ifindex: number;
  ifname: string;
  address: string;
  mtu: number;
  master?: string;
  flags: string[];
  /** `ip link set ... alias`: the CNI plugin records a pod's container id on its host veth. */
  ifalias?: string;
  /** A veth's peer: its index, in the namespace `link_netnsid` names (absent: ours). */
  link_index?: number;
  link_netnsid?: number;
  linkinfo?: {
    info_kind?: string;
    /** A VXLAN device's settings. */
    info_data?: {id?: number; port?: number; learning?: boolean; local?: string};
    /** A bridge port's. */
    info_slave_data?: {hairpin?: boolean; isolated?: boolean};
  };
}

/** The link named `name`, or undefined when there is none. */
export async function showLink(name: string, netns?: string): Promise<LinkInfo | undefined> {
  try {
    const [link] = (await ip(['link', 'show', 'dev', name], netns)) as LinkInfo[];
    return link;
  } catch (error) {
    if (error instanceof IpError && error.notFound) return undefined;
    throw error;
  }
}

/** Deletes a link; false when it was already gone (DEL must be idempotent). */
export async function deleteLink(name: string, netns?: string): Promise<boolean> {
  try {
    await ip(['link', 'del', 'dev', name], netns);
    return true;
  } catch (error) {
    if (error instanceof IpError && error.notFound) return false;
    throw error;
  }
}

const exists = (path: string) => access(path).then(() => true, () => false);

/**
 * deleteLink for a link of this process's namespace that resolves once the kernel has
 * unregistered the link rather than when `ip` returns. Deleting a veth unlists both ends at
 * once, then tears their state down under the RTNL lock (the link's IPv4 sysctl directory goes
 * then); only after releasing the lock does the kernel wait in rcu_barrier() (~15 ms here) to
 * free their memory, and `ip` gets its answer after that. Nothing later sees either end: both
 * are unlisted first, and a link change waits for the lock. So the sysctl directory (per
 * network namespace) is watched while `ip` runs; a link without one (MTU below 68) waits for `ip`.
 * Netlink's answer comes as late (the kernel sends it when the same work is done): `del` deletes
 * the link either way.
 */
export async function deleteLinkPromptly(name: string, del: (name: string) => Promise<boolean> = deleteLink): Promise<boolean> {
  const conf = `/proc/sys/net/ipv4/conf/${name}`;
  if (name.includes('/') || !(await exists(conf))) return del(name);
  let settled = false;
  const deleted = del(name).finally(() => (settled = true));
  while (!settled) {
    await delay(1);
    if (!settled && !(await exists(conf))) {
      // Gone, by our hand or another's: what `ip` says later no longer matters.
      deleted.catch(() => undefined);
      return true;
    }
  }
  return deleted;
}
