import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {RouterClient} from './lib/api/client.js';
import {operatorFailure, printFailure} from './lib/cli/failure.js';
import {OperatorError} from './lib/errors.js';
import {checkStatusPage, statusPage} from './lib/cli/status-page.js';
import {versionReport} from './lib/cli/version-report.js';
import {BIN, PACKAGE_ROOT} from './lib/package.js';

/**
 * `weave version`, `status` and `ps` without oclif, whose config and command machinery were
 * most of their start-up (they ran at 3 to 4 times `node -e 0`). Their flags are read from
 * oclif.manifest.json, which the build writes from the commands, and their output comes from
 * the same functions their commands call. Anything this does not handle exactly as oclif
 * would (help, short or unknown flags, `--`, a flag given twice, watch, oclif's own
 * environment) is left to oclif, before anything runs.
 */

type FlagValue = string | boolean;

interface ManifestFlag {
  type: 'boolean' | 'option';
  env?: string;
  default?: FlagValue;
  allowNo?: boolean;
  multiple?: boolean;
  required?: boolean;
  options?: string[];
  dependsOn?: string[];
  exclusive?: string[];
  relationships?: unknown[];
}

interface ManifestCommand {
  strict?: boolean;
  flags: Record<string, ManifestFlag>;
  args: Record<string, {required?: boolean}>;
}

interface FastCommand {
  /** The flags it runs with; any other leaves the command line to oclif. */
  flags: readonly string[];
  /** What it prints. */
  output(flags: Record<string, FlagValue>, args: string[]): Promise<string>;
}

const json = (flags: Record<string, FlagValue>): boolean => flags.json === true;
const client = (flags: Record<string, FlagValue>): RouterClient => new RouterClient(flags['http-addr'] as string);

const COMMANDS: Record<string, FastCommand> = {
  version: {flags: ['json', 'http-addr'], output: flags => versionReport(client(flags), json(flags))},
  status: {
    flags: ['json', 'http-addr'],
    output: (flags, args) => {
      checkStatusPage(args);
      return statusPage(client(flags), args, json(flags));
    },
  },
  // Loaded for ps alone: reading the bridge brings modules (netlink, the addon) the others do without.
  ps: {
    flags: ['json', 'http-addr', 'weave-bridge'],
    output: async (flags, args) => (await import('./lib/cli/ps-report.js')).psReport(client(flags), flags['weave-bridge'] as string, args, json(flags)),
  },
};

/** Environment oclif acts on (debug output, JSON output): left to oclif. */
const OCLIF_ENV = ['DEBUG', 'CLI_FLAGS_DEBUG', `${BIN.toUpperCase()}_DEBUG`, `${BIN.toUpperCase()}_CONTENT_TYPE`];

/** A flag the parser below takes exactly as oclif's would: no relation to check, no value to validate. */
function plain(flag: ManifestFlag): boolean {
  return (
    !flag.allowNo &&
    !flag.multiple &&
    !flag.required &&
    !flag.options &&
    !flag.dependsOn &&
    !flag.exclusive &&
    !flag.relationships &&
    !(flag.type === 'boolean' && flag.env)
  );
}

/** The flags and arguments of `argv` as oclif would parse them, or undefined when it might not. */
export function parseArgs(command: ManifestCommand, handled: readonly string[], argv: readonly string[]): {flags: Record<string, FlagValue>; args: string[]} | undefined {
  const flags: Record<string, FlagValue> = {};
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (!token.startsWith('-')) {
      args.push(token);
      continue;
    }
    if (!token.startsWith('--') || token === '--') return undefined;
    const eq = token.indexOf('=');
    const name = token.slice(2, eq === -1 ? undefined : eq);
    const flag = command.flags[name];
    if (!flag || !handled.includes(name) || !plain(flag) || name in flags) return undefined;
    if (flag.type === 'boolean') {
      if (eq !== -1) return undefined;
      flags[name] = true;
      continue;
    }
    const value = eq === -1 ? argv[++i] : token.slice(eq + 1);
    if (value === undefined || value === '' || value.startsWith('-')) return undefined;
    flags[name] = value;
  }
  if (command.strict !== false && args.length > 0) return undefined;
  if (Object.values(command.args).some(arg => arg.required)) return undefined;
  for (const name of handled) {
    const flag = command.flags[name];
    if (!flag || !plain(flag)) return undefined;
    if (name in flags) continue;
    const fromEnv = flag.env === undefined ? undefined : process.env[flag.env];
    if (fromEnv) flags[name] = fromEnv;
    else if (flag.default !== undefined) flags[name] = flag.default;
    else if (flag.type === 'boolean') flags[name] = false;
  }
  return {flags, args};
}

/**
 * Runs `weave <id> <argv>` if it can, failures included; false when it left everything to oclif
 * (nothing printed, nothing asked of the router).
 */
export async function runFast(id: string, argv: readonly string[]): Promise<boolean> {
  const command = COMMANDS[id];
  if (!command || OCLIF_ENV.some(name => process.env[name] !== undefined)) return false;
  const manifest = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, ManifestCommand>};
  const definition = manifest.commands[id];
  const parsed = definition && parseArgs(definition, command.flags, argv);
  if (!parsed) return false;
  const jsonOut = json(parsed.flags);
  let text: string;
  try {
    text = await command.output(parsed.flags, parsed.args);
  } catch (error) {
    // A bug is printed as oclif prints one (its name and message, exit 1), not run again through oclif: the router was already asked.
    const failure = (await operatorFailure(error)) ?? new OperatorError(error instanceof Error ? `${error.name}: ${error.message}` : String(error), 1, {cause: error});
    const exitCode = await printFailure(failure, jsonOut, `${BIN} ${id}`);
    // As oclif ends a command that failed: an exit under --json, else at once (its handler's process.exit).
    if (jsonOut) process.exitCode = exitCode;
    else process.exit(exitCode);
    return true;
  }
  process.stdout.write(text);
  return true;
}
