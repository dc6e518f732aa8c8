import {httpError, type Request, type Response, type RouteTable, text} from '../http/routes.js';
import type {RouterState} from '../state.js';
import {METRICS_CONTENT_TYPE, metricsText, type SleeveCounters} from './metrics.js';
import type {SeenMac} from './macs.js';
import {readProcessSample} from './process-sample.js';
import {reportJson, weaveStatus} from './report.js';
import type {Template} from './template.js';
import {connectionsText, dnsText, ipamText, peersText, statusText, targetsText} from './text.js';

const EXEC_FAILED = 'error during template execution';

/**
 * A status page. Until the router is ready every page answers 503 with its full body, as the
 * original does; a page that cannot be drawn (IPAM off) is its template error, 500.
 */
function page(getState: () => RouterState, draw: (state: RouterState) => string | undefined) {
  return (): Response => {
    const state = getState();
    const body = draw(state);
    if (body === undefined) return httpError(state.ready ? 500 : 503, EXEC_FAILED);
    return text(body, state.ready ? 200 : 503);
  };
}

/** What the views read beyond RouterState, each at request time: the sleeve's counters, the MACs the data plane has seen. */
export interface StatusSources {
  sleeveStats?: () => Promise<SleeveCounters | undefined>;
  macs?: (state: RouterState) => Promise<SeenMac[]>;
}

async function report(req: Request, state: RouterState, macs: SeenMac[]): Promise<Response> {
  // gorilla/mux matched the JSON route on this exact header value only.
  if (req.headers.accept === 'application/json') {
    return {status: 200, body: reportJson(state, macs), contentType: 'application/json'};
  }
  const formats = req.form.getAll('format');
  if (formats.length !== 1) return httpError(400, 'error: must supply one format parameter');
  // The Go template engine is loaded by the first formatted report, not at every router's start.
  const engine = await import('./template.js');
  let template: Template;
  try {
    template = engine.Template.parse('format', formats[0]!);
  } catch (error) {
    if (error instanceof engine.TemplateParseError) return httpError(400, error.message);
    throw error;
  }
  try {
    return text(template.execute(weaveStatus(state, macs)));
  } catch (error) {
    // The original streamed output as it went; ours answers the error alone, never half a report.
    if (error instanceof engine.TemplateExecError) return httpError(500, EXEC_FAILED);
    throw error;
  }
}

/**
 * The read-only views of the router: `/status` and its sub-pages, `/report` (with the MACs
 * `sources` gives) and `/metrics` (with the encrypted data path's counters when it gives some).
 */
export function registerStatusRoutes(table: RouteTable, getState: () => RouterState, sources: StatusSources = {}): void {
  table
    .add('GET', '/status', page(getState, statusText))
    .add('GET', '/status/targets', page(getState, targetsText))
    .add('GET', '/status/connections', page(getState, connectionsText))
    .add('GET', '/status/peers', page(getState, peersText))
    .add('GET', '/status/ipam', page(getState, ipamText))
    .add('GET', '/status/dns', page(getState, dnsText))
    .add('GET', '/report', async req => {
      const state = getState();
      return report(req, state, (await sources.macs?.(state)) ?? []);
    });
  registerMetricsRoute(table, getState, sources);
}

/** `GET /metrics` alone: all that `--metrics-addr` serves (part of the other views too). */
export function registerMetricsRoute(table: RouteTable, getState: () => RouterState, sources: StatusSources = {}): void {
  table.add('GET', '/metrics', async () => {
    const [sleeve, process] = await Promise.all([sources.sleeveStats?.(), readProcessSample()]);
    return {status: 200, body: metricsText(getState(), sleeve, process), contentType: METRICS_CONTENT_TYPE};
  });
}
