/** What a handler sees of one HTTP request. */
export interface Request {
  method: string;
  path: string;
  /** `{name}` segments of the matched pattern, URL-decoded. */
  params: Record<string, string>;
  /** Form values from the query string and an urlencoded body, as Go's r.FormValue reads them. */
  form: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /**
   * Aborted when the client goes away, its connection closed (a blocked allocation then gives up).
   * The connection's requests share it: a listener is removed once its wait ends.
   */
  signal: AbortSignal;
}

export interface Response {
  status: number;
  body?: string;
  contentType?: string;
}

export type Handler = (req: Request) => Promise<Response> | Response;

/** The original's `http.Error`: text/plain, the message and a newline. */
export function httpError(status: number, message: string): Response {
  return {status, body: `${message}\n`, contentType: 'text/plain; charset=utf-8'};
}

export function text(body: string, status = 200): Response {
  return {status, body, contentType: 'text/plain; charset=utf-8'};
}

export function json(value: unknown, status = 200): Response {
  return {status, body: JSON.stringify(value), contentType: 'application/json'};
}

interface Route {
  method: string;
  segments: string[];
  handler: Handler;
  changes: boolean;
}

export interface RouteOptions {
  /** Whether the route changes the network, so that only root may call it (default: any method but GET). */
  changes?: boolean;
}

export type Match = {handler: Handler; params: Record<string, string>; changes: boolean} | {status: 404 | 405};

/**
 * Method + path patterns with `{name}` segments, matched like gorilla/mux: an unknown path is
 * 404, a known path with another method 405. Each concern registers its own routes. A route
 * changes the network unless it is a GET: new routes are guarded by default.
 */
export class RouteTable {
  private readonly routes: Route[] = [];

  add(method: string, pattern: string, handler: Handler, options: RouteOptions = {}): this {
    this.routes.push({method, segments: pattern.split('/').slice(1), handler, changes: options.changes ?? method !== 'GET'});
    return this;
  }

  match(method: string, path: string): Match {
    const parts = path.split('/').slice(1);
    let pathKnown = false;
    for (const route of this.routes) {
      const params = matchSegments(route.segments, parts);
      if (!params) continue;
      pathKnown = true;
      if (route.method === method) return {handler: route.handler, params, changes: route.changes};
    }
    return {status: pathKnown ? 405 : 404};
  }
}

function matchSegments(pattern: string[], parts: string[]): Record<string, string> | undefined {
  if (pattern.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (const [i, seg] of pattern.entries()) {
    const part = parts[i]!;
    if (seg.startsWith('{') && seg.endsWith('}')) {
      if (part === '') return undefined;
      try {
        params[seg.slice(1, -1)] = decodeURIComponent(part);
      } catch {
        return undefined;
      }
    } else if (seg !== part) {
      return undefined;
    }
  }
  return params;
}
