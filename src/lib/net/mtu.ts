import {ipBatch} from './ip.js';
import type {LinkInfo} from './link.js';
import {netlinkRouteMtus} from './netlink/route-mtu.js';
import {loadNetlinkAddon} from './netlink/socket.js';

/** Outer IPv4, UDP and VXLAN headers plus the inner Ethernet header. */
export const VXLAN_OVERHEAD = 50;

/** The link a destination is routed through, and its MTU. */
export interface RouteMtu {
  dev: string;
  mtu: number;
}

/**
 * The MTU of the link each destination is routed through; a destination with no route is left
 * out. Over netlink in this process when the addon has it, else with `ip`.
 */
export async function routeMtus(dsts: readonly string[], netns?: string): Promise<Map<string, RouteMtu>> {
  if (dsts.length === 0) return new Map();
  const addon = loadNetlinkAddon();
  return typeof addon === 'string' ? ipRouteMtus(dsts, netns) : netlinkRouteMtus(addon, dsts, netns);
}

/** routeMtus() with `ip`: a link dump, then a process per destination (one failing route must not hide the others). */
export async function ipRouteMtus(dsts: readonly string[], netns?: string): Promise<Map<string, RouteMtu>> {
  const found = new Map<string, RouteMtu>();
  const links = ((await ipBatch([['link', 'show']], netns))[0] as LinkInfo[]).map(link => [link.ifname, link.mtu] as const);
  const mtus = new Map(links);
  for (const dst of dsts) {
    let dev: string | undefined;
    try {
      dev = ((await ipBatch([['route', 'get', dst]], netns))[0] as {dev?: string}[])[0]?.dev;
    } catch {
      continue;
    }
    const mtu = dev === undefined ? undefined : mtus.get(dev);
    if (dev !== undefined && mtu !== undefined) found.set(dst, {dev, mtu});
  }
  return found;
}
