import {randomBytes} from 'node:crypto';

/** A random MAC address, locally administered and unicast, as the kernel picks for a new link. */
export function randomMac(): string {
  const octets = [...randomBytes(6)];
  octets[0] = (octets[0]! | 0x02) & 0xfe;
  return octets.map(o => o.toString(16).padStart(2, '0')).join(':');
}
