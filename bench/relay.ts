/**
 * Relay benchmark: pod-to-pod TCP throughput (iperf3, one stream) over a line of three simulated
 * hosts A–B–C (A and C filtered from each other, no discovery), weave routers and CNI pods on
 * each, in interleaved rounds: A to B (a direct connection) against A to C (relayed by B). With
 * a password (the default) both go through the sleeve, the relayed one opened and sealed again
 * at B; with --vxlan, no password: kernel VXLAN, relayed by tc redirects at B. On one machine
 * all three hosts share its cores, so the relayed path pays for B's work out of the same CPU.
 *
 *   npx tsx bench/relay.ts [--seconds 3] [--rounds 3] [--vxlan]
 */
import {parseArgs} from 'node:util';
import {type MeshRouter, waitUntil} from '../test/helpers/mesh-router.js';
import type {Netns} from '../test/helpers/netns.js';
import {requireTool} from '../test/helpers/root.js';
import {RouterLan} from '../test/helpers/router-lan.js';
import {BenchError, benchArgs, count} from './lib/options.js';
import {jsonLine, ratio, table} from './lib/report.js';
import {median} from './lib/stats.js';

const USAGE = `usage: npx tsx bench/relay.ts [options]
  --seconds N  length of each iperf3 run, after one second of warm-up left out (default 3)
  --rounds N   runs of each path, interleaved; medians are reported (default 3)
  --vxlan      no password: the VXLAN path (default: the sleeve, with a password)`;

/** Received throughput of one iperf3 run, in Gbit/s. */
function iperf(client: Netns, address: string, seconds: number): number {
  const out = client.exec('iperf3', ['-c', address, '-t', String(seconds), '-O', '1', '-J']);
  return (JSON.parse(out) as {end: {sum_received: {bits_per_second: number}}}).end.sum_received.bits_per_second / 1e9;
}

async function main(): Promise<void> {
  const values = benchArgs(USAGE, () => parseArgs({args: process.argv.slice(2), options: {seconds: {type: 'string'}, rounds: {type: 'string'}, vxlan: {type: 'boolean'}, help: {type: 'boolean'}}}));
  const seconds = count(values.seconds, 'seconds', 3, 1, USAGE);
  const rounds = count(values.rounds, 'rounds', 3, 1, USAGE);
  const vxlan = values.vxlan ?? false;
  if (process.getuid?.() !== 0) throw new BenchError('run as root: the benchmark creates network namespaces');
  requireTool('iperf3', 'iperf3');
  const net = RouterLan.create(3, 'brl');
  const servers: {kill(): void}[] = [];
  try {
    const [A, , C] = net.lan.hosts;
    net.lan.block(A!, C!);
    const options = {args: ['--no-discovery'], ...(vxlan ? {} : {env: {WEAVE_PASSWORD: 'relay bench secret'}})};
    const routers: MeshRouter[] = [await net.start(1, [], options)];
    routers.push(await net.start(0, [1], options), await net.start(2, [1], options));
    await waitUntil('the line A–B–C', async () => {
      for (const r of routers) if ((await r.report()).Peers.length !== 3) return false;
      return true;
    });
    const [onA, onB, onC] = [await net.attach(0), await net.attach(1), await net.attach(2)];
    await waitUntil('a pod on A to reach a pod on C', async () => onA.ns.exec('ping', ['-c', '1', '-W', '1', onC.ip]).includes('1 received'), 30_000, 200).catch(() => {
      throw new BenchError('a pod on A does not reach a pod on C through B');
    });
    const paths = [
      {name: 'A to B (direct)', server: onB},
      {name: 'A to C (relayed by B)', server: onC},
    ];
    for (const path of paths) servers.push(path.server.ns.spawnDetached('iperf3', ['-s']));
    await new Promise(resolve => setTimeout(resolve, 500));
    const samples = new Map<string, number[]>(paths.map(p => [p.name, []]));
    for (let round = 0; round < rounds; round++) for (const path of paths) samples.get(path.name)!.push(iperf(onA.ns, path.server.ip, seconds));
    const [direct, relayed] = paths.map(p => median(samples.get(p.name)!)) as [number, number];
    const over = vxlan ? 'VXLAN' : 'the sleeve (a password)';
    console.log(`\nPod-to-pod TCP throughput over ${over}, hosts A–B–C in a line (iperf3, ${seconds} s x ${rounds} rounds, interleaved)\n`);
    console.log(
      table(
        ['path', 'median Gbit/s', 'min', 'max', 'relayed vs this'],
        paths.map(p => {
          const s = samples.get(p.name)!;
          return [p.name, median(s).toFixed(2), Math.min(...s).toFixed(2), Math.max(...s).toFixed(2), ratio(relayed, median(s))];
        }),
      ),
    );
    console.log(`\n${jsonLine({path: vxlan ? 'vxlan' : 'sleeve', directGbps: direct, relayedGbps: relayed, relayedOfDirectPct: (relayed / direct) * 100, samples: Object.fromEntries(samples)})}`);
  } finally {
    for (const server of servers) server.kill();
    await net.destroy();
  }
}

main().catch(error => {
  console.error(error instanceof BenchError ? error.message : error);
  process.exitCode = 1;
});
