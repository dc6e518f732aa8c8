import {parseArgs} from 'node:util';

/** A benchmark that cannot go on: printed as is, without a stack trace. */
export class BenchError extends Error {}

/** A whole-number option of at least `min`; `fallback` when not given. */
export function count(value: string | undefined, name: string, fallback: number, min: number, usage: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new BenchError(`--${name} must be a whole number of at least ${min}, not "${value}"\n${usage}`);
  return n;
}

/**
 * The values `parse` (a node:util parseArgs call with a `help` flag) reads from the command line:
 * a bad command line becomes a BenchError with `usage`; --help prints `usage` and exits.
 */
export function benchArgs<V extends {help?: boolean | undefined}>(usage: string, parse: () => {values: V}): V {
  let values: V;
  try {
    ({values} = parse());
  } catch (error) {
    throw new BenchError(`${(error as Error).message}\n${usage}`);
  }
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  return values;
}

/** `--seconds N --rounds N [--help]`, the options of the throughput benchmarks. */
export function parseRunOptions(argv: string[], usage: string, defaults: {seconds: number; rounds: number}): {seconds: number; rounds: number} {
  const values = benchArgs(usage, () => parseArgs({args: argv, options: {seconds: {type: 'string'}, rounds: {type: 'string'}, help: {type: 'boolean'}}}));
  return {seconds: count(values.seconds, 'seconds', defaults.seconds, 1, usage), rounds: count(values.rounds, 'rounds', defaults.rounds, 1, usage)};
}
