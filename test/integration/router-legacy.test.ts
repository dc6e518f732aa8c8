import assert from 'node:assert/strict';
import {copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {Lan} from '../helpers/lan.js';
import {legacyFixture, ReplayingPeer} from '../helpers/legacy.js';
import {MeshRouter, waitUntil} from '../helpers/mesh-router.js';
import {Netns} from '../helpers/netns.js';
import {requireRoot, requireTool} from '../helpers/root.js';
import {RouterProcess} from '../helpers/router.js';

const MIXED = 'mixed clusters with weave 2.8.1 are not supported yet (move every host over: see "Moving a 2.8.1 cluster" in the README)';
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('weave 2.8.1 met by a router process: its state file and its peers', function () {
  requireRoot();
  requireTool('curl', 'curl');
  this.timeout(120_000);

  describe('taking over a host: the same bridge and --db-prefix', () => {
    let ns: Netns;
    let dbDir: string;
    let router: RouterProcess | undefined;

    beforeEach(() => {
      ns = Netns.create('wlg');
      dbDir = mkdtempSync(join(tmpdir(), 'weave-legacy-'));
      // What weave 2.8.1 leaves when stopped: its bridge, named by its MAC, with the exposed address.
      ns.exec('ip', ['link', 'add', 'weave', 'address', '0e:00:00:00:00:01', 'type', 'bridge']);
      ns.exec('ip', ['addr', 'add', '10.32.0.100/12', 'dev', 'weave']);
      copyFileSync(legacyFixture('weavedata.db'), join(dbDir, 'weavedata.db'));
    });

    afterEach(async () => {
      await router?.stop();
      router = undefined;
      ns.delete();
      rmSync(dbDir, {recursive: true, force: true});
    });

    it('serves the original allocations under their ids and its ring, with the expose from the bridge', async () => {
      router = await RouterProcess.start(ns, {dbDir});
      const [status, body] = router.api('GET', '/ip');
      assert.equal(status, 200);
      const owned = Object.fromEntries((JSON.parse(body) as {owned: {containerid: string; addrs: string[]}[]}).owned.map(o => [o.containerid, o.addrs]));
      const original = (JSON.parse(readFileSync(legacyFixture('ip.json'), 'utf8')) as {owned: {containerid: string; addrs: string[]}[]}).owned;
      assert.deepEqual(owned, {...Object.fromEntries(original.map(o => [o.containerid, o.addrs])), 'weave:expose': ['10.32.0.100/12']});
      const [, ipam] = router.api('GET', '/status/ipam');
      assert.match(ipam, /^0e:00:00:00:00:01\(wlg[0-9a-f]+\) +1048576 IPs \(100\.0% of total\) \(6 active\)$/m);
      assert.ok(existsSync(join(dbDir, 'weavedata.db.imported')));
      assert.match(router.logs, /"msg":"importing weave 2\.8\.1's state".*"allocations":5/);
    });

    it('refuses to start over a state file it cannot read, naming it and what to do', async () => {
      const db = join(dbDir, 'weavedata.db');
      rmSync(db);
      copyFileSync(legacyFixture('README.md'), db);
      await assert.rejects(RouterProcess.start(ns, {dbDir}), (error: Error) => {
        assert.match(error.message, /the router exited \(1\)/);
        assert.ok(error.message.includes(`cannot read ${db}, weave 2.8.1's state file: `), error.message);
        assert.ok(error.message.includes(`move it aside (mv ${db} ${db}.unreadable)`), error.message);
        return true;
      });
      assert.ok(existsSync(db), 'left where it was');
    });
  });

  describe('a peer that speaks weave 2.8.1 (a replay of the captured original)', () => {
    let lan: Lan;
    let router: MeshRouter | undefined;
    let peer: ReplayingPeer | undefined;
    const dirs: string[] = [];

    before(() => {
      lan = Lan.create(2);
    });

    after(() => lan.destroy());

    afterEach(async () => {
      await peer?.stop();
      await router?.halt('SIGTERM');
      peer = router = undefined;
      for (const dir of dirs.splice(0)) rmSync(dir, {recursive: true, force: true});
    });

    for (const [capture, env, name] of [
      ['mesh-nopassword.pcap', {}, {dialled: 'peer 0e:00:00:00:00:0a\\(fxa\\)', dialling: 'peer 0e:00:00:00:00:0b\\(fxb\\)'}],
      ['mesh-password-fixture-secret.pcap', {WEAVE_PASSWORD: 'fixture-secret'}, {dialled: 'the peer', dialling: 'the peer'}],
    ] as const) {
      it(`is named in status connections and the log, whether we dial it or it dials us (${capture})`, async () => {
        const [A, B] = lan.hosts;
        peer = await ReplayingPeer.start(B!.ns, capture, A!.ip);
        const dbDir = mkdtempSync(join(tmpdir(), 'weave-legacy-mesh-'));
        dirs.push(dbDir);
        router = await MeshRouter.start(A!, 0, {peers: [B!.ip], dbDir, env});
        const r = router;
        const lines = async () => (await r.text('/status/connections')).split('\n');
        await waitUntil('both connections named', async () => (await lines()).filter(l => l.includes("speaks weave 2.8.1's protocol")).length === 2);
        const said = `speaks weave 2\\.8\\.1's protocol.*: ${escape(MIXED)}`;
        const connections = await lines();
        const out = connections.find(l => l.startsWith('->'))!;
        assert.match(out, new RegExp(`^-> ${escape(B!.ip)}:6783 +failed +${name.dialled} ${said}, retry: (\\d{4}-\\d\\d-\\d\\d [\\d:.]+) \\+0000 UTC $`));
        assert.match(connections.find(l => l.startsWith('<-'))!, new RegExp(`^<- ${escape(B!.ip)}:\\d+ +failed +${name.dialling} ${said} $`));
        // Not every few seconds: the next try is minutes away, so the peer was dialled once.
        const retry = Date.parse(`${/retry: ([\d-]+ [\d:.]+)/.exec(out)![1]!.replace(' ', 'T')}Z`);
        assert.ok(retry - Date.now() > 2 * 60_000, out);
        assert.equal(peer.accepted, 1);
        assert.doesNotMatch(r.process.logs, /different passwords/);
        const warnings = r.process.logs.split('\n').filter(l => l.includes('"level":"warning"') && l.includes("speaks weave 2.8.1's protocol"));
        assert.equal(warnings.length, 1, 'one warning for the address, however often the peer dials');
      });
    }
  });
});
