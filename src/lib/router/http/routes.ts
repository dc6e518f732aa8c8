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
    const parts = new PathParts(path);
    let pathKnown = false;
    for (const route of this.routes) {
      if (!parts.fit(route.segments)) continue;
      pathKnown = true;
      if (route.method === method) return {handler: route.handler, params: parts.params(route.segments), changes: route.changes};
    }
    return {status: pathKnown ? 405 : 404};
  }
}

/**
 * The segments of a request path, each URL-decoded once, when a `{name}` needs it: a path is
 * tried against every route, and only the one chosen builds its params.
 */
class PathParts {
  private readonly parts: string[];
  /** Decoded segments; null where the segment is not valid percent-encoding. */
  private readonly decoded: (string | null | undefined)[] = [];

  constructor(path: string) {
    this.parts = path.split('/');
  }

  /** Whether the path has the pattern's shape: literal segments equal, `{name}` segments non-empty and decodable. */
  fit(pattern: string[]): boolean {
    if (pattern.length !== this.parts.length - 1) return false;
    for (let i = 0; i < pattern.length; i++) {
      const seg = pattern[i]!;
      if (isParam(seg)) {
        if (this.parts[i + 1] === '' || this.decode(i + 1) === null) return false;
      } else if (seg !== this.parts[i + 1]) {
        return false;
      }
    }
    return true;
  }

  /** The `{name}` values of a pattern the path fits. */
  params(pattern: string[]): Record<string, string> {
    const params: Record<string, string> = {};
    for (let i = 0; i < pattern.length; i++) if (isParam(pattern[i]!)) params[pattern[i]!.slice(1, -1)] = this.decode(i + 1)!;
    return params;
  }

  private decode(i: number): string | null {
    let value = this.decoded[i];
    if (value === undefined) {
      try {
        value = decodeURIComponent(this.parts[i]!);
      } catch {
        value = null;
      }
      this.decoded[i] = value;
    }
    return value;
  }
}

function isParam(seg: string): boolean {
  return seg.startsWith('{') && seg.endsWith('}');
}
