import {isIP} from 'node:net';
import {hostname} from 'node:os';
import {DEFAULTS} from '../defaults.js';
import {RouterConfigError} from '../errors.js';
import {type ListenAddr, parseListenAddr} from '../net/listen-addr.js';
import {parseCidr} from '../net/cidr.js';
import type {IpamInit} from './ipam/consensus.js';
import {LOG_LEVELS, type LogLevel} from './log.js';
import {parseTrustedSubnets, TrustedSubnetsError} from './mesh/address.js';
import {PROTOCOL_MAX_VERSION, PROTOCOL_MIN_VERSION} from './mesh/protocol.js';

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
  /** Absent with `--http-addr ""`: no control API (stand-alone use, as the original). */
  httpAddr?: ListenAddr;
  statusAddr?: ListenAddr;
  /** --metrics-addr: a listener serving /metrics alone. */
  metricsAddr?: ListenAddr;
  /** --min-protocol-version: the lowest mesh protocol version offered and accepted. */
  protocolMinVersion: number;
  /** --host-root: where the host's /etc and /var/lib/dbus are (its machine id derives the peer name). */
  hostRoot: string;
  /** State files live at `<dbPrefix>data...`. */
  dbPrefix: string;
  weaveBridge: string;
  /** --mtu; 0: picked from the network (the links towards peers, the smallest over the mesh). */
  mtu: number;
  logLevel: LogLevel;
  /** --password, else WEAVE_PASSWORD (the original's order). */
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
  /** The encrypted path takes TCP super-frames from the TAP and cuts them itself (off: --no-sleeve-offloads). */
  sleeveOffloads: boolean;
  /** Longest a CNI call's allocation waits for IPAM before failing with "try again". */
  cniIpamWaitMs: number;
  /** IPAM starts from what precedes damage in its data, moving the damaged files aside (--ipam-recover). */
  ipamRecover: boolean;
  /** weaveDNS; absent with --no-dns. */
  dns?: DnsConfig;
  /** --docker-api: the engine whose containers' addresses the router frees when they go (weave attach); absent: none. */
  dockerApi?: string;
  /** Lines the router logs as warnings at start: flags accepted without effect, a password in argv. */
  warnings: string[];
}

export interface DnsConfig {
  /** Lower case with the trailing dot: `weave.local.`. */
  domain: string;
  ttl: number;
  /** --dns-listen-address; absent: docker0's address, port 53, else 0.0.0.0:53. */
  listen?: {host: string; port: number};
  fallbackTimeoutMs: number;
  resolvConf: string;
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
export type RouterFlagSpec = (
  | {type: 'string'; default?: string}
  | {type: 'integer'; default?: number}
  | {type: 'boolean'}
  /** Go's time.ParseDuration syntax (`5s`, `1m30s`): checked, then only an ignored flag has one. */
  | {type: 'duration'}
  /** Repeatable: every value counts (the original's `-H`). */
  | {type: 'list'}
) & {
  description: string;
  /**
   * A weave 2.8.1 flag for something this router does not have: accepted (so 2.8.1 launch lines
   * keep working) and answered by one warning line per reason. A boolean asks for it when true,
   * another flag when given a non-empty value.
   */
  ignored?: string;
  /** A value that asks for what this router does anyway: no warning. */
  quiet?: string;
};

// Why a weave 2.8.1 flag has no effect here: one warning line per reason names its flags.
const PROXY = 'there is no Docker API proxy';
const PLUGIN = 'there is no Docker network plugin';
const ODP = 'fast datapath here is kernel VXLAN, without Open vSwitch (ODP)';
const NO_FASTDP = 'pod traffic between hosts always goes through kernel VXLAN; the sleeve carries encrypted traffic only';
const NO_CAPTURE = 'no pod frame passes through the router process (kernel VXLAN), so there is nothing to capture or log';
const AWSVPC = 'AWS VPC mode is not supported';
const DISCOVERY = "Weave Cloud's peer discovery service no longer exists";
const NPC = 'weave-npc (Kubernetes network policy) is not part of this package';
const NO_MASQ_LOCAL = 'not built yet: traffic from outside into an exposed network is masqueraded, to local pods too';
const PROC = "the router reads this host's /proc: run it in the host's pid namespace";
const PROFILE = "there is no Go profiler: run the router's node with --cpu-prof instead";
const DOCKER_BRIDGE_ONLY = 'the router guards docker0 alone';

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
  'http-addr': {type: 'string', description: 'control API address (host:port or a unix socket path); "" disables it', default: DEFAULTS.httpAddr},
  'status-addr': {type: 'string', description: 'read-only status and metrics address; "" disables it', default: DEFAULTS.statusAddr},
  'db-prefix': {type: 'string', description: 'path prefix of the files the router keeps its state in', default: DEFAULTS.dbPrefix},
  'weave-bridge': {type: 'string', description: 'name of the bridge pods attach to', default: DEFAULTS.weaveBridge},
  mtu: {type: 'integer', description: 'MTU of the weave bridge and its pods; 0 to pick it from the network (the links towards peers)', default: 0},
  'log-level': {type: 'string', description: 'debug, info, warning or error', default: DEFAULTS.logLevel},
  'cni-socket-dir': {type: 'string', description: 'directory of the root-only socket of the warm CNI path', default: DEFAULTS.cniSocketDir},
  host: {type: 'string', description: 'address the mesh listens on and dials from (default: all)'},
  'conn-limit': {type: 'integer', description: 'most peer connections at once; 0 for no limit', default: DEFAULTS.connLimit},
  'no-discovery': {type: 'boolean', description: 'connect only to the peers given, not to peers learnt from them'},
  resume: {type: 'boolean', description: 'connect to the peers saved by the previous run (no peers may be given)'},
  'trusted-subnets': {type: 'string', description: 'comma-separated CIDRs of peers that may get pod traffic unencrypted'},
  'no-sleeve-offloads': {type: 'boolean', description: 'the kernel cuts TCP super-frames before the encrypted path rather than the path itself (slower; no IP fragments either way)'},
  'cni-ipam-wait': {type: 'integer', description: 'seconds a CNI call waits for IPAM (consensus, space from a peer) before it fails with "try again"', default: DEFAULTS.cniIpamWait},
  'ipam-recover': {type: 'boolean', description: 'start over damaged IPAM data with what precedes the damage; the damaged files are kept aside'},

  // weave 2.8.1's flags that work here as they did there (issue 13).
  version: {type: 'boolean', description: 'print "weave <version>" and exit'},
  'print-peer-name': {type: 'boolean', description: 'print the peer name this router would use, and exit'},
  password: {type: 'string', description: 'network password; it shows in ps: prefer WEAVE_PASSWORD in the environment'},
  'metrics-addr': {type: 'string', description: 'address serving /metrics alone (host:port or a unix socket path)'},
  'min-protocol-version': {type: 'integer', description: 'lowest mesh protocol version accepted from peers (1 or 2)', default: PROTOCOL_MIN_VERSION},
  'host-root': {type: 'string', description: "path to the host's root filesystem, whose machine id names the peer"},

  // weaveDNS (issue 15).
  'no-dns': {type: 'boolean', description: 'disable weaveDNS'},
  'dns-domain': {type: 'string', description: 'weaveDNS domain: names under it are answered from the network', default: DEFAULTS.dnsDomain},
  'dns-listen-address': {type: 'string', description: "weaveDNS address, host:port (default: the Docker bridge's address, port 53; without a Docker bridge 0.0.0.0:53)"},
  'dns-ttl': {type: 'integer', description: 'TTL in seconds of weaveDNS answers', default: DEFAULTS.dnsTtl},
  'dns-fallback-timeout': {type: 'duration', description: 'how long weaveDNS waits for each upstream resolver (default 5s)'},
  'resolv-conf': {type: 'string', description: 'resolv.conf naming the resolvers weaveDNS forwards other names to', default: DEFAULTS.resolvConf},

  // weave 2.8.1's flags for what this router does not have: accepted, with one warning line per reason (issue 13).
  proxy: {type: 'boolean', description: 'Docker API proxy', ignored: PROXY},
  H: {type: 'list', description: 'Docker API proxy address', ignored: PROXY},
  'hostname-from-label': {type: 'string', description: 'Docker API proxy: hostname label', ignored: PROXY},
  'hostname-match': {type: 'string', description: 'Docker API proxy: hostname pattern', ignored: PROXY},
  'hostname-replacement': {type: 'string', description: 'Docker API proxy: hostname replacement', ignored: PROXY},
  'rewrite-inspect': {type: 'boolean', description: 'Docker API proxy: rewrite inspect', ignored: PROXY},
  'no-default-ipalloc': {type: 'boolean', description: 'Docker API proxy: no automatic addresses', ignored: PROXY},
  'no-rewrite-hosts': {type: 'boolean', description: 'Docker API proxy: keep /etc/hosts', ignored: PROXY},
  'without-dns': {type: 'boolean', description: 'Docker API proxy: no weaveDNS for containers', ignored: PROXY},
  'no-multicast-route': {type: 'boolean', description: 'Docker API proxy: no multicast route', ignored: PROXY},
  tls: {type: 'boolean', description: 'Docker API proxy: TLS', ignored: PROXY},
  tlsverify: {type: 'boolean', description: 'Docker API proxy: TLS with verification', ignored: PROXY},
  tlscacert: {type: 'string', description: 'Docker API proxy: TLS CA', ignored: PROXY},
  tlscert: {type: 'string', description: 'Docker API proxy: TLS certificate', ignored: PROXY},
  tlskey: {type: 'string', description: 'Docker API proxy: TLS key', ignored: PROXY},
  plugin: {type: 'boolean', description: 'Docker network plugin (v1)', ignored: PLUGIN},
  'plugin-v2': {type: 'boolean', description: 'Docker network plugin (v2)', ignored: PLUGIN},
  'plugin-v2-multicast': {type: 'boolean', description: 'Docker network plugin (v2) multicast', ignored: PLUGIN},
  'plugin-socket': {type: 'string', description: 'Docker network plugin socket', ignored: PLUGIN},
  'plugin-mesh-socket': {type: 'string', description: 'Docker network plugin mesh socket', ignored: PLUGIN},
  'docker-api': {type: 'string', description: 'Docker engine (unix:///path/to/docker.sock or tcp://<host>:<port>) whose containers the router watches, freeing the addresses of those that stop or go (weave attach); "" for none', default: ''},
  'docker-bridge': {type: 'string', description: 'the Docker bridge whose containers may not reach the router (docker0 here)', ignored: DOCKER_BRIDGE_ONLY, quiet: 'docker0'},
  datapath: {type: 'string', description: 'ODP datapath name', ignored: ODP},
  'no-bridged-fastdp': {type: 'boolean', description: 'ODP datapath without the bridge', ignored: ODP},
  'no-fastdp': {type: 'boolean', description: 'sleeve instead of fast datapath', ignored: NO_FASTDP},
  'pkt-debug': {type: 'boolean', description: 'log every packet', ignored: NO_CAPTURE},
  bufsz: {type: 'integer', description: 'packet capture buffer, MB', ignored: NO_CAPTURE},
  awsvpc: {type: 'boolean', description: 'AWS VPC routing', ignored: AWSVPC},
  token: {type: 'string', description: 'Weave Cloud peer discovery token', ignored: DISCOVERY},
  'peer-discovery-url': {type: 'string', description: 'Weave Cloud peer discovery URL', ignored: DISCOVERY},
  'advertise-address': {type: 'string', description: 'Weave Cloud peer discovery addresses', ignored: DISCOVERY},
  'expect-npc': {type: 'boolean', description: 'iptables rules for weave-npc', ignored: NPC},
  'no-masq-local': {type: 'boolean', description: 'no SNAT of outside traffic to local pods', ignored: NO_MASQ_LOCAL},
  'proc-path': {type: 'string', description: "path to the host's /proc", ignored: PROC},
  profile: {type: 'string', description: 'Go CPU profile directory', ignored: PROFILE},
} as const satisfies Record<string, RouterFlagSpec>;

type Specs = typeof ROUTER_FLAGS;
type FlagValue<S extends RouterFlagSpec> = S['type'] extends 'integer' ? number : S['type'] extends 'boolean' ? boolean : S['type'] extends 'list' ? string[] : string;
/** Flags that always have a value once parsed: those with a default, the booleans and the lists. */
type Valued = {[K in keyof Specs]: Specs[K] extends {default: unknown} | {type: 'boolean'} | {type: 'list'} ? K : never}[keyof Specs];

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

/**
 * One line per reason for the weave 2.8.1 flags given that ask for something this router does
 * not have, naming them: `ignoring --dns-domain, --no-dns: weaveDNS is not built yet`.
 */
export function ignoredFlagWarnings(flags: RawRouterFlags): string[] {
  const byReason = new Map<string, string[]>();
  for (const [name, spec] of Object.entries(ROUTER_FLAGS) as [string, RouterFlagSpec][]) {
    if (!spec.ignored) continue;
    const value = (flags as Record<string, unknown>)[name];
    const asked = Array.isArray(value) ? value.length > 0 : value !== undefined && value !== false && value !== '' && value !== spec.quiet;
    if (asked) byReason.set(spec.ignored, [...(byReason.get(spec.ignored) ?? []), name]);
  }
  return [...byReason].map(([reason, names]) => `ignoring ${names.map(n => (n.length === 1 ? `-${n}` : `--${n}`)).join(', ')}: ${reason}`);
}

export const PASSWORD_FLAG_WARNING = 'the --password flag shows in ps and /proc/<pid>/cmdline to every user of this host: give the router WEAVE_PASSWORD in its environment instead';

const GO_DURATION_UNIT_MS: Record<string, number> = {ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000};

/** A duration the router's parser accepted (time.ParseDuration's syntax), in milliseconds. */
export function goDurationMs(value: string): number {
  let ms = 0;
  for (const [, n, unit] of value.matchAll(/(\d+\.?\d*|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/g)) ms += Number(n) * GO_DURATION_UNIT_MS[unit!]!;
  return value.startsWith('-') ? -ms : ms;
}

/** --dns-* flags; undefined with --no-dns. */
function dnsConfig(flags: RawRouterFlags): DnsConfig | undefined {
  if (flags['no-dns']) return undefined;
  const domain = flags['dns-domain'].toLowerCase().replace(/\.?$/, '.');
  if (!/^([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)+$/.test(domain)) {
    throw new RouterConfigError(`invalid --dns-domain "${flags['dns-domain']}": expected a domain name such as weave.local.`);
  }
  if (!Number.isInteger(flags['dns-ttl']) || flags['dns-ttl'] < 0 || flags['dns-ttl'] > 2 ** 31 - 1) {
    throw new RouterConfigError(`invalid --dns-ttl ${flags['dns-ttl']}: expected whole seconds, 0 or more`);
  }
  const timeout = flags['dns-fallback-timeout'] === undefined ? DEFAULTS.dnsFallbackTimeoutMs : goDurationMs(flags['dns-fallback-timeout']);
  if (!(timeout >= 1 && timeout <= 3_600_000)) {
    throw new RouterConfigError(`invalid --dns-fallback-timeout "${flags['dns-fallback-timeout']}": expected from 1ms to 1h, such as 5s`);
  }
  const config: DnsConfig = {domain, ttl: flags['dns-ttl'], fallbackTimeoutMs: timeout, resolvConf: flags['resolv-conf']};
  const listen = flags['dns-listen-address'];
  if (listen) {
    const addr = /^(\[[^\]]+\]|[^:]*):(\d{1,5})$/.exec(listen);
    const host = addr ? addr[1]!.replace(/^\[|\]$/g, '') || '0.0.0.0' : '';
    const port = addr ? Number(addr[2]) : NaN;
    if (!addr || isIP(host) === 0 || port < 1 || port > 65535) {
      throw new RouterConfigError(`invalid --dns-listen-address "${listen}": expected an IP address and port such as 172.17.0.1:53 or :53`);
    }
    config.listen = {host, port};
  }
  return config;
}

/** --docker-api as the original's DOCKER_HOST forms: a unix socket, or plain TCP (no TLS in the router). */
function parseDockerApi(value: string): string {
  if (/^unix:\/\/\/./.test(value) || /^tcp:\/\/[^/:]+:\d{1,5}$/.test(value)) return value;
  throw new RouterConfigError(`invalid --docker-api "${value}": expected unix:///path/to/docker.sock or tcp://<host>:<port>, or "" for none`);
}

function optionalAddr(flag: string, value: string | undefined): ListenAddr | undefined {
  return value ? parseListenAddr(flag, value) : undefined;
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
  // 0 is the original's "not set": ours then follows the network.
  const {mtu} = flags;
  if (!Number.isInteger(mtu) || (mtu !== 0 && (mtu < 576 || mtu > 65535))) {
    throw new RouterConfigError(`invalid --mtu ${flags.mtu}: expected a whole number from 576 to 65535, or 0 to pick it from the network`);
  }
  const minVersion = flags['min-protocol-version'];
  if (minVersion < PROTOCOL_MIN_VERSION || minVersion > PROTOCOL_MAX_VERSION) {
    throw new RouterConfigError(`--min-protocol-version must be in range [${PROTOCOL_MIN_VERSION},${PROTOCOL_MAX_VERSION}]`);
  }
  if (!Number.isInteger(flags['cni-ipam-wait']) || flags['cni-ipam-wait'] < 1 || flags['cni-ipam-wait'] > 100) {
    throw new RouterConfigError(`invalid --cni-ipam-wait ${flags['cni-ipam-wait']}: expected whole seconds from 1 to 100 (the launcher waits 110 s for a call)`);
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
    protocolMinVersion: minVersion,
    dbPrefix: flags['db-prefix'],
    weaveBridge: flags['weave-bridge'],
    hostRoot: flags['host-root'] ?? '',
    mtu,
    logLevel: flags['log-level'] as LogLevel,
    peers,
    cniSocketDir: flags['cni-socket-dir'],
    sleeveOffloads: !flags['no-sleeve-offloads'],
    cniIpamWaitMs: flags['cni-ipam-wait'] * 1000,
    ipamRecover: flags['ipam-recover'],
    ...meshFlags(flags, peers),
    warnings: ignoredFlagWarnings(flags),
  };
  if (flags.host) config.host = flags.host;
  if (flags['docker-api']) config.dockerApi = parseDockerApi(flags['docker-api']);
  if (flags.name) config.name = parsePeerName(flags.name);
  const httpAddr = optionalAddr('--http-addr', flags['http-addr']);
  const statusAddr = optionalAddr('--status-addr', flags['status-addr']);
  const metricsAddr = optionalAddr('--metrics-addr', flags['metrics-addr']);
  if (httpAddr) config.httpAddr = httpAddr;
  if (statusAddr) config.statusAddr = statusAddr;
  if (metricsAddr) config.metricsAddr = metricsAddr;
  const dns = dnsConfig(flags);
  if (dns) config.dns = dns;
  const password = flags.password || env.WEAVE_PASSWORD;
  if (password) config.password = password;
  if (flags.password) config.warnings.push(PASSWORD_FLAG_WARNING);
  return config;
}
