import {isIP} from 'node:net';
import {formatAddress, ipToInt, parseCidr as parseCidrText} from '../../net/cidr.js';

/**
 * IPv4 arithmetic of the allocator: addresses are unsigned 32-bit numbers, spans are half-open
 * `[start, end)` like the original's address.Range.
 */

/** A bad address or subnet in a request: the handlers answer 400 with this message. */
export class IpamInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IpamInputError';
  }
}

/** An address with a prefix length, as a number; the address may have host bits (a claim's `10.32.0.5/12`). */
export interface IpamCidr {
  addr: number;
  prefix: number;
}

export interface Span {
  start: number;
  end: number;
}

/** The original's minimum subnet size: network and broadcast are excluded, so 2 would be too small. */
export const MIN_SUBNET_SIZE = 4;

export function formatCidr(cidr: IpamCidr): string {
  return `${formatAddress(cidr.addr)}/${cidr.prefix}`;
}

/** Go's net.ParseIP for IPv4, with its messages (`invalid IP address: x`). */
export function parseAddress(text: string): number {
  const family = isIP(text);
  if (family === 4) return ipToInt(text);
  if (family === 6) throw new IpamInputError(`invalid Non-IPv4 address not supported: ${text}`);
  throw new IpamInputError(`invalid IP address: ${text}`);
}

/** Go's net.ParseCIDR for IPv4, with its messages (`invalid CIDR address: x`); host bits are kept. */
export function parseIpamCidr(text: string): IpamCidr {
  const cidr = parseCidrText(text);
  if (!cidr) throw new IpamInputError(`invalid CIDR address: ${text}`);
  if (cidr.family === 6) throw new IpamInputError(`invalid Non-IPv4 address not supported: ${text}`);
  return {addr: ipToInt(cidr.ip), prefix: cidr.prefix};
}

export function cidrSize(cidr: IpamCidr): number {
  return 2 ** (32 - cidr.prefix);
}

export function networkOf(cidr: IpamCidr): number {
  const size = cidrSize(cidr);
  return Math.floor(cidr.addr / size) * size;
}

/** A span as the original's AsCIDRString: `10.32.0.0/12` when it is a CIDR, else `start-end`. */
export function formatSpan(span: Span): string {
  const size = span.end - span.start;
  const prefix = 32 - Math.log2(size);
  if (Number.isInteger(prefix) && span.start % size === 0) return formatCidr({addr: span.start, prefix});
  return `${formatAddress(span.start)}-${formatAddress(span.end - 1)}`;
}

export function cidrSpan(cidr: IpamCidr): Span {
  const start = networkOf(cidr);
  return {start, end: start + cidrSize(cidr)};
}

/** The addresses a subnet hands out: all but its network and broadcast addresses. */
export function hostSpan(cidr: IpamCidr): Span {
  const {start, end} = cidrSpan(cidr);
  return {start: start + 1, end: end - 1};
}

/**
 * A subnet for allocation, checked as the original's ParseCIDRSubnet (when both checks fail, the
 * size message wins, as there).
 */
export function parseSubnet(text: string): IpamCidr {
  const cidr = parseIpamCidr(text);
  if (cidrSize(cidr) < MIN_SUBNET_SIZE) throw new IpamInputError(`invalid subnet - smaller than minimum size ${MIN_SUBNET_SIZE}: ${text}`);
  if (networkOf(cidr) !== cidr.addr) throw new IpamInputError(`invalid subnet - bits after network prefix are not all zero: ${text}`);
  return cidr;
}

export function spanContains(span: Span, addr: number): boolean {
  return addr >= span.start && addr < span.end;
}

export function spansOverlap(a: Span, b: Span): boolean {
  return a.start < b.end && b.start < a.end;
}
