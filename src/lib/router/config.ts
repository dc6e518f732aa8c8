import {isIP} from 'node:net';
import {hostname} from 'node:os';
import {parseCidr} from '../net/cidr.js';
import type {IpamInit} from './ipam/consensus.js';
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
  /** --ipalloc-init: how the IPAM ring comes to exist (consensus by default). */
  ipallocInit: IpamInit;
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
  /** The encrypted path sends TCP super-frames as one IP-fragmented datagram (off: --no-sleeve-offloads). */
  sleeveOffloads: boolean;
  /** --host-root: where the host's /etc is seen, for the machine id of the default peer name. */
  hostRoot: string;
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

/** One `weave router` flag: how its value is read, its help line, and its default if any. */
export type RouterFlagSpec =
  | {type: 'string'; description: string; default?: string}
  | {type: 'integer'; description: string; default?: number}
  | {type: 'boolean'; description: string};

/**
 * The router's flags, once: the oclif command (help, completions) and the lean parser of the
 * router's entrypoint (src/lib/router/cli.ts) are both made from this table.
 */
export const ROUTER_FLAGS = {
  port: {type: 'integer', description: 'TCP port of the peer mesh', default: DEFAULTS.port},
  name: {type: 'string', description: 'peer name: a MAC address, or a short form such as ::1'},
  nickname: {type: 'string', description: 'peer nickname (default: the host name)'},
  'ipalloc-range': {type: 'string', description: 'IP range all peers allocate from; "" disables IPAM', default: DEFAULTS.ipallocRange},
  'ipalloc-default-subnet': {type: 'string', description: 'subnet to allocate in when none is named (default: the whole range)'},
  'ipalloc-init': {type: 'string', description: 'how the IPAM ring starts: consensus[=<count>], seed=<mac>,... or observer'},
  'http-addr': {type: 'string', description: 'control API address (host:port or a unix socket path)', default: DEFAULTS.httpAddr},
  'status-addr': {type: 'string', description: 'read-only status and metrics address; "" disables it', default: DEFAULTS.statusAddr},
  'db-prefix': {type: 'string', description: 'path prefix of the files the router keeps its state in', default: DEFAULTS.dbPrefix},
  'weave-bridge': {type: 'string', description: 'name of the bridge pods attach to', default: DEFAULTS.weaveBridge},
  mtu: {type: 'integer', description: 'MTU of the weave bridge and its pods', default: Number(process.env.WEAVE_MTU) || DEFAULTS.mtu},
  'log-level': {type: 'string', description: 'debug, info, warning or error', default: DEFAULTS.logLevel},
  'cni-socket-dir': {type: 'string', description: 'directory of the root-only socket of the warm CNI path', default: DEFAULTS.cniSocketDir},
  host: {type: 'string', description: 'address the mesh listens on and dials from (default: all)'},
  'conn-limit': {type: 'integer', description: 'most peer connections at once; 0 for no limit', default: DEFAULTS.connLimit},
  'no-discovery': {type: 'boolean', description: 'connect only to the peers given, not to peers learnt from them'},
  resume: {type: 'boolean', description: 'connect to the peers saved by the previous run (no peers may be given)'},
  'trusted-subnets': {type: 'string', description: 'comma-separated CIDRs of peers that may get pod traffic unencrypted'},
  'no-sleeve-offloads': {type: 'boolean', description: 'encrypted traffic in MTU-sized datagrams, for networks that drop IP fragments (slower)'},
  'host-root': {type: 'string', description: "path to reach the host's filesystem (its /etc/machine-id names the peer)"},
} as const satisfies Record<string, RouterFlagSpec>;

type Specs = typeof ROUTER_FLAGS;
type FlagValue<S extends RouterFlagSpec> = S['type'] extends 'integer' ? number : S['type'] extends 'boolean' ? boolean : string;
/** Flags that always have a value once parsed: those with a default, and the booleans. */
type Valued = {[K in keyof Specs]: Specs[K] extends {default: unknown} | {type: 'boolean'} ? K : never}[keyof Specs];

/** The router's flags as parsed, before routerConfig() checks them. */
export type RawRouterFlags = {[K in Valued]: FlagValue<Specs[K]>} & {[K in Exclude<keyof Specs, Valued>]?: FlagValue<Specs[K]>};

/** `--ipalloc-init consensus[=<count>] | seed=<peer>,... | observer`; empty means consensus. */
export function parseIpallocInit(value: string): IpamInit {
  if (value === '' || value === 'consensus') return {mode: 'consensus'};
  if (value === 'observer') return {mode: 'observer'};
  const invalid = (why: string) => new RouterConfigError(`invalid --ipalloc-init "${value}": ${why}`);
  const count = /^consensus=(.*)$/.exec(value)?.[1];
  if (count !== undefined) {
    if (!/^\d+$/.test(count) || Number(count) < 1) throw invalid('the count is the number of initial peers, a whole number from 1');
    return {mode: 'consensus', count: Number(count)};
  }
  const seed = /^seed=(.*)$/.exec(value)?.[1];
  if (seed === undefined) throw invalid('expected consensus[=<count>], seed=<mac>,... or observer');
  const peers = seed.split(',').map(name => {
    try {
      return parsePeerName(name);
    } catch {
      throw invalid(`"${name}" is not a peer name (a MAC such as 8a:3e:3e:3e:3e:3e, or a short form such as ::1)`);
    }
  });
  return {mode: 'seed', peers};
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
  const ipallocInit = parseIpallocInit(flags['ipalloc-init'] ?? '');
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
    ipallocInit,
    httpAddr: parseListenAddr('--http-addr', flags['http-addr']),
    dbPrefix: flags['db-prefix'],
    weaveBridge: flags['weave-bridge'],
    mtu: flags.mtu,
    logLevel: flags['log-level'] as LogLevel,
    peers,
    cniSocketDir: flags['cni-socket-dir'],
    sleeveOffloads: !flags['no-sleeve-offloads'],
    hostRoot: flags['host-root'] ?? '',
    ...meshFlags(flags, peers),
  };
  if (flags.host) config.host = flags.host;
  if (flags.name) config.name = parsePeerName(flags.name);
  if (flags['status-addr']) config.statusAddr = parseListenAddr('--status-addr', flags['status-addr']);
  if (env.WEAVE_PASSWORD) config.password = env.WEAVE_PASSWORD;
  return config;
}
