import {ipBatch} from './ip.js';
import type {LinkInfo} from './link.js';

/** Outer IPv4, UDP and VXLAN headers plus the inner Ethernet header. */
export const VXLAN_OVERHEAD = 50;

/**
 * The MTU of the link each destination is routed through (one `ip -batch`); a destination with
 * no route is left out.
 */
export async function routeMtus(dsts: readonly string[], netns?: string): Promise<Map<string, {dev: string; mtu: number}>> {
  const found = new Map<string, {dev: string; mtu: number}>();
  if (dsts.length === 0) return found;
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
