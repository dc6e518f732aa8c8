/**
 * Pods through Kubernetes' own path: RunPodSandbox and StopPodSandbox per pod, as kubelet calls
 * them, through one private containerd with its CRI plugin (test/helpers/containerd.ts) in a
 * namespace that plays the node. Two runtime handlers of that same containerd pick the network:
 * weave's conflist as `weave setup` installs it (weave-net with weave IPAM through a running
 * router, the warm path, then portmap), and the reference, Debian's bridge + host-local, then
 * portmap. N pods in a row per round, rounds alternating which goes first, so machine noise hits
 * both; RemovePodSandbox follows, untimed. Wall-clock only: most of each call is containerd and
 * runc, whose CPU is not ours to count.
 *
 *   npm run build && npx tsx bench/cri.ts [--pods 20] [--rounds 3] [--warmup 1]
 */
import {mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {parseArgs} from 'node:util';
import {installCni} from '../src/lib/setup/install.js';
import {Containerd} from '../test/helpers/containerd.js';
import {pauseImage} from '../test/helpers/cri/pause-image.js';
import {Netns} from '../test/helpers/netns.js';
import {requireTool} from '../test/helpers/root.js';
import {RouterProcess} from '../test/helpers/router.js';
import {benchArgs, BenchError, count} from './lib/options.js';
import {jsonLine, ms, ratio, table} from './lib/report.js';
import {summarize} from './lib/stats.js';
import {timed} from './lib/timing.js';

const REFERENCE_PLUGINS = '/usr/lib/cni';
const REFERENCE_HANDLER = 'reference';

const USAGE = `usage: npx tsx bench/cri.ts [options]
  --pods N     pods run then stopped in a row per round and network (default 20)
  --rounds N   rounds; weave and the reference alternate going first (default 3)
  --warmup N   untimed pods per network before the first round (default 1)`;

interface Options {
  pods: number;
  rounds: number;
  warmup: number;
}

function parseOptions(argv: string[]): Options {
  const values = benchArgs(USAGE, () =>
    parseArgs({args: argv, options: {pods: {type: 'string'}, rounds: {type: 'string'}, warmup: {type: 'string'}, help: {type: 'boolean', short: 'h', default: false}}}),
  );
  return {
    pods: count(values.pods, 'pods', 20, 1, USAGE),
    rounds: count(values.rounds, 'rounds', 3, 1, USAGE),
    warmup: count(values.warmup, 'warmup', 1, 0, USAGE),
  };
}

function checkMachine(): void {
  if (process.getuid?.() !== 0) throw new BenchError('the benchmark needs root (network namespaces, containerd): run it as root');
  for (const [tool, pkg] of [['containerd', 'containerd'], ['ctr', 'containerd'], ['runc', 'runc'], ['nsenter', 'util-linux'], ['curl', 'curl']] as const) requireTool(tool, pkg);
  for (const plugin of ['loopback', 'portmap', 'bridge', 'host-local']) requireTool(join(REFERENCE_PLUGINS, plugin), 'containernetworking-plugins');
}

/** One network under test: the runtime handler that picks its conflist, and the addresses it gives. */
interface Network {
  name: 'weave' | 'reference';
  /** '' for containerd's default handler. */
  handler: string;
  addresses: RegExp;
  /** Addresses still allocated once every pod is removed: there must be none. */
  leftAllocated(): string[];
}

class Bench {
  readonly samples = new Map<string, number[]>();

  constructor(
    readonly options: Options,
    readonly node: Netns,
    readonly containerd: Containerd,
  ) {}

  add(name: string, value: number): void {
    this.samples.set(name, [...(this.samples.get(name) ?? []), value]);
  }

  /** `pods` pods in a row on `network`: RunPodSandbox each, then StopPodSandbox each, then RemovePodSandbox. */
  async cycle(network: Network, pods: number, record: boolean): Promise<void> {
    const ids: string[] = [];
    try {
      for (let i = 0; i < pods; i++) {
        const run = await timed(() => this.containerd.runPod({name: `${network.name}-${i}`, handler: network.handler}));
        ids.push(run.value.id);
        if (!network.addresses.test(run.value.ip)) throw new BenchError(`${network.name} pod got "${run.value.ip}", not an address of its network`);
        if (record) this.add(`${network.name} RunPodSandbox`, run.ms);
      }
      for (const id of ids) {
        const stop = await timed(() => this.containerd.cri.stopPodSandbox(id));
        if (record) this.add(`${network.name} StopPodSandbox`, stop.ms);
      }
    } finally {
      for (const id of ids) await this.containerd.cri.removePodSandbox(id);
    }
    const veths = this.node.links().filter(name => name.startsWith('veth'));
    if (veths.length > 0) throw new BenchError(`${network.name}: pods removed, yet veths remain: ${veths.join(', ')}`);
    const left = network.leftAllocated();
    if (left.length > 0) throw new BenchError(`${network.name}: pods removed, yet addresses stay allocated: ${left.join(', ')}`);
  }
}

function report(bench: Bench): void {
  const {options} = bench;
  const figures = (name: string) => summarize(bench.samples.get(name) ?? []);
  const names = [...bench.samples.keys()];
  console.log(`\nCRI pods through one containerd, ${options.pods} pods x ${options.rounds} rounds, wall-clock ms per call`);
  console.log("weave: the conflist weave setup installs (weave-net, weave IPAM via the router's warm socket, portmap)");
  console.log("reference: Debian's bridge + host-local, portmap; both under containerd's loopback call\n");
  console.log(
    table(
      ['ms', 'n', 'p50', 'p90', 'min', 'max'],
      names.map(name => {
        const f = figures(name);
        return [name, String(f.n), ms(f.p50), ms(f.p90), ms(f.min), ms(f.max)];
      }),
    ),
  );
  const run = [figures('weave RunPodSandbox'), figures('reference RunPodSandbox')] as const;
  const stop = [figures('weave StopPodSandbox'), figures('reference StopPodSandbox')] as const;
  console.log('');
  console.log(
    table(
      ['weave / reference', 'p50', 'p90'],
      [
        ['RunPodSandbox', ratio(run[0].p50, run[1].p50), ratio(run[0].p90, run[1].p90)],
        ['StopPodSandbox', ratio(stop[0].p50, stop[1].p50), ratio(stop[0].p90, stop[1].p90)],
      ],
    ),
  );
  console.log(
    jsonLine({
      bench: 'cri',
      pods: options.pods,
      rounds: options.rounds,
      ms: {
        weaveRun: {p50: run[0].p50, p90: run[0].p90},
        refRun: {p50: run[1].p50, p90: run[1].p90},
        weaveStop: {p50: stop[0].p50, p90: stop[0].p90},
        refStop: {p50: stop[1].p50, p90: stop[1].p90},
      },
      runRatio: run[0].p50 / run[1].p50,
      stopRatio: stop[0].p50 / stop[1].p50,
    }),
  );
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  checkMachine();
  const image = pauseImage();
  const dir = mkdtempSync(join(tmpdir(), 'weave-bench-cri-'));
  const node = Netns.create('wbcri');
  let router: RouterProcess | undefined;
  let containerd: Containerd | undefined;
  const cleanup = async () => {
    await containerd?.destroy();
    await router?.destroy();
    node.delete();
    rmSync(dir, {recursive: true, force: true});
  };
  let interrupted = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (interrupted) return;
      interrupted = true;
      process.stderr.write(`bench/cri: ${signal}, removing what the run created\n`);
      void cleanup().finally(() => process.exit(130));
    });
  }
  try {
    const [binDir, confDir, refConfDir, hostLocal] = ['bin', 'net.d', 'reference.d', 'host-local'].map(d => join(dir, d)) as [string, string, string, string];
    for (const d of [binDir, confDir, refConfDir]) mkdirSync(d);
    for (const plugin of ['loopback', 'portmap', 'bridge', 'host-local']) symlinkSync(join(REFERENCE_PLUGINS, plugin), join(binDir, plugin));
    await installCni({binDir, confDir});
    // The same chain shape and cniVersion as weave's conflist: a network plugin, then portmap.
    const reference = {
      cniVersion: '0.4.0',
      name: 'reference',
      plugins: [
        {type: 'bridge', bridge: 'cni-bench', isGateway: true, hairpinMode: true, ipam: {type: 'host-local', subnet: '10.88.0.0/16', dataDir: hostLocal}},
        {type: 'portmap', capabilities: {portMappings: true}, snat: true},
      ],
    };
    writeFileSync(join(refConfDir, '10-reference.conflist'), JSON.stringify(reference));

    router = await RouterProcess.start(node, {args: ['--log-level', 'info']});
    containerd = await Containerd.start({ns: node, binDir, confDir, handlers: {[REFERENCE_HANDLER]: refConfDir}, image});
    const owned = () => (JSON.parse(router!.api('GET', '/ip')[1]) as {owned: {containerid: string}[] | null}).owned ?? [];
    const weave: Network = {
      name: 'weave',
      handler: '',
      addresses: /^10\.(3[2-9]|4[0-7])\./,
      leftAllocated: () => owned().map(o => o.containerid).filter(id => id !== 'weave:expose'),
    };
    const store = join(hostLocal, 'reference');
    const ref: Network = {
      name: 'reference',
      handler: REFERENCE_HANDLER,
      addresses: /^10\.88\./,
      leftAllocated: () => readdirSync(store).filter(f => /^\d+\.\d+\.\d+\.\d+$/.test(f)),
    };

    const bench = new Bench(options, node, containerd);
    // Untimed: creates both bridges, the router's exposed gateway, containerd's caches.
    if (options.warmup > 0) for (const network of [weave, ref]) await bench.cycle(network, options.warmup, false);
    for (let round = 1; round <= options.rounds; round++) {
      for (const network of round % 2 === 1 ? [weave, ref] : [ref, weave]) await bench.cycle(network, options.pods, true);
      const p50 = (name: string) => ms(summarize(bench.samples.get(`${name} RunPodSandbox`)!).p50);
      process.stderr.write(`round ${round}/${options.rounds} done: RunPodSandbox p50 so far weave ${p50('weave')} ms, reference ${p50('reference')} ms\n`);
    }
    report(bench);
  } finally {
    if (!interrupted) await cleanup();
  }
}

try {
  await main();
} catch (error) {
  if (!(error instanceof BenchError)) throw error;
  console.error(`bench/cri: ${error.message}`);
  process.exitCode = 1;
}
