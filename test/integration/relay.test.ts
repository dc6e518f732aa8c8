import assert from 'node:assert/strict';
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, before, describe, it} from 'mocha';
import {createLogger} from '../../src/lib/router/log.js';
import {TargetStore} from '../../src/lib/router/mesh/target-store.js';
import {pings} from '../helpers/cni-host.js';
import {Lan} from '../helpers/lan.js';
import {fullReport, MeshRouter, type ReportRouter, waitUntil} from '../helpers/mesh-router.js';
import type {Netns} from '../helpers/netns.js';
import {requireRoot, requireTool} from '../helpers/root.js';
import {tcpTransfer} from '../helpers/transfer.js';
import {attachPod, type Pod} from '../helpers/weave-pods.js';

const silent = createLogger('error', () => {});

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

describe('pods across a partial mesh, relayed by a peer connected to both (weave router processes on a LAN, pods through CNI)', function () {
  requireRoot();
  requireTool('ping', 'iputils-ping');
  requireTool('socat', 'socat');
  requireTool('nft', 'nftables');
  requireTool('tc', 'iproute2');
  this.timeout(120_000);
  let lan: Lan;
  let dir: string;
  let routers: MeshRouter[] = [];
  const pods: Pod[] = [];

  before(() => {
    lan = Lan.create(3);
    dir = mkdtempSync(join(tmpdir(), 'h2-relay-'));
  });

  after(async () => {
    for (const r of routers) await r.halt('SIGKILL');
    for (const pod of pods) pod.ns.delete();
    lan?.destroy();
    for (const r of routers) rmSync(new TargetStore(join(r.process.dbDir, 'weave'), silent).sentinel, {force: true});
    rmSync(dir, {recursive: true, force: true});
  });

  /** Hosts A–B–C in a line: A and C filtered from each other, each given B alone as peer, with no discovery. */
  async function line(): Promise<MeshRouter[]> {
    const [A, B, C] = lan.hosts;
    lan.block(A!, C!);
    const start = (i: number, peers: string[]) => MeshRouter.start(lan.hosts[i]!, i, {peers, args: ['--no-discovery'], dbDir: mkdtempSync(join(dir, `db${i}-`))});
    const b = await start(1, []);
    routers = [await start(0, [B!.ip]), b, await start(2, [B!.ip])];
    await waitUntil('A and C to reach each other through B', async () => {
      for (const r of routers) if ((await r.report()).Peers.length !== 3) return false;
      return true;
    });
    return routers;
  }

  it('A–B–C in a line: a pod on A reaches a pod on C through B, each packet once, and /report shows the route', async () => {
    const [a, b, c] = await line();
    const [onA, onB, onC] = [await attachPod(lan.hosts[0]!, 0, 'h2relay0', 'h2r'), await attachPod(lan.hosts[1]!, 1, 'h2relay1', 'h2r'), await attachPod(lan.hosts[2]!, 2, 'h2relay2', 'h2r')];
    pods.push(onA, onB, onC);
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

    // The ends each have one bridged device for the far peer; the relay one per direction, on no bridge.
    assert.deepEqual(relayLinks(a!.host.ns).map(l => l.master), ['weave']);
    assert.deepEqual(relayLinks(c!.host.ns).map(l => l.master), ['weave']);
    assert.deepEqual(relayLinks(b!.host.ns).map(l => l.master), [undefined, undefined]);
    const report = (await fullReport(a!.statusSocket)).Router as ReportRouter & {UnicastRoutes: {Dest: string; Via: string}[]};
    assert.deepEqual(
      report.UnicastRoutes.find(r => r.Dest === c!.name),
      {Dest: c!.name, Via: b!.name},
    );
  });

  it('the B–C link cut: C is cut off and its devices go; restored: traffic from A resumes', async () => {
    const [a, b, c] = routers;
    const [onA, , onC] = pods;
    const [, B, C] = lan.hosts;
    lan.block(B!, C!);
    // Both ends' connections end at once, as a reset would, rather than after the heartbeat's 30 s.
    b!.host.ns.exec('ss', ['-K', 'dst', C!.ip]);
    c!.host.ns.exec('ss', ['-K', 'dst', B!.ip]);
    await waitUntil("A's relay device to go", async () => relayLinks(a!.host.ns).length === 0, 20_000, 200);
    assert.equal(relayLinks(b!.host.ns).length, 0);
    assert.ok(!pings(onA!.ns, onC!.ip), 'C is cut off');
    lan.unblock(B!, C!);
    await waitUntil('a pod on A to answer a pod on C again', async () => pings(onA!.ns, onC!.ip), 30_000, 500);
    assert.deepEqual(pingCount(onA!.ns, onC!.ip, 20), {received: 20, duplicates: false});
    const [sent, received] = await tcpTransfer(onA!.ns, onC!.ns, onC!.ip, 10 * 1024 * 1024);
    assert.equal(received, sent);
  });
});
