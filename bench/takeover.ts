/**
 * Takeover benchmark: how long pods on two hosts lose each other when both hosts' routers are
 * replaced at once, as in "Moving a 2.8.1 cluster" (README). Each host keeps its bridge and its
 * pods; the routers stop, the overlay device is removed (a host coming from weave 2.8.1 has
 * none of ours), and both start at the same moment. A pod on one host pings a pod on the other
 * every 0.1 s throughout: the gap is from the stop to the first answer after the start, and the
 * part of it after the start is what the new routers take.
 *
 *   npm run build && npx tsx bench/takeover.ts [-- --rounds 5]
 */
import {type ChildProcess, spawn} from 'node:child_process';
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {createInterface} from 'node:readline';
import {parseArgs} from 'node:util';
import {createLogger} from '../src/lib/router/log.js';
import {TargetStore} from '../src/lib/router/mesh/target-store.js';
import {Lan, type LanHost} from '../test/helpers/lan.js';
import {MeshRouter, waitUntil} from '../test/helpers/mesh-router.js';
import type {Netns} from '../test/helpers/netns.js';
import {attachPod, type Pod} from '../test/helpers/weave-pods.js';
import {benchArgs, BenchError, count} from './lib/options.js';
import {jsonLine, table} from './lib/report.js';
import {median} from './lib/stats.js';

const USAGE = `usage: npx tsx bench/takeover.ts [options]   (npm run build first: the routers run from dist)
  --rounds N   takeovers to time; medians are reported (default 5)`;

/** A ping running in `from` every 0.1 s: the epoch ms of every answer. */
function pingAll(from: Netns, to: string): {answers: number[]; child: ChildProcess} {
  const answers: number[] = [];
  const child = spawn('nsenter', [`--net=${from.path}`, 'ping', '-n', '-D', '-i', '0.1', to], {stdio: ['ignore', 'pipe', 'ignore']});
  createInterface({input: child.stdout!}).on('line', line => {
    const stamp = /^\[(\d+\.\d+)\] \d+ bytes from/.exec(line);
    if (stamp) answers.push(Number(stamp[1]) * 1000);
  });
  return {answers, child};
}

async function main(): Promise<void> {
  const values = benchArgs(USAGE, () => parseArgs({args: process.argv.slice(2), options: {rounds: {type: 'string'}, help: {type: 'boolean'}}}));
  const rounds = count(values.rounds, 'rounds', 5, 1, USAGE);
  if (process.getuid?.() !== 0) throw new BenchError('run as root: the benchmark creates network namespaces');
  const lan = Lan.create(2);
  const hosts = lan.hosts as [LanHost, LanHost];
  const dir = mkdtempSync(join(tmpdir(), 'bench-takeover-'));
  const dbDirs = [mkdtempSync(join(dir, 'db0-')), mkdtempSync(join(dir, 'db1-'))];
  let routers: MeshRouter[] = [];
  const pods: Pod[] = [];
  const startBoth = () => Promise.all([MeshRouter.start(hosts[0], 0, {peers: [hosts[1].ip], dbDir: dbDirs[0]}), MeshRouter.start(hosts[1], 1, {peers: [hosts[0].ip], dbDir: dbDirs[1]})]);
  let ping: ReturnType<typeof pingAll> | undefined;
  try {
    routers = await startBoth();
    pods.push(await attachPod(hosts[0], 0, 'takeover0', 'tko'), await attachPod(hosts[1], 1, 'takeover1', 'tko'));
    const [a, b] = pods as [Pod, Pod];
    await waitUntil('the overlay between the two hosts', async () => a.ns.exec('ping', ['-c', '1', '-W', '1', b.ip]).includes('1 received'), 30_000, 200);
    ping = pingAll(a.ns, b.ip);
    const samples: {gap: number; afterStart: number; ready: number}[] = [];
    for (let round = 0; round < rounds; round++) {
      const stopped = Date.now();
      await Promise.all(routers.map(r => r.process.stop()));
      for (const h of hosts) h.ns.exec('ip', ['link', 'del', 'vxlan-6784']);
      const started = Date.now();
      routers = await startBoth();
      const ready = Date.now() - started;
      await waitUntil('pod traffic again', async () => ping!.answers.some(t => t > started), 60_000, 50);
      const back = ping.answers.find(t => t > started)!;
      samples.push({gap: back - stopped, afterStart: back - started, ready});
    }
    const row = (name: string, pick: (s: (typeof samples)[0]) => number) => {
      const values = samples.map(pick);
      return [name, (median(values) / 1000).toFixed(2), (Math.min(...values) / 1000).toFixed(2), (Math.max(...values) / 1000).toFixed(2)];
    };
    console.log(`\nPod traffic between two hosts whose routers are both replaced at once (${rounds} rounds, seconds)\n`);
    console.log(table(['', 'median', 'min', 'max'], [row('no answer, from the stop', s => s.gap), row('  of which after the start', s => s.afterStart), row('routers ready, from the start', s => s.ready)]));
    console.log(`\n${jsonLine({gapS: median(samples.map(s => s.gap)) / 1000, afterStartS: median(samples.map(s => s.afterStart)) / 1000, readyS: median(samples.map(s => s.ready)) / 1000, samples})}`);
  } finally {
    ping?.child.kill();
    await Promise.all(routers.map(r => r.process.stop()));
    const silent = createLogger('error', () => {});
    for (const d of dbDirs) rmSync(new TargetStore(join(d, 'weave'), silent).sentinel, {force: true});
    for (const pod of pods) pod.ns.delete();
    lan.destroy();
    rmSync(dir, {recursive: true, force: true});
  }
}

main().catch(error => {
  console.error(error instanceof BenchError ? error.message : error);
  process.exitCode = 1;
});
