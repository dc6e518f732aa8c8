import {createHash, randomBytes} from 'node:crypto';
import {readFile} from 'node:fs/promises';

async function firstReadable(paths: string[]): Promise<string> {
  for (const path of paths) {
    try {
      return (await readFile(path, 'utf8')).trim();
    } catch {
      // try the next one
    }
  }
  return '';
}

function asMac(bytes: Buffer): string {
  // Locally administered, unicast: never clashes with a vendor's MAC.
  const octets = [...bytes.subarray(0, 6)];
  octets[0] = (octets[0]! | 0x02) & 0xfe;
  return octets.map(o => o.toString(16).padStart(2, '0')).join(':');
}

/**
 * The original's derivation when neither --name nor an existing bridge gives one:
 * sha256("9oBJ0Jmip-" + machine-id + product_uuid), first six bytes, so a host keeps its
 * name across restarts and re-installs; random when the host has no machine id. The machine id
 * is read under `hostRoot` (--host-root), where a container sees the host's files.
 */
export async function derivePeerName(hostRoot = ''): Promise<string> {
  const machineId = await firstReadable([`${hostRoot}/etc/machine-id`, `${hostRoot}/var/lib/dbus/machine-id`]);
  const productUuid = await firstReadable(['/sys/class/dmi/id/product_uuid']);
  if (!machineId && !productUuid) return asMac(randomBytes(6));
  return asMac(createHash('sha256').update(`9oBJ0Jmip-${machineId}${productUuid}`).digest());
}
