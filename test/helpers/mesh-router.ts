import {mkdtempSync} from 'node:fs';
import {request} from 'node:http';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import type {LanHost} from './lan.js';
import {RouterProcess} from './router.js';

/** A peer name for the i-th simulated host: unicast, locally administered, easy to read. */
export function peerNameOf(i: number): string {
  return `aa:90:00:00:00:${(i + 1).toString(16).padStart(2, '0')}`;
}

/** Where a router started by meshRouterArgs() serves its status API: a unix socket the test reaches directly. */
export function statusSocketOf(dbDir: string): string {
  return join(dbDir, 'status.sock');
}

/** `weave router` flags for host i of a LAN with its db in `dbDir`, peers and extras after. */
export function meshRouterArgs(i: number, dbDir: string, extra: string[] = []): string[] {
  return ['--name', peerNameOf(i), '--status-addr', statusSocketOf(dbDir), ...extra];
}

/** GET on a unix-socket HTTP server: [status, body]. */
export function getUnix(socketPath: string, path: string, headers: Record<string, string> = {}): Promise<[number, string]> {
  return new Promise((resolve, reject) => {
    // A connection of its own: a kept-alive one may have been closed by the server while a test blocked (EPIPE).
    const req = request({socketPath, path, headers, agent: false}, res => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', d => (body += d));
      res.on('end', () => resolve([res.statusCode ?? 0, body]));
    });
    req.on('error', reject);
    req.end();
  });
}

export interface ReportRouter {
  Name: string;
  NickName: string;
  Encryption: boolean;
  Targets: string[] | null;
  Peers: {Name: string; NickName: string; Connections: {Name: string; Address: string; Outbound: boolean; Established: boolean}[] | null}[];
  Connections: {Address: string; Outbound: boolean; State: string; Info: string}[] | null;
}

/** GET /report (JSON): whether the router is ready (its mesh started), and its `Router` part. */
export async function fullReport(socketPath: string): Promise<{Ready: boolean; Router: ReportRouter}> {
  const [status, body] = await getUnix(socketPath, '/report', {Accept: 'application/json'});
  if (status !== 200) throw new Error(`GET /report answered ${status}: ${body}`);
  return JSON.parse(body) as {Ready: boolean; Router: ReportRouter};
}

/** The `Router` part of GET /report. */
export async function routerReport(socketPath: string): Promise<ReportRouter> {
  return (await fullReport(socketPath)).Router;
}

/** A router process on a LAN host, with its status socket. */
export class MeshRouter {
  private constructor(
    readonly host: LanHost,
    readonly index: number,
    readonly process: RouterProcess,
  ) {}

  static async start(host: LanHost, index: number, options: {peers?: string[]; args?: string[]; env?: Record<string, string>; dbDir?: string} = {}): Promise<MeshRouter> {
    const dbDir = options.dbDir ?? mkdtempSync(join(tmpdir(), 'weave-mesh-'));
    const args = [...meshRouterArgs(index, dbDir, options.args ?? []), ...(options.peers ?? [])];
    const proc = await RouterProcess.start(host.ns, {args, dbDir, ...(options.env ? {env: options.env} : {})});
    return new MeshRouter(host, index, proc);
  }

  get name(): string {
    return peerNameOf(this.index);
  }

  get statusSocket(): string {
    return statusSocketOf(this.process.dbDir);
  }

  report(): Promise<ReportRouter> {
    return routerReport(this.statusSocket);
  }

  /** Stops the router with `signal`, unless it has ended already (RouterProcess.stop would then wait for ever). */
  async halt(signal: NodeJS.Signals): Promise<void> {
    const {child} = this.process;
    if (child.exitCode === null && child.signalCode === null) await this.process.stop(signal);
  }

  async text(path: string): Promise<string> {
    const [status, body] = await getUnix(this.statusSocket, path);
    if (status !== 200) throw new Error(`GET ${path} answered ${status}: ${body}`);
    return body;
  }
}

/** Every router sees all `n` peers and has an established connection to each other one. */
export async function fullyMeshed(routers: MeshRouter[], n = routers.length): Promise<boolean> {
  for (const r of routers) {
    const report = await r.report();
    const established = (report.Connections ?? []).filter(c => c.State === 'established').length;
    const links = report.Peers.flatMap(p => p.Connections ?? []).filter(c => c.Established).length;
    if (report.Peers.length !== n || established !== n - 1 || links !== n * (n - 1)) return false;
  }
  return true;
}

/** Polls `probe` until it returns true; fails with `what` and the last value seen after `timeoutMs`. */
export async function waitUntil(what: string, probe: () => Promise<boolean>, timeoutMs = 20_000, intervalMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await probe()) return;
    } catch (error) {
      lastError = error;
    }
    await new Promise(resolve => setTimeout(resolve, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`);
}
