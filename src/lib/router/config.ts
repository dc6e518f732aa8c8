import {isIP} from 'node:net';
import {hostname} from 'node:os';
import {parseCidr} from '../net/cidr.js';
import {LOG_LEVELS, type LogLevel} from './log.js';
import {parseTrustedSubnets, TrustedSubnetsError} from './mesh/address.js';

/** A bad router flag: the message names the flag, the value and what it accepts. */
export class RouterConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RouterConfigError';
  }
}

export type ListenAddr = {host: string; port: number} | {socket: string};

export interface RouterConfig {
  port: number;
  /** Peer name as given by --name (normalised MAC), else derived at start. */
  name?: string;
  nickname: string;
  /** Empty: IPAM disabled. */
  ipallocRange: string;
  ipallocDefaultSubnet: string;
  ipallocInit: string;
  httpAddr: ListenAddr;
  statusAddr?: ListenAddr;
  /** State files live at `<dbPrefix>data...`. */
  dbPrefix: string;
  weaveBridge: string;
  mtu: number;
  logLevel: LogLevel;
  /** From WEAVE_PASSWORD, never from argv. */
  password?: string;
  peers: string[];
  /** Mesh: listen (and dial) on this address only. */
  host?: string;
  /** Mesh: most connections at once, 0 for no limit. */
  connLimit: number;
  /** Mesh: connect to peers learnt from others (--no-discovery turns it off). */
  discovery: boolean;
  /** Mesh: start from the saved targets (no peers may be given then). */
  resume: boolean;
  /** Mesh: CIDRs of peers that may get pod traffic unencrypted, as networks. */
  trustedSubnets: string[];
  /** Directory of the root-only unix sockets of the warm CNI path. */
  cniSocketDir: string;
}

export const DEFAULTS = {
  port: 6783,
  ipallocRange: '10.32.0.0/12',
  httpAddr: '127.0.0.1:6784',
  statusAddr: '127.0.0.1:6782',
  dbPrefix: '/weavedb/weave',
  weaveBridge: 'weave',
  mtu: 1376,
  connLimit: 200,
  logLevel: 'info' as LogLevel,
  cniSocketDir: '/run/weave',
};

/** `host:port`, `:port` or a unix socket path (leading `/`), as the original's --http-addr. */
export function parseListenAddr(flag: string, value: string): ListenAddr {
  if (value.startsWith('/')) return {socket: value};
  const m = /^(\[[^\]]+\]|[^:]*):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 1 || port > 65535) {
    throw new RouterConfigError(`invalid ${flag} "${value}": expected host:port (e.g. 127.0.0.1:6784) or a unix socket path`);
  }
  return {host: m[1]!.replace(/^\[|\]$/g, '') || '0.0.0.0', port};
}

/** The original's peer names: six hex octets; a short form like `::1` is padded with zeros. */
export function parsePeerName(value: string): string {
  const halves = value.split('::');
  let octets: string[] = [];
  if (halves.length === 1) octets = value.split(':');
  else if (halves.length === 2) {
    const before = halves[0] ? halves[0].split(':') : [];
    const after = halves[1] ? halves[1].split(':') : [];
    octets = [...before, ...Array<string>(Math.max(0, 6 - before.length - after.length)).fill('0'), ...after];
  }
  if (octets.length !== 6 || !octets.every(o => /^[0-9a-fA-F]{1,2}$/.test(o))) {
    throw new RouterConfigError(`invalid --name "${value}": a peer name is a MAC address such as 8a:3e:3e:3e:3e:3e, or a short form such as ::1`);
  }
  return octets.map(o => o.toLowerCase().padStart(2, '0')).join(':');
}

function parsePort(value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > 65535) throw new RouterConfigError(`invalid --port ${value}: expected 1 to 65535`);
  return value;
}

function parseRange(flag: string, value: string): string {
  const cidr = parseCidr(value);
  if (!cidr || cidr.family !== 4) throw new RouterConfigError(`invalid ${flag} "${value}": expected an IPv4 CIDR such as 10.32.0.0/12`);
  if (cidr.prefix > 30) throw new RouterConfigError(`invalid ${flag} "${value}": the range must hold at least 4 addresses (prefix /30 or shorter)`);
  return value;
}

export interface RawRouterFlags {
  port: number;
  name?: string;
  nickname?: string;
  'ipalloc-range': string;
  'ipalloc-default-subnet'?: string;
  'ipalloc-init'?: string;
  'http-addr': string;
  'status-addr': string;
  'db-prefix': string;
  'weave-bridge': string;
  mtu: number;
  'log-level': string;
  'cni-socket-dir': string;
  host?: string;
  'conn-limit': number;
  'no-discovery': boolean;
  resume: boolean;
  'trusted-subnets'?: string;
}

function meshFlags(flags: RawRouterFlags, peers: string[]): Pick<RouterConfig, 'connLimit' | 'discovery' | 'resume' | 'trustedSubnets'> {
  if (flags.resume && peers.length > 0) throw new RouterConfigError('You must not specify an initial peer list in conjunction with --resume');
  if (!Number.isInteger(flags['conn-limit']) || flags['conn-limit'] < 0) {
    throw new RouterConfigError(`invalid --conn-limit ${flags['conn-limit']}: expected a whole number, 0 for no limit`);
  }
  if (flags.host && isIP(flags.host) === 0) throw new RouterConfigError(`invalid --host "${flags.host}": expected an IP address of this host`);
  try {
    return {connLimit: flags['conn-limit'], discovery: !flags['no-discovery'], resume: flags.resume, trustedSubnets: parseTrustedSubnets(flags['trusted-subnets'] ?? '')};
  } catch (error) {
    if (error instanceof TrustedSubnetsError) throw new RouterConfigError(error.message);
    throw error;
  }
}

/** Checks every flag up front so a bad one stops the router before it touches anything. */
export function routerConfig(flags: RawRouterFlags, peers: string[], env: Record<string, string | undefined>): RouterConfig {
  const range = flags['ipalloc-range'] === '' ? '' : parseRange('--ipalloc-range', flags['ipalloc-range']);
  if (flags['ipalloc-init'] && !range) throw new RouterConfigError('--ipalloc-init specified without --ipalloc-range.');
  if (flags['ipalloc-init'] && !/^(consensus(=\d+)?|seed=.+|observer)$/.test(flags['ipalloc-init'])) {
    throw new RouterConfigError(`invalid --ipalloc-init "${flags['ipalloc-init']}": expected consensus[=<count>], seed=<mac>,... or observer`);
  }
  const defaultSubnet = flags['ipalloc-default-subnet'] ? parseRange('--ipalloc-default-subnet', flags['ipalloc-default-subnet']) : range;
  if (!LOG_LEVELS.includes(flags['log-level'] as LogLevel)) {
    throw new RouterConfigError(`invalid --log-level "${flags['log-level']}": expected one of ${LOG_LEVELS.join(', ')}`);
  }
  if (!Number.isInteger(flags.mtu) || flags.mtu < 576 || flags.mtu > 65535) {
    throw new RouterConfigError(`invalid --mtu ${flags.mtu}: expected a whole number from 576 to 65535`);
  }
  if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(flags['weave-bridge'])) {
    throw new RouterConfigError(`invalid --weave-bridge "${flags['weave-bridge']}": expected an interface name of 1 to 15 letters, digits, "_", "." or "-"`);
  }
  const config: RouterConfig = {
    port: parsePort(flags.port),
    nickname: flags.nickname || hostname(),
    ipallocRange: range,
    ipallocDefaultSubnet: defaultSubnet,
    ipallocInit: flags['ipalloc-init'] ?? '',
    httpAddr: parseListenAddr('--http-addr', flags['http-addr']),
    dbPrefix: flags['db-prefix'],
    weaveBridge: flags['weave-bridge'],
    mtu: flags.mtu,
    logLevel: flags['log-level'] as LogLevel,
    peers,
    cniSocketDir: flags['cni-socket-dir'],
    ...meshFlags(flags, peers),
  };
  if (flags.host) config.host = flags.host;
  if (flags.name) config.name = parsePeerName(flags.name);
  if (flags['status-addr']) config.statusAddr = parseListenAddr('--status-addr', flags['status-addr']);
  if (env.WEAVE_PASSWORD) config.password = env.WEAVE_PASSWORD;
  return config;
}
