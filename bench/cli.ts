/**
 * CLI start-up benchmark: wall time of `weave version`, `weave status` and `weave ps` against a
 * bare `node -e 0`, measured by hyperfine in one run, in a network namespace of its own where a
 * plain `weave router` process answers (so status and ps do their whole work). Each command is
 * timed twice: in the environment a user has (no NODE_EXTRA_CA_CERTS, NODE_OPTIONS), and in the
 * caller's environment as it is (this machine's shell sets NODE_EXTRA_CA_CERTS, ~65 ms a start).
 *
 *   npm run build && npx tsx bench/cli.ts [--runs 30]
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
import {jsonLine, ms, ratio, table} from './lib/report.js';

const USAGE = `usage: npx tsx bench/cli.ts [options]
  --runs N   hyperfine runs per command and environment (default 30)`;

/** The target of issue 14: each command at most this many times `node -e 0`. */
const TARGET = 2;

const COMMANDS: Record<string, string[]> = {
  'node -e 0': ['-e', '0'],
  'weave version': [WEAVE_BIN, 'version'],
  'weave status': [WEAVE_BIN, 'status'],
  'weave ps': [WEAVE_BIN, 'ps'],
};

/** Variables that make every node start slower and that a user's shell does not usually set. */
const NODE_START_VARS = ['NODE_EXTRA_CA_CERTS', 'NODE_OPTIONS'];

interface Row {
  env: string;
  command: string;
  meanMs: number;
  medianMs: number;
  ratio: number;
}

/** hyperfine's medians (ms) for each command, run with -N (no shell) in `ns` and environment `env`. */
function hyperfine(ns: Netns, env: NodeJS.ProcessEnv, runs: number): Map<string, {mean: number; median: number}> {
  const dir = mkdtempSync(join(tmpdir(), 'weave-bench-cli-'));
  try {
    const out = join(dir, 'hyperfine.json');
    const commands = Object.entries(COMMANDS).flatMap(([name, argv]) => [
      '--command-name',
      name,
      // hyperfine -N splits on white space: every path here is free of it (checked below).
      ['nsenter', `--net=${ns.path}`, process.execPath, ...argv].join(' '),
    ]);
    execFileSync('hyperfine', ['-N', '--style', 'none', '--warmup', '3', '--runs', String(runs), '--export-json', out, ...commands], {
      env,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const {results} = JSON.parse(readFileSync(out, 'utf8')) as {results: {command: string; mean: number; median: number}[]};
    return new Map(results.map(r => [r.command, {mean: r.mean * 1000, median: r.median * 1000}]));
  } finally {
    rmSync(dir, {recursive: true, force: true});
  }
}

async function main(): Promise<void> {
  const values = benchArgs(USAGE, () => parseArgs({args: process.argv.slice(2), options: {runs: {type: 'string'}, help: {type: 'boolean', short: 'h'}}}));
  const runs = count(values.runs, 'runs', 30, 3, USAGE);
  requireRoot();
  requireTool('hyperfine', 'hyperfine');
  if (/\s/.test(WEAVE_BIN + process.execPath)) throw new BenchError(`hyperfine -N cannot run paths with white space: ${WEAVE_BIN}`);

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
      const result = hyperfine(ns, env, runs);
      const floor = result.get('node -e 0')!.median;
      for (const name of Object.keys(COMMANDS)) {
        const r = result.get(name)!;
        rows.push({env: envName, command: name, meanMs: r.mean, medianMs: r.median, ratio: r.median / floor});
      }
    }
    console.log(`weave CLI start-up: hyperfine -N, ${runs} runs each, in a namespace of its own with a router answering\n`);
    console.log(
      table(
        ['environment', 'command', 'median ms', 'mean ms', 'median / node -e 0'],
        rows.map(r => [r.env, r.command, ms(r.medianMs), ms(r.meanMs), ratio(r.medianMs, r.medianMs / r.ratio)]),
      ),
    );
    const over = rows.filter(r => r.command !== 'node -e 0' && r.ratio > TARGET);
    console.log(over.length === 0 ? `\nevery command within ${TARGET}x node -e 0` : `\nabove ${TARGET}x node -e 0: ${over.map(r => `${r.command} (${r.env})`).join(', ')}`);
    console.log(`\n${jsonLine({bench: 'cli', runs, rows})}`);
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
