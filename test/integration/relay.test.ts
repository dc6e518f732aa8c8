import assert from 'node:assert/strict';
import {randomBytes} from 'node:crypto';
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {after, afterEach, before, describe, it} from 'mocha';
import {pings} from '../helpers/cni-host.js';
import {relayDevice, relayVni, treeVni} from '../../src/lib/router/dataplane/relay-plan.js';
import {fullReport, type MeshRouter, peerNameOf, type ReportRouter, waitUntil} from '../helpers/mesh-router.js';
import type {LanHost} from '../helpers/lan.js';
import type {Netns} from '../helpers/netns.js';
import {countPackets} from '../helpers/pcap.js';
import {requireRoot, requireTool} from '../helpers/root.js';
import {RouterLan} from '../helpers/router-lan.js';
import {tcpTransfer} from '../helpers/transfer.js';
import type {Pod} from '../helpers/weave-pods.js';

interface RelayLink {
  ifname: string;
  master?: string;
  linkinfo: {info_data: {id: number}};
}

/** The relay devices on a host (VXLAN devices named vxr*), with the bridge they are on if any. */
function relayLinks(ns: Netns): RelayLink[] {
  return (JSON.parse(ns.exec('ip', ['-j', '-d', 'link', 'show', 'type', 'vxlan'])) as RelayLink[]).filter(l => l.ifname.startsWith('vxr'));
}

/** `ping -c count` from `from` to `to`: the replies it counted, and whether any came twice. */
function pingCount(from: Netns, to: string, count: number): {received: number; duplicates: boolean} {
  const out = from.exec('ping', ['-c', String(count), '-i', '0.05', '-W', '2', to]);
  const received = Number(/(\d+) received/.exec(out)?.[1] ?? -1);
  return {received, duplicates: /DUP!|duplicates/.test(out)};
}

/** `ping -b`: for each sequence number, the addresses that answered it, sorted and joined. */
function broadcastReplies(from: Netns, broadcast: string, count: number): string[] {
  const out = from.exec('ping', ['-b', '-c', String(count), '-i', '0.3', '-W', '2', broadcast]);
  const bySeq = new Map<number, string[]>();
  for (const [, address, seq] of out.matchAll(/bytes from ([\d.]+): icmp_seq=(\d+)/g)) bySeq.set(Number(seq), [...(bySeq.get(Number(seq)) ?? []), address!]);
  return [...bySeq.keys()].sort((x, y) => x - y).map(seq => bySeq.get(seq)!.sort().join());
}

/** The value of one /metrics sample, given its name and labels as printed; undefined when absent. */
function sample(metrics: string, series: string): number | undefined {
  const line = metrics.split('\n').find(l => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const PASSWORD = {WEAVE_PASSWORD: 'relay test secret'};
const PATHS = [
  {path: 'VXLAN', prefix: 'h2r', args: [], sleeve: false},
  {path: 'the sleeve (a password: each hop encrypted)', prefix: 'h2e', env: PASSWORD, args: [], sleeve: true},
  {path: 'VXLAN between trusted peers (a password, the LAN in --trusted-subnets)', prefix: 'h2t', env: PASSWORD, args: ['--trusted-subnets', '192.168.90.0/24'], sleeve: false},
];

for (const {path, prefix, env, args, sleeve} of PATHS) {
  describe(`pods across a partial mesh, relayed by a peer connected to both, over ${path} (weave router processes on a LAN, pods through CNI)`, function () {
    requireRoot();
    requireTool('ping', 'iputils-ping');
    requireTool('socat', 'socat');
    requireTool('nft', 'nftables');
    requireTool('tc', 'iproute2');
    requireTool('tcpdump', 'tcpdump');
    this.timeout(120_000);
    let net: RouterLan;
    let routers: MeshRouter[] = [];
    let pods: Pod[] = [];

    before(() => {
      net = RouterLan.create(3, prefix);
    });

    after(() => net?.destroy());

    /** Hosts A–B–C in a line: A and C filtered from each other, each given B alone as peer, with no discovery. */
    async function line(): Promise<MeshRouter[]> {
      const [A, , C] = net.lan.hosts;
      net.lan.block(A!, C!);
      const options = {args: ['--no-discovery', ...args], ...(env ? {env} : {})};
      const b = await net.start(1, [], options);
      routers = [await net.start(0, [1], options), b, await net.start(2, [1], options)];
      await waitUntil('A and C to reach each other through B', async () => {
        for (const r of routers) if ((await r.report()).Peers.length !== 3) return false;
        return true;
      });
      return routers;
    }

    it('A–B–C in a line: a pod on A reaches a pod on C through B, each packet once, and /report shows the route', async () => {
      const [a, b, c] = await line();
      pods = [await net.attach(0), await net.attach(1), await net.attach(2)];
      const [onA, onB, onC] = pods as [Pod, Pod, Pod];
      await waitUntil('a pod on A to answer a pod on C', async () => pings(onA.ns, onC.ip), 20_000, 200);
      assert.ok(pings(onC.ns, onA.ip), 'and back');
      assert.ok(pings(onA.ns, onB.ip) && pings(onC.ns, onB.ip), 'the relay itself is reached directly');

      assert.deepEqual(pingCount(onA.ns, onC.ip, 50), {received: 50, duplicates: false});
      // A broadcast reaches each other pod once (each answers it, once per ping): no copy twice, none looping.
      for (const pod of [onB, onC]) pod.ns.exec('sysctl', ['-qw', 'net.ipv4.icmp_echo_ignore_broadcasts=0']);
      // (ping stops at the first answer to its last request: that one is left out.)
      assert.deepEqual(broadcastReplies(onA.ns, '10.47.255.255', 4).slice(0, 3), [1, 2, 3].map(() => [onB.ip, onC.ip].sort().join()));

      const [sent, received] = await tcpTransfer(onA.ns, onC.ns, onC.ip, 10 * 1024 * 1024);
      assert.equal(received, sent, 'the 10 MB arrived intact');

      if (sleeve) {
        // No VXLAN relay: the sleeve carries it, and B passed the frames on.
        for (const r of [a!, b!, c!]) assert.deepEqual(relayLinks(r.host.ns), []);
        const relayed = sample(await b!.text('/metrics'), 'weave_sleeve_relayed_frames_total')!;
        assert.ok(relayed > 7000, `B's sleeve relayed the 10 MB (${relayed} frames)`);
        assert.equal(sample(await a!.text('/metrics'), 'weave_sleeve_relayed_frames_total'), 0, 'an end relays nothing');
      } else {
        // The ends each have two bridged devices: one for the far peer, one for their broadcasts' tree;
        // the relay two per direction (unicast, broadcasts), on no bridge.
        assert.deepEqual(relayLinks(a!.host.ns).map(l => l.master), ['weave', 'weave']);
        assert.deepEqual(relayLinks(c!.host.ns).map(l => l.master), ['weave', 'weave']);
        assert.deepEqual(relayLinks(b!.host.ns).map(l => l.master), [undefined, undefined, undefined, undefined]);
      }
      const report = (await fullReport(a!.statusSocket)).Router as ReportRouter & {UnicastRoutes: {Dest: string; Via: string}[]};
      assert.deepEqual(
        report.UnicastRoutes.find(r => r.Dest === c!.name),
        {Dest: c!.name, Via: b!.name},
      );
    });

    if (sleeve) {
      it('a capture of the LAN shows the relayed traffic only encrypted: no payload, no VXLAN', async () => {
        const [onA, , onC] = pods;
        const marker = randomBytes(8).toString('hex');
        const capture = await net.lan.capture(join(routers[0]!.process.dbDir, 'lan.pcap'));
        try {
          onA!.ns.exec('ping', ['-c', '3', '-i', '0.2', '-p', marker, onC!.ip]);
        } finally {
          await capture.stop();
        }
        const [A, B, C] = net.lan.hosts;
        // Each request A to B and B to C, each reply C to B and B to A.
        for (const [from, to] of [[A, B], [B, C], [C, B], [B, A]]) {
          assert.ok((await countPackets(capture.file, ['udp', 'port', '6783', 'and', 'src', from!.ip, 'and', 'dst', to!.ip])) >= 3, `sleeve datagrams from ${from!.ip} to ${to!.ip}`);
        }
        assert.equal(await countPackets(capture.file, ['udp', 'port', '6784']), 0, 'no VXLAN on the LAN');
        assert.ok(!readFileSync(capture.file).includes(Buffer.from(marker, 'hex')), 'no plaintext payload on the LAN');
      });
    }

    it('the B–C link cut: C is cut off (its relay devices go); restored: traffic from A resumes, each packet once', async () => {
      const [a, b, c] = routers;
      const [onA, , onC] = pods;
      const [, B, C] = net.lan.hosts;
      net.lan.block(B!, C!);
      // Both ends' connections end at once, as a reset would, rather than after the heartbeat's 30 s.
      b!.host.ns.exec('ss', ['-K', 'dst', C!.ip]);
      c!.host.ns.exec('ss', ['-K', 'dst', B!.ip]);
      await waitUntil('A to see C unreachable', async () => (await a!.report()).Peers.length === 2, 20_000, 200);
      if (!sleeve) {
        await waitUntil("A's relay device to go", async () => relayLinks(a!.host.ns).length === 0, 20_000, 200);
        assert.equal(relayLinks(b!.host.ns).length, 0);
      }
      assert.ok(!pings(onA!.ns, onC!.ip), 'C is cut off');
      net.lan.unblock(B!, C!);
      await waitUntil('a pod on A to answer a pod on C again', async () => pings(onA!.ns, onC!.ip), 30_000, 500);
      assert.deepEqual(pingCount(onA!.ns, onC!.ip, 20), {received: 20, duplicates: false});
      const [sent, received] = await tcpTransfer(onA!.ns, onC!.ns, onC!.ip, 10 * 1024 * 1024);
      assert.equal(received, sent);
    });
  });
}

const TREE_PATHS = [
  {path: 'VXLAN', prefix: 'h2s', sleeve: false},
  {path: 'the sleeve (a password: each hop encrypted)', prefix: 'h2q', env: PASSWORD, sleeve: true},
];

for (const {path, prefix, env, sleeve} of TREE_PATHS) {
  describe(`broadcasts across a partial mesh along spanning trees, over ${path} (four hosts: weave router processes on a LAN, pods through CNI)`, function () {
    requireRoot();
    requireTool('ping', 'iputils-ping');
    requireTool('nft', 'nftables');
    requireTool('tc', 'iproute2');
    this.timeout(120_000);
    // Each test on a LAN of its own: routers meshed anew on the last one's hosts would be slow to find each other.
    let net: RouterLan | undefined;

    afterEach(async () => {
      await net?.destroy();
      net = undefined;
    });

    /** Packets a device of a host received or sent so far. */
    function packets(host: LanHost, dev: string, direction: 'rx' | 'tx'): number {
      const [link] = JSON.parse(host.ns.exec('ip', ['-s', '-j', 'link', 'show', 'dev', dev])) as {stats64: Record<'rx' | 'tx', {packets: number}>}[];
      return link!.stats64[direction].packets;
    }

    /** A counter of a device of a host: what it received or sent so far. */
    const device =
      (host: LanHost, dev: string, direction: 'rx' | 'tx') =>
      async (): Promise<number> =>
        packets(host, dev, direction);

    /** The broadcasts and unknown unicast host `from`'s sleeve sent so far to host `to`'s peer: what their link carried that way. */
    const flooded =
      (from: number, to: number) =>
      async (): Promise<number> =>
        sample(await net!.routers[from]!.text('/metrics'), `weave_sleeve_flooded_frames_total{peer="${peerNameOf(to)}"}`) ?? Number.NaN;

    /**
     * Four hosts on a new LAN, only the pairs `links` connected, routers each given the hosts of
     * `links` it is the first of as peers, with no discovery, until all see all four; a pod on each host.
     */
    async function mesh(links: [number, number][]): Promise<Pod[]> {
      const lan = RouterLan.create(4, prefix);
      net = lan;
      const hosts = lan.lan.hosts;
      for (let i = 0; i < hosts.length; i++) {
        for (let j = i + 1; j < hosts.length; j++) {
          if (!links.some(([x, y]) => (x === i && y === j) || (x === j && y === i))) lan.lan.block(hosts[i]!, hosts[j]!);
        }
      }
      for (let i = 0; i < hosts.length; i++) await lan.start(i, links.filter(([x]) => x === i).map(([, y]) => y), {args: ['--no-discovery'], ...(env ? {env} : {})});
      await waitUntil(
        'every peer to see the other three',
        async () => {
          for (const r of lan.routers) if ((await r.report()).Peers.length !== 4) return false;
          return true;
        },
        60_000,
        200,
      );
      const pods = [await lan.attach(0), await lan.attach(1), await lan.attach(2), await lan.attach(3)];
      // IPv6 off: the pods' router solicitations and MLD reports would be counted with the broadcasts.
      for (const pod of pods) pod.ns.exec('sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1']);
      for (const pod of pods.slice(1)) pod.ns.exec('sysctl', ['-qw', 'net.ipv4.icmp_echo_ignore_broadcasts=0']);
      return pods;
    }

    /**
     * How much each of `counters` grows while `from` pings the broadcast address 4 times; the addresses that
     * answered each of the first 3 requests. The pods are pinged from `from` first: each knows the others'
     * MACs, so no ARP broadcast joins the count.
     */
    async function broadcastCounts(from: Pod, to: Pod[], counters: (() => Promise<number>)[]): Promise<{replies: string[]; counts: number[]}> {
      await waitUntil('a pod on A to answer the others', async () => to.every(pod => pings(from.ns, pod.ip)), 30_000, 200);
      const before = await Promise.all(counters.map(c => c()));
      // (ping stops at the first answer to its last request: that one is left out.)
      const replies = broadcastReplies(from.ns, '10.47.255.255', 4).slice(0, 3);
      const after = await Promise.all(counters.map(c => c()));
      return {replies, counts: after.map((value, i) => value - before[i]!)};
    }

    const [a, b, c, d] = [0, 1, 2, 3].map(peerNameOf) as [string, string, string, string];
    /** At `at`, the end device for the far peer `peer`; the tree devices of `source`'s broadcasts. */
    const end = (peer: string, at: string) => relayDevice(relayVni(peer, at));
    const tree = (source: string, at: string, out = false) => relayDevice(treeVni(source, at, out));

    it('a star around B: a broadcast from A crosses A–B once for C and D together, B sends one copy to each, every pod answers it once', async () => {
      const [onA, onB, onC, onD] = (await mesh([
        [0, 1],
        [2, 1],
        [3, 1],
      ])) as [Pod, Pod, Pod, Pod];
      const [A, B, C, D] = net!.lan.hosts as [LanHost, LanHost, LanHost, LanHost];
      const {replies, counts} = await broadcastCounts(
        onA,
        [onB, onC, onD],
        sleeve
          ? // Each direction of each link: A to B, B to C, B to D, and back.
            [flooded(0, 1), flooded(1, 2), flooded(1, 3), flooded(1, 0), flooded(2, 1), flooded(3, 1)]
          : [device(A, tree(a, a, true), 'tx'), device(A, end(c, a), 'tx'), device(A, end(d, a), 'tx'), device(B, tree(a, b), 'rx'), device(C, end(a, c), 'rx'), device(D, end(a, d), 'rx')],
      );
      assert.deepEqual(replies, [1, 2, 3].map(() => [onB.ip, onC.ip, onD.ip].sort().join()));
      if (sleeve) {
        // Head-end replication would send A to B three copies of each (for B, C and D).
        assert.deepEqual(counts, [4, 4, 4, 0, 0, 0], 'A to B, B to C, B to D; nothing back');
      } else {
        // Head-end replication would send one copy for C and one for D through A's end devices.
        assert.deepEqual(counts, [4, 0, 0, 4, 4, 4], "A's tree copies, A's copies for C and for D, B's tree copies in, C's and D's copies in");
      }
    });

    it(`a line A–B–C–D: C delivers what comes down A's tree and passes it on to D; unicast from A to D arrives once${sleeve ? "; A–D connected, a ring: A's tree follows" : ''}`, async () => {
      const [onA, onB, onC, onD] = (await mesh([
        [0, 1],
        [2, 1],
        [3, 2],
      ])) as [Pod, Pod, Pod, Pod];
      const [A, B, C, D] = net!.lan.hosts as [LanHost, LanHost, LanHost, LanHost];
      await waitUntil('a pod on A to answer a pod on D', async () => pings(onA.ns, onD.ip), 30_000, 200);
      assert.deepEqual(pingCount(onA.ns, onD.ip, 20), {received: 20, duplicates: false});
      assert.deepEqual(pingCount(onD.ns, onA.ip, 20), {received: 20, duplicates: false});
      const {replies, counts} = await broadcastCounts(
        onA,
        [onB, onC, onD],
        sleeve
          ? [flooded(0, 1), flooded(1, 2), flooded(2, 3), flooded(1, 0), flooded(2, 1), flooded(3, 2)]
          : [device(A, tree(a, a, true), 'tx'), device(B, tree(a, b), 'rx'), device(C, tree(a, c), 'rx'), device(C, tree(a, c, true), 'tx'), device(D, end(a, d), 'rx')],
      );
      assert.deepEqual(replies, [1, 2, 3].map(() => [onB.ip, onC.ip, onD.ip].sort().join()));
      if (sleeve) {
        // Each hop delivers and passes one copy on: A to B, B to C, C to D; nothing back.
        assert.deepEqual(counts, [4, 4, 4, 0, 0, 0]);
        for (const r of net!.routers) assert.deepEqual(relayLinks(r.host.ns), [], 'no VXLAN relay device: the sleeve carries it all');

        // A–D connected too, a ring: A's tree follows, D now its child; C passes nothing on to D any more.
        net!.lan.unblock(A, D);
        net!.routers[0]!.process.api('POST', '/connect', `peer=${D.ip}`);
        await waitUntil(
          'every peer to see A–D established both ways',
          async () => {
            for (const r of net!.routers) {
              const peers = (await r.report()).Peers;
              const link = (from: string, to: string) => peers.find(p => p.Name === from)?.Connections?.some(x => x.Name === to && x.Established);
              if (!link(a, d) || !link(d, a)) return false;
            }
            return true;
          },
          30_000,
          200,
        );
        // The sleeves' routes and trees follow a topology change within ROUTES_GAP_MS (half a second) of it.
        await new Promise(resolve => setTimeout(resolve, 1500));
        const ring = await broadcastCounts(onA, [onB, onC, onD], [flooded(0, 1), flooded(0, 3), flooded(1, 2), flooded(2, 3), flooded(3, 2), flooded(1, 0), flooded(3, 0)]);
        assert.deepEqual(ring.replies, [1, 2, 3].map(() => [onB.ip, onC.ip, onD.ip].sort().join()));
        assert.deepEqual(ring.counts, [4, 4, 4, 0, 0, 0, 0], 'A to B, A to D, B to C; nothing between C and D, nothing back');
      } else {
        // C's tree-in delivers A's broadcasts and mirrors them to its tree-out, which sends them to D's end device for A.
        assert.deepEqual(counts, [4, 4, 4, 4, 4]);
      }
    });
  });
}
