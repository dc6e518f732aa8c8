/**
 * Overlay benchmark: pod-to-pod TCP throughput (iperf3) between two simulated hosts on one LAN,
 * three ways in the same run, in interleaved rounds:
 *   - host to host over the LAN itself (the ceiling);
 *   - a hand-built kernel VXLAN (ENVIRONMENT.md's recipe: `ip link add ... type vxlan ...
 *     nolearning` and one all-zeros fdb entry per peer, pods at the LAN's MTU less VXLAN's 50 on a
 *     bridge of their own);
 *   - ours: `weave router` on each host, pods attached by the weave-net CNI plugin, at the MTU the
 *     routers pick (or --mtu's).
 * Prints the medians and our ratio to each; the target is 97% or more of the hand-built one.
 *
 *   npm run bench:overlay [-- --seconds 3 --rounds 5 --underlay-mtu 9000 --mtu 1376]
 */
import {type ChildProcess, execFileSync} from 'node:child_process';
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {parseArgs} from 'node:util';
import {createLogger} from '../src/lib/router/log.js';
import {TargetStore} from '../src/lib/router/mesh/target-store.js';
import {Lan} from '../test/helpers/lan.js';
import {MeshRouter, waitUntil} from '../test/helpers/mesh-router.js';
import {Netns} from '../test/helpers/netns.js';
import {runPlugin} from '../test/helpers/plugin.js';
import {VXLAN_OVERHEAD} from '../src/lib/net/mtu.js';
import {BenchError, benchArgs, count} from './lib/options.js';
import {jsonLine, ratio, table} from './lib/report.js';
import {median} from './lib/stats.js';

const USAGE = `usage: npx tsx bench/overlay.ts [options]   (npm run build first: the routers run from dist)
  --seconds N       length of each iperf3 run, after one second of warm-up left out (default 3)
  --rounds N        runs of each path, interleaved; medians are reported (default 5)
  --underlay-mtu N  the LAN's MTU (default 1500); the hand-built overlay runs at N - 50
  --mtu N           our routers' --mtu (default: none, they pick it from the network)
  --lan-segments    the LAN links hand over packets of their MTU, not 64 KB super-frames (gso_max_segs 1),
                    as a real network does: the per-packet cost the MTU decides then shows`;

/** One way from a client namespace to a server namespace's address. */
interface Path {
  name: string;
  client: Netns;
  server: Netns;
  address: string;
}

/** A pod of the hand-built overlay: a namespace on `bridge` in `host`, with `address` at `mtu`. */
function handPod(host: Netns, bridge: string, address: string, veth: string, mtu: number): Netns {
  const pod = Netns.create('h2b');
  host.exec('ip', ['link', 'add', veth, 'mtu', String(mtu), 'type', 'veth', 'peer', 'name', 'eth0', 'mtu', String(mtu), 'netns', pod.path]);
  host.exec('ip', ['link', 'set', veth, 'master', bridge, 'up']);
  pod.exec('ip', ['addr', 'add', address, 'dev', 'eth0']);
  pod.exec('ip', ['link', 'set', 'eth0', 'up']);
  return pod;
}

/** ENVIRONMENT.md's hand-built VXLAN between two hosts, on a port and a bridge of its own. */
function handBuilt(hosts: {ns: Netns; ip: string}[], mtu: number): Netns[] {
  return hosts.map((host, i) => {
    const peer = hosts[1 - i]!;
    host.ns.exec('ip', ['link', 'add', 'hbr0', 'type', 'bridge']);
    host.ns.exec('ip', ['link', 'set', 'hbr0', 'mtu', String(mtu), 'up']);
    host.ns.exec('ip', ['link', 'add', 'hvx0', 'type', 'vxlan', 'id', '42', 'dstport', '4789', 'dev', 'eth0', 'nolearning']);
    host.ns.exec('ip', ['link', 'set', 'hvx0', 'mtu', String(mtu), 'master', 'hbr0', 'up']);
    host.ns.exec('bridge', ['fdb', 'append', '00:00:00:00:00:00', 'dev', 'hvx0', 'dst', peer.ip]);
    return handPod(host.ns, 'hbr0', `10.48.0.${i + 1}/24`, 'hveth0', mtu);
  });
}

/** A pod attached to host i's weave bridge by our CNI plugin (host-local addresses, on-link). */
async function weavePod(host: Netns, i: number, dataDir: string): Promise<{pod: Netns; ip: string}> {
  const pod = Netns.create('h2b');
  const config = {cniVersion: '1.0.0', name: 'weave', type: 'weave-net', ipam: {type: 'host-local', subnet: '10.49.0.0/24', rangeStart: `10.49.0.${10 + i}`, rangeEnd: `10.49.0.${10 + i}`, routes: [], dataDir}};
  const env = {CNI_COMMAND: 'ADD', CNI_CONTAINERID: `benchpod${i}`, CNI_NETNS: pod.path, CNI_IFNAME: 'eth0', CNI_PATH: '/usr/lib/cni'};
  const add = await runPlugin({env, config, hostNetns: host.path});
  if (add.exitCode !== 0) throw new BenchError(`the CNI plugin failed on host ${i}: ${add.stdout}${add.stderr}`);
  return {pod, ip: (add.json!.ips[0].address as string).split('/')[0]!};
}

/** Received throughput of one iperf3 run, in Gbit/s. */
function iperf(path: Path, seconds: number): number {
  // -O 1: the first second (slow start) is left out.
  const out = path.client.exec('iperf3', ['-c', path.address, '-t', String(seconds), '-O', '1', '-J']);
  const bps = (JSON.parse(out) as {end: {sum_received: {bits_per_second: number}}}).end.sum_received.bits_per_second;
  return bps / 1e9;
}

async function main(): Promise<void> {
  const values = benchArgs(USAGE, () =>
    parseArgs({args: process.argv.slice(2), options: {seconds: {type: 'string'}, rounds: {type: 'string'}, 'underlay-mtu': {type: 'string'}, mtu: {type: 'string'}, 'lan-segments': {type: 'boolean'}, help: {type: 'boolean'}}}),
  );
  const options = {seconds: count(values.seconds, 'seconds', 3, 1, USAGE), rounds: count(values.rounds, 'rounds', 5, 1, USAGE)};
  const underlayMtu = count(values['underlay-mtu'], 'underlay-mtu', 1500, 1280, USAGE);
  const ourMtu = values.mtu === undefined ? undefined : count(values.mtu, 'mtu', 0, 576, USAGE);
  const handMtu = underlayMtu - VXLAN_OVERHEAD;
  if (process.getuid?.() !== 0) throw new BenchError('run as root: the benchmark creates network namespaces');
  for (const tool of ['iperf3', 'bridge']) {
    try {
      execFileSync('which', [tool], {stdio: 'ignore'});
    } catch {
      throw new BenchError(`${tool} is missing: apt-get install -y ${tool === 'bridge' ? 'iproute2' : tool}`);
    }
  }
  const lan = Lan.create(2);
  for (const host of lan.hosts) {
    lan.switchNs.exec('ip', ['link', 'set', 'dev', host.port, 'mtu', String(underlayMtu)]);
    host.ns.exec('ip', ['link', 'set', 'dev', host.ifname, 'mtu', String(underlayMtu), ...(values['lan-segments'] ? ['gso_max_segs', '1'] : [])]);
  }
  const dir = mkdtempSync(join(tmpdir(), 'h2-bench-overlay-'));
  const namespaces: Netns[] = [];
  const servers: ChildProcess[] = [];
  const routers: MeshRouter[] = [];
  try {
    const [A, B] = lan.hosts as [(typeof lan.hosts)[0], (typeof lan.hosts)[0]];
    const hand = handBuilt([A, B], handMtu);
    namespaces.push(...hand);
    const args = ourMtu === undefined ? [] : ['--mtu', String(ourMtu)];
    routers.push(await MeshRouter.start(B, 1, {args, dbDir: mkdtempSync(join(dir, 'db1-'))}));
    routers.push(await MeshRouter.start(A, 0, {args, peers: [B.ip], dbDir: mkdtempSync(join(dir, 'db0-'))}));
    // Without --mtu, pods made before the routers settle keep the first guess: wait for it.
    const settled = ourMtu ?? handMtu;
    await waitUntil(`our MTU to settle at ${settled}`, async () => routers.every(r => (JSON.parse(r.host.ns.exec('ip', ['-j', 'link', 'show', 'dev', 'weave'])) as {mtu: number}[])[0]?.mtu === settled), 30_000, 200);
    const ours = [await weavePod(A.ns, 0, join(dir, 'ipam0')), await weavePod(B.ns, 1, join(dir, 'ipam1'))];
    namespaces.push(...ours.map(o => o.pod));
    await waitUntil('the overlay between the two hosts', async () => ours[0]!.pod.exec('ping', ['-c', '1', '-W', '1', ours[1]!.ip]).includes('1 received'), 30_000, 200);

    const paths: Path[] = [
      {name: 'host to host (LAN)', client: A.ns, server: B.ns, address: B.ip},
      {name: 'hand-built kernel VXLAN', client: hand[0]!, server: hand[1]!, address: '10.48.0.2'},
      {name: 'ours (weave router + CNI)', client: ours[0]!.pod, server: ours[1]!.pod, address: ours[1]!.ip},
    ];
    for (const path of paths) servers.push(path.server.spawnDetached('iperf3', ['-s']));
    await new Promise(resolve => setTimeout(resolve, 500));
    const samples = new Map<string, number[]>(paths.map(p => [p.name, []]));
    for (let round = 0; round < options.rounds; round++) {
      for (const path of paths) samples.get(path.name)!.push(iperf(path, options.seconds));
    }

    const gbps = (name: string) => median(samples.get(name)!);
    const [host, handMade, weave] = paths.map(p => gbps(p.name)) as [number, number, number];
    const ourPodMtu = (JSON.parse(ours[0]!.pod.exec('ip', ['-j', 'link', 'show', 'dev', 'eth0'])) as {mtu: number}[])[0]!.mtu;
    console.log(`\nPod-to-pod TCP throughput between two simulated hosts (iperf3, ${options.seconds} s x ${options.rounds} rounds, interleaved; LAN MTU ${underlayMtu}, ${values['lan-segments'] ? ' segmented' : ''}, hand-built at ${handMtu}, ours at ${ourPodMtu}${ourMtu === undefined ? ' (picked)' : ' (--mtu)'})\n`);
    console.log(
      table(
        ['path', 'median Gbit/s', 'min', 'max', 'ours vs this'],
        paths.map(p => {
          const s = samples.get(p.name)!;
          return [p.name, gbps(p.name).toFixed(2), Math.min(...s).toFixed(2), Math.max(...s).toFixed(2), ratio(weave, gbps(p.name))];
        }),
      ),
    );
    const ofHand = weave / handMade;
    console.log(`\nours / hand-built: ${(ofHand * 100).toFixed(1)}% (target 97% or more): ${ofHand >= 0.97 ? 'met' : 'NOT met'}`);
    console.log(`hand-built / host: ${((handMade / host) * 100).toFixed(1)}%, ours / host: ${((weave / host) * 100).toFixed(1)}%`);
    console.log(`\n${jsonLine({underlayMtu, lanSegments: values['lan-segments'] ?? false, handMtu, ourPodMtu, hostGbps: host, handBuiltGbps: handMade, oursGbps: weave, oursOfHandBuiltPct: ofHand * 100, oursOfHostPct: (weave / host) * 100, samples: Object.fromEntries(samples)})}`);
  } finally {
    for (const server of servers) server.kill();
    await Promise.all(routers.map(r => r.process.stop()));
    const silent = createLogger('error', () => {});
    for (const r of routers) rmSync(new TargetStore(join(r.process.dbDir, 'weave'), silent).sentinel, {force: true});
    for (const ns of namespaces) ns.delete();
    lan.destroy();
    rmSync(dir, {recursive: true, force: true});
  }
}

main().catch(error => {
  console.error(error instanceof BenchError ? error.message : error);
  process.exitCode = 1;
});
