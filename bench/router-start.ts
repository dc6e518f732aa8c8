/**
 * One router's start: CPU seconds (user + system) the `weave router` process used until its
 * control API answers /status 200, against the CPU of a bare `node -e 0` in the same run, and
 * the cost of one /metrics scrape. Each round starts a router in a network namespace of its own
 * over fresh state, then stops it. Run it alone: the machine's other work slows the figures.
 *
 *   npm run build && npx tsx bench/router-start.ts [--rounds 10]
 */
import {parseArgs} from 'node:util';
import {Netns} from '../test/helpers/netns.js';
import {RouterProcess} from '../test/helpers/router.js';
import {processCpuMs} from './lib/cpu.js';
import {benchArgs, BenchError, count} from './lib/options.js';
import {jsonLine, ratio, table} from './lib/report.js';
import {median} from './lib/stats.js';
import {timeCommand} from './lib/timing.js';

const USAGE = `usage: npx tsx bench/router-start.ts [options]
  --rounds N   routers started one after another (default 10)`;

const SCRAPES = 20;

async function oneRouter(): Promise<{readyCpuMs: number; scrapeCpuMs: number}> {
  const ns = Netns.create('wbrs');
  let router: RouterProcess | undefined;
  try {
    router = await RouterProcess.start(ns, {args: ['--log-level', 'info']});
    const pid = router.child.pid!;
    const readyCpuMs = processCpuMs(pid);
    for (let i = 0; i < SCRAPES; i++) {
      const [status] = router.api('GET', '/metrics');
      if (status !== 200) throw new BenchError(`/metrics answered ${status}`);
    }
    return {readyCpuMs, scrapeCpuMs: (processCpuMs(pid) - readyCpuMs) / SCRAPES};
  } finally {
    await router?.destroy();
    ns.delete();
  }
}

async function main(): Promise<void> {
  const values = benchArgs(USAGE, () => parseArgs({args: process.argv.slice(2), options: {rounds: {type: 'string'}, help: {type: 'boolean'}}}));
  const rounds = count(values.rounds, 'rounds', 10, 1, USAGE);
  if (process.getuid?.() !== 0) throw new BenchError('run as root: each router runs in a network namespace of its own');
  const node: number[] = [];
  const ready: number[] = [];
  const scrape: number[] = [];
  for (let i = 0; i < rounds; i++) {
    node.push((await timeCommand([process.execPath, '-e', '0'])).cpuMs);
    const r = await oneRouter();
    ready.push(r.readyCpuMs);
    scrape.push(r.scrapeCpuMs);
  }
  const floor = median(node);
  console.log(`router start benchmark: ${rounds} routers, one at a time\n`);
  console.log(
    table(
      ['what', 'CPU ms, median', 'min', 'max', '/ node -e 0'],
      [
        ['node -e 0', median(node).toFixed(0), Math.min(...node).toFixed(0), Math.max(...node).toFixed(0), '1.00x'],
        ['weave router, start to /status 200', median(ready).toFixed(0), Math.min(...ready).toFixed(0), Math.max(...ready).toFixed(0), ratio(median(ready), floor)],
        [`one /metrics scrape (mean of ${SCRAPES})`, median(scrape).toFixed(1), Math.min(...scrape).toFixed(1), Math.max(...scrape).toFixed(1), ratio(median(scrape), floor)],
      ],
    ),
  );
  console.log(`\n${jsonLine({bench: 'router-start', rounds, nodeCpuMs: floor, readyCpuMs: median(ready), scrapeCpuMs: median(scrape)})}`);
}

main().catch(error => {
  console.error(error instanceof BenchError ? error.message : error);
  process.exitCode = 1;
});
