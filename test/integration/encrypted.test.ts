import assert from 'node:assert/strict';
import {randomBytes} from 'node:crypto';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, before, describe, it} from 'mocha';
import {createLogger} from '../../src/lib/router/log.js';
import {TargetStore} from '../../src/lib/router/mesh/target-store.js';
import {pings} from '../helpers/cni-host.js';
import {Lan} from '../helpers/lan.js';
import {fullyMeshed, MeshRouter, peerNameOf, waitUntil} from '../helpers/mesh-router.js';
import {Netns} from '../helpers/netns.js';
import {countPackets} from '../helpers/pcap.js';
import {requireRoot, requireTool} from '../helpers/root.js';
import {tcpSend, tcpTransfer} from '../helpers/transfer.js';
import {attachPod, type Pod, unreachablePairs} from '../helpers/weave-pods.js';

const PASSWORD = {WEAVE_PASSWORD: 'encrypted path test secret'};
const MB = 1024 * 1024;
const silent = createLogger('error', () => {});

/** A link's bridge-port settings, as `ip -d -j link` shows them. */
function portIsolated(host: Netns, dev: string): boolean | undefined {
  const [link] = JSON.parse(host.exec('ip', ['-d', '-j', 'link', 'show', 'dev', dev])) as {linkinfo?: {info_slave_data?: {isolated?: boolean}}}[];
  return link?.linkinfo?.info_slave_data?.isolated;
}

/** The value of one /metrics sample, given its name and labels as printed; undefined when absent. */
function sample(metrics: string, series: string): number | undefined {
  const line = metrics.split('\n').find(l => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('encrypted pod traffic between simulated hosts on a LAN dropping IP fragments (weave routers with a password, pods through CNI)', function () {
  requireRoot();
  requireTool('ping', 'iputils-ping');
  requireTool('socat', 'socat');
  requireTool('tcpdump', 'tcpdump');
  this.timeout(120_000);
  let lan: Lan;
  let dir: string;
  const dbDirs: string[] = [];
  /** The routers of hosts 0..2, by host. */
  let routers: MeshRouter[] = [];
  const pods: Pod[] = [];
  const cleanup: (() => unknown)[] = [];

  before(async () => {
    lan = Lan.create(4);
    // As many clouds and firewalls do: the sleeve must carry everything in whole datagrams.
    await lan.dropFragments();
    dir = mkdtempSync(join(tmpdir(), 'h8-encrypted-'));
    for (let i = 0; i < 4; i++) dbDirs.push(mkdtempSync(join(dir, `db${i}-`)));
  });

  after(async () => {
    for (const r of routers.splice(0)) await r.halt('SIGKILL');
    for (const undo of cleanup) await undo();
    for (const pod of pods) pod.ns.delete();
    lan?.destroy();
    for (const db of dbDirs) rmSync(new TargetStore(join(db, 'weave'), silent).sentinel, {force: true});
    rmSync(dir, {recursive: true, force: true});
  });

  /** The router of host i over its own state, with a password unless `env` says otherwise. */
  function start(i: number, peers: number[] = [], options: {args?: string[]; env?: Record<string, string>} = {}): Promise<MeshRouter> {
    return MeshRouter.start(lan.hosts[i]!, i, {peers: peers.map(p => lan.hosts[p]!.ip), env: options.env ?? PASSWORD, args: options.args ?? [], dbDir: dbDirs[i]!});
  }

  async function addPod(i: number): Promise<Pod> {
    const pod = await attachPod(lan.hosts[i]!, i, `h8pod${pods.length}`, 'h8p');
    pods.push(pod);
    return pod;
  }

  const connectionLines = async (r: MeshRouter) => (await r.text('/status/connections')).split('\n').filter(Boolean);

  it('two hosts: pods reach each other through the sleeve and 100 MB cross intact; status and /metrics say encrypted sleeve', async () => {
    const b = await start(1);
    const a = await start(0, [1]);
    routers = [a, b];
    await waitUntil('a mesh of two', () => fullyMeshed(routers));
    const [onA, onB] = [await addPod(0), await addPod(1)];
    await waitUntil('the pods to reach each other', async () => unreachablePairs(pods).length === 0, 10_000, 200);

    assert.match(await a.text('/status'), /^ {5}Encryption: enabled$/m);
    // The LAN's 1500 bytes less the sleeve's 84, on both ends once measured.
    await waitUntil('the sleeve MTU of the LAN', async () => (await connectionLines(a)).concat(await connectionLines(b)).every(l => l.endsWith('mtu=1416')));
    assert.deepEqual(await connectionLines(a), [`-> 192.168.90.2:6783     established encrypted   sleeve ${peerNameOf(1)}(${lan.hosts[1]!.ns.name}) encrypted=truemtu=1416`]);
    const [inbound] = await connectionLines(b);
    assert.match(inbound!, new RegExp(`^<- 192\\.168\\.90\\.1:\\d+ +established encrypted {3}sleeve ${peerNameOf(0)}\\(${lan.hosts[0]!.ns.name}\\) encrypted=truemtu=1416$`));
    // The TAP and the VXLAN device are isolated ports: the bridge never relays between the two overlays.
    for (const dev of ['sleeve-6783', 'vxlan-6784']) assert.equal(portIsolated(lan.hosts[0]!.ns, dev), true, `${dev} is isolated`);

    const [sent, received] = await tcpTransfer(onA.ns, onB.ns, onB.ip, 100 * MB);
    assert.equal(received, sent, 'the 100 MB arrived intact');
    const metrics = await b.text('/metrics');
    assert.equal(sample(metrics, 'weave_connections{encryption="yes",state="established",type="sleeve"}'), 1);
    assert.equal(sample(metrics, 'weave_connections{encryption="",state="established",type="sleeve"}'), 0);
    const carried = sample(metrics, `weave_sleeve_bytes_total{direction="received",peer="${peerNameOf(0)}"}`)!;
    assert.ok(carried > 100 * MB, `B's sleeve received the transfer (${carried} bytes)`);
    assert.ok(sample(metrics, `weave_sleeve_frames_total{direction="sent",peer="${peerNameOf(0)}"}`)! > 0);
    assert.equal(sample(metrics, 'weave_sleeve_dropped_total{reason="replayed"}'), 0);
    assert.equal(sample(metrics, 'weave_sleeve_dropped_total{reason="unauthenticated"}'), 0);
  });

  it('a capture of the LAN shows neither the payload nor the pod addresses, no VXLAN and no IP fragment', async () => {
    const [onA, onB] = pods;
    const marker = `weave-h8-marker-${randomBytes(4).toString('hex')}`;
    const capture = await lan.capture(join(dir, 'lan.pcap'));
    try {
      onA!.ns.exec('ping', ['-c', '3', '-i', '0.2', '-p', Buffer.from(marker.slice(0, 16)).toString('hex'), onB!.ip]);
      await tcpSend(onA!.ns, onB!.ns, onB!.ip, marker.repeat(1000));
    } finally {
      await capture.stop();
    }
    const pcap = readFileSync(capture.file);
    assert.ok((await countPackets(capture.file, ['udp', 'port', '6783'])) >= 6, 'the capture holds the sleeve datagrams');
    assert.equal(await countPackets(capture.file, ['udp', 'port', '6784']), 0, 'no VXLAN on the LAN');
    assert.equal(await countPackets(capture.file, ['ip[6:2] & 0x3fff != 0']), 0, 'no IP fragments on the LAN');
    assert.ok(!pcap.includes(marker.slice(0, 16)), 'no plaintext payload on the LAN');
    for (const pod of pods) {
      assert.ok(!pcap.includes(pod.ip), `pod address ${pod.ip} not on the LAN (text)`);
      assert.ok(!pcap.includes(Buffer.from(pod.ip.split('.').map(Number))), `pod address ${pod.ip} not on the LAN (binary)`);
    }
  });

  it('a third host: every pod reaches every other, and 100 MB from A to C cross intact and go to C alone', async () => {
    const [a, b] = routers;
    const c = await start(2, [0]);
    routers = [a!, b!, c];
    await waitUntil('a mesh of three', () => fullyMeshed(routers));
    const onC = await addPod(2);
    await waitUntil('every pod to reach every other', async () => unreachablePairs(pods).length === 0, 20_000, 200);
    for (const r of routers) for (const line of await connectionLines(r)) assert.match(line, /established encrypted {3}sleeve /);
    const bystander = async () => sample(await b!.text('/metrics'), `weave_sleeve_bytes_total{direction="received",peer="${peerNameOf(0)}"}`)!;
    const before = await bystander();
    const [sent, received] = await tcpTransfer(pods[0]!.ns, onC.ns, onC.ip, 100 * MB);
    assert.equal(received, sent, 'the 100 MB arrived intact');
    assert.ok((await bystander()) - before < MB, 'B got next to nothing of it: the sleeve sends unicast to its peer only');
  });

  it('a peer with the wrong password gets no connection and no traffic through', async () => {
    const d = await start(3, [0], {env: {WEAVE_PASSWORD: 'not the password'}, args: ['--ipalloc-range', '']});
    cleanup.push(() => d.halt('SIGKILL'));
    // A pod of D's, plugged by hand into D's bridge with an address of the pods' range.
    const pod = Netns.create('h8p');
    cleanup.push(() => pod.delete());
    lan.hosts[3]!.ns.exec('ip', ['link', 'add', 'h8dpod', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', pod.path]);
    lan.hosts[3]!.ns.exec('ip', ['link', 'set', 'h8dpod', 'master', 'weave', 'up']);
    pod.exec('ip', ['addr', 'add', '10.47.255.250/12', 'dev', 'eth0']);
    pod.exec('ip', ['link', 'set', 'eth0', 'up']);
    await waitUntil('D to fail its connection to A', async () => (await connectionLines(d)).some(l => /failed|retrying/.test(l)), 10_000);
    assert.ok(!(await connectionLines(d)).some(l => l.includes('established')), 'D has no connection');
    for (const p of pods) assert.ok(!pings(pod, p.ip), `D's pod cannot reach ${p.ip}`);
    const metrics = await routers[0]!.text('/metrics');
    assert.ok(!metrics.includes(peerNameOf(3)), "A's sleeve has no traffic of D");
    assert.equal((await connectionLines(routers[0]!)).length, 2, 'A has its two peers alone');
    await d.halt('SIGTERM');
  });

  it('kill -9 and restart a router (now with --no-sleeve-offloads): new keys, and traffic resumes both ways', async () => {
    const [a, b, c] = routers;
    const added = () => b!.process.logs.split('\n').filter(l => l.includes('sleeve: sending to peer') && l.includes(peerNameOf(0))).length;
    const before = added();
    await a!.halt('SIGKILL');
    const a2 = await start(0, [1, 2], {args: ['--no-sleeve-offloads']});
    routers = [a2, b!, c!];
    await waitUntil('the mesh again', () => fullyMeshed(routers), 30_000);
    await waitUntil('every pod to reach every other again', async () => unreachablePairs(pods).length === 0, 20_000, 200);
    // The sleeve takes keys only once: a second addition for A means the new handshake's keys.
    assert.ok(added() > before, `B gave A's sleeve peer new keys (${before} -> ${added()} additions)`);
    assert.match(a2.process.logs, /"msg":"sleeve ready".*"offloads":false/);
    // A sends frame-sized datagrams, B still super-frames: each end takes what the other sends.
    const [onA, onB] = pods;
    for (const [from, to] of [[onA!, onB!], [onB!, onA!]]) {
      const [sent, received] = await tcpTransfer(from.ns, to.ns, to.ip, 10 * MB);
      assert.equal(received, sent, `10 MB from ${from.ip} to ${to.ip} intact`);
    }
  });

  it('the sleeve failing under the router (its TAP deleted): restarted, its connections renewed, traffic resumes', async () => {
    const [a, b] = routers;
    const added = () => b!.process.logs.split('\n').filter(l => l.includes('sleeve: sending to peer') && l.includes(peerNameOf(0))).length;
    const before = added();
    lan.hosts[0]!.ns.exec('ip', ['link', 'del', 'sleeve-6783']);
    await waitUntil('the router to restart its sleeve', async () => /encrypted data path restarted/.test(a!.process.logs), 10_000);
    await waitUntil('every pod to reach every other again', async () => unreachablePairs(pods).length === 0, 20_000, 200);
    assert.match(a!.process.logs, /encrypted data path failed; restarting it/);
    assert.ok(added() > before, "B got new keys for A's restarted sleeve");
  });

  it('with the LAN in --trusted-subnets: plain VXLAN shown as unencrypted fastdp, and nothing through the sleeve', async () => {
    for (const r of routers.splice(0)) await r.halt('SIGTERM');
    const trusted = {args: ['--trusted-subnets', '192.168.90.0/24']};
    const b = await start(1, [], trusted);
    const c = await start(2, [], trusted);
    const a = await start(0, [1, 2], trusted);
    routers = [a, b, c];
    await waitUntil('a mesh of three', () => fullyMeshed(routers));
    await waitUntil('the VXLAN MTU of the LAN', async () => (await connectionLines(a)).every(l => l.endsWith('mtu=1450')));
    for (const line of await connectionLines(a)) assert.match(line, /established unencrypted fastdp aa:90:00:00:00:0[23]\(wlh[0-9a-f]+\) mtu=1450$/);
    await waitUntil('every pod to reach every other over VXLAN', async () => unreachablePairs(pods).length === 0, 20_000, 200);
    const metrics = await a.text('/metrics');
    assert.equal(sample(metrics, 'weave_connections{encryption="",state="established",type="fastdp"}'), 2);
    assert.doesNotMatch(metrics, /^weave_sleeve_bytes_total/m, 'the sleeve carries no peer');
  });
});
