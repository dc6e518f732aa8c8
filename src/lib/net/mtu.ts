import {ipBatch} from './ip.js';
import type {LinkInfo} from './link.js';

/** The pods' MTU when nothing better is known: the original's default, room for VXLAN and encryption inside a 1500-byte path. */
export const DEFAULT_MTU = 1376;

/** Outer IPv4, UDP and VXLAN headers plus the inner Ethernet header. */
export const VXLAN_OVERHEAD = 50;

/**
 * What the sleeve adds to a pod's packet in one datagram: IPv4 and UDP headers, its own header,
 * the virtio-net header and the Ethernet header (both sealed), and the tag.
 */
export const SLEEVE_OVERHEAD = 20 + 8 + 16 + 10 + 14 + 16;

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
