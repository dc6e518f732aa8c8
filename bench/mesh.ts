/**
 * Mesh benchmark: N `weave router` processes in N simulated hosts on one LAN, started together,
 * each given only the first as peer (the first none). Measures the seconds until every router
 * answers, until every one sees all N peers, and until the mesh is complete (each has N-1
 * established connections, as every other reports); from the moment all see all, the seconds
 * until the first allocation succeeds (POST /ip/<id> on the last router, which blocks until the
 * IPAM ring exists, by consensus, the default); the CPU each router used and its resident memory
 * once meshed, and again after the idle time; the control traffic each sent until then, and per
 * minute when idle (bytes it puts on the LAN), from 30 s after the first allocation at least.
 *
 *   npx tsc -p . && npx tsx bench/mesh.ts [--routers 20] [--idle-seconds 60] [--timeout S] [--password]
 *     [--node-flags=--max-semi-space-size=1] [--logs DIR]
 *
 * Each router's node runs as in the router container, without flags, unless --node-flags says
 * otherwise.
 */
import {type ChildProcess, spawn} from 'node:child_process';
import {copyFileSync, createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {performance} from 'node:perf_hooks';
import {parseArgs} from 'node:util';
import {RouterClient} from '../src/lib/api/client.js';
import {createLogger} from '../src/lib/router/log.js';
import {TargetStore} from '../src/lib/router/mesh/target-store.js';
import {Lan} from '../test/helpers/lan.js';
import {getUnix, meshRouterArgs} from '../test/helpers/mesh-router.js';
import {WEAVE_BIN} from '../test/helpers/setup-cli.js';
import {processCpuMs} from './lib/cpu.js';
import {rssMb} from './lib/memory.js';
import {benchArgs, BenchError, count} from './lib/options.js';
import {jsonLine, ratio, table} from './lib/report.js';
import {median} from './lib/stats.js';

/** The original router (weave 2.8.1) measured the same way on this kind of machine, not in this run. */
const REFERENCE = {routers: 20, allSeeAllSeconds: 3.9, firstAllocationSeconds: 0.26, rssMb: 67};

/**
 * How often each router's status is read while the mesh forms: the figures' resolution. Longer for
 * more routers, so that the benchmark's own requests stay a small share of the 2 cores (100
 * routers read once a second still took 5% of their CPU: every 2 s at 100).
 */
const pollMs = (routers: number) => Math.max(200, 20 * routers);

/** How long the first allocation may block waiting for the IPAM ring. */
const ALLOCATION_TIMEOUT_MS = 60_000;

/**
 * Idle traffic is counted from this long after the first allocation at least: the ring that
 * consensus made then goes to every peer, and at 100 routers, where the mesh completed as the
 * allocation succeeded, one peer's first idle minute carried 745 KB of it.
 */
const SETTLE_AFTER_ALLOCATION_MS = 30_000;

const USAGE = `usage: npx tsx bench/mesh.ts [options]
  --routers N       simulated hosts, one router each (default 20)
  --idle-seconds N  how long to count idle control traffic once meshed (default 60)
  --timeout S       how long the mesh may take to form before the benchmark gives up (default 3 s
                    per router, at least 120: the original took 141.5 s for 100 on 2 cores)
  --password        run every router with the same WEAVE_PASSWORD (encrypted control traffic)
  --node-flags=S    flags for the node running each router, space-separated (default none, as the
                    router container; e.g. --node-flags=--max-semi-space-size=1: V8's young generation)
  --logs DIR        keep each router's log as DIR/router<i>.log (they are removed with the routers otherwise)`;

interface Options {
  routers: number;
  idleSeconds: number;
  /** Seconds the mesh may take to form. */
  timeout: number;
  password: boolean;
  nodeFlags: string[];
  logs?: string;
}

function parseOptions(argv: string[]): Options {
  const values = benchArgs(USAGE, () =>
    parseArgs({args: argv, options: {routers: {type: 'string'}, 'idle-seconds': {type: 'string'}, timeout: {type: 'string'}, password: {type: 'boolean'}, 'node-flags': {type: 'string'}, logs: {type: 'string'}, help: {type: 'boolean'}}}),
  );
  const routers = count(values.routers, 'routers', 20, 2, USAGE);
  return {
    routers,
    idleSeconds: count(values['idle-seconds'], 'idle-seconds', 60, 1, USAGE),
    timeout: count(values.timeout, 'timeout', Math.max(120, 3 * routers), 1, USAGE),
    password: values.password ?? false,
    nodeFlags: (values['node-flags'] ?? '').split(' ').filter(Boolean),
    logs: values.logs,
  };
}

interface Router {
  child: ChildProcess;
  dbDir: string;
  /** Status API socket. */
  socket: string;
  /** Control API socket (allocations). */
  api: string;
  /** Seconds from the common start, when first seen. */
  ready?: number;
  /** Peers it saw at the last look. */
  peersSeen: number;
  seesAll?: number;
  meshed?: number;
  /** CPU ms used until first seen ready, and until meshed. */
  readyCpuMs?: number;
  cpuMs?: number;
}

/**
 * A router's environment as its container gives it: PATH, and the password when there is one;
 * not this shell's. Here the shell has NODE_EXTRA_CA_CERTS, which alone costs every node ~70 ms
 * of CPU at start (it parses ~140 CA certificates) and which the router in its container never
 * sees.
 */
function routerEnv(options: Options): NodeJS.ProcessEnv {
  return {PATH: process.env.PATH, ...(options.password ? {WEAVE_PASSWORD: 'bench mesh password'} : {})};
}

/** `nsenter` execs node in place: the child's pid is the router's. */
function spawnRouter(lan: Lan, i: number, options: Options): Router {
  const host = lan.hosts[i]!;
  const dbDir = mkdtempSync(join(tmpdir(), 'weave-bench-mesh-'));
  const api = join(dbDir, 'http.sock');
  const args = meshRouterArgs(i, dbDir, ['--nickname', `bench${i}`, '--db-prefix', join(dbDir, 'weave'), '--http-addr', api, ...(i > 0 ? [lan.hosts[0]!.ip] : [])]);
  const child = spawn('nsenter', [`--net=${host.ns.path}`, process.execPath, ...options.nodeFlags, WEAVE_BIN, 'router', ...args], {stdio: ['ignore', 'ignore', 'pipe'], env: routerEnv(options)});
  child.stderr!.pipe(createWriteStream(join(dbDir, 'router.log')));
  return {child, dbDir, socket: join(dbDir, 'status.sock'), api, peersSeen: 0};
}

/**
 * What the `GET /status` page says of the mesh: `Connections: 19 (19 established)` and
 * `Peers: 20 (with 380 established connections)`. Read rather than the JSON report: 20 routers
 * asked 5 times a second would spend a large share of the 2 cores marshalling reports.
 */
interface MeshCounts {
  peers: number;
  /** Our connections that are established. */
  established: number;
  /** Established connections between any two peers, each end counted. */
  links: number;
}

/** Undefined for a page without those lines: a router still starting may answer before it has them. */
function meshCounts(status: string): MeshCounts | undefined {
  const peers = /^\s*Peers: (\d+)(?: \(with (\d+) established)?/m.exec(status);
  const connections = /^\s*Connections: \d+(?: \((\d+) established)?/m.exec(status);
  if (!peers || !connections) return undefined;
  return {peers: Number(peers[1]), links: Number(peers[2] ?? 0), established: Number(connections[1] ?? 0)};
}

/** The end of a router's log, for an error: its directory is removed when the benchmark ends. */
function logTail(r: Router, lines = 15): string {
  const log = readFileSync(join(r.dbDir, 'router.log'), 'utf8').trimEnd().split('\n');
  return log.slice(-lines).join('\n');
}

function isMeshed(counts: MeshCounts, n: number): boolean {
  return counts.peers === n && counts.established === n - 1 && counts.links === n * (n - 1);
}

/**
 * Polls every router until all are meshed; records when each answered, saw all peers, was meshed
 * (and its CPU then). Calls `allSeeAll` once, as soon as every router sees all N.
 */
async function watch(routers: Router[], start: number, n: number, allSeeAll: () => void, timeoutMs: number): Promise<void> {
  let seen = false;
  const deadline = performance.now() + timeoutMs;
  while (routers.some(r => r.meshed === undefined)) {
    if (performance.now() > deadline) {
      const late = routers.filter(r => r.meshed === undefined);
      const seeing = routers.filter(r => r.seesAll !== undefined);
      const progress = `${seeing.length} saw all ${n} peers (the last after ${Math.max(0, ...seeing.map(r => r.seesAll!)).toFixed(1)} s), the one that saw fewest saw ${Math.min(...routers.map(r => r.peersSeen))}`;
      throw new BenchError(`the mesh did not form in ${timeoutMs / 1000} s: ${late.length} routers not meshed; ${progress}; the log of one ends:\n${logTail(late[0]!)}`);
    }
    for (const r of routers) {
      if (r.child.exitCode !== null) throw new BenchError(`router ${routers.indexOf(r)} exited (${r.child.exitCode}); its log ends:\n${logTail(r)}`);
    }
    await Promise.all(
      routers.map(async r => {
        if (r.meshed !== undefined) return;
        let status: number;
        let body: string;
        try {
          [status, body] = await getUnix(r.socket, '/status');
        } catch {
          return;
        }
        const now = (performance.now() - start) / 1000;
        // 503 with the full page until the router is ready (its mesh started).
        if (status === 200 && r.ready === undefined) {
          r.ready = now;
          r.readyCpuMs = processCpuMs(r.child.pid!);
        }
        const counts = meshCounts(body);
        if (!counts) return;
        r.peersSeen = counts.peers;
        if (counts.peers === n) r.seesAll ??= now;
        if (isMeshed(counts, n)) {
          r.meshed = now;
          r.cpuMs = processCpuMs(r.child.pid!);
        }
      }),
    );
    if (!seen && routers.every(r => r.seesAll !== undefined)) {
      seen = true;
      allSeeAll();
    }
    await new Promise(resolve => setTimeout(resolve, pollMs(n)));
  }
}

/** Allocates one address on `router`; resolves with the seconds from the common start at success. */
async function firstAllocation(router: Router, start: number): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BenchError(`the first allocation did not succeed in ${ALLOCATION_TIMEOUT_MS / 1000} s; the router's log ends:\n${logTail(router)}`)), ALLOCATION_TIMEOUT_MS);
  });
  try {
    await Promise.race([new RouterClient(router.api).allocate('bench-first-allocation'), timeout]);
  } finally {
    clearTimeout(timer);
  }
  return (performance.now() - start) / 1000;
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
    let allocated: Promise<number> | undefined;
    await watch(
      routers,
      start,
      n,
      () => {
        allocated = firstAllocation(routers[n - 1]!, start);
        // Awaited below, after the mesh is complete; a failure meanwhile must not go unhandled.
        allocated.catch(() => {});
      },
      options.timeout * 1000,
    );
    const allocatedAt = await allocated!;
    const formationBytes = lan.sentBytes();
    const last = (pick: (r: Router) => number | undefined) => Math.max(...routers.map(r => pick(r)!));

    await new Promise(resolve => setTimeout(resolve, 3000));
    const rss = routers.map(r => rssMb(r.child.pid!));

    const settled = start + allocatedAt * 1000 + SETTLE_AFTER_ALLOCATION_MS - performance.now();
    if (settled > 0) await new Promise(resolve => setTimeout(resolve, settled));
    const before = lan.sentBytes();
    await new Promise(resolve => setTimeout(resolve, options.idleSeconds * 1000));
    const after = lan.sentBytes();
    // Once quiet, V8 gives back the heap the formation's garbage grew: what a router holds for good.
    const idleRss = routers.map(r => rssMb(r.child.pid!));
    const perPeerPerMinute = after.map((b, i) => ((b - before[i]!) * 60) / options.idleSeconds);

    const flags = options.nodeFlags.length > 0 ? options.nodeFlags.join(' ') : 'none';
    const result = {
      routers: n,
      password: options.password,
      nodeFlags: flags,
      allReadySeconds: last(r => r.ready),
      allSeeAllSeconds: last(r => r.seesAll),
      allSeeAllAfterAllReadySeconds: last(r => r.seesAll) - last(r => r.ready),
      firstAllocationSeconds: allocatedAt - last(r => r.seesAll),
      fullMeshSeconds: last(r => r.meshed),
      cpuSecondsPerRouterMedian: median(routers.map(r => r.cpuMs!)) / 1000,
      readyCpuSecondsPerRouterMedian: median(routers.map(r => r.readyCpuMs!)) / 1000,
      cpuSecondsFirstRouter: routers[0]!.cpuMs! / 1000,
      formationKbPerPeerMedian: median(formationBytes) / 1024,
      rssMbMedian: median(rss),
      rssMbMax: Math.max(...rss),
      idleRssMbMedian: median(idleRss),
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
          [`then seconds until the first allocation succeeds (router ${n - 1})`, result.firstAllocationSeconds.toFixed(2), String(REFERENCE.firstAllocationSeconds), ratio(result.firstAllocationSeconds, REFERENCE.firstAllocationSeconds)],
          [`seconds until fully meshed (${n - 1} established each)`, result.fullMeshSeconds.toFixed(2), '', ''],
          ['CPU seconds per router until ready, median', result.readyCpuSecondsPerRouterMedian.toFixed(2), '', ''],
          ['CPU seconds per router until meshed, median', result.cpuSecondsPerRouterMedian.toFixed(2), '', ''],
          ['  the first router (every other\'s peer)', result.cpuSecondsFirstRouter.toFixed(2), '', ''],
          ['control traffic sent per peer until meshed, KB, median', result.formationKbPerPeerMedian.toFixed(0), '', ''],
          ['resident MB per router, median', result.rssMbMedian.toFixed(1), String(REFERENCE.rssMb), ratio(result.rssMbMedian, REFERENCE.rssMb)],
          ['resident MB per router, max', result.rssMbMax.toFixed(1), '', ''],
          [`resident MB per router after the ${options.idleSeconds} s idle, median`, result.idleRssMbMedian.toFixed(1), '', ''],
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
    if (options.logs) mkdirSync(options.logs, {recursive: true});
    for (const [i, r] of routers.entries()) {
      if (options.logs) copyFileSync(join(r.dbDir, 'router.log'), join(options.logs, `router${i}.log`));
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
