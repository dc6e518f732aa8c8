import assert from 'node:assert/strict';
import {after, afterEach, before, describe, it} from 'mocha';
import {IpError} from '../../src/lib/net/ip.js';
import {loadNetlinkPodNet} from '../../src/lib/net/netlink/pod-net.js';
import {ipPodNet, type PodNet} from '../../src/lib/net/pod-net.js';
import type {VethSpec} from '../../src/lib/net/veth.js';
import {InstalledPlugin} from '../helpers/cni-install.js';
import {Netns} from '../helpers/netns.js';
import {runPlugin} from '../helpers/plugin.js';
import {requireRoot, requireTool} from '../helpers/root.js';
import {RouterProcess} from '../helpers/router.js';

type Json = Record<string, any>;

const BRIDGE = 'wtnlbr';

/** `ip -j -d link show` of one link in `ns`. */
function link(ns: Netns, name: string): Json {
  return (JSON.parse(ns.exec('ip', ['-j', '-d', 'link', 'show', 'dev', name])) as Json[])[0]!;
}

/** What `ip` shows of a pod's eth0 and routes, without what differs between two pods (index, MAC, link-local). */
function podView(ns: Netns): Json {
  const [addr] = JSON.parse(ns.exec('ip', ['-j', 'addr', 'show', 'dev', 'eth0'])) as Json[];
  const routes = (family: string) => JSON.parse(ns.exec('ip', ['-j', family, 'route', 'show', 'dev', 'eth0'])) as Json[];
  return {
    flags: addr!.flags,
    mtu: addr!.mtu,
    addresses: (addr!.addr_info as Json[]).filter(a => a.scope !== 'link').map(a => ({family: a.family, local: a.local, prefixlen: a.prefixlen, nodad: a.nodad ?? false})),
    routes: [...routes('-4'), ...routes('-6').filter(r => !String(r.dst).startsWith('fe80'))],
  };
}

async function rejects(op: Promise<unknown>, check: (error: IpError) => void): Promise<void> {
  await assert.rejects(op, error => {
    assert.ok(error instanceof IpError, `an IpError, not ${String(error)}`);
    check(error);
    return true;
  });
}

describe('pod links over netlink from our own process (the warm CNI path)', function () {
  requireRoot();
  this.timeout(30_000);
  let host: Netns;
  let net: PodNet;
  const pods: Netns[] = [];
  const pod = () => {
    const ns = Netns.create('wtnlp');
    pods.push(ns);
    return ns;
  };
  const spec = (ns: Netns, extra: Partial<VethSpec> = {}): VethSpec => ({hostName: `vnl${ns.name.slice(-6)}`, peerName: 'eth0', netns: ns.path, mtu: 1376, bridge: BRIDGE, hairpin: true, ...extra});
  const hostLinks = () => host.links().sort();

  before(() => {
    host = Netns.create('wtnlh');
    host.exec('ip', ['link', 'add', BRIDGE, 'type', 'bridge']);
    host.exec('ip', ['link', 'set', BRIDGE, 'up']);
    const loaded = loadNetlinkPodNet(host.path);
    // The router's addon is part of every install of the package that runs tests: no silent fallback.
    assert.notEqual(typeof loaded, 'string', `netlink must load: ${String(loaded)}`);
    net = loaded as PodNet;
  });
  afterEach(() => {
    for (const ns of pods.splice(0)) ns.delete();
  });
  after(() => host?.delete());

  it('creates the pair: the host end on the bridge, up, with its MAC, MTU, alias and hairpin mode; the peer born in the pod', async () => {
    const ns = pod();
    const s = spec(ns, {alias: 'c0ffee'.repeat(10)});
    const mac = await net.createVeth(s);
    const end = link(host, s.hostName);
    assert.equal(end.address, mac);
    assert.equal(end.mtu, 1376);
    assert.equal(end.master, BRIDGE);
    assert.ok(end.flags.includes('UP'));
    assert.equal(end.ifalias, s.alias);
    assert.equal(end.linkinfo.info_slave_data.hairpin, true);
    const peer = link(ns, 'eth0');
    assert.equal(peer.mtu, 1376);
    assert.equal(peer.linkinfo.info_kind, 'veth');

    const off = pod();
    await net.createVeth(spec(off, {hairpin: false}));
    assert.equal(link(host, spec(off).hostName).linkinfo.info_slave_data.hairpin, false);
  });

  it('configures addresses and routes exactly as the `ip` path does', async () => {
    const [viaNetlink, viaIp] = [pod(), pod()];
    const addresses = ['10.32.0.5/12', 'fd00:32::5/64'];
    // A gateway outside the subnet, reached through a link-scope host route first, as add.ts asks.
    const routes = [{dst: '10.40.0.1/32'}, {dst: '0.0.0.0/0', gw: '10.40.0.1'}, {dst: '10.99.0.0/16', gw: '10.32.0.1'}, {dst: '::/0', gw: 'fd00:32::1'}];
    await net.createVeth(spec(viaNetlink));
    await net.createVeth(spec(viaIp));
    const shown = await net.configureInterface(viaNetlink.path, 'eth0', addresses, routes);
    await ipPodNet.configureInterface(viaIp.path, 'eth0', addresses, routes);
    assert.deepEqual(podView(viaNetlink), podView(viaIp));
    assert.equal(shown.address, link(viaNetlink, 'eth0').address);
    assert.ok(shown.flags.includes('UP'));
  });

  it('says "exists" for a host end or a pod interface already there, and leaves nothing behind', async () => {
    const ns = pod();
    const s = spec(ns);
    await net.createVeth(s);
    const before = hostLinks();
    const other = pod();
    await rejects(net.createVeth(spec(other, {hostName: s.hostName})), error => {
      assert.ok(error.exists, error.message);
      assert.equal(error.command[1], 'add');
    });
    await rejects(net.createVeth(spec(ns, {hostName: 'vnlother'})), error => assert.ok(error.exists, error.message));
    assert.deepEqual(hostLinks(), before);
    assert.deepEqual(other.links(), ['lo']);
    assert.deepEqual(ns.links().sort(), ['eth0', 'lo']);
  });

  it('says "not found" for a bridge that is not there, creating nothing', async () => {
    const ns = pod();
    const before = hostLinks();
    await rejects(net.createVeth(spec(ns, {bridge: 'wtnlnone'})), error => {
      assert.ok(error.notFound, error.message);
      assert.match(error.message, /wtnlnone/);
    });
    assert.deepEqual(hostLinks(), before);
    assert.deepEqual(ns.links(), ['lo']);
  });

  it("passes on the kernel's own words for a refused route, and what it was doing", async () => {
    const ns = pod();
    await net.createVeth(spec(ns));
    await rejects(net.configureInterface(ns.path, 'eth0', ['10.32.0.5/12'], [{dst: '0.0.0.0/0', gw: '192.168.77.1'}]), error => {
      assert.equal(error.errno, 101);
      assert.match(error.message, /route add 0\.0\.0\.0\/0 via 192\.168\.77\.1 dev eth0/);
      assert.match(error.reason, /gateway/i);
    });
    await rejects(net.configureInterface(ns.path, 'eth9', ['10.32.0.5/12'], []), error => assert.ok(error.notFound, error.message));
  });

  it('deletes a link once: true, then false; showLink then finds nothing; a namespace gone is nothing to delete', async () => {
    const ns = pod();
    const s = spec(ns);
    await net.createVeth(s);
    assert.equal((await net.showLink('eth0', ns.path))?.mtu, 1376);
    assert.equal(await net.deleteLink(s.hostName), true);
    assert.equal(await net.deleteLink(s.hostName), false);
    assert.equal(await net.deleteLinkPromptly(s.hostName), false);
    assert.equal(await net.showLink('eth0', ns.path), undefined, 'the peer went with the host end');
    assert.equal(await net.deleteLink('eth0', '/proc/999999999/ns/net'), false);
    assert.ok(!hostLinks().includes(s.hostName));
  });

  it('keeps concurrent calls apart: 10 pods at once each get their own pair and addresses', async () => {
    const many = Array.from({length: 10}, () => pod());
    await Promise.all(
      many.map(async (ns, i) => {
        await net.createVeth(spec(ns));
        await net.configureInterface(ns.path, 'eth0', [`10.32.1.${i + 1}/12`], [{dst: '0.0.0.0/0', gw: '10.32.0.1'}]);
      }),
    );
    for (const [i, ns] of many.entries()) assert.deepEqual(podView(ns).addresses, [{family: 'inet', local: `10.32.1.${i + 1}`, prefixlen: 12, nodad: false}]);
    assert.deepEqual(await Promise.all(many.map(ns => net.deleteLink(spec(ns).hostName))), many.map(() => true));
  });
});

describe('the warm CNI path over netlink: failures leave nothing behind', function () {
  requireRoot();
  requireTool('curl', 'curl');
  this.timeout(60_000);
  let host: Netns;
  let router: RouterProcess;
  let installed: InstalledPlugin;
  const pods: Netns[] = [];
  const pod = () => {
    const ns = Netns.create('wtnlp');
    pods.push(ns);
    return ns;
  };
  const conf = (ipam: Json = {}) => ({cniVersion: '1.0.0', name: 'weave', type: 'weave-net', ipam});
  const add = (ns: Netns, id: string, config: Json) =>
    runPlugin({
      env: {CNI_COMMAND: 'ADD', CNI_CONTAINERID: id, CNI_NETNS: ns.path, CNI_IFNAME: 'eth0', CNI_PATH: `${installed.binDir}:/usr/lib/cni`},
      config,
      hostNetns: host.path,
      executable: installed.plugin(),
    });
  const owned = (id: string) => ((JSON.parse(router.api('GET', '/ip')[1]).owned ?? []) as Json[]).find(o => o.containerid === id);
  const vethLinks = () => host.links().filter(l => l.startsWith('vethwepl'));

  before(async () => {
    host = Netns.create('wtnlh');
    installed = new InstalledPlugin();
    router = await RouterProcess.start(host);
  });
  after(async () => {
    await router?.destroy();
    for (const ns of pods) ns.delete();
    host?.delete();
    installed?.remove();
  });

  it('runs its links through netlink', () => {
    assert.match(router.logs, /warm CNI path listening; links through netlink/);
  });

  it('an interface already in the pod: code 101 naming it, no veth, no address held', async () => {
    const ns = pod();
    ns.exec('ip', ['link', 'add', 'eth0', 'type', 'bridge']);
    const run = await add(ns, 'nlexists', conf());
    assert.equal(run.exitCode, 1, run.stdout);
    assert.equal(run.json?.code, 101);
    assert.match(run.json?.msg, /interface "eth0" already exists/);
    assert.match(router.logs, /"msg":"cni call".*"container":"nlexists"/, 'the call ran inside the router');
    assert.deepEqual(vethLinks(), []);
    assert.equal(owned('nlexists'), undefined);
    assert.deepEqual(ns.links().sort(), ['eth0', 'lo']);
  });

  it('a route the kernel refuses after the address was allocated: code 100 with its words, the address released and the veth gone', async () => {
    const ns = pod();
    const run = await add(ns, 'nlroute', conf({routes: [{dst: '10.200.0.0/16', gw: '192.0.2.1'}]}));
    assert.equal(run.exitCode, 1, run.stdout);
    assert.equal(run.json?.code, 100);
    assert.match(run.json?.msg, /route add 10\.200\.0\.0\/16 via 192\.0\.2\.1 dev eth0.*gateway/i);
    assert.deepEqual(vethLinks(), []);
    assert.equal(owned('nlroute'), undefined);
    assert.deepEqual(ns.links(), ['lo']);
  });
});
