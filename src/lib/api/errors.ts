import {STATUS_CODES} from 'node:http';

/** A failed call to the router's HTTP API, with the exit code the `weave` script gave it. */
export abstract class ApiError extends Error {
  abstract readonly exitCode: number;
}

/** Nothing answers at the address (refused, timed out, no such socket). */
export class RouterUnreachableError extends ApiError {
  readonly exitCode = 1;

  constructor(
    readonly addr: string,
    readonly reason: string,
  ) {
    super(
      `the weave router is not running at ${addr} (${reason}): start it with \`weave launch\`, ` +
        'or set WEAVE_HTTP_ADDR (or --http-addr) to the address it listens on',
    );
    this.name = 'RouterUnreachableError';
  }
}

/** Connected, but no answer within the caller's bound (an allocation the router holds back). */
export class RouterTimeoutError extends ApiError {
  readonly exitCode = 1;

  constructor(
    readonly addr: string,
    readonly call: string,
    readonly timeoutMs: number,
  ) {
    super(`the weave router at ${addr} did not answer ${call} within ${timeoutMs / 1000} s`);
    this.name = 'RouterTimeoutError';
  }
}

/** HTTP 404: an unknown route, or a service turned off (IPAM without --ipalloc-range). Exit 4, body dropped. */
export class NotFoundError extends ApiError {
  readonly exitCode = 4;

  constructor(
    readonly method: string,
    readonly path: string,
    readonly body: string,
  ) {
    super(`the router answered ${method} ${path} with HTTP 404 (Not Found)${body.trim() ? `: ${body.trim()}` : ''}`);
    this.name = 'NotFoundError';
  }
}

/** An error answer without a body still says what failed: a command never exits 1 without a word. */
function emptyAnswer(method: string, path: string, status: number): string {
  const reason = STATUS_CODES[status] ? ` (${STATUS_CODES[status]})` : '';
  return `the router answered ${method} ${path} with HTTP ${status}${reason} and no message`;
}

/** Any other status outside 2xx: the router's answer is the message (printed as is to stderr). */
export class HttpStatusError extends ApiError {
  readonly exitCode = 1;

  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly body: string,
  ) {
    super(body.trim() || emptyAnswer(method, path, status));
    this.name = 'HttpStatusError';
  }
}
