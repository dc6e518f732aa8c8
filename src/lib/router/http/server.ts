import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http';
import {httpError, type Request, type Response, type RouteTable} from './routes.js';

/** Largest request body accepted: the API takes short forms, never uploads. */
const MAX_BODY = 1 << 20;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString()));
    req.on('error', reject);
  });
}

function formOf(url: URL, req: IncomingMessage, body: string): URLSearchParams {
  const form = new URLSearchParams(url.search);
  if ((req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
    for (const [k, v] of new URLSearchParams(body)) form.append(k, v);
  }
  return form;
}

export type Logger = (line: string) => void;

async function serve(table: RouteTable, req: IncomingMessage, res: ServerResponse, log: Logger): Promise<Response> {
  const url = new URL(req.url ?? '/', 'http://weave');
  const match = table.match(req.method ?? 'GET', url.pathname);
  if ('status' in match) return httpError(match.status, match.status === 404 ? '404 page not found' : 'Method Not Allowed');
  const body = await readBody(req);
  const abort = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  const request: Request = {
    method: req.method ?? 'GET',
    path: url.pathname,
    params: match.params,
    form: formOf(url, req, body),
    headers: req.headers,
    body,
    signal: abort.signal,
  };
  try {
    return await match.handler(request);
  } catch (error) {
    log(`${request.method} ${request.path}: ${(error as Error).message}`);
    return httpError(500, (error as Error).message);
  }
}

/** An HTTP server over a route table; every request is logged, as the original does. */
export function createApiServer(table: RouteTable, log: Logger): Server {
  return createServer((req, res) => {
    serve(table, req, res, log)
      .catch(error => httpError(400, (error as Error).message))
      .then(response => {
        log(`${req.method} ${req.url} ${response.status}`);
        if (res.destroyed) return;
        res.statusCode = response.status;
        if (response.body !== undefined) {
          res.setHeader('Content-Type', response.contentType ?? 'text/plain; charset=utf-8');
          res.end(response.body);
        } else {
          res.end();
        }
      });
  });
}
