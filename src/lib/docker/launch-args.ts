import {ArgumentError, RouterConfigError, UsageError} from '../errors.js';
import {parseRouterArgv, RouterUsageError} from '../router/cli.js';
import {DEFAULTS} from '../defaults.js';
import {ignoredFlagWarnings, routerConfig} from '../router/config.js';
import {PeerAddressError, parsePeerAddress} from '../router/mesh/address.js';
import {isUnixEndpoint} from './client.js';
import {ROUTER_DOCKER_SOCKET} from './spec.js';

/** A launch command line the original answered with its usage and exit 1 (a flag without its value). */
export class LaunchUsageError extends UsageError {}

/** What `weave launch` takes for itself; every other word goes to the router as given. */
export interface LaunchArgs {
  password?: string;
  port?: string;
  /** Undefined: the default range; empty: IPAM off. */
  ipallocRange?: string;
  noRestart: boolean;
  httpAddr?: string;
  image?: string;
  /** Router flags and peers, in the order given. */
  passThrough: string[];
}

/** Flags launch consumes, under every spelling the original accepted (mflag: `-x`, `--x`, `--x=v`). */
const VALUE_FLAGS: Record<string, keyof LaunchArgs> = {
  password: 'password',
  port: 'port',
  'ipalloc-range': 'ipallocRange',
  iprange: 'ipallocRange',
  // Ours: the CLI must poll the address the router listens on, so it reads it too.
  'http-addr': 'httpAddr',
  image: 'image',
};

/** Splits `--name=value` / `-name value` into the flag name and an inline value. */
function flagOf(word: string): {name: string; inline?: string} | undefined {
  const m = /^--?([a-z][\w-]*)(?:=(.*))?$/s.exec(word);
  if (!m) return undefined;
  return m[2] === undefined ? {name: m[1]!} : {name: m[1]!, inline: m[2]};
}

/**
 * Parses `weave launch` arguments as the original script did: it took --password, --port,
 * --ipalloc-range (alias --iprange) and --no-restart, and passed everything else to the
 * router untouched. A later occurrence wins, as with the router's own flag parser.
 */
export function parseLaunchArgs(argv: readonly string[]): LaunchArgs {
  const parsed: LaunchArgs = {noRestart: false, passThrough: []};
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    const flag = flagOf(word);
    if (flag?.name === 'no-restart' && flag.inline === undefined) {
      parsed.noRestart = true;
      continue;
    }
    // --no-color is the terminal's, read where colours are chosen.
    if (flag?.name === 'no-color' && flag.inline === undefined) continue;
    const key = flag && VALUE_FLAGS[flag.name];
    if (!flag || !key) {
      parsed.passThrough.push(word);
      continue;
    }
    let value = flag.inline;
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new LaunchUsageError(`${word} needs a value`);
      value = argv[++i]!;
    }
    (parsed as unknown as Record<string, string>)[key] = value;
  }
  return parsed;
}

/** Whether the pass-through words set router flag `name` themselves (so no default is added). */
function gives(words: readonly string[], name: string): boolean {
  return words.some(word => {
    const flag = flagOf(word);
    return flag?.name === name;
  });
}

export interface RouterArgsContext {
  env: Record<string, string | undefined>;
  hostname: string;
}

/**
 * The router's command line, as section 5's Cmd where it applies to our router: --port,
 * --nickname, [--docker-bridge], --weave-bridge, [--mtu] [--no-fastdp] [--no-bridged-fastdp],
 * --ipalloc-range, --http-addr, --status-addr, --docker-api (ours: check-alive), then the user's words. A default is left out when
 * the user gives the flag: the router takes each flag once. --db-prefix and --cni-socket-dir
 * keep their defaults, which the mounts match.
 */
export function routerArgs(args: LaunchArgs, context: RouterArgsContext): string[] {
  const {env} = context;
  const user = args.passThrough;
  const out: string[] = [];
  const add = (name: string, value: string | undefined) => {
    if (value !== undefined && !gives(user, name)) out.push(`--${name}`, value);
  };
  const addSwitch = (name: string, on: boolean) => {
    if (on && !gives(user, name)) out.push(`--${name}`);
  };
  add('port', args.port ?? env.WEAVE_PORT ?? String(DEFAULTS.port));
  add('nickname', context.hostname);
  add('docker-bridge', env.DOCKER_BRIDGE || undefined);
  add('weave-bridge', DEFAULTS.weaveBridge);
  add('mtu', env.WEAVE_MTU || undefined);
  addSwitch('no-fastdp', Boolean(env.WEAVE_NO_FASTDP));
  addSwitch('no-bridged-fastdp', Boolean(env.WEAVE_NO_BRIDGED_FASTDP));
  add('ipalloc-range', args.ipallocRange ?? DEFAULTS.ipallocRange);
  add('http-addr', args.httpAddr ?? env.WEAVE_HTTP_ADDR ?? DEFAULTS.httpAddr);
  add('status-addr', env.WEAVE_STATUS_ADDR ?? DEFAULTS.statusAddr);
  // The engine's socket is mounted there (spec.ts) when it is a unix socket, as the original's was.
  if (isUnixEndpoint(env)) add('docker-api', `unix://${ROUTER_DOCKER_SOCKET}`);
  return [...out, ...user];
}

/**
 * Checks the router's command line as the router will read it (its flag table and parsers), so a
 * bad flag or peer fails `weave launch` before Docker is contacted, instead of a router that dies.
 */
export function checkRouterArgs(words: readonly string[]): void {
  try {
    const {flags, peers} = parseRouterArgv([...words]);
    routerConfig(flags, peers, {});
    for (const peer of peers) parsePeerAddress(peer);
  } catch (error) {
    if (error instanceof PeerAddressError) {
      throw new ArgumentError(`invalid peer "${error.peer}" for 'weave launch': ${error.why}; a peer is <ip_address_or_fqdn>[:<port>]`, 1, {cause: error});
    }
    if (error instanceof RouterConfigError || error instanceof RouterUsageError) throw new ArgumentError(`weave launch: ${error.message}`, 1, {cause: error});
    throw error;
  }
}

/** Variables of weave 2.8.1's Kubernetes addon, which its script's `launch` never read: the flag to use instead. */
const ADDON_VARIABLES: Record<string, string> = {
  IPALLOC_RANGE: '--ipalloc-range',
  IPALLOC_INIT: '--ipalloc-init',
  CONN_LIMIT: '--conn-limit',
  DB_PREFIX: '--db-prefix',
  HOST_ROOT: '--host-root',
  WEAVE_METRICS_ADDR: '--metrics-addr',
  EXPECT_NPC: '--expect-npc',
  NO_MASQ_LOCAL: '--no-masq-local',
  EXTRA_ARGS: 'router flags after the command',
  KUBE_PEERS: 'peers after the command',
};

/** Variables the original's script read for things this CLI does not have, and why they do nothing. */
const UNUSED_SCRIPT_VARIABLES: [names: string[], why: string][] = [
  [['WEAVE_VERSION', 'DOCKERHUB_USER'], "named weave 2.8.1's images: set WEAVE_IMAGE to choose the router image"],
  [['WEAVE_DOCKER_ARGS'], 'the router container is created with fixed options here'],
  [['WEAVEEXEC_DOCKER_ARGS', 'DOCKER_CLIENT_ARGS'], 'there is no weaveexec container: the CLI talks to Docker itself (DOCKER_HOST)'],
  [['PROXY_HOST'], 'there is no Docker API proxy'],
  [['AWSVPC'], 'AWS VPC mode is not supported'],
  [['WEAVE_DEBUG'], 'it traced the original shell script: use --log-level debug for the router'],
];

/**
 * One line for each group of variables set in `weave launch`'s environment that have no effect
 * here, so none is ignored without a word: the Kubernetes addon's (the router reads them from its
 * own environment, which launch does not fill, as the original script did not), and the
 * script's own that governed what this CLI does not have.
 */
export function launchEnvWarnings(env: Record<string, string | undefined>): string[] {
  const set = (name: string) => Boolean(env[name]);
  const warnings: string[] = [];
  const addon = Object.keys(ADDON_VARIABLES).filter(set);
  if (addon.length > 0) {
    warnings.push(
      `WARNING: ${addon.join(', ')}: read by the router from its own environment (as weave 2.8.1's Kubernetes addon), not by weave launch (nor by the original's script); give ${addon.map(v => ADDON_VARIABLES[v]).join(', ')} instead`,
    );
  }
  for (const [names, why] of UNUSED_SCRIPT_VARIABLES) {
    const given = names.filter(set);
    if (given.length > 0) warnings.push(`WARNING: ignoring ${given.join(', ')}: ${why}`);
  }
  if (!isUnixEndpoint(env)) {
    warnings.push(
      'WARNING: DOCKER_HOST is a network address, which the router container cannot reach as the CLI does: it will not watch Docker, so the addresses of attached containers that stop stay taken until `weave detach`',
    );
  }
  return warnings;
}

/**
 * The router's warnings about flags it accepts without effect (`--no-dns`, `--proxy`, ...), for
 * launch to show at once: the router logs them too, but only `docker logs` would show them.
 */
export function routerFlagWarnings(routerArgv: readonly string[]): string[] {
  try {
    return ignoredFlagWarnings(parseRouterArgv(routerArgv).flags).map(line => `WARNING: ${line}`);
  } catch (error) {
    // A bad flag: the router refuses it and launch reports the router's own words.
    if (error instanceof RouterUsageError) return [];
    throw error;
  }
}

/** The range IPAM will use and whether the user chose it (which turns an overlap into a warning). */
export function ipallocRange(args: LaunchArgs): {range: string; chosen: boolean} {
  return args.ipallocRange === undefined ? {range: DEFAULTS.ipallocRange, chosen: false} : {range: args.ipallocRange, chosen: true};
}

/** The control API address launch polls: the one given to the router. */
export function controlAddr(args: LaunchArgs, env: Record<string, string | undefined>): string {
  return args.httpAddr ?? env.WEAVE_HTTP_ADDR ?? DEFAULTS.httpAddr;
}

/** The TCP port of the peer mesh. */
export function meshPort(args: LaunchArgs, env: Record<string, string | undefined>): number {
  return Number(args.port ?? env.WEAVE_PORT ?? DEFAULTS.port);
}
