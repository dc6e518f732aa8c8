import {Command} from '@oclif/core/command';
import {type ErrorJson, errorJson, jsonText, operatorFailure, printFailure} from './failure.js';

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
    this.write(jsonText(json));
  }

  protected override toErrorJson(error: unknown): ErrorJson {
    return errorJson(error);
  }

  protected override async catch(error: Error & {exitCode?: number}): Promise<unknown> {
    const failure = await operatorFailure(error);
    if (!failure) return super.catch(error);
    const exitCode = await printFailure(failure, this.jsonEnabled(), `${this.config.bin} ${this.id?.replaceAll(':', ' ') ?? ''}`);
    if (this.jsonEnabled()) {
      process.exitCode = exitCode;
      return;
    }
    return this.exit(exitCode);
  }
}
