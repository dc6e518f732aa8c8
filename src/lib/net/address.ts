import type {AddrInfo} from './addressing.js';
import {ip, IpError} from './ip.js';

/** Adds an address to a host link; already there is fine (a concurrent request may have added it). */
export async function addAddress(dev: string, cidr: string, netns?: string): Promise<void> {
  try {
    await ip(['addr', 'add', cidr, 'dev', dev], netns);
  } catch (error) {
    if (!(error instanceof IpError && /File exists|already assigned/.test(error.reason))) throw error;
  }
}

/** Removes an address from a host link; false when it was not there. */
export async function deleteAddress(dev: string, cidr: string, netns?: string): Promise<boolean> {
  try {
    await ip(['addr', 'del', cidr, 'dev', dev], netns);
    return true;
  } catch (error) {
    if (error instanceof IpError && /Address not found|Cannot assign requested address/.test(error.reason)) return false;
    throw error;
  }
}

/** The IPv4 addresses of a link as `a.b.c.d/len`, in the kernel's order. */
export async function ipv4Addresses(dev: string, netns?: string): Promise<string[]> {
  const [link] = (await ip(['addr', 'show', 'dev', dev], netns)) as {addr_info: AddrInfo[]}[];
  return v4Cidrs(link?.addr_info ?? []);
}

export function v4Cidrs(addrs: readonly AddrInfo[]): string[] {
  return addrs.filter(a => a.family === 'inet').map(a => `${a.local}/${a.prefixlen}`);
}
