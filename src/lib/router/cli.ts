/**
 * `weave router` without oclif: the router container's entrypoint, and what tests spawn. oclif
 * costs each router about 0.4 s of CPU at start, which 20 routers on 2 cores pay in turn; this
 * parser reads the same flag table (ROUTER_FLAGS) and leaves `weave router --help` to oclif.
 */
import {parseArgs} from 'node:util';
import {keepHeapSmall} from './heap.js';
import {ROUTER_FLAGS, type RawRouterFlags, RouterConfigError, routerConfig, type RouterFlagSpec} from './config.js';

/** A flag the router does not know or that is missing its value: exit 2, as oclif and Go's flag package. */
export class RouterUsageError extends Error {
  constructor(message: string) {
    super(`${message}\nSee more help with weave router --help`);
    this.name = 'RouterUsageError';
  }
}

const SPECS: Readonly<Record<string, RouterFlagSpec>> = ROUTER_FLAGS;

/** `--name value`, `--name=value`, booleans bare; the last of a repeated flag wins (as Go's flag package). */
export function parseRouterArgv(argv: string[]): {flags: RawRouterFlags; peers: string[]} {
  const options = Object.fromEntries(Object.entries(SPECS).map(([name, spec]) => [name, {type: spec.type === 'boolean' ? ('boolean' as const) : ('string' as const)}]));
  // Not strict: it would refuse a value that starts with "-" (--conn-limit -1) and word its errors for another CLI.
  const {values, positionals, tokens} = parseArgs({args: argv, options, allowPositionals: true, strict: false, tokens: true});
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const spec = SPECS[token.name];
    if (!spec) throw new RouterUsageError(`Nonexistent flag: ${token.rawName}`);
    if (spec.type === 'boolean' && token.value !== undefined) throw new RouterUsageError(`${token.rawName} takes no value`);
    if (spec.type !== 'boolean' && token.value === undefined) throw new RouterUsageError(`${token.rawName} needs a value`);
  }
  const flags: Record<string, string | number | boolean> = {};
  for (const [name, spec] of Object.entries(SPECS)) {
    const value = values[name];
    if (value === undefined) {
      if (spec.type === 'boolean') flags[name] = false;
      else if (spec.default !== undefined) flags[name] = spec.default;
    } else if (spec.type === 'integer') {
      if (!/^-?\d+$/.test(String(value))) throw new RouterUsageError(`Parsing --${name}: expected an integer but received: ${String(value)}`);
      flags[name] = Number(value);
    } else {
      flags[name] = value;
    }
  }
  return {flags: flags as RawRouterFlags, peers: positionals};
}

/** Runs the router until SIGTERM or SIGINT; a bad flag ends the process with its message, no stack trace. */
export async function routerMain(argv: string[]): Promise<void> {
  let config;
  try {
    const {flags, peers} = parseRouterArgv(argv);
    config = routerConfig(flags, peers, process.env);
  } catch (error) {
    if (!(error instanceof RouterUsageError || error instanceof RouterConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exitCode = error instanceof RouterUsageError ? 2 : 1;
    return;
  }
  keepHeapSmall();
  // Imported only once the flags are good: a bad flag costs no more than parsing it.
  const {runRouter} = await import('./router.js');
  await runRouter(config);
}
