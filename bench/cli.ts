/**
 * CLI start-up benchmark: wall time of `weave version`, `weave status` and `weave ps` against a
 * bare `node -e 0`, measured by hyperfine in one run, in a network namespace of its own where a
 * plain `weave router` process answers (so status and ps do their whole work). Each command is
 * timed twice: in the environment a user has (no NODE_EXTRA_CA_CERTS, NODE_OPTIONS), and in the
 * caller's environment as it is (this machine's shell sets NODE_EXTRA_CA_CERTS, ~65 ms a start).
 *
 *   npm run build && npx tsx bench/cli.ts [--runs 10] [--rounds 3] [--weave <other checkout>/bin/weave.js]
 */
import {execFileSync} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {parseArgs} from 'node:util';
import {Netns} from '../test/helpers/netns.js';
import {requireRoot, requireTool} from '../test/helpers/root.js';
import {RouterProcess} from '../test/helpers/router.js';
import {WEAVE_BIN} from '../test/helpers/setup-cli.js';
import {benchArgs, BenchError, count} from './lib/options.js';
import {jsonLine, ms, table} from './lib/report.js';
import {median} from './lib/stats.js';

const USAGE = `usage: npx tsx bench/cli.ts [options]
  --runs N     hyperfine runs per command, environment and round (default 10)
  --rounds N   hyperfine invocations per environment, their medians' median reported (default 3):
               on a machine shared with other work, rounds spread the load over every command
  --weave F    also time another build's bin/weave.js (e.g. a checkout of main), same run`;

/** The target of issue 14: each command at most this many times `node -e 0`. */
const TARGET = 2;

/** The commands timed: node's own start, then each weave command of each build given. */
function commands(builds: Record<string, string>): Record<string, string[]> {
  const all: Record<string, string[]> = {'node -e 0': ['-e', '0']};
  for (const [label, bin] of Object.entries(builds)) {
    for (const command of ['version', 'status', 'ps']) all[`weave ${command}${label}`] = [bin, command];
  }
  return all;
}

/** Variables that make every node start slower and that a user's shell does not usually set. */
const NODE_START_VARS = ['NODE_EXTRA_CA_CERTS', 'NODE_OPTIONS'];

interface Row {
  env: string;
  command: string;
  medianMs: number;
  ratio: number;
}

/** hyperfine's median (ms) for each command, run with -N (no shell) in `ns` and environment `env`. */
function hyperfine(ns: Netns, env: NodeJS.ProcessEnv, runs: number, timed: Record<string, string[]>): Map<string, number> {
  const dir = mkdtempSync(join(tmpdir(), 'weave-bench-cli-'));
  try {
    const out = join(dir, 'hyperfine.json');
    const commands = Object.entries(timed).flatMap(([name, argv]) => [
      '--command-name',
      name,
      // hyperfine -N splits on white space: every path here is free of it (checked below).
      ['nsenter', `--net=${ns.path}`, process.execPath, ...argv].join(' '),
    ]);
    execFileSync('hyperfine', ['-N', '--style', 'none', '--warmup', '3', '--runs', String(runs), '--export-json', out, ...commands], {
      env,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const {results} = JSON.parse(readFileSync(out, 'utf8')) as {results: {command: string; median: number}[]};
    return new Map(results.map(r => [r.command, r.median * 1000]));
  } finally {
    rmSync(dir, {recursive: true, force: true});
  }
}

async function main(): Promise<void> {
  const values = benchArgs(USAGE, () =>
    parseArgs({
      args: process.argv.slice(2),
      options: {runs: {type: 'string'}, rounds: {type: 'string'}, weave: {type: 'string'}, help: {type: 'boolean', short: 'h'}},
    }),
  );
  const runs = count(values.runs, 'runs', 10, 3, USAGE);
  const rounds = count(values.rounds, 'rounds', 3, 1, USAGE);
  requireRoot();
  requireTool('hyperfine', 'hyperfine');
  const builds: Record<string, string> = {'': WEAVE_BIN, ...(values.weave ? {' (other build)': values.weave} : {})};
  for (const path of [process.execPath, ...Object.values(builds)]) {
    if (/\s/.test(path)) throw new BenchError(`hyperfine -N cannot run paths with white space: ${path}`);
  }
  const timed = commands(builds);

  const ns = Netns.create('wbcli');
  let router: RouterProcess | undefined;
  try {
    router = await RouterProcess.start(ns, {args: ['--log-level', 'info']});
    const user = Object.fromEntries(Object.entries(process.env).filter(([k]) => !NODE_START_VARS.includes(k) && k !== 'WEAVE_HTTP_ADDR'));
    const here = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'WEAVE_HTTP_ADDR'));
    const envs: [string, NodeJS.ProcessEnv][] = [['user (no NODE_EXTRA_CA_CERTS)', user]];
    if (NODE_START_VARS.some(k => process.env[k])) envs.push([`this shell (${NODE_START_VARS.filter(k => process.env[k]).join(', ')} set)`, here]);

    const rows: Row[] = [];
    for (const [envName, env] of envs) {
      // Each round's ratios are taken within that round; the median over rounds is reported.
      const ratios = new Map<string, number[]>();
      const medians = new Map<string, number[]>();
      for (let round = 0; round < rounds; round++) {
        const result = hyperfine(ns, env, runs, timed);
        const floor = result.get('node -e 0')!;
        for (const name of Object.keys(timed)) {
          ratios.set(name, [...(ratios.get(name) ?? []), result.get(name)! / floor]);
          medians.set(name, [...(medians.get(name) ?? []), result.get(name)!]);
        }
      }
      for (const name of Object.keys(timed)) rows.push({env: envName, command: name, medianMs: median(medians.get(name)!), ratio: median(ratios.get(name)!)});
    }
    console.log(`weave CLI start-up: hyperfine -N, ${rounds} rounds of ${runs} runs each, in a namespace of its own with a router answering\n`);
    console.log(table(['environment', 'command', 'median ms', 'median / node -e 0'], rows.map(r => [r.env, r.command, ms(r.medianMs), `${r.ratio.toFixed(2)}x`])));
    const over = rows.filter(r => r.command !== 'node -e 0' && !r.command.endsWith(')') && r.ratio > TARGET);
    console.log(over.length === 0 ? `\nevery command within ${TARGET}x node -e 0` : `\nabove ${TARGET}x node -e 0: ${over.map(r => `${r.command} (${r.env})`).join(', ')}`);
    console.log(`\n${jsonLine({bench: 'cli', runs, rounds, rows})}`);
  } finally {
    await router?.stop();
    if (router) rmSync(router.dbDir, {recursive: true, force: true});
    ns.delete();
  }
}

main().catch(error => {
  console.error(error instanceof BenchError ? error.message : error);
  process.exitCode = 1;
});
