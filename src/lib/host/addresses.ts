import {parseCidr} from '../net/cidr.js';
import {UsageError} from '../errors.js';

/** An `<addr>` argument: an address from IPAM (`net:default`, `net:<cidr>`) or a given one (`[ip:]<cidr>`). */
export type Address = {kind: 'net'; subnet?: string} | {kind: 'ip'; cidr: string};

/** An IPv4 `a.b.c.d/n` (octets to 255, n to 32), as the router takes it, checked before asking it. */
function isCidr(text: string): boolean {
  return parseCidr(text)?.family === 4;
}

export function parseAddress(arg: string): Address | undefined {
  if (arg === 'net:default') return {kind: 'net'};
  if (arg.startsWith('net:') && isCidr(arg.slice(4))) return {kind: 'net', subnet: arg.slice(4)};
  const cidr = arg.startsWith('ip:') ? arg.slice(3) : arg;
  return isCidr(cidr) ? {kind: 'ip', cidr} : undefined;
}

/** Every argument as an address; none means `net:default`, as in the original. */
export function parseAddresses(args: readonly string[], command: string): Address[] {
  if (args.length === 0) return [{kind: 'net'}];
  return args.map(arg => {
    const address = parseAddress(arg);
    if (!address) throw new UsageError(`Invalid address '${arg}' for 'weave ${command}': use [ip:]<cidr>, net:<cidr> or net:default`);
    return address;
  });
}

/** The script's "IPs out": the bare addresses on one line, space-separated (an empty line when none). */
export function ipsLine(cidrs: readonly string[]): string {
  return `${cidrs.map(c => c.split('/')[0]).join(' ')}\n`;
}
