/**
 * Paths benchmark: what one router works out after a change of the topology, ours against the
 * code of a reference commit (by default the last with two breadth-first searches: one for
 * gossip's routes, another run again by the relay plan and by the sleeve), loaded from git into
 * the same process and run in alternation on the same topologies: a partial mesh (a ring with
 * random chords, a few connections one-sided or not yet established) and a full mesh, 100 peers
 * each. Per change:
 *   - control plane: the next hop to a peer, and where a broadcast from each peer goes on;
 *   - data plane: the relay plan and the sleeve's first hops and tree branches.
 * Both must give the same results (checked first; device order aside). Reports medians and the
 * ratio ours / reference.
 *
 *   npx tsx bench/paths.ts [--peers 100] [--rounds 15] [--reference <commit>]
 */
import {execFileSync} from 'node:child_process';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join} from 'node:path';
import {performance} from 'node:perf_hooks';
import {fileURLToPath, pathToFileURL} from 'node:url';
import {parseArgs} from 'node:util';
import type {Remote} from '../src/lib/net/fdb.js';
import {planRelays, type RelayPlan, treeBranches} from '../src/lib/router/dataplane/relay-plan.js';
import {Routes} from '../src/lib/router/mesh/routes.js';
import type {Topology} from '../src/lib/router/mesh/topology.js';
import {seededRandom} from '../test/helpers/random.js';
import {view} from '../test/helpers/topologies.js';
import {BenchError, benchArgs, count} from './lib/options.js';
import {jsonLine, ms, ratio, table} from './lib/report.js';
import {median} from './lib/stats.js';

/** The last commit whose relay plan and sleeve each searched all pairs again, apart from gossip's routes. */
const REFERENCE = 'dd191ac';

const USAGE = `usage: npx tsx bench/paths.ts [options]
  --peers N         peers in each topology (default 100, at most 256)
  --rounds N        timed changes of each topology, ours and the reference alternating (default 15)
  --reference REF   the commit to compare with (default ${REFERENCE})`;

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');

type Graph = ReadonlyMap<string, ReadonlySet<string>>;
type Branches = {branching: string[]; branches: Map<string, string[]>};

/** What the reference's modules offer, as loaded. */
interface Reference {
  Routes: new (topology: Topology) => {unicastAll(peer: string): string | undefined; broadcastAll(source: string): string[]};
  establishedGraph(topology: Topology): Graph;
  firstHops(graph: Graph, from: string): Map<string, string>;
  planRelays(graph: Graph, us: string, neighbours: ReadonlyMap<string, Remote>): RelayPlan;
  treeBranches(graph: Graph, at: string, carried: (peer: string) => boolean): Branches;
}

/** What a change costs one router: all it works out, as the router does it. */
interface Results {
  unicast: (string | undefined)[];
  broadcast: string[][];
  plan: RelayPlan;
  hops: [string, string][];
  branches: Branches;
}

/** The reference's routes.ts and relay-plan.ts, from git into a temporary folder, imported (their other imports are types only). */
async function loadReference(commit: string): Promise<{reference: Reference; dir: string}> {
  const dir = mkdtempSync(join(tmpdir(), 'weave-paths-bench-'));
  const files = {routes: 'src/lib/router/mesh/routes.ts', plan: 'src/lib/router/dataplane/relay-plan.ts'};
  for (const [name, path] of Object.entries(files)) {
    let text: string;
    try {
      text = execFileSync('git', ['-C', REPO, 'show', `${commit}:${path}`], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']});
    } catch (error) {
      throw new BenchError(`cannot read ${path} at ${commit} (${(error as Error).message.trim()}); give --reference a commit of this repository`);
    }
    writeFileSync(join(dir, `${name}.ts`), text);
  }
  const routes = (await import(pathToFileURL(join(dir, 'routes.ts')).href)) as Pick<Reference, 'Routes'>;
  const plan = (await import(pathToFileURL(join(dir, 'plan.ts')).href)) as Omit<Reference, 'Routes'>;
  return {reference: {...plan, Routes: routes.Routes}, dir};
}

const name = (i: number) => `aa:00:00:00:00:${i.toString(16).padStart(2, '0')}`;

/**
 * Peer 0's view of `n` peers: each linked to the next round a ring and to `chords` more at
 * random, or to every other peer. In the partial mesh every 10th peer's first chord is
 * reported by it alone, and every 7th peer's last not yet established (named `name?`).
 */
function mesh(n: number, chords: number | 'all', seed = 1): Topology {
  const random = seededRandom(seed);
  const records: Record<string, string[]> = Object.fromEntries(Array.from({length: n}, (_, i) => [name(i), []]));
  const connect = (a: number, b: number, oneSided = false, pending = false) => {
    if (a === b || records[name(a)]!.some(c => c.startsWith(name(b)))) return;
    records[name(a)]!.push(`${name(b)}${pending ? '?' : ''}`);
    if (!oneSided) records[name(b)]!.push(name(a));
  };
  for (let i = 0; i < n; i++) {
    if (chords === 'all') for (let j = i + 1; j < n; j++) connect(i, j);
    else {
      connect(i, (i + 1) % n);
      for (let k = 0; k < chords; k++) connect(i, Math.floor(random() * n), k === 0 && i % 10 === 0, k === chords - 1 && i % 7 === 0);
    }
  }
  return view(name(0), records);
}

/** Our direct neighbours, as the overlay sends to them. */
const overlay = (t: Topology): Map<string, Remote> => new Map([...t.ourself.connections.keys()].map(peer => [peer, {dst: `ip-${peer}`}]));

function ours(t: Topology, neighbours: Map<string, Remote>): Results {
  const us = t.ourself.name;
  const routes = new Routes(t);
  const unicast = t.all().map(p => routes.unicastAll(p.name));
  const broadcast = t.all().map(p => routes.broadcastAll(p.name));
  const paths = routes.established();
  const plan = planRelays(paths, us, neighbours);
  return {unicast, broadcast, plan, hops: [...paths.firstHops(us)], branches: treeBranches(paths, us, () => true)};
}

function theirs(ref: Reference, t: Topology, neighbours: Map<string, Remote>): Results {
  const us = t.ourself.name;
  const routes = new ref.Routes(t);
  const unicast = t.all().map(p => routes.unicastAll(p.name));
  const broadcast = t.all().map(p => routes.broadcastAll(p.name));
  const plan = ref.planRelays(ref.establishedGraph(t), us, neighbours);
  // The sleeve worked its graph out again, and all pairs' hops and trees with it.
  const graph = ref.establishedGraph(t);
  return {unicast, broadcast, plan, hops: [...ref.firstHops(graph, us)], branches: ref.treeBranches(graph, us, () => true)};
}

/** Results in a form that compares equal when the same, whatever order each gave them in. */
function canonical(r: Results): string {
  const sorted = <T>(items: T[]) => items.map(item => JSON.stringify(item)).sort();
  return JSON.stringify({
    unicast: r.unicast,
    broadcast: r.broadcast.map(hops => [...hops].sort()),
    devices: sorted([...r.plan.devices]),
    clashes: [...r.plan.clashes].sort(),
    hops: sorted(r.hops),
    branching: r.branches.branching,
    branches: sorted([...r.branches.branches]),
  });
}

function time(fn: () => unknown): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

async function main(): Promise<void> {
  const values = benchArgs(USAGE, () =>
    parseArgs({options: {peers: {type: 'string'}, rounds: {type: 'string'}, reference: {type: 'string'}, help: {type: 'boolean'}}}),
  );
  const peers = count(values.peers, 'peers', 100, 3, USAGE);
  if (peers > 256) throw new BenchError(`--peers must be at most 256, not ${peers}\n${USAGE}`);
  const rounds = count(values.rounds, 'rounds', 15, 1, USAGE);
  const commit = values.reference ?? REFERENCE;
  const {reference, dir} = await loadReference(commit);
  try {
    const topologies = {partial: mesh(peers, 3), full: mesh(peers, 'all')};
    const rows: string[][] = [];
    const figures: Record<string, {ours: number; reference: number}> = {};
    for (const [kind, t] of Object.entries(topologies)) {
      const neighbours = overlay(t);
      if (canonical(ours(t, neighbours)) !== canonical(theirs(reference, t, neighbours))) throw new BenchError(`${kind} mesh: ours and ${commit} disagree`);
      const samples = {ours: [] as number[], reference: [] as number[]};
      for (let round = 0; round < rounds; round++) {
        // Alternating which goes first, so neither always runs on a warmer heap.
        const both = [() => samples.ours.push(time(() => ours(t, neighbours))), () => samples.reference.push(time(() => theirs(reference, t, neighbours)))];
        for (const run of round % 2 === 0 ? both : both.reverse()) run();
      }
      const figure = {ours: median(samples.ours), reference: median(samples.reference)};
      figures[kind] = figure;
      rows.push([`${kind} mesh, ${peers} peers`, ms(figure.ours), ms(figure.reference), ratio(figure.ours, figure.reference)]);
    }
    console.log(`one topology change: routes for gossip, relay plan and the sleeve's routes; median of ${rounds}; reference ${commit}; same results: yes`);
    console.log(table(['topology', 'ours ms', 'reference ms', 'ours / reference'], rows));
    console.log(jsonLine({bench: 'paths', peers, rounds, reference: commit, figures}));
  } finally {
    rmSync(dir, {recursive: true, force: true});
  }
}

main().catch(error => {
  console.error(error instanceof BenchError ? error.message : error);
  process.exitCode = 1;
});
