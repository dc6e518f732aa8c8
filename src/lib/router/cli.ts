/**
 * `weave router` without oclif: the router container's entrypoint, and what tests spawn. oclif
 * costs each router about 0.4 s of CPU at start, which 20 routers on 2 cores pay in turn; this
 * parser reads the same flag table (ROUTER_FLAGS) and leaves `weave router --help` to oclif.
 */
import {VERSION} from '../package.js';
import {routerWords} from './addon-env.js';
import {keepHeapSmall} from './heap.js';
import {RouterConfigError} from '../errors.js';
import {parsePeerName, ROUTER_FLAGS, type RawRouterFlags, routerConfig, type RouterFlagSpec} from './config.js';
import {createLogger} from './log.js';

/** A flag the router does not know or that is missing its value: exit 2, as oclif and Go's flag package. */
export class RouterUsageError extends Error {
  constructor(message: string) {
    super(`${message}\nSee more help with weave router --help`);
    this.name = 'RouterUsageError';
  }
}

const SPECS: Readonly<Record<string, RouterFlagSpec>> = ROUTER_FLAGS;

const GO_TRUE = ['1', 't', 'T', 'TRUE', 'true', 'True'];
const GO_FALSE = ['0', 'f', 'F', 'FALSE', 'false', 'False'];

/** strconv.ParseInt(s, 0, 64), which the original's integer flags used: 1234, 0x4d2, 0o2322, 02322, 0b10, signed. */
function parseGoInt(text: string): number | undefined {
  const m = /^([+-]?)(?:0[xX]([0-9a-fA-F]+)|0[bB]([01]+)|0[oO]?([0-7]+)|([1-9][0-9]*|0))$/.exec(text);
  if (!m) return undefined;
  const [, sign, hex, bin, oct, dec] = m;
  const value = hex ? parseInt(hex, 16) : bin ? parseInt(bin, 2) : oct ? parseInt(oct, 8) : Number(dec);
  return sign === '-' ? -value : value;
}

/**
 * time.ParseDuration's syntax: `0`, or signed numbers each with a unit (`1m30s`, `1.5h`, `300ms`).
 * µs and μs escaped, here and in goDurationMs: the router's bundle must stay ASCII (scripts/bundle.ts).
 */
const GO_DURATION = /^[+-]?(?:0|(?:(?:\d+\.?\d*|\.\d+)(?:ns|us|\u00b5s|\u03bcs|ms|s|m|h))+)$/;

/** The original's flag package took `--flag="value"` and `--flag='value'` as `value`. */
function trimQuotes(value: string): string {
  return value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.at(-1) === value[0] ? value.slice(1, -1) : value;
}

function typed(name: string, spec: RouterFlagSpec, value: string): string | number | boolean {
  switch (spec.type) {
    case 'boolean':
      if (GO_TRUE.includes(value)) return true;
      if (GO_FALSE.includes(value)) return false;
      throw new RouterUsageError(`invalid boolean value "${value}" for --${name}: expected true or false (also 1, 0, t, f)`);
    case 'integer': {
      const n = parseGoInt(value);
      if (n === undefined) throw new RouterUsageError(`Parsing --${name}: expected an integer but received: ${value}`);
      return n;
    }
    case 'duration':
      if (!GO_DURATION.test(value)) throw new RouterUsageError(`Parsing --${name}: expected a duration such as 5s or 1m30s but received: ${value}`);
      return value;
    default:
      return value;
  }
}

/**
 * Reads flags as the original's parser did: `--flag value`, `--flag=value` (quotes around the
 * value dropped), booleans bare or `--flag=false`; one dash works as two; `--` ends the flags;
 * the last of a repeated flag wins, except lists (`-H`), which gather every value. Unlike the
 * original, flags may also follow peers.
 */
export function parseRouterArgv(argv: readonly string[]): {flags: RawRouterFlags; peers: string[]} {
  const given: Record<string, string | number | boolean | string[]> = {};
  const peers: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '--') {
      peers.push(...argv.slice(i + 1));
      break;
    }
    const m = /^--?([^=]+)(?:=(.*))?$/s.exec(word);
    if (!m) {
      peers.push(word);
      continue;
    }
    const [, name, inline] = m as unknown as [string, string, string | undefined];
    const spec = SPECS[name];
    if (!spec) throw new RouterUsageError(`Nonexistent flag: ${word.replace(/=.*/s, '')}`);
    let value = inline === undefined ? undefined : trimQuotes(inline);
    if (value === undefined && spec.type === 'boolean') value = 'true';
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new RouterUsageError(`${word} needs a value`);
      value = argv[++i]!;
    }
    if (spec.type === 'list') given[name] = [...((given[name] as string[] | undefined) ?? []), value];
    else given[name] = typed(name, spec, value);
  }
  const flags: Record<string, string | number | boolean | string[]> = {};
  for (const [name, spec] of Object.entries(SPECS)) {
    const value = given[name] ?? (spec.type === 'boolean' ? false : spec.type === 'list' ? [] : 'default' in spec ? spec.default : undefined);
    if (value !== undefined) flags[name] = value;
  }
  return {flags: flags as RawRouterFlags, peers};
}

/** `--print-peer-name`: the name the router would take, from the same sources, without starting it. */
async function printPeerName(flags: RawRouterFlags): Promise<void> {
  const name = flags.name ? parsePeerName(flags.name) : undefined;
  const {WeaveRouter} = await import('./router.js');
  const chosen = await WeaveRouter.peerName({...(name ? {name} : {}), weaveBridge: flags['weave-bridge'], hostRoot: flags['host-root'] ?? '', dbPrefix: flags['db-prefix']});
  process.stdout.write(`${chosen}\n`);
}

/**
 * Runs the router until SIGTERM or SIGINT; a bad flag ends the process with its message, no stack
 * trace. The Kubernetes addon's variables in `env` count as flags given before the command line.
 */
export async function routerMain(argv: string[], env: Record<string, string | undefined> = process.env): Promise<void> {
  let config;
  try {
    const {flags, peers} = parseRouterArgv(routerWords(argv, env));
    // As the original: these answer once the flags parse, before anything else is checked.
    if (flags.version) {
      process.stdout.write(`weave ${VERSION}\n`);
      return;
    }
    if (flags['print-peer-name']) {
      await printPeerName(flags);
      return;
    }
    config = routerConfig(flags, peers, env);
  } catch (error) {
    if (!(error instanceof RouterUsageError || error instanceof RouterConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exitCode = error instanceof RouterUsageError ? 2 : 1;
    return;
  }
  keepHeapSmall();
  const log = createLogger(config.logLevel);
  for (const warning of config.warnings) log.warning(warning);
  // Imported only once the flags are good: a bad flag costs no more than parsing it.
  const {runRouter} = await import('./router.js');
  await runRouter(config);
}
