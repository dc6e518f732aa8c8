import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import {mkdirSync, mkdtempSync, readdirSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, afterEach, before, beforeEach, describe, it} from 'mocha';
import {pings} from '../helpers/cni-host.js';
import {waitUntil} from '../helpers/mesh-router.js';
import {Netns} from '../helpers/netns.js';
import {type PluginRun, runPlugin} from '../helpers/plugin.js';
import {requireRoot, requireTool} from '../helpers/root.js';
import {ipIn, RouterProcess} from '../helpers/router.js';
import {runWeave} from '../helpers/setup-cli.js';
import {weave} from '../helpers/weave-cli.js';

type Json = Record<string, any>;

interface Pod {
  ns: Netns;
  id: string;
  ip: string;
}

const VXLAN = 'vxlan-6784';
const SLEEVE = 'sleeve-6783';

describe("the router's identity and its pods' addresses survive a lost bridge and lost data", function () {
  requireRoot();
  requireTool('curl', 'curl');
  requireTool('/usr/lib/cni/host-local', 'containernetworking-plugins');
  let dir: string;
  let binDir: string;
  let host: Netns;
  let router: RouterProcess | undefined;
  let pods: Pod[];

  const env = (command: string, ns: Netns, id: string) => ({CNI_COMMAND: command, CNI_CONTAINERID: id, CNI_NETNS: ns.path, CNI_IFNAME: 'eth0', CNI_PATH: `${binDir}:/usr/lib/cni`});
  const conf = {cniVersion: '1.0.0', name: 'weave', type: 'weave-net'};
  const hostLocal = {...conf, ipam: {type: 'host-local', subnet: '10.99.0.0/24', dataDir: ''}};

  /** A pod through the installed shim (warm while the router answers), or the cold plugin process. */
  async function addPod(id: string, how: 'shim' | 'cold', config: Json = conf): Promise<PluginRun & {pod?: Pod}> {
    const ns = Netns.create('wip');
    const run = await runPlugin({env: env('ADD', ns, id), config, hostNetns: host.path, ...(how === 'shim' ? {executable: join(binDir, 'weave-net')} : {})});
    if (run.exitCode !== 0) {
      ns.delete();
      return run;
    }
    const pod = {ns, id, ip: (run.json!.ips[0].address as string).split('/')[0]!};
    pods.push(pod);
    return {...run, pod};
  }
  const mustAdd = async (id: string, how: 'shim' | 'cold', config?: Json): Promise<Pod> => {
    const run = await addPod(id, how, config);
    assert.equal(run.exitCode, 0, `ADD ${id}: ${run.stdout}${run.stderr}`);
    return run.pod!;
  };

  const link = (name: string): Json | undefined => {
    try {
      const out = execFileSync('nsenter', [`--net=${host.path}`, 'ip', '-j', '-d', 'link', 'show', 'dev', name], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']});
      return (JSON.parse(out) as Json[])[0];
    } catch {
      return undefined;
    }
  };
  const peerName = (): string => router!.api('GET', `/report?format=${encodeURIComponent('{{.Router.Name}}')}`)[1];
  const owned = (): Json[] => JSON.parse(router!.api('GET', '/ip')[1]).owned;
  /** Every address IPAM records, by holder; and a check that no address is recorded twice. */
  const recorded = (): Map<string, string> => {
    const byAddress = new Map<string, string>();
    for (const o of owned()) {
      for (const cidr of o.addrs as string[]) {
        const address = cidr.split('/')[0]!;
        assert.ok(!byAddress.has(address), `${address} recorded for ${byAddress.get(address)} and ${o.containerid}`);
        byAddress.set(address, o.containerid);
      }
    }
    return byAddress;
  };
  const assertDistinct = (list: readonly Pod[]) => assert.equal(new Set(list.map(p => p.ip)).size, list.length, `an address held twice: ${list.map(p => `${p.id}=${p.ip}`).join(' ')}`);
  const assertAllRecorded = (list: readonly Pod[]) => {
    const byAddress = recorded();
    for (const p of list) assert.equal(byAddress.get(p.ip), p.id, `${p.ip} of ${p.id} recorded for ${byAddress.get(p.ip)}`);
  };
  const restart = async () => {
    const {dbDir} = router!;
    await router!.stop();
    router = await RouterProcess.start(host, {dbDir});
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'weave-identity-'));
    binDir = join(dir, 'bin');
    mkdirSync(binDir);
    mkdirSync(join(dir, 'conf'));
    const setup = runWeave(['setup-cni', '--cni-bin-dir', binDir, '--cni-conf-dir', join(dir, 'conf')]);
    assert.equal(setup.exitCode, 0, setup.stderr);
    hostLocal.ipam.dataDir = join(dir, 'host-local');
  });
  after(() => rmSync(dir, {recursive: true, force: true}));

  beforeEach(async function () {
    this.timeout(60_000);
    pods = [];
    host = Netns.create('wih');
    // No --name: the name comes from the persisted data, the bridge or the host's ids.
    router = await RouterProcess.start(host);
  });
  afterEach(async () => {
    await router?.destroy();
    router = undefined;
    for (const p of pods) p.ns.delete();
    host.delete();
  });

  it('puts a deleted bridge back with its MAC, its pods and its VXLAN port; a pod added then and a restart change no address', async function () {
    this.timeout(120_000);
    const name = peerName();
    assert.equal(link('weave')?.address, name, 'the bridge carries the peer name');
    const old = [await mustAdd('o1ldpodaaaa', 'shim'), await mustAdd('o2ldpodbbbb', 'shim'), await mustAdd('o3ldpodcccc', 'shim')];

    ipIn(host, ['link', 'del', 'weave']);
    await waitUntil('the router to put the bridge back', async () => link('weave')?.address === name && link(VXLAN)?.master === 'weave' && old.every(p => link(`vethwepl${p.id.slice(0, 7)}`)?.master === 'weave'), 10_000);
    assert.equal(link('weave')?.mtu, 1376);
    assert.ok(pings(old[0]!.ns, old[1]!.ip), 'old pods reach each other again');

    const fresh = await mustAdd('n1ewpoddddd', 'cold');
    const warm = await mustAdd('n2ewpodeeee', 'shim');
    await restart();
    assert.equal(peerName(), name, 'the same name after the restart');
    assert.doesNotMatch(router!.logs, /Deleting persisted data/);
    assert.equal(link(VXLAN)?.master, 'weave');
    const all = [...old, fresh, warm];
    assertDistinct(all);
    assertAllRecorded(all);
    for (const p of old) assert.ok(pings(p.ns, fresh.ip), `${p.ip} reaches the new pod ${fresh.ip}`);
  });

  it("puts the sleeve's TAP back on a bridge made anew, beside the VXLAN device", async function () {
    this.timeout(60_000);
    await router!.destroy();
    router = await RouterProcess.start(host, {env: {WEAVE_PASSWORD: 'identity-test'}});
    await waitUntil('the sleeve on the bridge', async () => link(SLEEVE)?.master === 'weave');
    ipIn(host, ['link', 'del', 'weave']);
    await waitUntil('both overlay ports back on the bridge', async () => router!.logs.includes('sleeve TAP put back on the bridge') && link(SLEEVE)?.master === 'weave' && link(VXLAN)?.master === 'weave', 10_000);
    assert.equal(link(SLEEVE)?.linkinfo?.info_slave_data?.isolated, true, 'isolated again');
  });

  it('with the router down, the plugin refuses to make the bridge for weave IPAM; a bridge another IPAM made gets our identity back', async function () {
    this.timeout(120_000);
    const name = peerName();
    const old = [await mustAdd('d1ownpodaaaa', 'shim'), await mustAdd('d2ownpodbbbb', 'shim')];
    await router!.stop();
    ipIn(host, ['link', 'del', 'weave']);

    const refused = await addPod('d3ownpodcccc', 'shim');
    assert.equal(refused.exitCode, 1);
    assert.equal(refused.json?.code, 11, refused.stdout);
    assert.equal(refused.json?.msg, 'bridge "weave" not present; did you launch weave?');
    assert.equal(link('weave'), undefined, 'no bridge was made');

    // With its own IPAM no router is needed: the plugin makes the bridge, which takes a port's MAC.
    const local = await mustAdd('localpod1dddd', 'shim', hostLocal);
    assert.equal(link('weave')?.address, link(`vethwepl${local.id.slice(0, 7)}`)?.address, "the bridge took its port's MAC");

    router = await RouterProcess.start(host, {dbDir: router!.dbDir});
    assert.equal(peerName(), name, 'the persisted name wins over the MAC the bridge took');
    assert.doesNotMatch(router.logs, /Deleting persisted data/);
    assert.equal(link('weave')?.address, name);
    assert.equal(link(VXLAN)?.master, 'weave');
    for (const p of old) assert.equal(link(`vethwepl${p.id.slice(0, 7)}`)?.master, 'weave', `${p.id}'s veth is back on the bridge`);
    const fresh = await mustAdd('d4ownpodeeee', 'shim');
    const weavePods = [...old, fresh];
    assertDistinct(weavePods);
    assertAllRecorded(weavePods);
    assert.ok(pings(old[0]!.ns, fresh.ip), 'an old pod reaches the new one');
    assert.ok(pings(old[1]!.ns, old[0]!.ip), 'old pods reach each other');
  });

  it('with its data wiped too, takes no name from a MAC the bridge took from a port', async function () {
    this.timeout(60_000);
    const name = peerName();
    const {dbDir} = router!;
    await router!.destroy();
    ipIn(host, ['link', 'del', 'weave']);
    const local = await mustAdd('l1ocalpodffff', 'shim', hostLocal);
    const portMac = link(`vethwepl${local.id.slice(0, 7)}`)?.address;
    assert.equal(link('weave')?.address, portMac);

    router = await RouterProcess.start(host, {dbDir});
    assert.equal(peerName(), name, "derived from the host's ids again, not the port's MAC");
    assert.equal(link('weave')?.address, name);
    // Claimed as the original does for any address on the bridge: outside the range, on trust.
    assert.equal(recorded().get(local.ip), local.id);
  });

  it('claims back the addresses of live pods when its data is wiped: new pods get other addresses, and weave ps lists all', async function () {
    this.timeout(180_000);
    const old: Pod[] = [];
    for (let i = 0; i < 5; i++) old.push(await mustAdd(`${i}0wiped${'abcdef0123456789'.repeat(3)}`, 'shim'));
    const {dbDir} = router!;
    await router!.stop();
    for (const file of readdirSync(dbDir)) rmSync(join(dbDir, file), {recursive: true, force: true});

    router = await RouterProcess.start(host, {dbDir});
    assert.match(router.logs, /Checking for pre-existing addresses on weave bridge/);
    for (const p of old) assert.match(router.logs, new RegExp(`"Found address ${p.ip.replace(/\./g, '\\.')}/12 for ID ${p.id}"`));
    const fresh: Pod[] = [];
    for (let i = 0; i < 5; i++) fresh.push(await mustAdd(`${i}1fresh${'0123456789abcdef'.repeat(3)}`, i % 2 ? 'cold' : 'shim'));
    const all = [...old, ...fresh];
    assertDistinct(all);
    assertAllRecorded(all);

    const ps = await weave(['ps', '--json'], {netns: host});
    assert.equal(ps.exitCode, 0, ps.stderr);
    const rows = (JSON.parse(ps.stdout) as Json[]).filter(r => r.id !== 'weave:expose');
    assert.deepEqual(
      rows.map(r => `${r.id} ${r.cidrs.join(',')}`).sort(),
      all.map(p => `${p.id.slice(0, 12)} ${p.ip}/12`).sort(),
    );
  });
});
