import assert from 'node:assert/strict';
import {after, before, describe, it} from 'mocha';
import {CniHost, pings} from '../helpers/cni-host.js';
import {requireRoot, requireTool} from '../helpers/root.js';
import {runPlugin} from '../helpers/plugin.js';

const VERSIONS = ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'];

type Json = Record<string, any>;

function assertOk(run: {exitCode: number; stdout: string; stderr: string}): void {
  assert.equal(run.exitCode, 0, run.stdout + run.stderr);
}

/** The pod's address as the result reports it, whatever the version's layout. */
function podAddress(result: Json): string {
  return (result.ip4?.ip ?? result.ips?.[0]?.address) as string;
}

describe('weave-net CNI plugin in real namespaces (host-local IPAM)', function () {
  requireRoot();
  requireTool('/usr/lib/cni/host-local', 'containernetworking-plugins');
  requireTool('ping', 'iputils-ping');
  let host: CniHost;
  before(() => (host = new CniHost()));
  after(() => host.destroy());

  for (const [i, version] of VERSIONS.entries()) {
    it(`ADD, CHECK and DEL round trip with cniVersion ${version}`, async () => {
      const pod = host.pod();
      const id = `rt${i}container`;
      const conf = host.config(version, `10.90.${i}.0/24`);
      const add = await host.run(host.env('ADD', pod, id), conf);
      assert.equal(add.exitCode, 0, add.stdout + add.stderr);
      const result = add.json!;
      assert.equal(result.cniVersion, version);
      const address = podAddress(result);
      assert.match(address, new RegExp(`^10\\.90\\.${i}\\.\\d+/24$`));
      if (version < '0.3.0') {
        assert.equal(result.ip4.gateway, `10.90.${i}.1`);
        assert.equal(result.interfaces, undefined);
      } else {
        const ifaces = result.interfaces as Json[];
        assert.deepEqual(ifaces.map(f => f.name), ['weave', `vethwepl${id.slice(0, 7)}`, 'eth0']);
        assert.equal(ifaces[2]!.sandbox, pod.path);
        assert.equal(result.ips[0].interface, 2);
        assert.equal(result.ips[0].version, version < '1.0.0' ? '4' : undefined);
        assert.deepEqual(result.routes, [{dst: '0.0.0.0/0', gw: `10.90.${i}.1`}]);
      }
      assert.match(pod.exec('ip', ['-4', '-o', 'addr', 'show', 'dev', 'eth0']), new RegExp(address.replace(/\./g, '\\.')));
      assert.match(pod.exec('ip', ['route', 'show', 'default']), new RegExp(`via 10\\.90\\.${i}\\.1 dev eth0`));
      assert.ok(host.vethLinks().includes(`vethwepl${id.slice(0, 7)}`));

      const withPrev = {...conf, prevResult: result};
      if (version >= '0.4.0') {
        const check = await host.run(host.env('CHECK', pod, id), withPrev);
        assert.equal(check.exitCode, 0, check.stdout);
      }
      const del = await host.run(host.env('DEL', pod, id), version >= '0.4.0' ? withPrev : conf);
      assert.equal(del.exitCode, 0, del.stdout);
      assert.deepEqual(pod.links(), ['lo']);
      assert.deepEqual(host.vethLinks(), []);
      assert.deepEqual(host.allocations(), []);
    });
  }

  it('reports in CHECK what changed since ADD', async () => {
    const pod = host.pod();
    const conf = host.config('1.0.0', '10.91.0.0/24');
    const add = await host.run(host.env('ADD', pod, 'checkdrift'), conf);
    assert.equal(add.exitCode, 0, add.stdout);
    const address = podAddress(add.json!);
    pod.exec('ip', ['addr', 'del', address, 'dev', 'eth0']);
    const check = await host.run(host.env('CHECK', pod, 'checkdrift'), {...conf, prevResult: add.json});
    assert.equal(check.exitCode, 1);
    assert.equal(check.json!.code, 103);
    assert.match(check.json!.msg as string, new RegExp(`address ${address.replace(/\./g, '\\.')} is missing`));
    assert.match(check.json!.msg as string, /route to 0\.0\.0\.0\/0 via 10\.91\.0\.1 is missing/);
    assertOk(await host.run(host.env('DEL', pod, 'checkdrift'), conf));
  });

  it('lets a pod reach the bridge address (as after `weave expose`)', async () => {
    host.exec('ip', ['addr', 'add', '10.92.0.1/24', 'dev', 'weave']);
    try {
      const pod = host.pod();
      const conf = host.config('1.0.0', '10.92.0.0/24');
      const add = await host.run(host.env('ADD', pod, 'pingbridge'), conf);
      assert.equal(add.exitCode, 0, add.stdout);
      assert.ok(pings(pod, '10.92.0.1'), 'the pod cannot ping the bridge address');
      assertOk(await host.run(host.env('DEL', pod, 'pingbridge'), conf));
    } finally {
      host.exec('ip', ['addr', 'del', '10.92.0.1/24', 'dev', 'weave']);
    }
  });

  it('honours "routes": [] (no default route) and explicit routes', async () => {
    const pod = host.pod();
    const none = host.config('0.3.0', '10.93.0.0/24', {}, {routes: []});
    const add = await host.run(host.env('ADD', pod, 'noroutes'), none);
    assert.equal(add.exitCode, 0, add.stdout);
    assert.equal(add.json!.routes, undefined);
    assert.equal(pod.exec('ip', ['route', 'show', 'default']).trim(), '');
    assertOk(await host.run(host.env('DEL', pod, 'noroutes'), none));

    const pod2 = host.pod();
    const some = host.config('1.0.0', '10.93.1.0/24', {}, {routes: [{dst: '10.200.0.0/16'}]});
    const add2 = await host.run(host.env('ADD', pod2, 'someroutes'), some);
    assert.equal(add2.exitCode, 0, add2.stdout);
    assert.deepEqual(add2.json!.routes, [{dst: '10.200.0.0/16', gw: '10.93.1.1'}]);
    assert.match(pod2.exec('ip', ['route', 'show', '10.200.0.0/16']), /via 10\.93\.1\.1 dev eth0/);
    assert.equal(pod2.exec('ip', ['route', 'show', 'default']).trim(), '');
    assertOk(await host.run(host.env('DEL', pod2, 'someroutes'), some));
  });

  it('sets hairpin mode and MTU as configured', async () => {
    const pod = host.pod();
    const conf = host.config('1.0.0', '10.94.0.0/24', {hairpinMode: false, mtu: 1300});
    const add = await host.run(host.env('ADD', pod, 'hairpin0'), conf);
    assert.equal(add.exitCode, 0, add.stdout);
    const link = JSON.parse(host.exec('ip', ['-j', '-d', 'link', 'show', 'dev', 'vethweplhairpin']))[0];
    assert.equal(link.linkinfo.info_slave_data.hairpin, false);
    assert.equal(link.mtu, 1300);
    assert.match(pod.exec('ip', ['link', 'show', 'eth0']), /mtu 1300/);
    assertOk(await host.run(host.env('DEL', pod, 'hairpin0'), conf));

    const pod2 = host.pod();
    const conf2 = host.config('1.0.0', '10.94.1.0/24');
    assertOk(await host.run(host.env('ADD', pod2, 'hairpin1'), conf2));
    const link2 = JSON.parse(host.exec('ip', ['-j', '-d', 'link', 'show', 'dev', 'vethweplhairpin']))[0];
    assert.equal(link2.linkinfo.info_slave_data.hairpin, true);
    assert.equal(link2.mtu, 1376, 'the weave bridge and its pods default to MTU 1376');
    assertOk(await host.run(host.env('DEL', pod2, 'hairpin1'), conf2));
  });

  it('DEL is idempotent: twice, and after the namespace is gone', async () => {
    const pod = host.pod();
    const conf = host.config('0.4.0', '10.95.0.0/24');
    assertOk(await host.run(host.env('ADD', pod, 'deltwice'), conf));
    assertOk(await host.run(host.env('DEL', pod, 'deltwice'), conf));
    assertOk(await host.run(host.env('DEL', pod, 'deltwice'), conf));

    const pod2 = host.pod();
    assertOk(await host.run(host.env('ADD', pod2, 'delgone'), conf));
    pod2.delete();
    const del = await host.run(host.env('DEL', pod2, 'delgone'), conf);
    assert.equal(del.exitCode, 0, del.stdout);
    const noNetns = await host.run({...host.env('DEL', undefined, 'delgone')}, conf);
    assert.equal(noNetns.exitCode, 0, noNetns.stdout);
    assert.deepEqual(host.vethLinks(), []);
    assert.deepEqual(host.allocations(), []);
  });

  it('gives 20 concurrent ADDs 20 distinct addresses, and DEL cleans all up', async () => {
    const conf = host.config('1.0.0', '10.96.0.0/24');
    const pods = Array.from({length: 20}, () => host.pod());
    const adds = await Promise.all(pods.map((pod, i) => host.run(host.env('ADD', pod, `conc${String(i).padStart(2, '0')}x`), conf)));
    for (const add of adds) assert.equal(add.exitCode, 0, add.stdout + add.stderr);
    const addresses = adds.map(a => podAddress(a.json!));
    assert.equal(new Set(addresses).size, 20);
    assert.equal(host.vethLinks().length, 20);
    const dels = await Promise.all(pods.map((pod, i) => host.run(host.env('DEL', pod, `conc${String(i).padStart(2, '0')}x`), conf)));
    for (const del of dels) assert.equal(del.exitCode, 0, del.stdout);
    assert.deepEqual(host.vethLinks(), []);
    assert.deepEqual(host.allocations(), []);
  });

  it('chains portmap: a hostPort reaches the pod, and DEL removes the mapping', async function () {
    requireTool('/usr/lib/cni/portmap', 'containernetworking-plugins');
    requireTool('busybox', 'busybox-static');
    // A client namespace on a link to the host, so the mapped port is reached as from outside.
    const client = host.pod();
    host.exec('ip', ['link', 'add', 'wtuplink', 'type', 'veth', 'peer', 'name', 'wtclient', 'netns', client.path]);
    host.exec('ip', ['addr', 'add', '192.168.77.1/24', 'dev', 'wtuplink']);
    host.exec('ip', ['link', 'set', 'wtuplink', 'up']);
    client.exec('ip', ['addr', 'add', '192.168.77.2/24', 'dev', 'wtclient']);
    client.exec('ip', ['link', 'set', 'wtclient', 'up']);
    host.exec('sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    host.exec('ip', ['addr', 'add', '10.97.0.1/24', 'dev', 'weave']);
    const pod = host.pod();
    const server = pod.spawnDetached('busybox', ['nc', '-ll', '-p', '8080', '-e', 'busybox', 'echo', 'hello-from-pod']);
    try {
      const conf = host.config('1.0.0', '10.97.0.0/24');
      const add = await host.run(host.env('ADD', pod, 'portmap1'), conf);
      assert.equal(add.exitCode, 0, add.stdout);
      const portmapConf = {
        cniVersion: '1.0.0',
        name: 'weave',
        type: 'portmap',
        snat: true,
        capabilities: {portMappings: true},
        runtimeConfig: {portMappings: [{hostPort: 18080, containerPort: 8080, protocol: 'tcp'}]},
        prevResult: add.json,
      };
      const pm = await runPlugin({env: host.env('ADD', pod, 'portmap1'), config: portmapConf, hostNetns: host.ns.path, executable: '/usr/lib/cni/portmap'});
      assert.equal(pm.exitCode, 0, pm.stdout + pm.stderr);
      assert.deepEqual(pm.json!.ips, add.json!.ips, 'portmap passes our result through');
      const reply = client.exec('busybox', ['nc', '-w', '3', '192.168.77.1', '18080'], '');
      assert.match(reply, /hello-from-pod/);

      const pmDel = await runPlugin({env: host.env('DEL', pod, 'portmap1'), config: portmapConf, hostNetns: host.ns.path, executable: '/usr/lib/cni/portmap'});
      assert.equal(pmDel.exitCode, 0, pmDel.stdout);
      assert.doesNotMatch(host.exec('iptables-save', ['-t', 'nat']), /18080/);
      assertOk(await host.run(host.env('DEL', pod, 'portmap1'), conf));
    } finally {
      server.kill();
      host.exec('ip', ['link', 'del', 'wtuplink']);
      host.exec('ip', ['addr', 'del', '10.97.0.1/24', 'dev', 'weave']);
    }
  });
});
