import {isIPv4} from 'node:net';
import type {RouterClient} from '../api/client.js';
import {NotFoundError, RouterUnreachableError} from '../api/errors.js';
import {OperatorError, UsageError} from '../errors.js';

/** A router without weaveDNS answers its routes 404: said in words, with the script's exit code 4. */
async function withDns<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof NotFoundError) throw new OperatorError('weaveDNS is off on this router (it was launched with --no-dns)', 4, {cause: error});
    throw error;
  }
}

/** The id of names that belong to no container (the original's). */
export const EXTERN_ID = 'weave:extern';

/** `weave dns-add` / `dns-remove` arguments: `[ip...] [container] [-h fqdn]`. */
export interface DnsArgs {
  ips: string[];
  container?: string;
  fqdn?: string;
}

/**
 * The original's grammar: addresses first, then at most one container; nothing else may be
 * left, and without a container both addresses and a name are needed (`-h` is a flag, so it may
 * stand anywhere).
 */
export function parseDnsArgs(command: string, words: readonly string[], fqdn: string | undefined): DnsArgs {
  const ips: string[] = [];
  let i = 0;
  while (i < words.length && isIPv4(words[i]!)) ips.push(words[i++]!);
  const container = words[i];
  if (container !== undefined) i++;
  const usage = `usage: weave ${command} [<ip_address> ...] <container_id> [-h <fqdn>] | weave ${command} <ip_address> [<ip_address> ...] -h <fqdn>`;
  if (i < words.length) throw new UsageError(`unexpected argument '${words[i]}': ${usage}`);
  if (container === undefined && (ips.length === 0 || !fqdn)) throw new UsageError(usage);
  return {ips, ...(container === undefined ? {} : {container}), ...(fqdn ? {fqdn} : {})};
}

/** A container as weaveDNS knows it: its id, its weave addresses, and its own name if it has one. */
export interface DnsTarget {
  id: string;
  ips: string[];
  fqdn?: string;
}

/** Docker's view of a container: its full id and own name; undefined when Docker does not know it (the commands pass docker/dns-container.ts's). */
export type DockerLookup = (nameOrId: string) => Promise<{id: string; fqdn?: string} | undefined>;

/**
 * The container's id (Docker resolves names and short ids; a CNI pod is its container id, or a
 * unique prefix of it, among the router's allocations) and its weave addresses from IPAM.
 */
export async function resolveContainer(client: RouterClient, nameOrId: string, lookup: DockerLookup): Promise<DnsTarget> {
  const docker = await lookup(nameOrId);
  const owned = await client.allocations().catch(() => []);
  const matches = docker ? owned.filter(o => o.containerid === docker.id) : owned.filter(o => o.containerid.startsWith(nameOrId));
  if (!docker && matches.length !== 1) {
    throw new OperatorError(
      matches.length === 0
        ? `unable to find container ${nameOrId}: Docker does not know it and it holds no weave address; give its addresses and a name: weave dns-add <ip> ... -h <fqdn>`
        : `container id ${nameOrId} is ambiguous: it begins ${matches.map(m => m.containerid).join(', ')}`,
    );
  }
  const id = docker?.id ?? matches[0]!.containerid;
  const ips = matches.flatMap(m => m.addrs.map(a => a.split('/')[0]!));
  return {id, ips, ...(docker?.fqdn ? {fqdn: docker.fqdn} : {})};
}

/** What dns-add and dns-remove act on: the id, the addresses, and the name (if any). */
async function targets(client: RouterClient, args: DnsArgs, lookup: DockerLookup): Promise<{id: string; ips: string[]; fqdn?: string; container: boolean}> {
  if (args.container === undefined) return {id: EXTERN_ID, ips: args.ips, fqdn: args.fqdn!, container: false};
  const found = await resolveContainer(client, args.container, lookup);
  const fqdn = args.fqdn ?? found.fqdn;
  return {id: found.id, ips: args.ips.length > 0 ? args.ips : found.ips, ...(fqdn ? {fqdn} : {}), container: true};
}

/** `weave dns-args`: docker run's flags for weaveDNS, without a newline. */
export async function dnsArgs(client: RouterClient): Promise<string> {
  const [address, domain] = await withDns(() => Promise.all([client.dnsAddress(), client.dnsDomain()]));
  return `--dns=${address} --dns-search=${domain}`;
}

/** `weave dns-add`: each address under the name (a container's check-alive, as the original sends it). */
export async function dnsAdd(client: RouterClient, args: DnsArgs, lookup: DockerLookup): Promise<void> {
  const target = await targets(client, args, lookup);
  if (!target.fqdn) throw new OperatorError(`container ${args.container} has no fully qualified hostname: give one with -h <fqdn>`);
  if (target.ips.length === 0) throw new OperatorError(`container ${args.container} has no weave address: attach it first, or give its addresses`);
  await withDns(async () => {
    for (const ip of target.ips) await client.addName(target.id, ip, target.fqdn!, target.container);
  });
}

/**
 * `weave attach`: the container's own name on its new addresses, as the original's attach did
 * when the router runs; no router, or one launched with --no-dns, is no failure of the attach.
 */
export async function registerAttached(client: RouterClient, id: string, ips: readonly string[], fqdn: string): Promise<void> {
  try {
    for (const ip of ips) await client.addName(id, ip, fqdn, true);
  } catch (error) {
    if (!(error instanceof NotFoundError || error instanceof RouterUnreachableError)) throw error;
  }
}

/** `weave dns-remove`: the names of those addresses (of every address of the container when none is given). */
export async function dnsRemove(client: RouterClient, args: DnsArgs, lookup: DockerLookup): Promise<void> {
  const target = await targets(client, args, lookup);
  // The container's own name is not a filter: every name of its addresses goes, unless -h says which.
  const fqdn = args.fqdn;
  await withDns(async () => {
    if (args.ips.length === 0 && target.container) await client.forgetName(target.id, undefined, fqdn);
    else for (const ip of target.ips) await client.forgetName(target.id, ip, fqdn);
  });
}

/** A name without a dot is one of ours: qualified with the domain. */
export function qualify(name: string, domain: string): string {
  return name.includes('.') ? name : `${name}.${domain}`;
}

/**
 * `weave dns-lookup <name>`: the addresses weaveDNS answers for it, one a line, as `dig +short`
 * printed them; nothing for a name it does not know.
 */
export async function dnsLookup(client: RouterClient, name: string): Promise<string> {
  const [hostPort, domain] = await withDns(() => Promise.all([client.dnsAddress(true), client.dnsDomain()]));
  const cut = hostPort.lastIndexOf(':');
  const host = hostPort.slice(0, cut);
  // Listening on every address: ask through the loopback.
  const server = `${host === '0.0.0.0' ? '127.0.0.1' : host}:${hostPort.slice(cut + 1)}`;
  const {Resolver} = await import('node:dns/promises');
  const resolver = new Resolver({timeout: 5000, tries: 1});
  resolver.setServers([server]);
  try {
    const addresses = await resolver.resolve4(qualify(name, domain));
    return addresses.map(a => `${a}\n`).join('');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTFOUND' || code === 'ENODATA') return '';
    throw new OperatorError(`weaveDNS at ${server} did not answer (${code ?? (error as Error).message}): is the router running with DNS on?`, 1, {cause: error});
  }
}
