/**
 * IPAM benchmark: durable allocations per second over HTTP with a keep-alive client (N in a row,
 * then N at once), and the resident memory of the IPAM process idle and after many allocations.
 * The service runs alone in its own process (test/helpers/ipam-standalone.ts) over a fresh
 * db-prefix per round, so its memory is its own and every answer waited for its disk write.
 *
 *   npx tsc -p . && npx tsx bench/ipam.ts [--allocations 1000] [--fill 10000] [--rounds 3]
 *     [--sockets 100] [--dir /var/tmp] [--node-flags "--max-semi-space-size=2"]
 */
import {closeSync, constants, mkdtempSync, openSync, rmSync, writeFileSync, writeSync} from 'node:fs';
import {Agent, request} from 'node:http';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {performance} from 'node:perf_hooks';
import {parseArgs} from 'node:util';
import {killHard, startStandalone} from '../test/helpers/ipam.js';
import {rssMb} from './lib/memory.js';
import {benchArgs, BenchError, count} from './lib/options.js';
import {jsonLine, ratio, table} from './lib/report.js';
import {median} from './lib/stats.js';

/** The original router (weave 2.8.1) on this kind of machine, measured separately, not in this run. */
const REFERENCE = {perSecond: 600, idleMb: 58, loadedMb: 70, loadedAfter: 4000};

const USAGE = `usage: npx tsx bench/ipam.ts [options]
  --allocations N  allocations timed in a row, and again all at once (default 1000)
  --fill N         allocations in all before the second memory reading (default 10000)
  --rounds N       fresh IPAM processes measured; medians are reported (default 3)
  --sockets N      keep-alive connections the concurrent allocations share (default 100)
  --dir DIR        where the db-prefix lives (default the system temp dir; pick the disk to measure)
  --node-flags=S   flags for the node running the IPAM process, space-separated
                   (default none, as the router container, whose heap keepHeapSmall() tunes at run time;
                   e.g. --node-flags=--max-semi-space-size=2: V8's young generation)`;


interface Options {
  allocations: number;
  fill: number;
  rounds: number;
  sockets: number;
  dir: string;
  nodeFlags: string[];
}


function parseOptions(argv: string[]): Options {
  const values = benchArgs(USAGE, () =>
    parseArgs({
      args: argv,
      options: {
        allocations: {type: 'string'},
        fill: {type: 'string'},
        rounds: {type: 'string'},
        sockets: {type: 'string'},
        dir: {type: 'string'},
        'node-flags': {type: 'string'},
        help: {type: 'boolean', short: 'h', default: false},
      },
    }),
  );
  const options = {
    allocations: count(values.allocations, 'allocations', 1000, 1, USAGE),
    fill: count(values.fill, 'fill', 10000, 1, USAGE),
    rounds: count(values.rounds, 'rounds', 3, 1, USAGE),
    sockets: count(values.sockets, 'sockets', 100, 1, USAGE),
    dir: values.dir ?? tmpdir(),
    nodeFlags: (values['node-flags'] ?? '').split(' ').filter(Boolean),
  };
  if (options.fill < Math.max(REFERENCE.loadedAfter, 2 * options.allocations + 1)) throw new BenchError(`--fill must exceed both ${REFERENCE.loadedAfter} and twice --allocations`);
  return options;
}

/** One request; anything but 200 with an `a.b.c.d/len` body fails the benchmark. */
function call(agent: Agent, port: number, method: string, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({host: '127.0.0.1', port, method, path, agent}, res => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => (res.statusCode === 200 && /\/\d+$/.test(body) ? resolve(body) : reject(new BenchError(`${method} ${path}: ${res.statusCode} ${body}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

const post = (agent: Agent, port: number, path: string) => call(agent, port, 'POST', path);

/** Resident memory of a process, in MB, from /proc. */
/**
 * The disk's own limit in this run: synchronous 100-byte writes (O_DSYNC) into a preallocated
 * file, one after the other, per second. Allocations in a row cannot beat it: each waits for one.
 */
function diskSyncsPerSecond(dir: string, writes = 500): number {
  const path = join(dir, 'weave-bench-disk');
  writeFileSync(path, Buffer.alloc(writes * 100));
  const fd = openSync(path, constants.O_RDWR | constants.O_DSYNC);
  try {
    const record = Buffer.alloc(100, 1);
    const start = performance.now();
    for (let i = 0; i < writes; i++) writeSync(fd, record, 0, record.length, i * 100);
    return writes / ((performance.now() - start) / 1000);
  } finally {
    closeSync(fd);
    rmSync(path, {force: true});
  }
}

interface Round {
  /** The disk floor measured just before the round. */
  diskPerSecond: number;
  /** Round trips in a row that touch no disk (GET /ipinfo/defaultsubnet): the HTTP floor. */
  httpPerSecond: number;
  sequentialPerSecond: number;
  concurrentPerSecond: number;
  idleMb: number;
  /** After as many allocations as the reference's reading. */
  referenceLoadMb: number;
  loadedMb: number;
}

async function round(options: Options, n: number): Promise<Round> {
  const dir = mkdtempSync(join(options.dir, 'weave-bench-ipam-'));
  const diskPerSecond = diskSyncsPerSecond(dir);
  const {child, port} = await startStandalone(join(dir, 'weave'), [], options.nodeFlags);
  const agent = new Agent({keepAlive: true, maxSockets: options.sockets});
  try {
    await new Promise(resolve => setTimeout(resolve, 500));
    const idleMb = rssMb(child.pid!);
    let next = 0;
    const id = () => `bench-${n}-${next++}`;

    let start = performance.now();
    for (let i = 0; i < options.allocations; i++) await call(agent, port, 'GET', '/ipinfo/defaultsubnet');
    const httpPerSecond = options.allocations / ((performance.now() - start) / 1000);

    start = performance.now();
    for (let i = 0; i < options.allocations; i++) await post(agent, port, `/ip/${id()}`);
    const sequentialPerSecond = options.allocations / ((performance.now() - start) / 1000);

    start = performance.now();
    const all = await Promise.all(Array.from({length: options.allocations}, () => post(agent, port, `/ip/${id()}`)));
    const concurrentPerSecond = options.allocations / ((performance.now() - start) / 1000);
    if (new Set(all).size !== all.length) throw new BenchError('concurrent allocations returned the same address twice');

    const fillTo = async (total: number) => {
      while (next < total) {
        const batch = Math.min(options.sockets, total - next);
        await Promise.all(Array.from({length: batch}, () => post(agent, port, `/ip/${id()}`)));
      }
      await new Promise(resolve => setTimeout(resolve, 500));
      return rssMb(child.pid!);
    };
    const referenceLoadMb = await fillTo(REFERENCE.loadedAfter);
    const loadedMb = await fillTo(options.fill);
    return {diskPerSecond, httpPerSecond, sequentialPerSecond, concurrentPerSecond, idleMb, referenceLoadMb, loadedMb};
  } finally {
    agent.destroy();
    await killHard(child);
    rmSync(dir, {recursive: true, force: true});
  }
}

function report(options: Options, rounds: Round[]): void {
  const med = (pick: (r: Round) => number) => median(rounds.map(pick));
  const disk = med(r => r.diskPerSecond);
  const http = med(r => r.httpPerSecond);
  // In a row, each allocation costs one round trip plus one sync: the best possible rate.
  const bound = 1 / (1 / disk + 1 / http);
  const seq = med(r => r.sequentialPerSecond);
  const conc = med(r => r.concurrentPerSecond);
  const idle = med(r => r.idleMb);
  const atReference = med(r => r.referenceLoadMb);
  const loaded = med(r => r.loadedMb);
  const flags = options.nodeFlags.length > 0 ? options.nodeFlags.join(' ') : 'none';
  console.log(`\nIPAM over HTTP (keep-alive), every answer after its disk write (O_DSYNC); ${options.rounds} rounds, medians`);
  console.log(`node ${process.version} (IPAM process flags: ${flags}); data in ${options.dir}; ${options.allocations} at once share ${options.sockets} connections`);
  console.log(`reference: weave 2.8.1 router on this kind of machine, measured separately (not in this run)\n`);
  console.log(
    table(
      ['', 'ours', 'reference', 'ours / reference'],
      [
        ['disk: O_DSYNC writes/s in a row (this run)', disk.toFixed(0), '', ''],
        ['HTTP: GET round trips/s in a row, no disk', http.toFixed(0), '', ''],
        [`allocations/s, ${options.allocations} in a row`, seq.toFixed(0), String(REFERENCE.perSecond), ratio(seq, REFERENCE.perSecond)],
        [`allocations/s, ${options.allocations} at once`, conc.toFixed(0), String(REFERENCE.perSecond), ratio(conc, REFERENCE.perSecond)],
        ['resident MB, idle', idle.toFixed(1), String(REFERENCE.idleMb), ratio(idle, REFERENCE.idleMb)],
        [`resident MB, after ${REFERENCE.loadedAfter} allocations`, atReference.toFixed(1), String(REFERENCE.loadedMb), ratio(atReference, REFERENCE.loadedMb)],
        [`resident MB, after ${options.fill} allocations`, loaded.toFixed(1), `${REFERENCE.loadedMb} (at ${REFERENCE.loadedAfter})`, ratio(loaded, REFERENCE.loadedMb)],
      ],
    ),
  );
  const perRound = rounds.map(r => `disk ${r.diskPerSecond.toFixed(0)}, http ${r.httpPerSecond.toFixed(0)}, ${r.sequentialPerSecond.toFixed(0)}/${r.concurrentPerSecond.toFixed(0)} per s, ${[r.idleMb, r.referenceLoadMb, r.loadedMb].map(m => m.toFixed(1)).join('/')} MB`);
  console.log(`\nallocations in a row reach ${((100 * seq) / bound).toFixed(0)}% of ${bound.toFixed(0)}/s, the best one round trip plus one sync each allows in this run`);
  console.log(`per round (disk; http; in a row/at once; idle/${REFERENCE.loadedAfter}/${options.fill}): ${perRound.join('; ')}`);
  console.log(
    jsonLine({
      bench: 'ipam',
      allocations: options.allocations,
      fill: options.fill,
      rounds: options.rounds,
      sockets: options.sockets,
      nodeFlags: flags,
      diskSyncsPerSecond: disk,
      httpRoundTripsPerSecond: http,
      sequentialPerSecond: seq,
      concurrentPerSecond: conc,
      idleMb: idle,
      referenceLoadMb: atReference,
      loadedMb: loaded,
      reference: REFERENCE,
    }),
  );
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const rounds: Round[] = [];
  for (let n = 1; n <= options.rounds; n++) {
    rounds.push(await round(options, n));
    const r = rounds.at(-1)!;
    process.stderr.write(`round ${n}/${options.rounds}: disk ${r.diskPerSecond.toFixed(0)} syncs/s, http ${r.httpPerSecond.toFixed(0)}/s, ${r.sequentialPerSecond.toFixed(0)}/s in a row, ${r.concurrentPerSecond.toFixed(0)}/s at once, ${r.idleMb.toFixed(1)} -> ${r.referenceLoadMb.toFixed(1)} -> ${r.loadedMb.toFixed(1)} MB\n`);
  }
  report(options, rounds);
}

try {
  await main();
} catch (error) {
  if (!(error instanceof BenchError)) throw error;
  console.error(`bench/ipam: ${error.message}`);
  process.exitCode = 1;
}
