import {rm, writeFile} from 'node:fs/promises';
import {isIP} from 'node:net';
import {ArgumentError} from '../errors.js';

/** An `--add-host <name>:<ip>` entry. */
export interface ExtraHost {
  name: string;
  ip: string;
}

/** `--add-host <name>:<ip>`, as Docker writes it; checked before anything is contacted. */
export function parseExtraHost(value: string, command: string): ExtraHost {
  const colon = value.indexOf(':');
  const name = value.slice(0, colon);
  const ip = value.slice(colon + 1);
  if (colon <= 0 || isIP(ip) === 0 || /[\s#]/.test(name)) {
    throw new ArgumentError(`invalid --add-host "${value}" for 'weave ${command}': expected <name>:<ip address>, e.g. db:10.32.0.5`);
  }
  return {name, ip};
}

const column = (ip: string, names: string) => `${ip.padEnd(15)} ${names}`;

/**
 * The /etc/hosts the original's --rewrite-hosts writes: the container's names on each of its
 * weave addresses, the --add-host entries, then the usual localhost lines. `fqdn` is
 * `<hostname>.<domainname>` (the domain may be empty). The original wrote the network of each
 * address (10.32.0.0 for 10.32.0.1/12), a slip of its Go; the address itself is written here.
 */
export function hostsFileContents(fqdn: string, cidrs: readonly string[], extraHosts: readonly ExtraHost[]): string {
  const dot = fqdn.indexOf('.');
  const name = fqdn.slice(0, dot);
  const names = dot === fqdn.length - 1 ? name : `${fqdn.replace(/\.$/, '')} ${name}`;
  return [
    '# created by Weave - BEGIN',
    '# container hostname',
    ...cidrs.map(cidr => column(cidr.split('/')[0]!, names)),
    '',
    '# static names added with --add-host',
    ...extraHosts.map(host => column(host.ip, host.name)),
    '',
    '# default localhost entries',
    '127.0.0.1       localhost',
    '::1             ip6-localhost ip6-loopback',
    'fe00::0         ip6-localnet',
    'ff00::0         ip6-mcastprefix',
    'ff02::1         ip6-allnodes',
    'ff02::2         ip6-allrouters',
    '# created by Weave - END',
    '',
  ].join('\n');
}

/**
 * Rewrites the container's /etc/hosts through the host file Docker bind-mounts there, as the
 * original: written in place (the container sees it at once), then unlinked and written anew, so
 * that Docker's later rewrites of that path no longer reach the container's file.
 */
export async function rewriteHostsFile(hostsPath: string, contents: string): Promise<void> {
  await writeFile(hostsPath, contents);
  await rm(hostsPath, {force: true});
  await writeFile(hostsPath, contents);
}
