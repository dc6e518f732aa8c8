/**
 * `weave launch` benchmark: seconds from `weave launch` to a router answering /status (launch
 * returns once it does), `weave status` wall time, and `weave reset`, against a bare
 * `node -e 0` in the same run. Everything runs on a Docker engine of its own inside a network
 * namespace; the router image is provided before the first round (its build is not timed).
 *
 *   npx tsc -p . && npx tsx bench/launch.ts [--rounds 5] [--status-runs 5]
 */
import {parseArgs} from 'node:util';
import {CommandError} from '../src/lib/net/exec.js';
import {DockerHost} from '../test/helpers/docker-host.js';
import {requireTool} from '../test/helpers/root.js';
import {WEAVE_BIN} from '../test/helpers/setup-cli.js';
import {benchArgs, BenchError, count} from './lib/options.js';
import {jsonLine, ms, ratio, table} from './lib/report.js';
import {type Summary, summarize} from './lib/stats.js';
import {Samples, timeCommand} from './lib/timing.js';

const USAGE = `usage: npx tsx bench/launch.ts [options]
  --rounds N        launch + status + reset cycles (default 5)
  --status-runs N   \`weave status\` and \`node -e 0\` runs per round (default 5)`;


function parseOptions(argv: string[]): {rounds: number; statusRuns: number} {
  const values = benchArgs(USAGE, () =>
    parseArgs({args: argv, options: {rounds: {type: 'string'}, 'status-runs': {type: 'string'}, help: {type: 'boolean', short: 'h', default: false}}}),
  );
  return {rounds: count(values.rounds, 'rounds', 5, 1, USAGE), statusRuns: count(values['status-runs'], 'status-runs', 5, 1, USAGE)};
}

async function timed(samples: Samples, name: string, host: DockerHost, argv: string[]): Promise<void> {
  try {
    samples.add(name, await timeCommand(['nsenter', `--net=${host.ns.path}`, ...argv], {env: host.env()}));
  } catch (error) {
    const said = error instanceof CommandError ? `${error.stderr.trim() || error.stdout.trim()}` : (error as Error).message;
    throw new BenchError(`${name} failed: ${said}`);
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (process.getuid?.() !== 0) throw new BenchError('run as root: the benchmark starts a dockerd in a network namespace');
  requireTool('dockerd', 'docker.io');
  const weave = (...args: string[]) => [process.execPath, WEAVE_BIN, ...args];
  const samples = new Samples();
  const host = await DockerHost.start();
  const stop = () => void host.destroy().finally(() => process.exit(130));
  process.once('SIGINT', stop);
  try {
    for (let round = 0; round < options.rounds; round++) {
      for (let i = 0; i < options.statusRuns; i++) await timed(samples, 'node -e 0', host, [process.execPath, '-e', '0']);
      await timed(samples, 'weave launch (to /status 2xx)', host, weave('launch'));
      for (let i = 0; i < options.statusRuns; i++) await timed(samples, 'weave status', host, weave('status'));
      await timed(samples, 'weave reset', host, weave('reset', '--force'));
    }
  } finally {
    process.off('SIGINT', stop);
    await host.destroy();
  }
  const summaries: Record<string, Summary> = Object.fromEntries(samples.names().map(name => [name, summarize(samples.wall(name))]));
  const floor = summaries['node -e 0']!.p50;
  console.log(`weave launch benchmark: ${options.rounds} rounds, ${options.statusRuns} status runs each; a dockerd in its own namespace\n`);
  console.log(
    table(
      ['command', 'n', 'p50 ms', 'p90 ms', 'min ms', 'max ms', 'p50 / node -e 0'],
      samples.names().map(name => {
        const s = summaries[name]!;
        return [name, String(s.n), ms(s.p50), ms(s.p90), ms(s.min), ms(s.max), ratio(s.p50, floor)];
      }),
    ),
  );
  console.log(`\n${jsonLine({bench: 'launch', rounds: options.rounds, p50ms: Object.fromEntries(Object.entries(summaries).map(([k, s]) => [k, s.p50]))})}`);
}

main().catch(error => {
  console.error(error instanceof BenchError ? error.message : error);
  process.exitCode = 1;
});
