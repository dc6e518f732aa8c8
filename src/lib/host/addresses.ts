import type {RouterClient} from '../api/client.js';
import {NotFoundError, RouterUnreachableError} from '../api/errors.js';
import {parseCidr} from '../net/cidr.js';
import {OperatorError, UsageError} from '../errors.js';

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

export interface AllocateOptions {
  /** The original's check-alive: `id` is a Docker container, whose addresses go with it. */
  checkAlive?: boolean;
  /** Given addresses are used as they are when no router answers (attach works without one, as the original). */
  routerOptional?: boolean;
}

/**
 * The original's `ipam_cidrs allocate`: `net:` addresses allocated for `id` (the same again if
 * it holds one there), given ones claimed for it. A 404 means IPAM is off: a given address is
 * then used as it is, while `net:` cannot work. Returns the CIDRs in the order given.
 */
export async function allocateAddresses(client: RouterClient, id: string, addresses: readonly Address[], options: AllocateOptions = {}): Promise<string[]> {
  const cidrs: string[] = [];
  for (const address of addresses) {
    try {
      if (address.kind === 'net') {
        const cidr = (await client.allocate(id, address.subnet, options.checkAlive)).trim();
        // The router's answer (200) when check-alive finds the container gone meanwhile.
        if (cidr === 'cancelled') throw new OperatorError(`the router gave no address to ${id}: it found the container not running`);
        cidrs.push(cidr);
      }
      else {
        await client.claim(id, address.cidr, options.checkAlive);
        cidrs.push(address.cidr);
      }
    } catch (error) {
      if (address.kind === 'net') throw error instanceof NotFoundError ? new OperatorError("IP address allocation must be enabled to use 'net:'") : error;
      const noRouter = options.routerOptional === true && error instanceof RouterUnreachableError;
      if (!(error instanceof NotFoundError) && !noRouter) throw error;
      cidrs.push(address.cidr);
    }
  }
  return cidrs;
}

/**
 * The original's `ipam_cidrs lookup` (never waits): the addresses `id` holds for each `net:`
 * address, and the given ones as they are. `fromIpam` are those to free afterwards.
 */
export async function lookupAddresses(client: RouterClient, id: string, addresses: readonly Address[]): Promise<{all: string[]; fromIpam: string[]}> {
  const all: string[] = [];
  const fromIpam: string[] = [];
  for (const address of addresses) {
    if (address.kind === 'ip') {
      all.push(address.cidr);
      continue;
    }
    const found = await client.lookup(id, address.subnet);
    all.push(...found);
    fromIpam.push(...found);
  }
  return {all, fromIpam};
}

/**
 * `[<addr> ...] <container>`, as attach and detach take them: the container last, every word
 * before it an address (none means net:default).
 */
export function parseAddressesAndContainer(args: readonly string[], command: string): {addresses: Address[]; container: string} {
  const container = args.at(-1);
  if (container === undefined) throw new UsageError(`'weave ${command}' needs a container: weave ${command} [<addr> ...] <container>`);
  return {addresses: parseAddresses(args.slice(0, -1), command), container};
}
