import {ipBatch} from './ip.js';
import type {LinkInfo} from './link.js';

/** The original's host-side name, so scripts that look for `vethwepl<id[:7]>` keep working. */
export function hostVethName(containerId: string): string {
  return `vethwepl${containerId.slice(0, 7)}`;
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
  containerId?: string;
}

/** The kernel keeps 255 bytes of an alias: a longer id (libcni sets no limit) is not recorded. */
const MAX_ALIAS = 255;

/**
 * Creates the pair with the peer born inside the container's namespace (no rename race),
 * enslaves the host end to the bridge, names its container and brings it up, in one `ip -batch`.
 */
export async function createVeth(spec: VethSpec): Promise<LinkInfo> {
  const mtu = String(spec.mtu);
  const alias = spec.containerId && Buffer.byteLength(spec.containerId) <= MAX_ALIAS ? ['alias', spec.containerId] : [];
  const shown = await ipBatch([
    ['link', 'add', 'name', spec.hostName, 'mtu', mtu, 'type', 'veth', 'peer', 'name', spec.peerName, 'mtu', mtu, 'netns', spec.netns],
    ['link', 'set', 'dev', spec.hostName, 'master', spec.bridge, ...alias, 'up'],
    ['link', 'set', 'dev', spec.hostName, 'type', 'bridge_slave', 'hairpin', spec.hairpin ? 'on' : 'off'],
    ['link', 'show', 'dev', spec.hostName],
  ]);
  return (shown[0] as LinkInfo[])[0]!;
}
