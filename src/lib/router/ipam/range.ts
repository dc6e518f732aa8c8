import {isIP} from 'node:net';

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

/** An address with a prefix length; the address may have host bits (a claim's `10.32.0.5/12`). */
export interface Cidr {
  addr: number;
  prefix: number;
}

export interface Span {
  start: number;
  end: number;
}

/** The original's minimum subnet size: network and broadcast are excluded, so 2 would be too small. */
export const MIN_SUBNET_SIZE = 4;

export function formatAddress(addr: number): string {
  return `${addr >>> 24}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}`;
}

export function formatCidr(cidr: Cidr): string {
  return `${formatAddress(cidr.addr)}/${cidr.prefix}`;
}

function toNumber(ip: string): number {
  return ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

/** Go's net.ParseIP for IPv4, with its messages (`invalid IP address: x`). */
export function parseAddress(text: string): number {
  const family = isIP(text);
  if (family === 4) return toNumber(text);
  if (family === 6) throw new IpamInputError(`invalid Non-IPv4 address not supported: ${text}`);
  throw new IpamInputError(`invalid IP address: ${text}`);
}

/** Go's net.ParseCIDR for IPv4 (`invalid CIDR address: x`); host bits are kept. */
export function parseCidr(text: string): Cidr {
  const slash = text.indexOf('/');
  const ip = slash < 0 ? '' : text.slice(0, slash);
  const prefixText = slash < 0 ? '' : text.slice(slash + 1);
  const family = isIP(ip);
  const maxPrefix = family === 6 ? 128 : 32;
  if (family === 0 || !/^\d{1,3}$/.test(prefixText) || Number(prefixText) > maxPrefix) {
    throw new IpamInputError(`invalid CIDR address: ${text}`);
  }
  if (family === 6) throw new IpamInputError(`invalid Non-IPv4 address not supported: ${text}`);
  return {addr: toNumber(ip), prefix: Number(prefixText)};
}

export function cidrSize(cidr: Cidr): number {
  return 2 ** (32 - cidr.prefix);
}

export function networkOf(cidr: Cidr): number {
  const size = cidrSize(cidr);
  return Math.floor(cidr.addr / size) * size;
}

/** Every address of the network, network and broadcast included. */
/** The network an address lies in, as text: `10.32.0.5/12` gives `10.32.0.0/12`. */
export function networkText(cidr: string): string {
  const c = parseCidr(cidr);
  return formatCidr({addr: networkOf(c), prefix: c.prefix});
}

/** A span as the original's AsCIDRString: `10.32.0.0/12` when it is a CIDR, else `start-end`. */
export function formatSpan(span: Span): string {
  const size = span.end - span.start;
  const prefix = 32 - Math.log2(size);
  if (Number.isInteger(prefix) && span.start % size === 0) return formatCidr({addr: span.start, prefix});
  return `${formatAddress(span.start)}-${formatAddress(span.end - 1)}`;
}

export function cidrSpan(cidr: Cidr): Span {
  const start = networkOf(cidr);
  return {start, end: start + cidrSize(cidr)};
}

/** The addresses a subnet hands out: all but its network and broadcast addresses. */
export function hostSpan(cidr: Cidr): Span {
  const {start, end} = cidrSpan(cidr);
  return {start: start + 1, end: end - 1};
}

/**
 * A subnet for allocation, checked as the original's ParseCIDRSubnet (when both checks fail, the
 * size message wins, as there).
 */
export function parseSubnet(text: string): Cidr {
  const cidr = parseCidr(text);
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
