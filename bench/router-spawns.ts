/**
 * The programs (`ip`, `bridge`, `tc`, iptables...) two meshed routers start: while they start
 * (spawn to /status 200) and while they then sit idle. Each program a router runs costs it a
 * fork of its whole process, during which its event loop stands still. Counted by `strace -f`
 * attached to this process, so every program its children start is seen; the harness's own
 * (nsenter, curl, node) are left out. With --reference, the same for another checkout's build.
 *
 *   npm run build && npx tsx bench/router-spawns.ts [--idle 60] [--reference /work/main]
 */
import {type ChildProcess, spawn} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {basename, join} from 'node:path';
import {setTimeout as delay} from 'node:timers/promises';
import {parseArgs} from 'node:util';
import {Lan} from '../test/helpers/lan.js';
import {meshRouterArgs} from '../test/helpers/mesh-router.js';
import {RouterProcess} from '../test/helpers/router.js';
import {benchArgs, BenchError, count} from './lib/options.js';
import {jsonLine, table} from './lib/report.js';

const USAGE = `usage: npx tsx bench/router-spawns.ts [options]
  --idle S           seconds the meshed routers sit idle after their start (default 60)
  --reference DIR    also count a build in another checkout (its bin/weave.js and dist/)`;

/** What the harness itself runs: the routers' nsenter and node, and the curl of each /status poll. */
const HARNESS = new Set(['nsenter', 'curl', 'node', 'strace']);

interface Phase {
  from: number;
  to: number;
}

interface Counted {
  start: Map<string, number>;
  idle: Map<string, number>;
  startMs: number[];
}

/** strace -f attached to this process: each execve of ours and of our descendants, with its time. */
async function traceSelf(file: string): Promise<ChildProcess> {
  const strace = spawn('strace', ['-f', '-qq', '-ttt', '-e', 'trace=execve', '-e', 'signal=none', '-o', file, '-p', String(process.pid)], {stdio: 'ignore'});
  // Attaching takes a moment; a router started before would be missed.
  await delay(500);
  if (strace.exitCode !== null) throw new BenchError('strace could not attach to this process (is it installed, and are we root?)');
  return strace;
}

function execs(file: string): {at: number; program: string}[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .flatMap(line => {
      const m = /^\d+\s+(\d+\.\d+) execve\("([^"]+)"/.exec(line);
      return m && !line.includes('= -1') ? [{at: Number(m[1]) * 1000, program: basename(m[2]!)}] : [];
    })
    .filter(e => !HARNESS.has(e.program));
}

function tally(events: {at: number; program: string}[], phase: Phase): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of events) if (e.at >= phase.from && e.at < phase.to) out.set(e.program, (out.get(e.program) ?? 0) + 1);
  return out;
}

async function countBuild(bin: string | undefined, idleS: number): Promise<Counted> {
  const lan = Lan.create(2);
  const dir = mkdtempSync(join(tmpdir(), 'wbsp-'));
  const file = join(dir, 'strace');
  const routers: RouterProcess[] = [];
  const strace = await traceSelf(file);
  try {
    const startMs: number[] = [];
    const began = Date.now();
    for (const i of [0, 1]) {
      const dbDir = mkdtempSync(join(dir, `db${i}-`));
      const peers = i === 0 ? [] : [lan.hosts[0]!.ip];
      const t = Date.now();
      routers.push(await RouterProcess.start(lan.hosts[i]!.ns, {args: [...meshRouterArgs(i, dbDir), ...peers], dbDir, ...(bin ? {bin} : {})}));
      startMs.push(Date.now() - t);
    }
    const ready = Date.now();
    await delay(idleS * 1000);
    const idleEnd = Date.now();
    for (const r of routers.splice(0)) await r.destroy();
    strace.kill('SIGINT');
    await new Promise(resolve => strace.once('exit', resolve));
    const events = execs(file);
    return {start: tally(events, {from: began, to: ready}), idle: tally(events, {from: ready, to: idleEnd}), startMs};
  } finally {
    if (strace.exitCode === null) strace.kill('SIGINT');
    for (const r of routers) await r.destroy();
    lan.destroy();
    rmSync(dir, {recursive: true, force: true});
  }
}

const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
const detail = (m: Map<string, number>) =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .map(([p, n]) => `${p} ${n}`)
    .join(', ') || '-';

async function main(): Promise<void> {
  const values = benchArgs(USAGE, () => parseArgs({args: process.argv.slice(2), options: {idle: {type: 'string'}, reference: {type: 'string'}, help: {type: 'boolean'}}}));
  const idleS = count(values.idle, 'idle', 60, 1, USAGE);
  if (process.getuid?.() !== 0) throw new BenchError('run as root: each router runs in a network namespace of its own');
  const builds: [string, string | undefined][] = [['ours', undefined]];
  if (values.reference) builds.push([`reference (${values.reference})`, join(values.reference, 'bin', 'weave.js')]);
  const rows: string[][] = [];
  const json: Record<string, unknown> = {bench: 'router-spawns', idleS};
  for (const [name, bin] of builds) {
    const c = await countBuild(bin, idleS);
    rows.push([name, 'start of 2 routers', String(total(c.start)), detail(c.start)], [name, `${idleS} s idle, 2 routers`, String(total(c.idle)), detail(c.idle)]);
    json[name === 'ours' ? 'ours' : 'reference'] = {start: total(c.start), idle: total(c.idle), startMs: c.startMs};
  }
  console.log(`programs started by two meshed routers\n`);
  console.log(table(['build', 'phase', 'programs', 'which'], rows));
  console.log(`\n${jsonLine(json)}`);
}

main().catch(error => {
  console.error(error instanceof BenchError ? error.message : error);
  process.exitCode = 1;
});
