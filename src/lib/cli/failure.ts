import {OperatorError, RouterConfigError, UsageError} from '../errors.js';
import {JSON_INDENT} from '../display/json-text.js';

/**
 * What an error means to the operator: an OperatorError as it is; a failure from below the CLI
 * (a program it ran, a router flag it checked) as exit 1 with its message; anything else is not
 * the operator's to act on (a bug: undefined, for the caller to print as one).
 */
export async function operatorFailure(error: unknown): Promise<OperatorError | undefined> {
  if (error instanceof OperatorError) return error;
  // Their modules are loaded only for a failure: `weave version` and `status` run no program.
  const [{CommandError}, {IpError}] = await Promise.all([import('../net/exec.js'), import('../net/ip.js')]);
  if (error instanceof CommandError || error instanceof IpError || error instanceof RouterConfigError) {
    return new OperatorError(error.message, 1, {cause: error});
  }
  return undefined;
}

/** The error under `--json`, on stdout as oclif puts it: `{"error": {"message": ..., "exitCode": ...}}`. */
export interface ErrorJson {
  error: {message: string; exitCode: number};
}

export function errorJson(error: unknown): ErrorJson {
  const exitCode = (error as {oclif?: {exit?: number}}).oclif?.exit ?? (error as {exitCode?: number}).exitCode ?? 1;
  return {error: {message: error instanceof Error ? error.message : String(error), exitCode}};
}

/** JSON as the commands print it: indented, one document a line. */
export function jsonText(json: unknown): string {
  return `${JSON.stringify(json, null, JSON_INDENT)}\n`;
}

/**
 * Prints an operator's failure of `<bin> <command>` and gives its exit code: under `--json`
 * the error as JSON on stdout; else its text on stderr (red on a colour terminal), and for a
 * usage error where to read the usage.
 */
export async function printFailure(failure: OperatorError, json: boolean, command: string): Promise<number> {
  if (json) {
    process.stdout.write(jsonText(errorJson(failure)));
    return failure.exitCode;
  }
  let text = failure.printed;
  if (text !== '' && !text.endsWith('\n')) text += '\n';
  if (text !== '') {
    // Loaded only here: a command that succeeds never pays for chalk (which follows FORCE_COLOR, NO_COLOR, --no-color).
    const {stderrColors} = await import('../display/terminal.js');
    text = stderrColors().red(text);
  }
  if (failure instanceof UsageError) text += `See \`${command} --help\`.\n`;
  process.stderr.write(text);
  return failure.exitCode;
}
