import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {createLogger} from '../../src/lib/router/log.js';
import {TargetStore} from '../../src/lib/router/mesh/target-store.js';
import {Lan} from '../helpers/lan.js';
import {fullyMeshed, getUnix, MeshRouter, peerNameOf, waitUntil} from '../helpers/mesh-router.js';
import {requireRoot, requireTool} from '../helpers/root.js';
import {RouterProcess} from '../helpers/router.js';
import {unwrapOclif, WEAVE_BIN} from '../helpers/setup-cli.js';

const silent = createLogger('error', () => {});

/** `{{range .Router.Targets}}{{.}} {{end}}` through GET /report, as test 150 reads the targets. */
async function targetsOf(r: MeshRouter): Promise<string[]> {
  const format = encodeURIComponent('{{range .Router.Targets}}{{.}} {{end}}');
  const [status, body] = await getUnix(r.statusSocket, `/report?format=${format}`);
  assert.equal(status, 200, body);
  return body.split(' ').filter(Boolean);
}

describe('the peer mesh across simulated hosts (weave router processes on a LAN)', function () {
  requireRoot();
  requireTool('curl', 'curl');
  requireTool('tcpdump', 'tcpdump');
  this.timeout(180_000);
  let lan: Lan;
  const routers: MeshRouter[] = [];
  const dbDirs: string[] = [];

  before(() => {
    lan = Lan.create(3);
  });

  after(() => lan.destroy());

  afterEach(async () => {
    for (const r of routers.splice(0)) await stop(r, 'SIGKILL');
    for (const dir of dbDirs.splice(0)) {
      rmSync(new TargetStore(join(dir, 'weave'), silent).sentinel, {force: true});
      rmSync(dir, {recursive: true, force: true});
    }
  });

  /** Router i of the LAN over a fresh (or the given) state directory. */
  async function start(i: number, options: {peers?: string[]; args?: string[]; env?: Record<string, string>; dbDir?: string} = {}): Promise<MeshRouter> {
    const dbDir = options.dbDir ?? mkdtempSync(join(tmpdir(), 'weave-mesh-'));
    if (!dbDirs.includes(dbDir)) dbDirs.push(dbDir);
    const r = await MeshRouter.start(lan.hosts[i]!, i, {...options, dbDir});
    routers.push(r);
    return r;
  }

  /** Stops a router for good and forgets it. */
  async function stop(r: MeshRouter, signal: NodeJS.Signals): Promise<void> {
    const i = routers.indexOf(r);
    if (i >= 0) routers.splice(i, 1);
    await r.halt(signal);
  }

  /** The control API inside the router's namespace, with a form body. */
  function post(r: MeshRouter, path: string, form: string): [number, string] {
    return r.process.api('POST', path, form);
  }

  it('three hosts launched as `router hostB hostC` on A only all find each other, and reconnect after a kill -9', async () => {
    const [A, B, C] = lan.hosts;
    const b = await start(1);
    const c = await start(2);
    const a = await start(0, {peers: [B!.ip, C!.ip]});
    await waitUntil('a full mesh', () => fullyMeshed([a, b, c]));
    for (const r of [a, b, c]) {
      const status = await r.text('/status');
      assert.match(status, /^ {4}Connections: 2 \(2 established\)$/m);
      assert.match(status, /^ {10}Peers: 3 \(with 6 established connections\)$/m);
      assert.match(status, /^ {5}Encryption: disabled$/m);
      assert.match(status, /^ {2}PeerDiscovery: enabled$/m);
    }
    assert.match(await a.text('/status'), /^ {8}Targets: 2$/m);
    assert.equal(await a.text('/status/targets'), `${B!.ip}\n${C!.ip}\n`);
    // The bridge tuned as the original's (the router writes /proc/sys of its own namespace).
    const tuned = A!.ns.exec('sysctl', ['-n', 'net.ipv4.conf.weave.arp_accept', 'net.ipv4.neigh.weave.ucast_solicit', 'net.ipv4.neigh.weave.base_reachable_time']);
    assert.deepEqual(tuned.trim().split('\n'), ['1', '1', '5']);
    // B was told of C only by A, and dialled it itself (discovery).
    // (Which of B and C dialled is chance: both did, and the two ends kept the same connection.)
    // The pod MTU from the LAN's 1500 bytes, less VXLAN's 50, once B has measured its links.
    await waitUntil('B at the MTU of the LAN', async () => (await b.text('/status/connections')).split('\n').filter(Boolean).every(l => l.endsWith('mtu=1450')));
    const bLines = (await b.text('/status/connections')).split('\n').filter(Boolean).sort();
    assert.deepEqual(
      bLines.map(l => l.replace(/^(->|<-) ([\d.]+):\d+ +/, '$2 ')).sort(),
      [`${A!.ip} established fastdp ${a.name}(${A!.ns.name}) mtu=1450`, `${C!.ip} established fastdp ${c.name}(${C!.ns.name}) mtu=1450`],
    );
    assert.match(bLines.find(l => l.includes(A!.ip))!, /^<- /);
    const peers = await a.text('/status/peers');
    for (const r of [a, b, c]) assert.match(peers, new RegExp(`^${r.name}\\(${r.host.ns.name}\\)$`, 'm'));

    await stop(b, 'SIGKILL');
    await waitUntil('A to notice B gone', async () => (await a.report()).Peers.length === 2);
    const b2 = await start(1, {dbDir: b.process.dbDir});
    await waitUntil('the mesh again', () => fullyMeshed([a, b2, c]), 30_000);
    const report = JSON.parse((await getUnix(a.statusSocket, '/report', {Accept: 'application/json'}))[1]) as {Router: {TerminationCount: number}};
    assert.ok(report.Router.TerminationCount >= 1);
  });

  it('connect, forget and connect --replace change the targets, which persist across a restart and --resume but not a fresh launch', async () => {
    const [, B, C] = lan.hosts;
    const a = await start(0, {peers: [B!.ip]});
    assert.deepEqual(await targetsOf(a), [B!.ip]);
    assert.deepEqual(post(a, '/connect', 'peer=10.2.2.1&peer=10.2.2.2:6790'), [200, '']);
    assert.deepEqual(await targetsOf(a), [B!.ip, '10.2.2.1', '10.2.2.2:6790']);
    // A bad peer is refused with the reason; the good ones are still added.
    assert.deepEqual(post(a, '/connect', `peer=no.such.host.invalid&peer=${C!.ip}&peer=x:y`), [
      400,
      'lookup no.such.host.invalid: no such host\ninvalid peer name "x:y", should be host[:port]\n',
    ]);
    assert.deepEqual(await targetsOf(a), [B!.ip, '10.2.2.1', '10.2.2.2:6790', C!.ip]);
    assert.deepEqual(post(a, '/forget', 'peer=10.2.2.1&peer=10.9.9.9'), [200, '']);
    assert.deepEqual(await targetsOf(a), [B!.ip, '10.2.2.2:6790', C!.ip]);
    assert.deepEqual(post(a, '/connect', `peer=${C!.ip}&peer=10.2.2.3&replace=true`), [200, '']);
    assert.deepEqual(await targetsOf(a), [C!.ip, '10.2.2.3']);
    // `weave connect --replace` with no peer forgets them all (the original could not).
    const cli = spawnSync('nsenter', [`--net=${a.host.ns.path}`, process.execPath, WEAVE_BIN, 'connect', '--replace'], {encoding: 'utf8'});
    assert.equal(cli.status, 0, cli.stderr);
    assert.deepEqual(await targetsOf(a), []);
    assert.equal(await a.text('/status/targets'), '');
    assert.deepEqual(post(a, '/connect', `peer=${B!.ip}&peer=10.2.2.3`), [200, '']);
    const saved = JSON.parse(readFileSync(join(a.process.dbDir, 'weavepeers.json'), 'utf8')) as {targets: string[]};
    assert.deepEqual(saved.targets, [B!.ip, '10.2.2.3']);

    // A restart (crash, docker restart) keeps the targets, whatever the arguments say.
    await stop(a, 'SIGKILL');
    const restarted = await start(0, {dbDir: a.process.dbDir, peers: [C!.ip]});
    assert.deepEqual(await targetsOf(restarted), [B!.ip, '10.2.2.3']);
    // --resume after a stop too; and it takes no peers.
    await stop(restarted, 'SIGTERM');
    const resumed = await start(0, {dbDir: a.process.dbDir, args: ['--resume']});
    assert.deepEqual(await targetsOf(resumed), [B!.ip, '10.2.2.3']);
    await stop(resumed, 'SIGTERM');
    await assert.rejects(RouterProcess.start(lan.hosts[0]!.ns, {dbDir: a.process.dbDir, args: ['--resume', B!.ip]}), (error: Error) => {
      assert.match(unwrapOclif(error.message), /You must not specify an initial peer list in conjunction with --resume/);
      return true;
    });
    // A fresh launch (a new container: no restart sentinel) takes its arguments.
    rmSync(new TargetStore(join(a.process.dbDir, 'weave'), silent).sentinel, {force: true});
    const fresh = await start(0, {dbDir: a.process.dbDir, peers: [C!.ip]});
    assert.deepEqual(await targetsOf(fresh), [C!.ip]);
  });

  it('refuses a peer with another password, the reason in /status/connections', async () => {
    const [, B] = lan.hosts;
    await start(1, {env: {WEAVE_PASSWORD: 'two'}});
    const a = await start(0, {peers: [B!.ip], env: {WEAVE_PASSWORD: 'one'}});
    await waitUntil('the refusal', async () => (await a.text('/status/connections')).includes('failed'));
    const line = await a.text('/status/connections');
    assert.match(
      line,
      new RegExp(`^-> ${B!.ip.replace(/\./g, '\\.')}:6783 +failed +the peer refused our password: the two hosts have different passwords \\(set the same WEAVE_PASSWORD on every host\\), retry: \\d{4}-\\d\\d-\\d\\d [\\d:.]+ \\+0000 UTC $`, 'm'),
    );
    assert.match(await a.text('/status'), /^ {5}Encryption: enabled$/m);
    assert.match(await a.text('/status'), /^ {4}Connections: 1 \(1 failed\)$/m);
  });

  it('with a password, a capture of the LAN shows no peer name, nickname or address range in the clear', async () => {
    const secret = {WEAVE_PASSWORD: 'correct horse battery staple'};
    const secrets = (pcap: Buffer) => {
      const found: string[] = [];
      for (const r of lan.hosts.map((h, i) => ({nick: h.ns.name, name: peerNameOf(i)}))) {
        if (pcap.includes(r.nick)) found.push(r.nick);
        if (pcap.includes(r.name)) found.push(r.name);
        if (pcap.includes(Buffer.from(r.name.replaceAll(':', ''), 'hex'))) found.push(`${r.name} (binary)`);
      }
      if (pcap.includes('10.32.0.0')) found.push('10.32.0.0');
      return found;
    };
    const dir = mkdtempSync(join(tmpdir(), 'weave-pcap-'));
    try {
      // Without a password the same capture does show them: the check can see plaintext.
      let capture = await lan.capture(join(dir, 'plain.pcap'), ['tcp', 'port', '6783']);
      let b = await start(1);
      let c = await start(2);
      let a = await start(0, {peers: [lan.hosts[1]!.ip, lan.hosts[2]!.ip]});
      await waitUntil('a full mesh', () => fullyMeshed([a, b, c]));
      await capture.stop();
      const plain = secrets(readFileSync(capture.file));
      assert.ok(plain.length >= 6, `the plain capture shows the names: ${plain.join(', ')}`);
      for (const r of [...routers]) await stop(r, 'SIGKILL');

      capture = await lan.capture(join(dir, 'sealed.pcap'), ['tcp', 'port', '6783']);
      b = await start(1, {env: secret});
      c = await start(2, {env: secret});
      a = await start(0, {peers: [lan.hosts[1]!.ip, lan.hosts[2]!.ip], env: secret});
      await waitUntil('a full mesh', () => fullyMeshed([a, b, c]));
      // Targets changed and gossiped again while capturing.
      post(a, '/connect', 'peer=10.2.2.9');
      await new Promise(resolve => setTimeout(resolve, 500));
      await capture.stop();
      const pcap = readFileSync(capture.file);
      assert.ok(pcap.length > 5000, `the capture holds the control traffic (${pcap.length} bytes)`);
      assert.deepEqual(secrets(pcap), []);
      // The sleeve's datagram carries 84 bytes more than the pod's packet: 1500 less that.
      await waitUntil('A at the sleeve MTU of the LAN', async () => (await a.text('/status/connections')).includes('mtu=1416'));
      for (const line of (await a.text('/status/connections')).split('\n').filter(l => l.includes('established'))) {
        assert.match(line, /established encrypted {3}sleeve aa:90:00:00:00:0[23]\(wlh[0-9a-f]+\) encrypted=truemtu=1416$/);
      }
    } finally {
      rmSync(dir, {recursive: true, force: true});
    }
  });
});
