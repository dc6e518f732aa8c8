import {hostLinkOps} from '../../../net/netlink/link-ops.js';
import {SleeveError} from './errors.js';
import type {TapAddon} from './native.js';

export interface Tap {
  fd: number;
  name: string;
  /** The kernel hands us unsegmented TCP super-frames (TSO offload accepted), and takes them back. */
  offloads: boolean;
}

/** Plugs the TAP into the bridge (again, when the bridge was made anew). */
export async function attachTap(name: string, bridge: string, mtu: number): Promise<void> {
  await hostLinkOps().ops.apply([
    // No addresses of its own: it only carries the bridge's frames.
    {op: 'no-addrgen', name},
    {op: 'set', name, mtu, master: bridge},
    // Isolated from other isolated ports (the VXLAN device): frames from one overlay never loop into another.
    {op: 'bridge-port', name, isolated: true},
    {op: 'set', name, up: true},
  ]);
}

/**
 * Creates the TAP and plugs it into the bridge like any port, so ARP and broadcasts reach it as
 * they would a VXLAN device. The port is isolated: with the VXLAN device isolated too, the bridge
 * never relays a frame from one overlay into the other (peers get each frame once, no loops). Its MTU is the bridge's (the pods'): the
 * size the sending worker cuts TCP super-frames to. The device lives as long as
 * the fd: a crash leaves nothing behind.
 */
export async function openTap(addon: TapAddon, name: string, bridge: string, mtu: number, offloads: boolean): Promise<Tap> {
  if (!(await hostLinkOps().ops.show(bridge))) throw new SleeveError(`bridge ${bridge} does not exist: create the weave bridge before the sleeve`);
  let tap: Tap;
  try {
    tap = addon.openTap(name, offloads);
  } catch (error) {
    throw new SleeveError(`cannot create the TAP device ${name}: ${(error as Error).message} (needs CAP_NET_ADMIN and /dev/net/tun)`);
  }
  try {
    await attachTap(name, bridge, mtu);
  } catch (error) {
    addon.close(tap.fd);
    throw new SleeveError(`cannot attach the TAP device ${name} to bridge ${bridge}: ${(error as Error).message}`);
  }
  return tap;
}
