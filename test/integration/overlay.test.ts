import assert from 'node:assert/strict';
import {EventEmitter} from 'node:events';
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, afterEach, before, describe, it} from 'mocha';
import {overlayDevice, Overlay, type OverlayMesh} from '../../src/lib/router/dataplane/overlay.js';
import {teardownDataplane} from '../../src/lib/router/dataplane/teardown.js';
import {createLogger} from '../../src/lib/router/log.js';
import type {MeshEvents} from '../../src/lib/router/mesh/mesh.js';
import {TargetStore} from '../../src/lib/router/mesh/target-store.js';
import {type ConnectionFacts, NO_OVERLAY} from '../../src/lib/router/mesh/status.js';
import {pings} from '../helpers/cni-host.js';
import {Lan, type LanHost} from '../helpers/lan.js';
import {fullyMeshed, MeshRouter, waitUntil} from '../helpers/mesh-router.js';
import {Netns} from '../helpers/netns.js';
import {requireRoot, requireTool} from '../helpers/root.js';
import {tcpTransfer} from '../helpers/transfer.js';
import {attachPod, type Pod, unreachablePairs} from '../helpers/weave-pods.js';

const DEVICE = overlayDevice(6783);
/** The LAN's 1500 bytes less VXLAN's 50: what the routers pick. */
const MTU = 1450;
const PASSWORD = {WEAVE_PASSWORD: 'overlay test secret'};
const silent = createLogger('error', () => {});

interface FdbRow {
  mac: string;
  dst?: string;
  master?: string;
}

/** The overlay device's flood remotes (all-zeros entries), sorted. */
function floodRemotes(ns: Netns): string[] {
  const rows = JSON.parse(ns.exec('bridge', ['-j', 'fdb', 'show', 'dev', DEVICE]) || '[]') as FdbRow[];
  return rows.filter(r => r.mac === '00:00:00:00:00:00' && !r.master).map(r => r.dst!).sort();
}

describe('the VXLAN overlay between simulated hosts (weave router processes on a LAN, pods through CNI)', function () {
  requireRoot();
  requireTool('ping', 'iputils-ping');
  requireTool('socat', 'socat');
  requireTool('bridge', 'iproute2');
  this.timeout(120_000);
  let lan: Lan;
  let dir: string;
  const dbDirs: string[] = [];
  let routers: MeshRouter[] = [];
  const pods: Pod[] = [];

  before(() => {
    lan = Lan.create(3);
    dir = mkdtempSync(join(tmpdir(), 'h2-overlay-'));
    for (let i = 0; i < 3; i++) dbDirs.push(mkdtempSync(join(dir, `db${i}-`)));
  });

  after(async () => {
    await stopAll('SIGKILL');
    for (const pod of pods) pod.ns.delete();
    lan?.destroy();
    for (const db of dbDirs) rmSync(new TargetStore(join(db, 'weave'), silent).sentinel, {force: true});
    rmSync(dir, {recursive: true, force: true});
  });

  async function stopAll(signal: NodeJS.Signals): Promise<void> {
    for (const r of routers.splice(0)) {
      const {child} = r.process;
      if (child.exitCode === null && child.signalCode === null) await r.process.stop(signal);
    }
  }

  /** Routers on B and C with no peers, then on A with `router hostB hostC`, each over its own state. */
  async function launch(options: {args?: string[]; env?: Record<string, string>} = {}): Promise<MeshRouter[]> {
    const [, B, C] = lan.hosts;
    const start = (i: number, peers: string[] = []) => MeshRouter.start(lan.hosts[i]!, i, {...options, peers, dbDir: dbDirs[i]!});
    const b = await start(1);
    const c = await start(2);
    const a = await start(0, [B!.ip, C!.ip]);
    routers = [a, b, c];
    await waitUntil('a full mesh', () => fullyMeshed(routers));
    return routers;
  }

  /** A pod on host i through the weave-net plugin with the default conflist: weave's own IPAM across the peers. */
  async function addPod(i: number): Promise<Pod> {
    const pod = await attachPod(lan.hosts[i]!, i, `h2pod${pods.length}`, 'h2p');
    pods.push(pod);
    return pod;
  }

  /** Bytes the LAN's switch has sent to a host so far. */
  function bytesTo(host: LanHost): number {
    const [link] = JSON.parse(lan.switchNs.exec('ip', ['-s', '-j', 'link', 'show', 'dev', host.port])) as {stats64: {tx: {bytes: number}}}[];
    return link!.stats64.tx.bytes;
  }

  function podAddress(pod: Pod): string {
    return pod.ns.exec('ip', ['-4', '-o', 'addr', 'show', 'dev', 'eth0']).split(/\s+/)[3]!;
  }

  it('three hosts launched as `router hostB hostC` on A only: pods on every host reach pods on every other', async () => {
    const [a, b, c] = await launch();
    const [A, B, C] = lan.hosts;
    // Pods made before the routers settle their MTU would keep the smaller one they start at.
    for (const [i, r] of [a!, b!, c!].entries()) await waitUntil(`host ${i} at the MTU of the LAN`, async () => (await r.text('/status/connections')).split('\n').filter(Boolean).every(l => l.endsWith(`mtu=${MTU}`)));
    const all = [await addPod(0), await addPod(1), await addPod(2)];
    for (const [i, r] of [a!, b!, c!].entries()) {
      const others = lan.hosts.filter((_, j) => j !== i).map(h => h.ip).sort();
      await waitUntil(`host ${i}'s overlay to flood to its two peers`, async () => floodRemotes(r.host.ns).join() === others.join());
      const status = await r.text('/status');
      assert.match(status, /^ {4}Connections: 2 \(2 established\)$/m);
      assert.match(status, /^ {10}Peers: 3 \(with 6 established connections\)$/m);
      assert.match(status, /^ {5}Encryption: disabled$/m);
      const lines = (await r.text('/status/connections')).split('\n').filter(Boolean);
      assert.equal(lines.length, 2);
      for (const line of lines) assert.match(line, /established fastdp aa:90:00:00:00:0[1-3]\(wlh[0-9a-f]+\) mtu=1450$/);
    }
    const link = JSON.parse(A!.ns.exec('ip', ['-j', '-d', 'link', 'show', DEVICE]))[0];
    assert.deepEqual([link.master, link.mtu, link.linkinfo.info_data.port, link.linkinfo.info_data.learning], ['weave', MTU, 6784, true]);

    assert.deepEqual(unreachablePairs(all), []);
    // A full-size pod packet crosses whole (the don't-fragment bit set; 28 bytes of IP and ICMP headers).
    assert.ok(pings(all[0]!.ns, all[2]!.ip), 'warm-up');
    all[0]!.ns.exec('ping', ['-c', '1', '-W', '2', '-M', 'do', '-s', String(MTU - 28), all[2]!.ip]);
    const toB = bytesTo(B!);
    const toC = bytesTo(C!);
    const [sent, received] = await tcpTransfer(all[0]!.ns, all[2]!.ns, all[2]!.ip, 10 * 1024 * 1024);
    assert.equal(received, sent, 'the 10 MB arrived intact');
    // The device learnt which peer C's pod is behind: the transfer went to C alone, not flooded to B.
    assert.ok(bytesTo(C!) - toC > 10 * 1024 * 1024);
    assert.ok(bytesTo(B!) - toB < 1024 * 1024, `B got ${bytesTo(B!) - toB} bytes of it`);
  });

  it('kill -9 and restart a router: pods keep their addresses and their traffic meanwhile, and its peers come back', async () => {
    const [a, b, c] = routers;
    const onA = pods.filter(p => p.host === 0);
    const before = onA.map(podAddress);
    await a!.process.stop('SIGKILL');
    await waitUntil('B and C to see A gone', async () => (await b!.report()).Peers.length === 2 && (await c!.report()).Peers.length === 2);
    // The kernel carries on: A's device stays, B and C hold their entry for A while its router restarts.
    assert.deepEqual(unreachablePairs(pods), []);
    const a2 = await MeshRouter.start(lan.hosts[0]!, 0, {peers: [lan.hosts[1]!.ip, lan.hosts[2]!.ip], dbDir: dbDirs[0]!});
    routers = [a2, b!, c!];
    await waitUntil('the mesh again', () => fullyMeshed(routers), 30_000);
    assert.deepEqual(onA.map(podAddress), before);
    for (const pod of onA) assert.deepEqual(a2.process.api('GET', `/ip/${pod.id}`), [200, `${pod.ip}/12`], 'IPAM still holds the address of each pod');
    assert.deepEqual(floodRemotes(lan.hosts[0]!.ns), [lan.hosts[1]!.ip, lan.hosts[2]!.ip], 'the restart adopted the entries, once each');
    assert.match(a2.process.logs, /overlay device adopted/);
    const late = await addPod(0);
    assert.deepEqual(unreachablePairs(pods), [], `a pod added after the restart (${late.ip}) too`);
  });

  it('C cut off from A and B: both sides attach pods; healed, every pod reaches every other and no address is held twice', async () => {
    const C = lan.hosts[2]!;
    lan.cut(C);
    try {
      await addPod(0);
      await addPod(2);
      await addPod(1);
    } finally {
      lan.heal(C);
    }
    await waitUntil('the mesh after the heal', () => fullyMeshed(routers), 60_000);
    const ips = pods.map(p => p.ip);
    assert.equal(new Set(ips).size, ips.length, `no address twice: ${ips.join(' ')}`);
    await waitUntil('every pod to reach every other', async () => unreachablePairs(pods).length === 0, 30_000, 500);
  });

  it('with a password, no trusted subnets and no encrypted path (its TAP name taken), no pod traffic crosses, and status says why', async () => {
    await stopAll('SIGTERM');
    // The device stays over a router stop; a restart with a password must drop its entries at once.
    assert.equal(floodRemotes(lan.hosts[0]!.ns).length, 2);
    // A link holds the sleeve's TAP name: the encrypted path cannot start (test/integration/encrypted.test.ts has it running).
    for (const host of lan.hosts) host.ns.exec('ip', ['link', 'add', 'sleeve-6783', 'type', 'bridge']);
    const [a] = await launch({env: PASSWORD});
    for (const host of lan.hosts) assert.deepEqual(floodRemotes(host.ns), []);
    assert.match(await a!.text('/status'), /^ {5}Encryption: enabled$/m);
    const lines = (await a!.text('/status/connections')).split('\n').filter(Boolean);
    assert.equal(lines.length, 2);
    for (const line of lines) {
      assert.match(line, /established encrypted   blocked aa:90:00:00:00:0[23]\(wlh[0-9a-f]+\) reason=no encrypted data path: cannot create the TAP device sleeve-6783: /);
    }
    // Even a sender that ignored the rule gets nothing in: VXLAN from the LAN is dropped on arrival.
    assert.match(lan.hosts[0]!.ns.exec('iptables-save', ['-t', 'filter']), /^-A INPUT -p udp -m udp --dport 6784 -j WEAVE-OVERLAY-IN\n/m);
    const blocked = [pods.find(p => p.host === 0)!, pods.find(p => p.host === 1)!];
    assert.deepEqual(unreachablePairs(blocked).length, 2, 'pods on A and B cannot reach each other');
    for (const host of lan.hosts) host.ns.exec('ip', ['link', 'del', 'sleeve-6783']);
  });

  it('with the LAN in --trusted-subnets, pods reach each other over plain VXLAN, shown as unencrypted fastdp', async () => {
    await stopAll('SIGTERM');
    const [a] = await launch({env: PASSWORD, args: ['--trusted-subnets', '192.168.90.0/24']});
    await waitUntil('the overlay to flood to both peers', async () => floodRemotes(lan.hosts[0]!.ns).length === 2);
    await waitUntil('the MTU of the LAN', async () => (await a!.text('/status/connections')).split('\n').filter(Boolean).every(l => l.endsWith(`mtu=${MTU}`)));
    for (const line of (await a!.text('/status/connections')).split('\n').filter(Boolean)) {
      assert.match(line, /established unencrypted fastdp aa:90:00:00:00:0[23]\(wlh[0-9a-f]+\) mtu=1450$/);
    }
    assert.match(lan.hosts[0]!.ns.exec('iptables-save', ['-t', 'filter']), /^-A WEAVE-OVERLAY-IN -s 192\.168\.90\.0\/24 -j RETURN\n-A WEAVE-OVERLAY-IN -j DROP$/m);
    assert.deepEqual(unreachablePairs(pods), []);

    // weave reset removes the device with the bridge.
    await stopAll('SIGTERM');
    await teardownDataplane({bridge: 'weave', netns: lan.hosts[0]!.ns.path});
    assert.ok(!lan.hosts[0]!.ns.links().includes(DEVICE));
  });
});

/** A mesh stand-in whose connections the test sets: the overlay's own rules against the kernel. */
class StandInMesh extends EventEmitter<MeshEvents> implements OverlayMesh {
  list: ConnectionFacts[] = [];
  describeOverlay = NO_OVERLAY;

  connections(): ConnectionFacts[] {
    return this.list;
  }

  /** Replaces the connections, telling of each change as the mesh does. */
  set(list: ConnectionFacts[]): void {
    const before = this.list;
    this.list = list;
    for (const c of before) this.emit('connectionClosed', c, 'replaced by the test');
    for (const c of list) if (c.established) this.emit('connectionEstablished', c);
  }
}

const peer = (ip: string, extra: Partial<ConnectionFacts> = {}): ConnectionFacts => ({
  peer: `aa:00:00:00:00:${ip.split('.')[3]!.padStart(2, '0')}`,
  nickName: 'p',
  address: `${ip}:6783`,
  ip,
  port: 6783,
  outbound: true,
  established: true,
  encrypted: false,
  trusted: false,
  ...extra,
});

describe('the overlay against the kernel, with a stand-in mesh', () => {
  requireRoot();
  let host: Netns;
  let overlay: Overlay | undefined;
  const options = () => ({bridge: 'weave', meshPort: 6783, mtu: MTU, encryptionRequired: false, trustedSubnets: [], netns: host.path, holdMs: 300, log: silent});

  before(() => {
    host = Netns.create('h2o');
    host.exec('ip', ['link', 'add', 'weave', 'type', 'bridge']);
  });
  afterEach(async () => {
    await overlay?.stop();
    overlay = undefined;
  });
  after(() => host?.delete());

  it('follows the connections: established ones get an entry, a peer on another port its own, a gone one after the hold time', async () => {
    const mesh = new StandInMesh();
    overlay = await Overlay.start(mesh, options());
    mesh.set([peer('10.9.0.2'), peer('10.9.0.3', {established: false}), peer('10.9.0.4', {port: 7000})]);
    await waitUntil('the entries', async () => floodRemotes(host).join() === '10.9.0.2,10.9.0.4');
    const rows = JSON.parse(host.exec('bridge', ['-j', 'fdb', 'show', 'dev', DEVICE])) as {dst?: string; port?: number}[];
    assert.equal(rows.find(r => r.dst === '10.9.0.4')?.port, 7001);
    assert.equal(mesh.describeOverlay(peer('10.9.0.2')).name, 'fastdp');
    mesh.set([peer('10.9.0.4', {port: 7000})]);
    await new Promise(resolve => setTimeout(resolve, 100));
    assert.deepEqual(floodRemotes(host), ['10.9.0.2', '10.9.0.4'], 'held while its router may be restarting');
    await waitUntil('the hold to expire', async () => floodRemotes(host).join() === '10.9.0.4', 3000, 50);
  });

  it('with a password, gives an untrusted peer no entry and drops one found at start outside the trusted subnets', async () => {
    host.exec('bridge', ['fdb', 'append', '00:00:00:00:00:00', 'dev', DEVICE, 'dst', '10.8.0.2']);
    const mesh = new StandInMesh();
    // Held long enough to be seen with the trusted peer's entry, which waits for a burst of changes to gather.
    overlay = await Overlay.start(mesh, {...options(), holdMs: 5000, encryptionRequired: true, trustedSubnets: ['10.9.0.0/24']});
    assert.deepEqual(floodRemotes(host), ['10.9.0.4'], 'kept for the hold time: inside the trusted subnets');
    mesh.set([peer('10.9.0.5', {trusted: false}), peer('10.9.0.6', {trusted: true})]);
    await waitUntil('the trusted entry', async () => floodRemotes(host).join() === '10.9.0.4,10.9.0.6');
    assert.deepEqual(mesh.describeOverlay(peer('10.9.0.5')), {name: 'blocked', attrs: {reason: 'VXLAN is unencrypted and the peer is outside --trusted-subnets'}});
  });

  it('recreates a device whose settings differ, and one deleted under it', async () => {
    host.exec('ip', ['link', 'del', DEVICE]);
    host.exec('ip', ['link', 'add', DEVICE, 'type', 'vxlan', 'id', '9', 'dstport', '6784', 'nolearning']);
    const mesh = new StandInMesh();
    overlay = await Overlay.start(mesh, options());
    const info = () => JSON.parse(host.exec('ip', ['-j', '-d', 'link', 'show', DEVICE]))[0];
    assert.deepEqual([info().linkinfo.info_data.id, info().linkinfo.info_data.learning, info().master], [1, true, 'weave']);
    host.exec('ip', ['link', 'del', DEVICE]);
    mesh.set([peer('10.9.0.2')]);
    await waitUntil('the device back with its entry', async () => host.links().includes(DEVICE) && floodRemotes(host).join() === '10.9.0.2');
    // Once more, now that the kept-running `bridge` process has named the device it deletes.
    host.exec('ip', ['link', 'del', DEVICE]);
    mesh.set([peer('10.9.0.2'), peer('10.9.0.3')]);
    await waitUntil('the device back again with both entries', async () => host.links().includes(DEVICE) && floodRemotes(host).join() === '10.9.0.2,10.9.0.3');
  });
});
