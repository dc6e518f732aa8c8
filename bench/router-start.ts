/**
 * One router's start: CPU seconds (user + system) the `weave router` process used until its
 * control API answers /status 200, against the CPU of a bare `node -e 0` in the same run, and
 * the cost of one /metrics scrape. Each round starts a router in a network namespace of its own
 * over fresh state, then stops it. Run it alone: the machine's other work slows the figures.
 *
 *   npm run build && npx tsx bench/router-start.ts [--rounds 10] [--reference /work/main]
 */
import {join} from 'node:path';
import {performance} from 'node:perf_hooks';
import {parseArgs} from 'node:util';
import {Netns} from '../test/helpers/netns.js';
import {RouterProcess} from '../test/helpers/router.js';
import {processCpuMs} from './lib/cpu.js';
import {benchArgs, BenchError, count} from './lib/options.js';
import {jsonLine, ratio, table} from './lib/report.js';
import {median} from './lib/stats.js';
import {timeCommand} from './lib/timing.js';

const USAGE = `usage: npx tsx bench/router-start.ts [options]
  --rounds N         routers started one after another (default 10)
  --reference DIR    also start, in turn with ours, the build of another checkout (its bin/ and dist/)`;

const SCRAPES = 20;

async function oneRouter(bin: string | undefined): Promise<{readyCpuMs: number; readyMs: number; scrapeCpuMs: number}> {
  const ns = Netns.create('wbrs');
  let router: RouterProcess | undefined;
  try {
    const began = performance.now();
    router = await RouterProcess.start(ns, {args: ['--log-level', 'info'], ...(bin ? {bin} : {})});
    // Wall: the harness polls /status every 100 ms, so this is to within that.
    const readyMs = performance.now() - began;
    const pid = router.child.pid!;
    const readyCpuMs = processCpuMs(pid);
    for (let i = 0; i < SCRAPES; i++) {
      const [status] = router.api('GET', '/metrics');
      if (status !== 200) throw new BenchError(`/metrics answered ${status}`);
    }
    return {readyCpuMs, readyMs, scrapeCpuMs: (processCpuMs(pid) - readyCpuMs) / SCRAPES};
  } finally {
    await router?.destroy();
    ns.delete();
  }
}

async function main(): Promise<void> {
  const values = benchArgs(USAGE, () => parseArgs({args: process.argv.slice(2), options: {rounds: {type: 'string'}, reference: {type: 'string'}, help: {type: 'boolean'}}}));
  const rounds = count(values.rounds, 'rounds', 10, 1, USAGE);
  if (process.getuid?.() !== 0) throw new BenchError('run as root: each router runs in a network namespace of its own');
  const builds: {name: string; bin?: string; ready: number[]; readyMs: number[]; scrape: number[]}[] = [{name: 'weave router', ready: [], readyMs: [], scrape: []}];
  if (values.reference) builds.push({name: `reference (${values.reference})`, bin: join(values.reference, 'bin', 'weave.js'), ready: [], readyMs: [], scrape: []});
  const node: number[] = [];
  // Side by side: each round starts one router of each build, so a change in the machine's load hits both.
  for (let i = 0; i < rounds; i++) {
    node.push((await timeCommand([process.execPath, '-e', '0'])).cpuMs);
    for (const build of builds) {
      const r = await oneRouter(build.bin);
      build.ready.push(r.readyCpuMs);
      build.readyMs.push(r.readyMs);
      build.scrape.push(r.scrapeCpuMs);
    }
  }
  const floor = median(node);
  const row = (what: string, xs: number[], digits: number, reference: number) => [what, median(xs).toFixed(digits), Math.min(...xs).toFixed(digits), Math.max(...xs).toFixed(digits), ratio(median(xs), reference)];
  const [ours, ref] = builds;
  console.log(`router start benchmark: ${rounds} routers of each build, one at a time\n`);
  const rows = [row('node -e 0, CPU ms', node, 0, floor)];
  for (const build of builds) {
    rows.push(
      row(`${build.name}, start to /status 200, CPU ms`, build.ready, 0, ref ? median(ref.ready) : floor),
      row(`${build.name}, start to /status 200, wall ms`, build.readyMs, 0, ref ? median(ref.readyMs) : median(build.readyMs)),
      row(`${build.name}, one /metrics scrape (mean of ${SCRAPES}), CPU ms`, build.scrape, 1, ref ? median(ref.scrape) : floor),
    );
  }
  console.log(table(['what', 'median', 'min', 'max', ref ? '/ reference' : '/ node -e 0'], rows));
  const summary = (b: (typeof builds)[number]) => ({readyCpuMs: median(b.ready), readyMs: median(b.readyMs), scrapeCpuMs: median(b.scrape)});
  console.log(`\n${jsonLine({bench: 'router-start', rounds, nodeCpuMs: floor, ...summary(ours!), ...(ref ? {reference: summary(ref)} : {})})}`);
}

main().catch(error => {
  console.error(error instanceof BenchError ? error.message : error);
  process.exitCode = 1;
});
