/**
 * A failure the operator can act on, reported as its message alone (no stack trace) with the
 * exit code the original `weave` script gave it.
 */
export class OperatorError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A command-line argument that cannot be right, found before anything is contacted: exit 1. */
export class ArgumentError extends OperatorError {}
