import {createHash} from 'node:crypto';
import {readFile} from 'node:fs/promises';

/** The host has none of the ids the default peer name is made from. */
export class NoSystemIdError extends Error {
  constructor(hostRoot: string, sys: string) {
    super(
      `All system IDs are blank: ${hostRoot}/etc/machine-id, ${hostRoot}/var/lib/dbus/machine-id, ${sys}/class/dmi/id/product_uuid and ${sys}/hypervisor/uuid are missing or empty; give the router a name with --name, or create /etc/machine-id (systemd-machine-id-setup)`,
    );
    this.name = 'NoSystemIdError';
  }
}

/** The first of `paths` that exists, as it is (newline and all); empty when none does. Other errors stop us, as in the original. */
async function readFirst(paths: readonly string[]): Promise<Buffer> {
  for (const path of paths) {
    try {
      return await readFile(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return Buffer.alloc(0);
}

/**
 * The original's MACfromUUID: sha256 of a salt and the ids, first six bytes, made unicast and
 * locally administered (so never a vendor's MAC).
 */
export function macFromIds(ids: Buffer): string {
  const sum = createHash('sha256').update('9oBJ0Jmip-').update(ids).digest();
  sum[0] = (sum[0]! & 0xfe) | 0x02;
  return [...sum.subarray(0, 6)].map(o => o.toString(16).padStart(2, '0')).join(':');
}

export interface SystemRoots {
  /** --host-root: where the host's /etc and /var/lib/dbus are seen (the router's container mounts them under /host). */
  hostRoot?: string;
  /** Where sysfs is; the original reads it as is, even in its container. Tests point it at fixtures. */
  sys?: string;
}

/**
 * The system ids as weave 2.8.1 concatenates them (net/uuid.go getSystemUUID): the machine id
 * (systemd's, else dbus's, under the host root) then the BIOS product uuid (else the Xen
 * hypervisor's), each file's bytes as read, trailing newline included.
 */
export async function systemIds({hostRoot = '', sys = '/sys'}: SystemRoots = {}): Promise<Buffer> {
  const uuid = await readFirst([`${sys}/class/dmi/id/product_uuid`, `${sys}/hypervisor/uuid`]);
  const machineId = await readFirst([`${hostRoot}/etc/machine-id`, `${hostRoot}/var/lib/dbus/machine-id`]);
  if (uuid.length === 0 && machineId.length === 0) throw new NoSystemIdError(hostRoot, sys);
  return Buffer.concat([machineId, uuid]);
}

/**
 * The default peer name of weave 2.8.1 on this host (GetSystemPeerName), so a host keeps its name
 * across reboots and re-installs and has the same one under the original and under us. The
 * original's random fallback is never reached (its errors are never "not exist"): a host
 * without any id stops the router, here with a message that says what to do.
 */
export async function derivePeerName(roots: SystemRoots = {}): Promise<string> {
  return macFromIds(await systemIds(roots));
}
