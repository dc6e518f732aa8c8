import {type ChildProcess, spawn} from 'node:child_process';
import {once} from 'node:events';
import {mkdtempSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {buildSync} from 'esbuild';
import {createInterface} from 'node:readline';
import {PACKAGE_ROOT} from '../../src/lib/package.js';
import {createLogger, type Logger} from '../../src/lib/router/log.js';
import type {IpamStore, Mutation} from '../../src/lib/router/ipam/records.js';

/** A store in memory for the allocation logic; hold() delays durability until release(). */
export class MemoryStore implements IpamStore {
  readonly mutations: Mutation[] = [];
  private gate?: {promise: Promise<void>; open(): void};
  /** What roomError() answers: set it to play a full disk. */
  full?: Error;

  append(mutation: Mutation): void {
    this.mutations.push(mutation);
  }

  durable(): Promise<void> {
    return this.gate?.promise ?? Promise.resolve();
  }

  hold(): void {
    let open!: () => void;
    const promise = new Promise<void>(resolve => (open = resolve));
    this.gate = {promise, open};
  }

  release(): void {
    this.gate?.open();
    this.gate = undefined;
  }

  roomError(): Error | undefined {
    return this.full;
  }

  async close(): Promise<void> {}
}

/** A logger whose JSON lines the test can read. */
export function recordingLogger(): {logger: Logger; lines: () => {level: string; msg: string}[]} {
  const lines: string[] = [];
  return {logger: createLogger('debug', line => lines.push(line)), lines: () => lines.map(l => JSON.parse(l) as {level: string; msg: string})};
}

/** Settles a microtask turn and an I/O turn, so queued work runs. */
export function tick(): Promise<void> {
  return new Promise(resolve => setImmediate(resolve));
}

/**
 * The standalone IPAM process (test/helpers/ipam-standalone.ts, run through tsx) on 127.0.0.1,
 * once it listens; `nodeFlags` go to node itself (e.g. V8 heap sizes).
 */
export async function startStandalone(prefix: string, args: string[] = [], nodeFlags: string[] = []): Promise<{child: ChildProcess; port: number}> {
  const child = spawn(process.execPath, [...nodeFlags, standaloneBundle(), '--db-prefix', prefix, ...args], {
    cwd: PACKAGE_ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await once(createInterface({input: child.stdout!}), 'line')) as [string];
  return {child, port: (JSON.parse(line) as {port: number}).port};
}

let bundled: string | undefined;

/**
 * The standalone IPAM process bundled into one file, as the router is (scripts/bundle.ts), once
 * per test process: run through tsx it would carry the loader, and bench/ipam measures its memory.
 */
function standaloneBundle(): string {
  if (bundled) return bundled;
  const outfile = join(mkdtempSync(join(tmpdir(), 'weave-ipam-standalone-')), 'standalone.mjs');
  buildSync({entryPoints: [join(PACKAGE_ROOT, 'test/helpers/ipam-standalone.ts')], bundle: true, platform: 'node', format: 'esm', outfile, logLevel: 'error'});
  return (bundled = outfile);
}

/** Kills with SIGKILL and waits for the exit. */
export async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}
