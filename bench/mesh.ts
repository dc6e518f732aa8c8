/**
 * Mesh benchmark: N `weave router` processes in N simulated hosts on one LAN, started together,
 * each given only the first as peer (the first none). Measures the seconds until every router
 * answers, until every one sees all N peers, and until the mesh is complete (each has N-1
 * established connections, as every other reports); the resident memory of each router once
 * meshed; the control traffic each sent until then, and per minute when idle (bytes it puts on
 * the LAN).
 *
 *   npx tsc -p . && npx tsx bench/mesh.ts [--routers 20] [--idle-seconds 60] [--password]
 *     [--node-flags=--max-semi-space-size=1]
 */
import {type ChildProcess, spawn} from 'node:child_process';
import {createWriteStream, mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {performance} from 'node:perf_hooks';
import {parseArgs} from 'node:util';
import {createLogger} from '../src/lib/router/log.js';
import {TargetStore} from '../src/lib/router/mesh/target-store.js';
import {Lan} from '../test/helpers/lan.js';
import {fullReport, meshRouterArgs, type ReportRouter} from '../test/helpers/mesh-router.js';
import {WEAVE_BIN} from '../test/helpers/setup-cli.js';
import {rssMb} from './lib/memory.js';
import {BenchError, count} from './lib/options.js';
import {jsonLine, ratio, table} from './lib/report.js';
import {median} from './lib/stats.js';

/** The original router (weave 2.8.1) measured the same way on this kind of machine, not in this run. */
const REFERENCE = {routers: 20, allSeeAllSeconds: 3.9, rssMb: 67};

/** How often each router's report is read while the mesh forms: the figures' resolution. */
const POLL_MS = 200;

const USAGE = `usage: npx tsx bench/mesh.ts [options]
  --routers N       simulated hosts, one router each (default 20)
  --idle-seconds N  how long to count idle control traffic once meshed (default 60)
  --password        run every router with the same WEAVE_PASSWORD (encrypted control traffic)
  --node-flags=S    flags for the node running each router, space-separated
                    (e.g. --node-flags=--max-semi-space-size=1: V8's young generation, most of the growth)`;

interface Options {
  routers: number;
  idleSeconds: number;
  password: boolean;
  nodeFlags: string[];
}

function parseOptions(argv: string[]): Options {
  let values;
  try {
    ({values} = parseArgs({args: argv, options: {routers: {type: 'string'}, 'idle-seconds': {type: 'string'}, password: {type: 'boolean'}, 'node-flags': {type: 'string'}, help: {type: 'boolean'}}}));
  } catch (error) {
    throw new BenchError(`${(error as Error).message}\n${USAGE}`);
  }
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  return {
    routers: count(values.routers, 'routers', 20, 2, USAGE),
    idleSeconds: count(values['idle-seconds'], 'idle-seconds', 60, 1, USAGE),
    password: values.password ?? false,
    nodeFlags: (values['node-flags'] ?? '').split(' ').filter(Boolean),
  };
}

/** Resident memory of a process, in MB, from /proc. */
interface Router {
  child: ChildProcess;
  dbDir: string;
  socket: string;
  /** Seconds from the common start, when first seen. */
  ready?: number;
  seesAll?: number;
  meshed?: number;
}

/** `nsenter` execs node in place: the child's pid is the router's. */
function spawnRouter(lan: Lan, i: number, options: Options): Router {
  const host = lan.hosts[i]!;
  const dbDir = mkdtempSync(join(tmpdir(), 'weave-bench-mesh-'));
  const args = meshRouterArgs(i, dbDir, ['--nickname', `bench${i}`, '--db-prefix', join(dbDir, 'weave'), ...(i > 0 ? [lan.hosts[0]!.ip] : [])]);
  const env = {...process.env, ...(options.password ? {WEAVE_PASSWORD: 'bench mesh password'} : {})};
  const child = spawn('nsenter', [`--net=${host.ns.path}`, process.execPath, ...options.nodeFlags, WEAVE_BIN, 'router', ...args], {stdio: ['ignore', 'ignore', 'pipe'], env});
  child.stderr!.pipe(createWriteStream(join(dbDir, 'router.log')));
  return {child, dbDir, socket: join(dbDir, 'status.sock')};
}

function isMeshed(report: ReportRouter, n: number): boolean {
  const established = (report.Connections ?? []).filter(c => c.State === 'established').length;
  const links = report.Peers.flatMap(p => p.Connections ?? []).filter(c => c.Established).length;
  return report.Peers.length === n && established === n - 1 && links === n * (n - 1);
}

/** Polls every router until all are meshed; records when each answered, saw all peers, was meshed. */
async function watch(routers: Router[], start: number, n: number, timeoutMs = 120_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (routers.some(r => r.meshed === undefined)) {
    if (performance.now() > deadline) throw new BenchError(`the mesh did not form in ${timeoutMs / 1000} s; logs in ${routers.map(r => r.dbDir).join(' ')}`);
    for (const r of routers) {
      if (r.child.exitCode !== null) throw new BenchError(`a router exited (${r.child.exitCode}): see ${join(r.dbDir, 'router.log')}`);
    }
    await Promise.all(
      routers.map(async r => {
        if (r.meshed !== undefined) return;
        let ready: boolean;
        let report: ReportRouter;
        try {
          ({Ready: ready, Router: report} = await fullReport(r.socket));
        } catch {
          return;
        }
        const now = (performance.now() - start) / 1000;
        if (ready) r.ready ??= now;
        if (report.Peers.length === n) r.seesAll ??= now;
        if (isMeshed(report, n)) r.meshed = now;
      }),
    );
    await new Promise(resolve => setTimeout(resolve, POLL_MS));
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (process.getuid?.() !== 0) throw new BenchError('run as root: the benchmark creates network namespaces');
  const n = options.routers;
  const lan = Lan.create(n);
  const routers: Router[] = [];
  try {
    const start = performance.now();
    for (let i = 0; i < n; i++) routers.push(spawnRouter(lan, i, options));
    await watch(routers, start, n);
    const formationBytes = lan.sentBytes();
    const last = (pick: (r: Router) => number | undefined) => Math.max(...routers.map(r => pick(r)!));

    await new Promise(resolve => setTimeout(resolve, 3000));
    const rss = routers.map(r => rssMb(r.child.pid!));

    const before = lan.sentBytes();
    await new Promise(resolve => setTimeout(resolve, options.idleSeconds * 1000));
    const after = lan.sentBytes();
    const perPeerPerMinute = after.map((b, i) => ((b - before[i]!) * 60) / options.idleSeconds);

    const flags = options.nodeFlags.length > 0 ? options.nodeFlags.join(' ') : 'none';
    const result = {
      routers: n,
      password: options.password,
      nodeFlags: flags,
      allReadySeconds: last(r => r.ready),
      allSeeAllSeconds: last(r => r.seesAll),
      allSeeAllAfterAllReadySeconds: last(r => r.seesAll) - last(r => r.ready),
      fullMeshSeconds: last(r => r.meshed),
      formationKbPerPeerMedian: median(formationBytes) / 1024,
      rssMbMedian: median(rss),
      rssMbMax: Math.max(...rss),
      idleBytesPerPeerPerMinuteMedian: median(perPeerPerMinute),
      idleBytesPerPeerPerMinuteMax: Math.max(...perPeerPerMinute),
    };
    console.log(`\nMesh of ${n} routers on one LAN, started together, each given only the first as peer${options.password ? ', with a password' : ''}`);
    console.log(`node ${process.version} (router flags: ${flags}); idle traffic counted over ${options.idleSeconds} s on the LAN switch`);
    console.log(`reference: weave 2.8.1 routers on this kind of machine, measured separately (not in this run)\n`);
    console.log(
      table(
        ['', 'ours', 'reference', 'ours / reference'],
        [
          ['seconds until every router is ready (mesh listening)', result.allReadySeconds.toFixed(2), '', ''],
          [`seconds until every router sees all ${n} peers`, result.allSeeAllSeconds.toFixed(2), String(REFERENCE.allSeeAllSeconds), ratio(result.allSeeAllSeconds, REFERENCE.allSeeAllSeconds)],
          ['  of which after the last router was ready', result.allSeeAllAfterAllReadySeconds.toFixed(2), '', ''],
          [`seconds until fully meshed (${n - 1} established each)`, result.fullMeshSeconds.toFixed(2), '', ''],
          ['control traffic sent per peer until meshed, KB, median', result.formationKbPerPeerMedian.toFixed(0), '', ''],
          ['resident MB per router, median', result.rssMbMedian.toFixed(1), String(REFERENCE.rssMb), ratio(result.rssMbMedian, REFERENCE.rssMb)],
          ['resident MB per router, max', result.rssMbMax.toFixed(1), '', ''],
          ['idle control bytes sent per peer per minute, median', result.idleBytesPerPeerPerMinuteMedian.toFixed(0), '', ''],
          ['idle control bytes sent per peer per minute, max', result.idleBytesPerPeerPerMinuteMax.toFixed(0), '', ''],
        ],
      ),
    );
    if (n !== REFERENCE.routers) console.log(`\n(the reference figures are for ${REFERENCE.routers} routers)`);
    console.log(`\n${jsonLine(result)}`);
  } finally {
    await Promise.all(
      routers.map(
        r =>
          new Promise<void>(resolve => {
            if (r.child.exitCode !== null || r.child.signalCode !== null) return resolve();
            r.child.once('exit', () => resolve());
            r.child.kill('SIGTERM');
          }),
      ),
    );
    const silent = createLogger('error', () => {});
    for (const r of routers) {
      rmSync(new TargetStore(join(r.dbDir, 'weave'), silent).sentinel, {force: true});
      rmSync(r.dbDir, {recursive: true, force: true});
    }
    lan.destroy();
  }
}

main().catch(error => {
  console.error(error instanceof BenchError ? error.message : error);
  process.exitCode = 1;
});
