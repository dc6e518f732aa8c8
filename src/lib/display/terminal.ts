import * as Flags from '@oclif/core/flags';
import {Chalk, type ChalkInstance, chalkStderr} from 'chalk';

export type Env = Record<string, string | undefined>;

/** https://no-color.org: NO_COLOR set and not empty; or --no-color on the command line. */
export function colorDisabled(argv: readonly string[] = process.argv, env: Env = process.env): boolean {
  return Boolean(env.NO_COLOR) || argv.includes('--no-color');
}

/**
 * --no-color, read by colorDisabled from the command line; listr2's colours (colorette) read the
 * same flag and NO_COLOR themselves.
 */
export const noColorFlag = Flags.boolean({description: 'Print without colours (as does NO_COLOR=1)', helpGroup: 'GLOBAL'});

/** Colours for messages on stderr: chalk's own detection (TTY, FORCE_COLOR) unless NO_COLOR or --no-color. */
export function stderrColors(argv: readonly string[] = process.argv, env: Env = process.env): ChalkInstance {
  return new Chalk({level: colorDisabled(argv, env) ? 0 : chalkStderr.level});
}

/** One plain line per step where a redrawn list would garble the output: not a terminal (or one of no width), or CI logs. */
export function plainProgress(env: Env = process.env, stream: NodeJS.WriteStream = process.stderr): boolean {
  return !stream.isTTY || !stream.columns || Boolean(env.CI);
}
