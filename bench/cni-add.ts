/**
 * CNI ADD/DEL benchmark: our weave-net plugin against Debian's reference bridge plugin with
 * host-local IPAM, N pods in a row per round, rounds alternating which goes first so machine
 * noise hits both. Everything runs in a namespace of its own that plays the host.
 * --ipam weave (the default): ours with weave IPAM through the installed shim and a running
 * router (the warm path); --ipam host-local: ours as a cold plugin process with host-local.
 *
 *   npm run build && npx tsx bench/cni-add.ts [--ipam weave|host-local] [--docker] [--pods 20] [--rounds 5]
 */
import {randomBytes} from 'node:crypto';
import {accessSync, constants, existsSync, mkdtempSync, readdirSync} from 'node:fs';
import {readdir, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {parseArgs} from 'node:util';
import {CommandError, run} from '../src/lib/net/exec.js';
import {installCni} from '../src/lib/setup/install.js';
import {DockerHost} from '../test/helpers/docker-host.js';
import {Netns} from '../test/helpers/netns.js';
import {CNI_MAIN} from '../test/helpers/plugin.js';
import {requireTool} from '../test/helpers/root.js';
import {RouterProcess} from '../test/helpers/router.js';
import {benchArgs, BenchError, count} from './lib/options.js';
import {delta, jsonLine, ms, ratio, table} from './lib/report.js';
import {type Summary, summarize} from './lib/stats.js';
import {Samples, timeCommand} from './lib/timing.js';

const CNI_PATH = '/usr/lib/cni';
const CNI_VERSION = '1.0.0';

const USAGE = `usage: npx tsx bench/cni-add.ts [options]
  --ipam MODE      weave: ours through the installed shim with weave IPAM and a router
                   running (the warm path, default); host-local: ours cold, with host-local
  --pods N         pods added then deleted in a row per round (default 20)
  --rounds N       rounds; ours and the reference alternate going first (default 5)
  --warmup N       untimed pods per plugin before the first round (default 1)
  --plugin PATH    run our plugin through this executable (e.g. /opt/cni/bin/weave-net)
                   instead of \`node dist/weave-cni.cjs weave-net\`
  --inherit-env    give the plugins this process's environment instead of PATH alone
                   (what a runtime does; NODE_EXTRA_CA_CERTS there slows every Node start)
  --docker         with weave IPAM: the router runs in its container (\`weave launch\` on a
                   dockerd of the simulated host) instead of as a plain process`;


/** Set on Ctrl-C: the plugin call killed by the same signal is then no failure to report. */
let interrupted = false;

interface Options {
  ipam: 'weave' | 'host-local';
  pods: number;
  rounds: number;
  warmup: number;
  plugin?: string;
  inheritEnv: boolean;
  docker: boolean;
}


function parseOptions(argv: string[]): Options {
  const values = benchArgs(USAGE, () =>
    parseArgs({
      args: argv,
      options: {
        ipam: {type: 'string', default: 'weave'},
        pods: {type: 'string'},
        rounds: {type: 'string'},
        warmup: {type: 'string'},
        plugin: {type: 'string'},
        'inherit-env': {type: 'boolean', default: false},
        docker: {type: 'boolean', default: false},
        help: {type: 'boolean', short: 'h', default: false},
      },
    }),
  );
  if (values.ipam !== 'weave' && values.ipam !== 'host-local') throw new BenchError(`--ipam must be weave or host-local, not "${values.ipam}"\n${USAGE}`);
  if (values.ipam !== 'weave' && values.docker) throw new BenchError(`--docker goes with --ipam weave: it runs the router in Docker\n${USAGE}`);
  if (values.ipam === 'weave' && values.plugin) throw new BenchError(`--plugin goes with --ipam host-local: with weave IPAM the bench installs the shim itself\n${USAGE}`);
  return {
    ipam: values.ipam,
    pods: count(values.pods, 'pods', 20, 1, USAGE),
    rounds: count(values.rounds, 'rounds', 5, 1, USAGE),
    warmup: count(values.warmup, 'warmup', 1, 0, USAGE),
    ...(values.plugin ? {plugin: values.plugin} : {}),
    inheritEnv: values['inherit-env'],
    docker: values.docker,
  };
}

/**
 * Everything the run creates, removed at the end, after a failure and on Ctrl-C alike.
 * Namespaces are found again by the run's name prefix, so one whose creation a signal cut
 * short goes too. Removal is asynchronous on purpose: tsx SIGKILLs a child whose event loop
 * does not answer its signal relay within 30 ms, as a synchronous cleanup would not.
 */
class Leftovers {
  /** wb + 4 hex digits; with a kind letter and Netns's 6 hex digits it stays within 15 bytes. */
  private readonly prefix = `wb${randomBytes(2).toString('hex')}`;
  private readonly dirs = new Set<string>();
  private readonly routers: RouterProcess[] = [];
  private readonly dockerHosts: DockerHost[] = [];
  private removing: Promise<void> | undefined;

  netns(kind: 'host' | 'pod'): Netns {
    return Netns.create(`${this.prefix}${kind[0]}`);
  }

  async dropNetns(name: string): Promise<void> {
    try {
      await run('ip', ['netns', 'del', name]);
    } catch {
      // already gone
    }
  }

  async router(host: Netns): Promise<RouterProcess> {
    const router = await RouterProcess.start(host, {dbDir: this.tempDir('weave-bench-db-')});
    this.routers.push(router);
    return router;
  }

  /** A simulated host with a dockerd of its own, for `weave launch`. */
  async dockerHost(): Promise<DockerHost> {
    const host = await DockerHost.start();
    this.dockerHosts.push(host);
    return host;
  }

  tempDir(prefix: string): string {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    this.dirs.add(dir);
    return dir;
  }

  /** Idempotent: a signal arriving during the final cleanup joins it. */
  removeAll(): Promise<void> {
    this.removing ??= (async () => {
      await Promise.all(this.routers.map(r => r.stop()));
      await Promise.all(this.dockerHosts.map(h => h.destroy()));
      const names = existsSync('/run/netns') ? await readdir('/run/netns') : [];
      // Deleting the host namespace takes its bridges and veths along.
      for (const name of names.filter(n => n.startsWith(this.prefix))) await this.dropNetns(name);
      await Promise.all([...this.dirs].map(dir => rm(dir, {recursive: true, force: true})));
      this.dirs.clear();
    })();
    return this.removing;
  }
}

/** One plugin under test, with its network config. */
interface Subject {
  name: 'ours' | 'reference';
  /** The plugin command, run inside the host namespace. */
  argv: string[];
  config: Record<string, unknown>;
  /** Addresses still allocated after the DELs: there must be none. */
  leftAllocated(): string[];
}

interface Bench {
  options: Options;
  host: Netns;
  /** With --docker: the host's engine, which runs the router. */
  docker?: DockerHost;
  env: Record<string, string>;
  leftovers: Leftovers;
  samples: Samples;
}

function inHost(bench: Bench, argv: readonly string[]): string[] {
  return ['nsenter', `--net=${bench.host.path}`, ...argv];
}

/** The program's own words on failure: the CNI error JSON on stdout, or whatever it said on stderr. */
function failureText(error: unknown): string {
  if (!(error instanceof CommandError)) return (error as Error).message;
  const said = [error.stdout.trim(), error.stderr.trim()].filter(Boolean).join('\n') || 'no output';
  return `exit ${error.exitCode ?? 'by signal'}: ${said}`;
}

/** Runs one CNI command of `subject` for a pod; aborts the benchmark on any failure. */
async function cniCall(bench: Bench, subject: Subject, command: 'ADD' | 'DEL', pod: Netns, containerId: string, prevResult?: unknown) {
  const env = {...bench.env, CNI_COMMAND: command, CNI_CONTAINERID: containerId, CNI_NETNS: pod.path, CNI_IFNAME: 'eth0', CNI_PATH};
  const config = prevResult ? {...subject.config, prevResult} : subject.config;
  try {
    return await timeCommand(inHost(bench, subject.argv), {env, input: JSON.stringify(config)});
  } catch (error) {
    throw new BenchError(`${subject.name} ${command} of pod ${pod.name} failed (${subject.argv.join(' ')}), ${failureText(error)}`);
  }
}

/** An ADD counts only when it returned an address: a benchmark of failures is worthless. */
function requireAddress(subject: Subject, stdout: string): void {
  let address: unknown;
  try {
    address = (JSON.parse(stdout) as {ips?: {address?: unknown}[]}).ips?.[0]?.address;
  } catch {
    // reported below
  }
  if (typeof address !== 'string' || !/\/\d+$/.test(address)) {
    throw new BenchError(`${subject.name} ADD exited 0 but its result holds no address: ${stdout.trim() || '(empty)'}`);
  }
}

/** After the DELs the host has no veth left and host-local no address still reserved. */
function verifyReleased(bench: Bench, subject: Subject): void {
  const veths = bench.host.links().filter(name => name.startsWith('veth'));
  if (veths.length > 0) throw new BenchError(`${subject.name} DEL left host links behind: ${veths.join(', ')}`);
  const reserved = subject.leftAllocated();
  if (reserved.length > 0) throw new BenchError(`${subject.name} DEL left addresses allocated: ${reserved.join(', ')}`);
}

/** `pods` pods in a row: ADD each (each in its own namespace), then DEL each. */
async function podCycle(bench: Bench, subject: Subject, pods: number, record: boolean): Promise<void> {
  const created = Array.from({length: pods}, () => ({ns: bench.leftovers.netns('pod'), id: randomBytes(32).toString('hex')}));
  try {
    const results: unknown[] = [];
    for (const pod of created) {
      const add = await cniCall(bench, subject, 'ADD', pod.ns, pod.id);
      requireAddress(subject, add.value.stdout);
      results.push(JSON.parse(add.value.stdout));
      if (record) bench.samples.add(`${subject.name} ADD`, add);
    }
    for (const [i, pod] of created.entries()) {
      // As libcni does for 1.0 configs: DEL gets the ADD's result as prevResult.
      const del = await cniCall(bench, subject, 'DEL', pod.ns, pod.id, results[i]);
      if (record) bench.samples.add(`${subject.name} DEL`, del);
    }
    verifyReleased(bench, subject);
  } finally {
    for (const pod of created) await bench.leftovers.dropNetns(pod.ns.name);
  }
}

/** A Node process that does nothing (the floor of any Node plugin), and our VERSION (start-up, no kernel work). */
async function startupCycle(bench: Bench, ours: Subject, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const floor = await timeCommand(inHost(bench, [process.execPath, '-e', '0']), {env: bench.env});
    bench.samples.add('node -e 0', floor);
    let version;
    try {
      version = await timeCommand(inHost(bench, ours.argv), {env: {...bench.env, CNI_COMMAND: 'VERSION'}});
    } catch (error) {
      throw new BenchError(`ours VERSION failed (${ours.argv.join(' ')}), ${failureText(error)}`);
    }
    if (!version.value.stdout.includes('supportedVersions')) throw new BenchError(`ours VERSION printed no version list: ${version.value.stdout}`);
    bench.samples.add('ours VERSION', version);
  }
}

function checkMachine(options: Options): void {
  if (process.getuid?.() !== 0) throw new BenchError('the benchmark needs root (network namespaces, links): run it as root');
  requireTool('nsenter', 'util-linux');
  requireTool('ip', 'iproute2');
  for (const plugin of ['bridge', 'host-local']) requireTool(join(CNI_PATH, plugin), 'containernetworking-plugins');
  if (!options.plugin && !existsSync(CNI_MAIN)) throw new BenchError(`${CNI_MAIN} is missing: build first with \`npm run build\``);
  if (options.ipam === 'weave') requireTool('curl', 'curl');
  if (options.docker) requireTool('dockerd', 'docker.io');
  if (options.plugin) {
    try {
      accessSync(options.plugin, constants.X_OK);
    } catch {
      throw new BenchError(`--plugin ${options.plugin} is not an executable file (install it with \`weave setup\`, or drop --plugin)`);
    }
  }
}

/** host-local's reservations: one file per address under <dataDir>/<network>. */
function hostLocalLeft(dataDir: string, network: string): () => string[] {
  const store = join(dataDir, network);
  return () => (existsSync(store) ? readdirSync(store).filter(f => !f.startsWith('last_reserved_ip') && f !== 'lock') : []);
}

async function subjects(bench: Bench): Promise<[Subject, Subject]> {
  const {leftovers, options} = bench;
  let ours: Subject;
  if (options.ipam === 'weave') {
    let router: {api(method: string, path: string): [number, string]};
    let binDir: string;
    if (bench.docker) {
      // launch also installs the CNI plugin into the host's scratch directories.
      const launch = bench.docker.weave(['launch']);
      if (launch.exitCode !== 0) throw new BenchError(`weave launch failed: ${launch.stderr}`);
      router = bench.docker;
      binDir = bench.docker.binDir;
    } else {
      router = await leftovers.router(bench.host);
      binDir = leftovers.tempDir('weave-bench-bin-');
      await installCni({binDir, confDir: leftovers.tempDir('weave-bench-conf-')});
    }
    ours = {
      name: 'ours',
      argv: [join(binDir, 'weave-net')],
      config: {cniVersion: CNI_VERSION, name: 'weave', type: 'weave-net', hairpinMode: true},
      leftAllocated: () => {
        const owned = (JSON.parse(router.api('GET', '/ip')[1]) as {owned: {containerid: string}[] | null}).owned ?? [];
        return owned.map(o => o.containerid).filter(id => id !== 'weave:expose');
      },
    };
  } else {
    const dataDir = leftovers.tempDir('weave-bench-ours-');
    ours = {
      name: 'ours',
      argv: options.plugin ? [options.plugin] : [process.execPath, CNI_MAIN, 'weave-net'],
      config: {cniVersion: CNI_VERSION, name: 'bench-weave', type: 'weave-net', bridge: 'weave', hairpinMode: true, ipam: {type: 'host-local', subnet: '10.32.0.0/16', dataDir}},
      leftAllocated: hostLocalLeft(dataDir, 'bench-weave'),
    };
  }
  const refData = leftovers.tempDir('weave-bench-ref-');
  const reference: Subject = {
    name: 'reference',
    argv: [join(CNI_PATH, 'bridge')],
    config: {
      cniVersion: CNI_VERSION,
      name: 'bench-ref',
      type: 'bridge',
      bridge: 'cni-bench',
      isGateway: true,
      hairpinMode: true,
      ipam: {type: 'host-local', subnet: '10.33.0.0/16', dataDir: refData},
    },
    leftAllocated: hostLocalLeft(refData, 'bench-ref'),
  };
  return [ours, reference];
}

/** The warm path's client the shim picks under `env` (src/lib/setup/launcher.ts): perl, else socat. */
function shimClient(env: Record<string, string>): string {
  const dirs = (env.PATH ?? '').split(':').filter(Boolean);
  return ['perl', 'socat'].find(tool => dirs.some(dir => existsSync(join(dir, tool)))) ?? 'none, every call cold';
}

/** Wall-clock order statistics and mean CPU of one operation. */
interface Figures extends Summary {
  cpu: number;
}

function report(bench: Bench, ours: Subject, reference: Subject): void {
  const {options, samples} = bench;
  const figures = (name: string): Figures => ({...summarize(samples.wall(name)), cpu: samples.meanCpu(name)});
  const all = samples.names().map(name => [name, figures(name)] as const);
  const oursAdd = figures('ours ADD');
  const oursDel = figures('ours DEL');
  const refAdd = figures('reference ADD');
  const refDel = figures('reference DEL');
  const floor = figures('node -e 0');
  const version = figures('ours VERSION');

  console.log(`\nCNI ADD/DEL, ${options.pods} pods x ${options.rounds} rounds, node ${process.version}, plugin env: ${options.inheritEnv ? 'inherited' : 'PATH only'}`);
  const client = options.ipam === 'weave' ? `, shim client: ${shimClient(bench.env)}` : '';
  console.log(`ours: ${ours.argv.join(' ')} (IPAM: ${options.ipam}${client})   reference: ${reference.argv.join(' ')} (IPAM: host-local)   cniVersion ${CNI_VERSION}`);
  console.log('wall-clock ms per call; cpu: mean CPU ms per call of the plugin and its children (holds up under load)\n');
  console.log(
    table(
      ['ms', 'n', 'p50', 'p90', 'min', 'max', 'cpu'],
      all.map(([name, f]) => [name, String(f.n), ms(f.p50), ms(f.p90), ms(f.min), ms(f.max), ms(f.cpu)]),
    ),
  );
  console.log('');
  console.log(
    table(
      ['compared', 'p50', 'p90', 'cpu'],
      [
        ['ADD ours / reference', ratio(oursAdd.p50, refAdd.p50), ratio(oursAdd.p90, refAdd.p90), ratio(oursAdd.cpu, refAdd.cpu)],
        ['DEL ours / reference', ratio(oursDel.p50, refDel.p50), ratio(oursDel.p90, refDel.p90), ratio(oursDel.cpu, refDel.cpu)],
        ['ADD ours - node -e 0', delta(oursAdd.p50, floor.p50), delta(oursAdd.p90, floor.p90), delta(oursAdd.cpu, floor.cpu)],
        ['DEL ours - node -e 0', delta(oursDel.p50, floor.p50), delta(oursDel.p90, floor.p90), delta(oursDel.cpu, floor.cpu)],
        ['VERSION ours - node -e 0', delta(version.p50, floor.p50), delta(version.p90, floor.p90), delta(version.cpu, floor.cpu)],
      ],
    ),
  );
  const pick = ({p50, p90, cpu}: Figures) => ({p50, p90, cpu});
  console.log(
    jsonLine({
      bench: 'cni-add',
      pods: options.pods,
      rounds: options.rounds,
      node: process.version,
      env: options.inheritEnv ? 'inherited' : 'path-only',
      plugin: ours.argv.join(' '),
      ipam: options.ipam,
      router: options.ipam === 'weave' ? (options.docker ? 'docker' : 'process') : 'none',
      ms: {
        oursAdd: pick(oursAdd),
        oursDel: pick(oursDel),
        refAdd: pick(refAdd),
        refDel: pick(refDel),
        nodeFloor: pick(floor),
        oursVersion: pick(version),
      },
      addRatio: oursAdd.p50 / refAdd.p50,
      delRatio: oursDel.p50 / refDel.p50,
      addOverFloor: oursAdd.p50 - floor.p50,
      delOverFloor: oursDel.p50 - floor.p50,
    }),
  );
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  checkMachine(options);
  const leftovers = new Leftovers();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      // tsx relays a signal twice when the first answer is slow: clean up once.
      if (interrupted) return;
      interrupted = true;
      process.stderr.write(`bench/cni-add: ${signal}, removing what the run created\n`);
      void leftovers.removeAll().finally(() => process.exit(130));
    });
  }
  try {
    const env: Record<string, string> = options.inheritEnv
      ? Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined))
      : {PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'};
    const docker = options.docker ? await leftovers.dockerHost() : undefined;
    const bench: Bench = {options, host: docker?.ns ?? leftovers.netns('host'), ...(docker ? {docker} : {}), env, leftovers, samples: new Samples()};
    const [ours, reference] = await subjects(bench);

    // Untimed: creates both bridges and warms the page cache, as on a host already running pods.
    if (options.warmup > 0) {
      for (const subject of [ours, reference]) await podCycle(bench, subject, options.warmup, false);
    }
    for (let round = 1; round <= options.rounds; round++) {
      const order = round % 2 === 1 ? [ours, reference] : [reference, ours];
      for (const subject of order) await podCycle(bench, subject, options.pods, true);
      await startupCycle(bench, ours, options.pods);
      const add = (name: string) => summarize(bench.samples.wall(`${name} ADD`)).p50;
      process.stderr.write(`round ${round}/${options.rounds} done: ADD p50 so far ours ${ms(add('ours'))} ms, reference ${ms(add('reference'))} ms\n`);
    }
    report(bench, ours, reference);
  } finally {
    await leftovers.removeAll();
  }
}

try {
  await main();
} catch (error) {
  if (!interrupted) {
    if (!(error instanceof BenchError)) throw error;
    console.error(`bench/cni-add: ${error.message}`);
    process.exitCode = 1;
  }
}
