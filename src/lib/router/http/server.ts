import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http';
import type {Socket} from 'node:net';
import {ChangeGuard} from './access.js';
import {httpError, type Request, type Response, type RouteTable} from './routes.js';

/** How much one client may ask of the API server. */
export interface ApiLimits {
  /** Largest request body: the API takes short forms, never uploads. Larger ones get 413. */
  maxBodyBytes: number;
  /** Request headers must arrive within this (else 408); a connection that sends nothing is closed after twice this. */
  headersTimeoutMs: number;
  /** The whole request must arrive within this. Answers may take longer: an allocation can wait. */
  requestTimeoutMs: number;
  /** Connections open at once; further ones are closed as they come. */
  maxConnections: number;
}

export const API_LIMITS: ApiLimits = {
  maxBodyBytes: 1 << 20,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  maxConnections: 512,
};

class BodyTooLarge extends Error {}

function tooLarge(limits: ApiLimits): Response {
  return httpError(413, `request body larger than ${limits.maxBodyBytes} bytes: the router's API takes short forms only`);
}

/** Whether HTTP/1.1 says a body follows the headers. */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function readBody(req: IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        // Node discards the rest once the answer is sent, within the request timeout.
        req.off('data', onData);
        chunks.length = 0;
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks).toString()));
    req.on('error', reject);
  });
}

/** The path and query of a request target. */
interface Target {
  pathname: string;
  search: string;
}

/**
 * A target that URL would leave as it is: an absolute path of unreserved and sub-delimiter
 * characters without dot segments or percent signs (which URL decodes in dot segments), and a
 * query of such characters. Every request of the CLI, the plugins and the runtimes is one.
 */
const PLAIN_PATH = /^\/(?!\/)[\w\-.~!$&'()*+,;=:@/]*$/;
const PLAIN_QUERY = /^[\w\-.~!$&'()*+,;=:@/?%]*$/;
const DOT_SEGMENT = /(^|\/)\.\.?(\/|$)/;

/** As `new URL(raw, base)` reads the target, without building a URL for the plain targets sent in practice (its parse and objects took ~5% of a request's CPU in bench/ipam). */
export function targetOf(raw: string): Target {
  const mark = raw.indexOf('?');
  const pathname = mark < 0 ? raw : raw.slice(0, mark);
  const query = mark < 0 ? '' : raw.slice(mark + 1);
  if (PLAIN_PATH.test(pathname) && !DOT_SEGMENT.test(pathname) && PLAIN_QUERY.test(query)) return {pathname, search: query === '' ? '' : `?${query}`};
  const url = new URL(raw, 'http://weave');
  return {pathname: url.pathname, search: url.search};
}

function formOf(url: Target, req: IncomingMessage, body: string): URLSearchParams {
  const form = new URLSearchParams(url.search);
  if ((req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
    for (const [k, v] of new URLSearchParams(body)) form.append(k, v);
  }
  return form;
}

export type Logger = (line: string) => void;

const closedSignals = new WeakMap<Socket, AbortSignal>();

/**
 * Aborted when the client's connection closes: only then can an answer not be delivered (a
 * response is never closed unfinished otherwise), so the requests of a connection share one
 * signal rather than each building its own (an AbortSignal is an EventTarget: garbage and ~3%
 * of an allocation's CPU).
 */
function closedSignal(socket: Socket): AbortSignal {
  let signal = closedSignals.get(socket);
  if (!signal) {
    const abort = new AbortController();
    signal = abort.signal;
    if (socket.destroyed) abort.abort();
    else socket.once('close', () => abort.abort());
    closedSignals.set(socket, signal);
  }
  return signal;
}

interface Context {
  table: RouteTable;
  log: Logger;
  limits: ApiLimits;
  guard: ChangeGuard;
  /** A unix socket listener: root-only by its file mode, so no one else reaches it. Read once it listens. */
  unix: boolean;
}

async function serve(ctx: Context, req: IncomingMessage): Promise<Response> {
  const url = targetOf(req.url ?? '/');
  const match = ctx.table.match(req.method ?? 'GET', url.pathname);
  if ('status' in match) return httpError(match.status, match.status === 404 ? '404 page not found' : 'Method Not Allowed');
  if (match.changes && !ctx.unix) {
    const refusal = await ctx.guard.refusal(req.socket);
    if (refusal) return httpError(403, refusal);
  }
  if (Number(req.headers['content-length'] ?? 0) > ctx.limits.maxBodyBytes) return tooLarge(ctx.limits);
  let body = '';
  // Most calls carry none (neither a length nor chunks): no stream to wait for.
  if (hasBody(req)) {
    try {
      body = await readBody(req, ctx.limits.maxBodyBytes);
    } catch (error) {
      if (error instanceof BodyTooLarge) return tooLarge(ctx.limits);
      throw error;
    }
  }
  const request: Request = {
    method: req.method ?? 'GET',
    path: url.pathname,
    params: match.params,
    form: formOf(url, req, body),
    headers: req.headers,
    body,
    signal: closedSignal(req.socket),
  };
  try {
    return await match.handler(request);
  } catch (error) {
    ctx.log(`${request.method} ${request.path}: ${(error as Error).message}`);
    return httpError(500, (error as Error).message);
  }
}

function answer(ctx: Context, req: IncomingMessage, res: ServerResponse): void {
  // From here the answer may take long (an allocation waits for IPAM): no idle limit. Node
  // clears a keep-alive timeout itself, so on a reused connection there is none to clear.
  if (req.socket.timeout) req.socket.setTimeout(0);
  serve(ctx, req)
    .catch(error => httpError(400, (error as Error).message))
    .then(response => {
      ctx.log(`${req.method} ${req.url} ${response.status}`);
      if (res.destroyed) return;
      res.statusCode = response.status;
      if (response.body !== undefined) {
        res.setHeader('Content-Type', response.contentType ?? 'text/plain; charset=utf-8');
        res.end(response.body);
      } else {
        res.end();
      }
    })
    // Writing the answer can still fail (the client went away mid-write): never an unhandled rejection, which would end the router.
    .catch(error => {
      ctx.log(`${req.method} ${req.url}: cannot answer: ${(error as Error).message}`);
      res.destroy();
    });
}

/**
 * An HTTP server over a route table; every request is logged, as the original does. Changes
 * (any route but a GET, see RouteTable) are refused with 403 unless root on this host asks
 * (ChangeGuard); the limits bound what one client can hold.
 */
export function createApiServer(table: RouteTable, log: Logger, limits: ApiLimits = API_LIMITS): Server {
  // How often Node looks for connections past those timeouts (its default is 30 s).
  const checkEveryMs = Math.min(1000, limits.headersTimeoutMs);
  const server: Server = createServer({headersTimeout: limits.headersTimeoutMs, requestTimeout: limits.requestTimeoutMs, connectionsCheckingInterval: checkEveryMs});
  const ctx: Context = {table, log, limits, guard: new ChangeGuard(), unix: false};
  server.on('listening', () => (ctx.unix = typeof server.address() === 'string'));
  server.maxConnections = limits.maxConnections;
  server.on('drop', () => log(`connection refused: ${limits.maxConnections} connections are open already`));
  // Node's headers timeout may not cover a connection that never sends a byte: this one does,
  // once Node's own check (every checkEveryMs, late on a loaded machine) had room to answer 408.
  server.on('connection', (socket: Socket) => socket.setTimeout(limits.headersTimeoutMs + 2 * checkEveryMs, () => socket.destroy()));
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    // `Expect: 100-continue` (curl's, for bodies over 1 MB): refuse a large body before it is sent.
    if (Number(req.headers['content-length'] ?? 0) > limits.maxBodyBytes) {
      const response = tooLarge(limits);
      res.writeHead(response.status, {'Content-Type': response.contentType, Connection: 'close'}).end(response.body);
      return;
    }
    res.writeContinue();
    answer(ctx, req, res);
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => answer(ctx, req, res));
  return server;
}
