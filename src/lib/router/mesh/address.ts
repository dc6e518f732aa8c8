import {lookup} from 'node:dns/promises';
import {isIP} from 'node:net';
import {containsV4, networkText, parseCidr} from '../../net/cidr.js';

/** A peer as the operator named it (`host[:port]`) and the IPv4 address it resolved to. */
export interface PeerAddress {
  peer: string;
  ip: string;
  /** 0 when the operator gave no port: then the mesh port applies. */
  port: number;
}

function splitHostPort(peer: string): {host: string; port?: string} {
  const bracketed = /^\[([^\]]*)\]:([^:]*)$/.exec(peer);
  if (bracketed) return {host: bracketed[1]!, port: bracketed[2]!};
  const parts = peer.split(':');
  // No port, or a bare IPv6 address: the whole string is the host.
  if (parts.length !== 2) return {host: peer};
  return {host: parts[0]!, port: parts[1]!};
}

/** A host name as DNS takes it: letters, digits, "-", "_" and dots, 253 at most. */
const HOST_NAME = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?$/;

/** A peer that is not `host[:port]`: `why` says what is wrong with it. */
export class PeerAddressError extends Error {
  constructor(
    readonly peer: string,
    readonly why: string,
  ) {
    // The original's words, which /connect answers with.
    super(`invalid peer name "${peer}", should be host[:port]`);
    this.name = 'PeerAddressError';
  }
}

/**
 * Checks `host[:port]` as operators name peers (to launch, connect, forget): a host that is an
 * IP address or a host name, and a port from 1 to 65535 when one is given (0 when none is).
 */
export function parsePeerAddress(peer: string): {host: string; port: number} {
  const {host, port} = splitHostPort(peer);
  const invalid = (why: string) => new PeerAddressError(peer, why);
  if (host === '') throw invalid('the host is empty');
  if (isIP(host) === 0 && (host.length > 253 || !HOST_NAME.test(host))) throw invalid(`"${host}" is neither an IP address nor a host name`);
  if (port === undefined) return {host, port: 0};
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) throw invalid(`the port "${port}" is not a number from 1 to 65535`);
  return {host, port: Number(port)};
}

/**
 * Checks and resolves `host[:port]` to IPv4 as the original does when peers are given (at
 * launch, or by `weave connect`); the error says what is wrong with that peer.
 */
export async function resolvePeer(peer: string): Promise<PeerAddress> {
  const {host, port} = parsePeerAddress(peer);
  if (isIP(host) === 4) return {peer, ip: host, port};
  try {
    const {address} = await lookup(host, {family: 4});
    return {peer, ip: address, port};
  } catch {
    throw new Error(`lookup ${host}: no such host`);
  }
}

/** Resolves each peer; the bad ones come back as their errors, in order. */
export async function resolvePeers(peers: readonly string[]): Promise<{resolved: PeerAddress[]; errors: string[]}> {
  const results = await Promise.allSettled(peers.map(resolvePeer));
  return {
    resolved: results.flatMap(r => (r.status === 'fulfilled' ? [r.value] : [])),
    errors: results.flatMap(r => (r.status === 'rejected' ? [(r.reason as Error).message] : [])),
  };
}

/** `ip:port` of a remote end, IPv4-mapped IPv6 written as plain IPv4. */
export function hostPort(ip: string, port: number): string {
  // Called for every connection of every peer whenever the targets are looked at: IPv4 goes straight through.
  if (!ip.includes(':')) return `${ip}:${port}`;
  const plain = ip.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
  return isIP(plain) === 6 ? `[${plain}]:${port}` : `${plain}:${port}`;
}

/** The IP of an `ip:port` address. */
export function ipOf(address: string): string {
  return address.slice(0, address.lastIndexOf(':')).replace(/^\[|\]$/g, '');
}

export class TrustedSubnetsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrustedSubnetsError';
  }
}

/**
 * --trusted-subnets: comma-separated CIDRs, written back as networks (10.1.2.3/8 is 10.0.0.0/8),
 * as the original prints them in `status`.
 */
export function parseTrustedSubnets(csv: string): string[] {
  if (csv.trim() === '') return [];
  return csv.split(',').map(item => {
    const cidr = parseCidr(item.trim());
    if (!cidr || cidr.family !== 4) throw new TrustedSubnetsError(`invalid --trusted-subnets entry "${item}": expected IPv4 CIDRs separated by commas, such as 192.168.48.0/24,10.0.0.0/8`);
    return networkText(item.trim());
  });
}

export function isTrusted(subnets: readonly string[], ip: string): boolean {
  return subnets.some(s => containsV4(parseCidr(s)!, ip));
}
