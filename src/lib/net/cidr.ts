import {isIP} from 'node:net';

/** An address with a prefix length, as written in CNI configs and results: `10.32.0.1/12`. */
export interface Cidr {
  ip: string;
  prefix: number;
  family: 4 | 6;
}

/** Parses `a.b.c.d/n` or `x::y/n`; undefined when it is not one. */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const ip = text.slice(0, slash);
  const prefixText = text.slice(slash + 1);
  // An interface zone (fe80::1%eth0) is no network address: ip(8) refuses it too.
  const family = ip.includes('%') ? 0 : isIP(ip);
  if (family === 0 || !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > (family === 4 ? 32 : 128)) return undefined;
  return {ip, prefix, family: family as 4 | 6};
}

/** An IPv4 address as an unsigned 32-bit number, the arithmetic of IPAM, routes and rules. */
export function ipToInt(ip: string): number {
  return ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

export function formatAddress(addr: number): string {
  return `${addr >>> 24}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}`;
}

/** The network of an IPv4 CIDR, as iptables prints it: 10.32.0.1/12 -> 10.32.0.0/12. */
export function networkText(cidr: string): string {
  const parsed = parseCidr(cidr);
  if (!parsed || parsed.family !== 4) throw new Error(`not an IPv4 CIDR: ${cidr}`);
  const size = 2 ** (32 - parsed.prefix);
  return `${formatAddress(Math.floor(ipToInt(parsed.ip) / size) * size)}/${parsed.prefix}`;
}

/** Whether two IPv4 networks share any address: equal on the shorter of the two prefixes. */
export function cidrsOverlap(a: string, b: string): boolean {
  const x = parseCidr(a.includes('/') ? a : `${a}/32`);
  const y = parseCidr(b.includes('/') ? b : `${b}/32`);
  if (!x || !y || x.family !== 4 || y.family !== 4) return false;
  const size = 2 ** (32 - Math.min(x.prefix, y.prefix));
  return Math.floor(ipToInt(x.ip) / size) === Math.floor(ipToInt(y.ip) / size);
}

/** Whether IPv4 `ip` lies inside the IPv4 network of `cidr`. */
export function containsV4(cidr: Cidr, ip: string): boolean {
  if (cidr.family !== 4 || isIP(ip) !== 4) return false;
  const size = 2 ** (32 - cidr.prefix);
  return Math.floor(ipToInt(ip) / size) === Math.floor(ipToInt(cidr.ip) / size);
}
