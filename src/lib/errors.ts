/**
 * The root of every failure the CLI reports to the operator: its message alone (no stack
 * trace), the exit code the original `weave` script gave it, and the error that caused it, if
 * any. Commands map errors to output and exit codes in one place (cli/weave-command.ts).
 */
export class OperatorError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
    options: {cause?: unknown} = {},
  ) {
    super(message, options);
    this.name = new.target.name;
  }

  /** What stderr shows: the message, unless a kind of failure prints something else (or nothing). */
  get printed(): string {
    return this.message;
  }
}

/** A command-line argument that cannot be right, found before anything is contacted: exit 1. */
export class ArgumentError extends OperatorError {}

/** A command line the original answered with its usage and exit 1: printed with where to find the usage. */
export class UsageError extends OperatorError {}

/** A bad router flag: the message names the flag, the value and what it accepts. */
export class RouterConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RouterConfigError';
  }
}
