import {STATUS_CODES} from 'node:http';
import {OperatorError} from '../errors.js';

/** A failed call to the router's HTTP API, with the exit code the `weave` script gave it. */
export abstract class ApiError extends OperatorError {}

/** Nothing answers at the address (refused, timed out, no such socket). */
export class RouterUnreachableError extends ApiError {
  constructor(
    readonly addr: string,
    readonly reason: string,
  ) {
    super(
      `the weave router is not running at ${addr} (${reason}): start it with \`weave launch\`, ` +
        'or set WEAVE_HTTP_ADDR (or --http-addr) to the address it listens on',
    );
  }
}

/** Connected, but no answer within the caller's bound (an allocation the router holds back). */
export class RouterTimeoutError extends ApiError {
  constructor(
    readonly addr: string,
    readonly call: string,
    readonly timeoutMs: number,
  ) {
    super(`the weave router at ${addr} did not answer ${call} within ${timeoutMs / 1000} s`);
  }
}

/** HTTP 404: an unknown route, or a service turned off (IPAM without --ipalloc-range). Exit 4, as the script's, with a word on stderr (it dropped the answer). */
export class NotFoundError extends ApiError {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly body: string,
  ) {
    super(`the router answered ${method} ${path} with HTTP 404 (Not Found)${body.trim() ? `: ${body.trim()}` : ''}`, 4);
  }
}

/** An error answer without a body still says what failed: a command never exits 1 without a word. */
function emptyAnswer(method: string, path: string, status: number): string {
  const reason = STATUS_CODES[status] ? ` (${STATUS_CODES[status]})` : '';
  return `the router answered ${method} ${path} with HTTP ${status}${reason} and no message`;
}

/** Any other status outside 2xx: the router's answer is the message (printed as is to stderr). */
export class HttpStatusError extends ApiError {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly body: string,
  ) {
    super(body.trim() || emptyAnswer(method, path, status));
  }

  /** The router's answer as it came, as the script printed curl's body; what failed, when it sent none. */
  override get printed(): string {
    return this.body.trim() === '' ? this.message : this.body;
  }
}
