import {ipBatch} from './ip.js';
import {randomMac} from './mac.js';

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
