import {Command} from '@oclif/core/command';
import {OperatorError, RouterConfigError, UsageError} from '../errors.js';
import {JSON_INDENT} from '../display/json-text.js';

/**
 * What an error means to the operator: an OperatorError as it is; a failure from below the CLI
 * (a program it ran, a router flag it checked) as exit 1 with its message; anything else is not
 * the operator's to act on (a bug: oclif prints it with its stack).
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

/**
 * The base of every weave command: the one place where failures become output and exit codes.
 * An OperatorError prints its text on stderr (red on a colour terminal) and exits with its code;
 * a usage error adds where to read the usage; under `--json` (oclif's json flag) the error is
 * JSON on stdout instead. Bad flags and arguments are oclif's, with the exit codes of
 * package.json's `oclif.exitCodes` (1, as the original's usage errors).
 */
export abstract class WeaveCommand extends Command {
  /**
   * Fixed values the shell completions offer for a flag or argument (by name) that the command
   * checks itself: oclif's `options` would check them first, in its own words.
   */
  static completionValues: Readonly<Record<string, readonly string[]>> = {};

  /** Text exactly as given: no newline added (the script printed bodies as curl got them). */
  protected write(text: string): void {
    process.stdout.write(text);
  }

  protected override logJson(json: unknown): void {
    this.write(`${JSON.stringify(json, null, JSON_INDENT)}\n`);
  }

  protected override toErrorJson(error: unknown): ErrorJson {
    const exitCode = (error as {oclif?: {exit?: number}}).oclif?.exit ?? (error as {exitCode?: number}).exitCode ?? 1;
    return {error: {message: error instanceof Error ? error.message : String(error), exitCode}};
  }

  protected override async catch(error: Error & {exitCode?: number}): Promise<unknown> {
    const failure = await operatorFailure(error);
    if (!failure) return super.catch(error);
    if (this.jsonEnabled()) {
      process.exitCode = failure.exitCode;
      this.logJson(this.toErrorJson(failure));
      return;
    }
    let text = failure.printed;
    if (text !== '' && !text.endsWith('\n')) text += '\n';
    if (text !== '') {
      // Loaded only here: a command that succeeds never pays for chalk (which follows FORCE_COLOR, NO_COLOR, --no-color).
      const {stderrColors} = await import('../display/terminal.js');
      text = stderrColors().red(text);
    }
    if (failure instanceof UsageError) text += `See \`${this.config.bin} ${this.id?.replaceAll(':', ' ') ?? ''} --help\`.\n`;
    process.stderr.write(text);
    return this.exit(failure.exitCode);
  }
}
