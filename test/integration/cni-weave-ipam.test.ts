import assert from 'node:assert/strict';
import {after, before, describe, it} from 'mocha';
import {pings} from '../helpers/cni-host.js';
import {Netns} from '../helpers/netns.js';
import {type PluginRun, runPlugin} from '../helpers/plugin.js';
import {requireRoot, requireTool} from '../helpers/root.js';
import {RouterProcess, ipIn} from '../helpers/router.js';
import {InstalledPlugin, SOCAT_CLIENT_TOOLS} from '../helpers/cni-install.js';

type Json = Record<string, any>;

describe('weave IPAM through the router: warm and cold CNI paths', function () {
  requireRoot();
  requireTool('curl', 'curl');
  requireTool('/usr/lib/cni/bridge', 'containernetworking-plugins');
  let host: Netns;
  let router: RouterProcess;
  let installed: InstalledPlugin;
  const pods: Netns[] = [];
  const pod = () => {
    const p = Netns.create('wtp');
    pods.push(p);
    return p;
  };
  const conf = (extra: Json = {}) => ({cniVersion: '1.0.0', name: 'weave', type: 'weave-net', ...extra});
  const env = (command: string, p: Netns | undefined, id: string, ifname = 'eth0') => ({
    CNI_COMMAND: command,
    CNI_CONTAINERID: id,
    CNI_NETNS: p?.path ?? '',
    CNI_IFNAME: ifname,
    CNI_PATH: `${installed.binDir}:/usr/lib/cni`,
  });
  /** Through the installed shim: warm while the router's socket answers. */
  const viaShim = (e: Record<string, string>, config: unknown, name: 'weave-net' | 'weave-ipam' = 'weave-net'): Promise<PluginRun> =>
    runPlugin({env: e, config, hostNetns: host.path, executable: installed.plugin(name)});
  /** The cold plugin, talking to the router over its HTTP API. */
  const cold = (e: Record<string, string>, config: unknown): Promise<PluginRun> => runPlugin({env: e, config, hostNetns: host.path});
  const owned = (): Json[] => JSON.parse(router.api('GET', '/ip')[1]).owned;

  before(async function () {
    this.timeout(60_000);
    host = Netns.create('wth');
    installed = new InstalledPlugin();
    router = await RouterProcess.start(host);
  });
  after(async () => {
    await router?.destroy();
    for (const p of pods) p.delete();
    host?.delete();
    installed?.remove();
  });

  it('ADD through the warm path allocates from 10.32.0.0/12, exposes the bridge as gateway, and DEL frees', async () => {
    const p = pod();
    const add = await viaShim(env('ADD', p, 'warmpod1'), conf());
    assert.equal(add.exitCode, 0, add.stdout + add.stderr);
    const result = add.json as Json;
    const [ip] = result.ips;
    assert.match(ip.address, /^10\.(3[2-9]|4[0-7])\.\d+\.\d+\/12$/);
    assert.match(ipIn(host, ['-4', 'addr', 'show', 'dev', 'weave']), new RegExp(`inet ${ip.gateway.replace(/\./g, '\\.')}/12`));
    assert.deepEqual(result.routes, [{dst: '0.0.0.0/0', gw: ip.gateway}]);
    assert.ok(pings(p, ip.gateway), 'the pod reaches the exposed bridge');
    assert.deepEqual(owned().find(o => o.containerid === 'warmpod1')?.addrs, [ip.address]);
    assert.ok(owned().some(o => o.containerid === 'weave:expose'));
    assert.match(router.logs, /"msg":"cni call".*"container":"warmpod1"/, 'the call ran inside the router');

    const del = await viaShim(env('DEL', p, 'warmpod1'), conf());
    assert.equal(del.exitCode, 0, del.stdout);
    assert.equal(owned().find(o => o.containerid === 'warmpod1'), undefined);
    assert.deepEqual(p.links(), ['lo']);
    const again = await viaShim(env('DEL', p, 'warmpod1'), conf());
    assert.equal(again.exitCode, 0, 'DEL is idempotent');
  });

  it('a warm DEL returns with both veth ends gone: the same pod can be added again at once', async () => {
    const p = pod();
    for (let round = 0; round < 3; round++) {
      const add = await viaShim(env('ADD', p, 'readdpod'), conf());
      assert.equal(add.exitCode, 0, `round ${round}: ${add.stdout}`);
      const del = await viaShim(env('DEL', p, 'readdpod'), conf({prevResult: add.json}));
      assert.equal(del.exitCode, 0, del.stdout);
      assert.deepEqual(p.links(), ['lo']);
      assert.deepEqual(host.links().filter(l => l.startsWith('vethwepl')), []);
      assert.equal(owned().find(o => o.containerid === 'readdpod'), undefined);
    }
  });

  describe('on hosts without perl', () => {
    let socatOnly: string;
    let noClient: string;
    before(() => {
      requireTool('socat', 'socat');
      socatOnly = installed.pathWith('socat-only', SOCAT_CLIENT_TOOLS);
      // What the plugin itself runs, and no client.
      noClient = installed.pathWith('no-client', ['nsenter', 'readlink']);
    });

    it('the socat client takes the warm path, with the same answers and errors', async () => {
      const p = pod();
      const add = await viaShim({...env('ADD', p, 'socatpod'), PATH: socatOnly}, conf());
      assert.equal(add.exitCode, 0, add.stdout + add.stderr);
      assert.deepEqual(owned().find(o => o.containerid === 'socatpod')?.addrs, [add.json!.ips[0].address]);
      assert.match(router.logs, /"msg":"cni call".*"container":"socatpod"/, 'the call ran inside the router');
      const missing = await viaShim({...env('ADD', undefined, 'socatbad'), CNI_NETNS: '/run/netns/weave-absent', PATH: socatOnly}, conf());
      assert.equal(missing.exitCode, 1);
      assert.equal(missing.json?.code, 4, missing.stdout);
      const handedBack = await viaShim({...env('ADD', pod(), 'socatcold'), PATH: socatOnly}, conf({ipam: {type: 'only-on-the-host'}}));
      assert.equal(handedBack.json?.code, 7, handedBack.stdout);
      assert.equal((await viaShim({...env('DEL', p, 'socatpod'), PATH: socatOnly}, conf())).exitCode, 0);
      assert.equal(owned().find(o => o.containerid === 'socatpod'), undefined);
      assert.deepEqual(p.links(), ['lo']);
    });

    it('without socat either, the shim runs the plugin itself', async () => {
      const p = pod();
      const add = await viaShim({...env('ADD', p, 'noclient'), PATH: noClient}, conf());
      assert.equal(add.exitCode, 0, add.stdout + add.stderr);
      assert.deepEqual(owned().find(o => o.containerid === 'noclient')?.addrs, [add.json!.ips[0].address]);
      assert.equal((await viaShim({...env('DEL', p, 'noclient'), PATH: noClient}, conf())).exitCode, 0);
      assert.equal(owned().find(o => o.containerid === 'noclient'), undefined);
      assert.doesNotMatch(router.logs, /"container":"noclient"/, 'neither call went through the socket');
    });
  });

  it('the cold plugin gives the same answer over the HTTP API', async () => {
    const p = pod();
    const add = await cold(env('ADD', p, 'coldpod1'), conf());
    assert.equal(add.exitCode, 0, add.stdout + add.stderr);
    assert.deepEqual(Object.keys(add.json!).sort(), ['cniVersion', 'dns', 'interfaces', 'ips', 'routes']);
    assert.deepEqual(owned().find(o => o.containerid === 'coldpod1')?.addrs, [add.json!.ips[0].address]);
    assert.doesNotMatch(router.logs, /"container":"coldpod1"/, 'the cold call did not go through the socket');
    assert.equal((await cold(env('DEL', p, 'coldpod1'), conf())).exitCode, 0);
    assert.equal(owned().find(o => o.containerid === 'coldpod1'), undefined);
  });

  it('allocates in ipam.subnet and honours "routes": []', async () => {
    const p = pod();
    const c = conf({ipam: {subnet: '10.40.0.0/24', routes: []}});
    const add = await viaShim(env('ADD', p, 'subnetpod'), c);
    assert.equal(add.exitCode, 0, add.stdout);
    assert.match(add.json!.ips[0].address, /^10\.40\.0\.\d+\/24$/);
    assert.equal(add.json!.routes, undefined);
    assert.equal(p.exec('ip', ['route', 'show', 'default']).trim(), '');
    assert.equal((await viaShim(env('DEL', p, 'subnetpod'), c)).exitCode, 0);
  });

  it('weave-ipam serves Debian\'s bridge plugin as its IPAM', async () => {
    const p = pod();
    const c = {cniVersion: '1.0.0', name: 'other', type: 'bridge', bridge: 'wtcni0', isGateway: true, ipam: {type: 'weave-ipam', subnet: '10.41.0.0/24'}};
    const add = await runPlugin({env: env('ADD', p, 'bridgepod'), config: c, hostNetns: host.path, executable: '/usr/lib/cni/bridge'});
    assert.equal(add.exitCode, 0, add.stdout + add.stderr);
    assert.match(add.json!.ips[0].address, /^10\.41\.0\.\d+\/24$/);
    assert.deepEqual(owned().find(o => o.containerid === 'bridgepod')?.addrs, [add.json!.ips[0].address]);
    const del = await runPlugin({env: env('DEL', p, 'bridgepod'), config: c, hostNetns: host.path, executable: '/usr/lib/cni/bridge'});
    assert.equal(del.exitCode, 0, del.stdout);
    assert.equal(owned().find(o => o.containerid === 'bridgepod'), undefined);
    host.exec('ip', ['link', 'del', 'wtcni0']);
  });

  it('GC frees CNI allocations not in cni.dev/valid-attachments, and nothing else', async () => {
    const [a, b] = [pod(), pod()];
    const c = conf({cniVersion: '1.1.0'});
    assert.equal((await viaShim(env('ADD', a, 'gckeep'), c)).exitCode, 0);
    assert.equal((await viaShim(env('ADD', b, 'gcstale'), c)).exitCode, 0);
    router.api('POST', '/ip/notcni');
    const gc = await viaShim(env('GC', undefined, ''), {...c, 'cni.dev/valid-attachments': [{containerID: 'gckeep', ifname: 'eth0'}]});
    assert.equal(gc.exitCode, 0, gc.stdout);
    const ids = owned().map(o => o.containerid);
    assert.ok(ids.includes('gckeep'));
    assert.ok(!ids.includes('gcstale'), 'the stale CNI allocation was freed');
    assert.ok(ids.includes('notcni') && ids.includes('weave:expose'), 'non-CNI allocations stay');
    assert.equal((await viaShim(env('DEL', a, 'gckeep'), c)).exitCode, 0);
    router.api('DELETE', '/ip/notcni');
  });

  it('hands a call back to the shim when the router cannot see its IPAM plugin (a router in a container)', async () => {
    const p = pod();
    const add = await viaShim(env('ADD', p, 'coldipam'), conf({ipam: {type: 'only-on-the-host'}}));
    // The shim ran the plugin itself, which names what is missing, as any cold call would.
    assert.equal(add.json?.code, 7, add.stdout);
    assert.match(add.json?.msg, /IPAM plugin "only-on-the-host" was not found in CNI_PATH/);
    await new Promise(resolve => setTimeout(resolve, 200));
    assert.doesNotMatch(router.logs, /"container":"coldipam"/);
    assert.deepEqual(p.links(), ['lo']);
  });

  it('gives 100 concurrent ADDs 100 distinct addresses', async function () {
    this.timeout(180_000);
    const many = Array.from({length: 100}, () => pod());
    const adds = await Promise.all(many.map((p, i) => viaShim(env('ADD', p, `many${i}`), conf())));
    for (const add of adds) assert.equal(add.exitCode, 0, add.stdout + add.stderr);
    assert.equal(new Set(adds.map(a => a.json!.ips[0].address)).size, 100);
    const dels = await Promise.all(many.map((p, i) => viaShim(env('DEL', p, `many${i}`), conf())));
    for (const del of dels) assert.equal(del.exitCode, 0, del.stdout);
    assert.equal(owned().filter(o => String(o.containerid).startsWith('many')).length, 0);
    for (const p of many) p.delete();
  });

  it('STATUS answers 0 with the router up; with it down STATUS is 50 and ADD and DEL are 11, leaving nothing', async function () {
    this.timeout(60_000);
    const c = conf({cniVersion: '1.1.0'});
    assert.equal((await viaShim(env('STATUS', undefined, ''), c)).exitCode, 0);
    const dbDir = router.dbDir;
    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      await router.stop(signal);
      const status = await viaShim(env('STATUS', undefined, ''), c);
      assert.equal(status.json?.code, 50, status.stdout);
      const p = pod();
      const add = await viaShim(env('ADD', p, 'downpod'), c);
      assert.equal(add.json?.code, 11, add.stdout);
      assert.match(add.json?.msg, /weave router must be running to allocate addresses/);
      assert.match(add.json?.details, /weave launch/);
      // A runtime tears the failed ADD down with a DEL, which must say what it could not do.
      const del = await viaShim(env('DEL', p, 'downpod'), c);
      assert.equal(del.json?.code, 11, del.stdout);
      assert.match(del.json?.msg, /weave router must be running to release the addresses of downpod/);
      assert.deepEqual(p.links(), ['lo']);
      assert.ok(!host.links().includes('vethwepldownpod'.slice(0, 15)), 'no veth left for the failed ADD');
      router = await RouterProcess.start(host, {dbDir});
    }
  });
});

