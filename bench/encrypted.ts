/**
 * Encrypted data path benchmark: TCP throughput (iperf3, one stream) between two simulated hosts
 * on one LAN that drops IP fragments (as many clouds and firewalls do), five ways in the same
 * run, in interleaved rounds:
 *   - ours: the sleeve (a TAP on the pods' bridge, AES-256-GCM over UDP 6783, keys as the mesh
 *     handshake derives them), one process per host as the router will run it; pod to pod;
 *     the TAP's TCP super-frames cut into MTU-sized datagrams and joined back on the far side;
 *   - ours without offloads: the kernel cuts super-frames before the TAP, one frame at a time;
 *   - OpenVPN, pod to pod: Debian's openvpn, static key (AES-256-CBC + HMAC-SHA256), UDP, a TAP
 *     on the pods' bridge: the same layer-2 topology as ours;
 *   - OpenVPN, host to host over a TUN at MTU 1500: ENVIRONMENT.md's reference setup;
 *   - plain kernel VXLAN, unencrypted (what trusted peers get), built with our own ensureVxlan;
 *     pod to pod.
 * Each path has its own devices (and pods). Reports the medians, ours as a multiple of each, and
 * the CPU seconds the tunnel processes of both hosts spent per Gbit moved (the kernel does
 * VXLAN's work in softirq, in no process).
 *
 *   npx tsx bench/encrypted.ts [--seconds 5] [--rounds 3]
 */
import {type ChildProcess, spawn} from 'node:child_process';
import {once} from 'node:events';
import {mkdtempSync, rmSync} from 'node:fs';
import {availableParallelism, loadavg, tmpdir} from 'node:os';
import {join} from 'node:path';
import {FLOOD_MAC} from '../src/lib/net/fdb.js';
import {hostLinkOps} from '../src/lib/net/netlink/link-ops.js';
import {ensureVxlan} from '../src/lib/net/vxlan.js';
import {Lan, type LanHost} from '../test/helpers/lan.js';
import type {Netns} from '../test/helpers/netns.js';
import {requireTool} from '../test/helpers/root.js';
import {createSite, meshAll, type Site, SleeveHost} from '../test/helpers/sleeve.js';
import {collect} from '../test/helpers/spawn.js';
import {processCpuMs} from './lib/cpu.js';
import {BenchError, parseRunOptions} from './lib/options.js';
import {jsonLine, ratio, table} from './lib/report.js';
import {median} from './lib/stats.js';

const USAGE = `usage: npx tsx bench/encrypted.ts [options]
  --seconds N  length of each iperf3 run (default 5)
  --rounds N   runs of each path, interleaved; medians are reported (default 3)`;

/** What ENVIRONMENT.md measured for OpenVPN host to host on this kind of machine, for scale. */
const OPENVPN_REFERENCE_GBITS = 0.49;
const OPENVPN_PORT = 1194;
const VXLAN_PORT = 4789;

/** One end of a measured path: a namespace and its address there. */
interface Endpoint {
  ns: Netns;
  ip: string;
}

/** One way to carry traffic between the two hosts, and the processes doing it. */
interface Path {
  name: string;
  client: Endpoint;
  server: Endpoint;
  pids: () => number[];
  stop: () => Promise<void>;
}

interface Run {
  gbits: number;
  /** CPU seconds of the tunnel processes per Gbit received; undefined without processes. */
  cpuPerGbit?: number;
}

interface Summary {
  name: string;
  gbits: number;
  cpuPerGbit?: number;
}

/** From the first site's pod to the second's. */
const pods = (sites: Site[]) => ({client: {ns: sites[0]!.pod, ip: sites[0]!.podIp}, server: {ns: sites[1]!.pod, ip: sites[1]!.podIp}});

async function sleevePath(sites: Site[], offloads: boolean): Promise<Path> {
  const hosts: SleeveHost[] = [];
  const stop = async () => void (await Promise.all(hosts.map(h => h.stop())));
  // Each sleeve on a port and a TAP of its own.
  const options = offloads ? {} : {offloads, port: 6790, tapName: 'sleeve-plain'};
  try {
    for (const site of sites) hosts.push(await SleeveHost.start(site, options));
    await meshAll(hosts);
  } catch (error) {
    await stop();
    throw error;
  }
  const name = offloads ? 'ours: sleeve, AES-256-GCM, pod to pod' : 'ours without offloads: no super-frames';
  return {name, ...pods(sites), pids: () => hosts.map(h => h.child.pid!), stop};
}

/** How one end's openvpn carries traffic: a TAP joining the pods' bridge, or a routed TUN. */
type OpenvpnMode = {dev: 'tap'; site: Site} | {dev: 'tun'; local: string; remote: string};

/** Starts openvpn in `host` (into `started`) and waits for its tunnel; `nsenter` execs it, so the pid is openvpn's. */
async function startOpenvpn(host: LanHost, peer: LanHost, port: number, keyFile: string, direction: number, mode: OpenvpnMode, started: ChildProcess[]): Promise<void> {
  const dev = `ovpn${mode.dev}`;
  const devArgs = mode.dev === 'tap' ? ['--dev-type', 'tap', '--tun-mtu', String(mode.site.mtu)] : ['--dev-type', 'tun', '--ifconfig', mode.local, mode.remote];
  const args = ['--dev', dev, ...devArgs, '--proto', 'udp', '--lport', String(port), '--remote', peer.ip, '--rport', String(port), '--secret', keyFile, String(direction), '--cipher', 'AES-256-CBC', '--auth', 'SHA256', '--ping', '1', '--verb', '3'];
  const child = spawn('nsenter', [`--net=${host.ns.path}`, 'openvpn', ...args], {stdio: ['ignore', 'pipe', 'pipe']});
  started.push(child);
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new BenchError(`openvpn did not start in 10 s:\n${log}`)), 10_000);
    child.stdout!.on('data', (d: Buffer) => {
      log += d;
      if (log.includes('Initialization Sequence Completed')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr!.on('data', (d: Buffer) => (log += d));
    child.once('exit', code => reject(new BenchError(`openvpn exited (${code}):\n${log}`)));
  });
  if (mode.dev === 'tap') host.ns.exec('ip', ['link', 'set', dev, 'mtu', String(mode.site.mtu), 'master', mode.site.bridge, 'up']);
}

async function startOpenvpnPair(hosts: LanHost[], port: number, keyFile: string, modes: OpenvpnMode[]): Promise<Pick<Path, 'pids' | 'stop'>> {
  const children: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(
      children.map(async c => {
        if (c.exitCode !== null || c.signalCode !== null) return;
        const exited = once(c, 'exit');
        c.kill('SIGTERM');
        await exited;
      }),
    );
  };
  try {
    // Each end completes its start-up once it hears the other's ping: start both together.
    await Promise.all(hosts.map((host, i) => startOpenvpn(host, hosts[1 - i]!, port, keyFile, i, modes[i]!, children)));
  } catch (error) {
    await stop();
    throw error;
  }
  return {pids: () => children.map(c => c.pid!), stop};
}

async function openvpnKey(dir: string): Promise<string> {
  const keyFile = join(dir, 'static.key');
  const generated = await collect('openvpn', ['--genkey', 'secret', keyFile]);
  if (generated.exitCode !== 0) throw new BenchError(`openvpn --genkey failed: ${generated.stderr}`);
  return keyFile;
}

async function openvpnPodPath(sites: Site[], keyFile: string): Promise<Path> {
  const pair = await startOpenvpnPair(
    sites.map(s => s.host),
    OPENVPN_PORT,
    keyFile,
    sites.map(site => ({dev: 'tap', site})),
  );
  return {name: 'OpenVPN: static key, AES-256-CBC + HMAC-SHA256, TAP, pod to pod', ...pods(sites), ...pair};
}

async function openvpnHostPath(hosts: LanHost[], keyFile: string): Promise<Path> {
  const [a, b] = ['10.47.0.1', '10.47.0.2'];
  const pair = await startOpenvpnPair(hosts, OPENVPN_PORT + 1, keyFile, [
    {dev: 'tun', local: a, remote: b},
    {dev: 'tun', local: b, remote: a},
  ]);
  return {name: 'OpenVPN: the same, TUN at MTU 1500, host to host', client: {ns: hosts[0]!.ns, ip: a}, server: {ns: hosts[1]!.ns, ip: b}, ...pair};
}

async function vxlanPath(sites: Site[]): Promise<Path> {
  for (const [i, site] of sites.entries()) {
    const netns = site.host.ns.path;
    await ensureVxlan({name: 'vxbench', vni: 42, port: VXLAN_PORT, mtu: site.mtu, bridge: site.bridge, learning: false, netns}, hostLinkOps().ops);
    site.host.ns.exec('bridge', ['fdb', 'append', FLOOD_MAC, 'dev', 'vxbench', 'dst', sites[1 - i]!.host.ip]);
  }
  return {name: 'kernel VXLAN, unencrypted, pod to pod', ...pods(sites), pids: () => [], stop: async () => {}};
}

function cpuMs(pids: number[]): number {
  return pids.reduce((sum, pid) => sum + processCpuMs(pid), 0);
}

/** One iperf3 run from the client to the server. */
async function measure(path: Path, seconds: number): Promise<Run> {
  const {client, server} = path;
  const ping = await collect('nsenter', [`--net=${client.ns.path}`, 'ping', '-c', '3', '-i', '0.2', '-W', '2', server.ip]);
  if (ping.exitCode !== 0) throw new BenchError(`${path.name}: the ends do not reach each other:\n${ping.stdout}${ping.stderr}`);
  const iperfServer = spawn('nsenter', [`--net=${server.ns.path}`, 'iperf3', '-s', '-1'], {stdio: 'ignore'});
  try {
    await new Promise(resolve => setTimeout(resolve, 300));
    const pids = path.pids();
    const before = cpuMs(pids);
    const run = await collect('nsenter', [`--net=${client.ns.path}`, 'iperf3', '-c', server.ip, '-t', String(seconds), '-J']);
    const cpuSeconds = (cpuMs(pids) - before) / 1000;
    if (run.exitCode !== 0) throw new BenchError(`${path.name}: iperf3 failed:\n${run.stdout}${run.stderr}`);
    const received = (JSON.parse(run.stdout) as {end: {sum_received: {bits_per_second: number; bytes: number}}}).end.sum_received;
    const gigabits = (received.bytes * 8) / 1e9;
    return {gbits: received.bits_per_second / 1e9, ...(pids.length > 0 ? {cpuPerGbit: cpuSeconds / gigabits} : {})};
  } finally {
    iperfServer.kill();
  }
}

function summarize(path: Path, runs: Run[]): Summary {
  const cpu = runs.flatMap(r => (r.cpuPerGbit === undefined ? [] : [r.cpuPerGbit]));
  return {name: path.name, gbits: median(runs.map(r => r.gbits)), ...(cpu.length > 0 ? {cpuPerGbit: median(cpu)} : {})};
}

function report(summary: Summary[], options: {seconds: number; rounds: number}, mtu: number, loadBefore: number): void {
  const [ours, oursPlain, openvpnPod, openvpnHost, vxlan] = summary as [Summary, Summary, Summary, Summary, Summary];
  console.log(`\nTCP throughput between two simulated hosts (iperf3, 1 stream, ${options.seconds} s, median of ${options.rounds} interleaved rounds)`);
  console.log(`node ${process.version}; pods at MTU ${mtu}; IP fragments dropped on the LAN; CPU: both hosts' tunnel processes, user + system, per Gbit received; load average ${loadBefore.toFixed(1)} before, ${loadavg()[0]!.toFixed(1)} after, on ${availableParallelism()} cores\n`);
  console.log(
    table(
      ['path', 'Gbit/s', 'ours / path', 'CPU s/Gbit'],
      summary.map(s => [s.name, s.gbits.toFixed(3), ratio(ours.gbits, s.gbits), s.cpuPerGbit === undefined ? '(kernel)' : s.cpuPerGbit.toFixed(2)]),
    ),
  );
  console.log(`\nfor scale: ENVIRONMENT.md measured OpenVPN host to host at ${OPENVPN_REFERENCE_GBITS} Gbit/s on a quiet machine (not in this run)`);
  const mbits = (s: Summary) => s.gbits * 1000;
  console.log(
    `\n${jsonLine({
      seconds: options.seconds,
      rounds: options.rounds,
      loadBefore,
      loadAfter: loadavg()[0],
      oursMbits: mbits(ours),
      oursWithoutOffloadsMbits: mbits(oursPlain),
      openvpnPodMbits: mbits(openvpnPod),
      openvpnHostMbits: mbits(openvpnHost),
      vxlanMbits: mbits(vxlan),
      oursVsOpenvpnPod: ours.gbits / openvpnPod.gbits,
      oursVsOpenvpnHost: ours.gbits / openvpnHost.gbits,
      oursVsVxlan: ours.gbits / vxlan.gbits,
      oursCpuSecondsPerGbit: ours.cpuPerGbit,
      oursWithoutOffloadsCpuSecondsPerGbit: oursPlain.cpuPerGbit,
      openvpnPodCpuSecondsPerGbit: openvpnPod.cpuPerGbit,
      openvpnHostCpuSecondsPerGbit: openvpnHost.cpuPerGbit,
    })}`,
  );
}

async function main(): Promise<void> {
  const options = parseRunOptions(process.argv.slice(2), USAGE, {seconds: 5, rounds: 3});
  if (process.getuid?.() !== 0) throw new BenchError('run as root: the benchmark creates network namespaces');
  requireTool('iperf3', 'iperf3');
  requireTool('openvpn', 'openvpn');
  const dir = mkdtempSync(join(tmpdir(), 'weave-bench-encrypted-'));
  const lan = Lan.create(2);
  const paths: Path[] = [];
  const sites: Site[] = [];
  try {
    await lan.dropFragments();
    const sitesOf = (bridge: string, subnet: string) => {
      const made = lan.hosts.map((host, i) => createSite(host, i, {bridge, subnet}));
      sites.push(...made);
      return made;
    };
    const keyFile = await openvpnKey(dir);
    paths.push(await sleevePath(sitesOf('weave', '10.44.0'), true));
    paths.push(await sleevePath(sitesOf('plainbr', '10.43.0'), false));
    paths.push(await openvpnPodPath(sitesOf('ovpnbr', '10.45.0'), keyFile));
    paths.push(await openvpnHostPath(lan.hosts, keyFile));
    paths.push(await vxlanPath(sitesOf('vxbr', '10.46.0')));
    const runs = new Map<Path, Run[]>(paths.map(p => [p, []]));
    const loadBefore = loadavg()[0]!;
    for (let round = 0; round < options.rounds; round++) {
      for (const path of paths) {
        const run = await measure(path, options.seconds);
        runs.get(path)!.push(run);
        console.error(`round ${round + 1}: ${path.name}: ${run.gbits.toFixed(3)} Gbit/s${run.cpuPerGbit === undefined ? '' : `, ${run.cpuPerGbit.toFixed(2)} CPU s/Gbit`}`);
      }
    }
    report(
      paths.map(p => summarize(p, runs.get(p)!)),
      options,
      sites[0]!.mtu,
      loadBefore,
    );
  } finally {
    for (const path of paths) await path.stop();
    for (const site of sites) site.pod.delete();
    lan.destroy();
    rmSync(dir, {recursive: true, force: true});
  }
}

main().catch(error => {
  console.error(error instanceof BenchError ? error.message : error);
  process.exitCode = 1;
});
