import {type ChildProcess, execFileSync, spawn} from 'node:child_process';
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import type {Netns} from './netns.js';
import {WEAVE_BIN} from './setup-cli.js';

export interface RouterOptions {
  /** Extra `weave router` flags and peers. */
  args?: string[];
  /** Keep the state of an earlier router (restart over the same data). */
  dbDir?: string;
  env?: Record<string, string>;
  /** Run it in a PID namespace of its own, as a container without --pid=host would. */
  ownPidns?: boolean;
  /** Where the router answers /status once ready (its control API unless moved or turned off). */
  readyAddr?: string;
  /** Leave out the harness's own --nickname, --db-prefix and --log-level (a test of those gives its own). */
  bare?: boolean;
  /**
   * The control API on this unix socket instead of 127.0.0.1:6784 in the namespace: the test
   * process reaches it directly (node:http's socketPath), without a curl per call.
   */
  apiSocket?: string;
  /** Another build's `bin/weave.js` (a benchmark against a reference checkout). */
  bin?: string;
}

/**
 * A real `weave router` process in a network namespace (one simulated host), as the router
 * container will run it; its control API is reached through that namespace's loopback.
 */
export class RouterProcess {
  private log = '';

  private constructor(
    readonly ns: Netns,
    readonly dbDir: string,
    readonly child: ChildProcess,
    private readonly addr: string,
    readonly apiSocket?: string,
  ) {
    child.stdout?.on('data', d => (this.log += d));
    child.stderr?.on('data', d => (this.log += d));
  }

  static async start(ns: Netns, options: RouterOptions = {}): Promise<RouterProcess> {
    const dbDir = options.dbDir ?? mkdtempSync(join(tmpdir(), 'weave-db-'));
    const api = options.apiSocket ? ['--http-addr', options.apiSocket] : [];
    const defaults = options.bare ? [] : ['--nickname', ns.name, '--db-prefix', join(dbDir, 'weave'), '--log-level', 'debug'];
    const pidns = options.ownPidns ? ['unshare', '--pid', '--fork', '--mount-proc', '--kill-child'] : [];
    const child = spawn('nsenter', [`--net=${ns.path}`, ...pidns, process.execPath, options.bin ?? WEAVE_BIN, 'router', ...defaults, ...api, ...(options.args ?? [])], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {...process.env, ...options.env},
    });
    const router = new RouterProcess(ns, dbDir, child, options.readyAddr ?? '127.0.0.1:6784', options.apiSocket);
    await router.waitReady();
    return router;
  }

  get logs(): string {
    return this.log;
  }

  /** An HTTP call to the control API (or to `addr`), from inside the namespace: [status, body]. */
  api(method: string, path: string, data?: string, addr = this.addr): [number, string] {
    const to = this.apiSocket && addr === this.addr ? ['--unix-socket', this.apiSocket, `http://weave${path}`] : [`http://${addr}${path}`];
    const out = this.ns.exec('curl', ['-s', '-X', method, '-w', '\n%{http_code}', ...(data === undefined ? [] : ['--data', data]), ...to]);
    const cut = out.lastIndexOf('\n');
    return [Number(out.slice(cut + 1)), out.slice(0, cut)];
  }

  private async waitReady(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) throw new Error(`the router exited (${this.child.exitCode}):\n${this.log}`);
      try {
        if (this.api('GET', '/status')[0] === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise(resolve => setTimeout(resolve, 100));
    }
    throw new Error(`the router did not become ready in ${timeoutMs} ms:\n${this.log}`);
  }

  /** Stops it with `signal` and waits for the process to end. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    // Already ended, by an exit or by a signal (then exitCode stays null).
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    const exited = new Promise<number | null>(resolve => this.child.once('exit', code => resolve(code)));
    this.child.kill(signal);
    return exited;
  }

  /** Stops it and removes its state. */
  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dbDir, {recursive: true, force: true});
  }
}

/** `ip` inside the namespace, e.g. to look at the bridge the router made. */
export function ipIn(ns: Netns, args: string[]): string {
  return execFileSync('nsenter', [`--net=${ns.path}`, 'ip', ...args], {encoding: 'utf8'});
}
