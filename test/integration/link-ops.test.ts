import assert from 'node:assert/strict';
import {cpSync, mkdtempSync, rmSync, symlinkSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {IpError} from '../../src/lib/net/ip.js';
import type {LinkInfo} from '../../src/lib/net/link.js';
import {ipCommand, type LinkChange, ipLinkOps, type LinkOps} from '../../src/lib/net/link-ops.js';
import {loadNetlinkLinkOps} from '../../src/lib/net/netlink/link-ops.js';
import {PACKAGE_ROOT} from '../../src/lib/package.js';
import {Netns} from '../helpers/netns.js';
import {requireRoot} from '../helpers/root.js';
import {RouterProcess} from '../helpers/router.js';

/** What of a link the router reads, with `ip`'s flags cut to those netlink names. */
function seen(link: LinkInfo | undefined): unknown {
  if (!link) return link;
  const {ifindex, ifname, address, mtu, master, ifalias, link_index, link_netnsid, linkinfo} = link;
  const data = linkinfo?.info_data;
  const slave = linkinfo?.info_slave_data;
  return {
    ifindex,
    ifname,
    address,
    mtu,
    master,
    ifalias,
    link_index,
    link_netnsid,
    flags: link.flags.filter(f => ['BROADCAST', 'LOOPBACK', 'MULTICAST', 'UP', 'LOWER_UP'].includes(f)).sort(),
    kind: linkinfo?.info_kind,
    vxlan: linkinfo?.info_kind === 'vxlan' ? {id: data?.id, port: data?.port, learning: data?.learning, local: data?.local} : undefined,
    port: master ? {hairpin: slave?.hairpin, isolated: slave?.isolated} : undefined,
  };
}

/** `ip -j -d link show` of a link, as `ip` itself prints it: every setting, to compare devices made both ways. */
function ipDetails(ns: Netns, name: string): Record<string, unknown> {
  const [link] = JSON.parse(ns.exec('ip', ['-j', '-d', 'link', 'show', 'dev', name])) as Record<string, unknown>[];
  // Differ between any two links, however made.
  for (const key of ['ifindex', 'address', 'broadcast', 'link_netnsid', 'operstate', 'linkmode', 'promiscuity', 'allmulti']) delete link![key];
  const info = (link!.linkinfo ?? {}) as {info_slave_data?: Record<string, unknown>; info_data?: Record<string, unknown>};
  for (const key of ['id', 'no', 'port_id', 'port_no', 'designated_port', 'designated_cost', 'designated_bridge', 'designated_root', 'bridge_id', 'root_id', 'hold_timer', 'message_age_timer', 'forward_delay_timer', 'state', 'topology_change_ack', 'config_pending']) {
    delete info.info_slave_data?.[key];
  }
  for (const key of ['bridge_id', 'root_id', 'hello_timer', 'tcn_timer', 'topology_change_timer', 'gc_timer', 'mcast_querier_state_ipv4', 'mcast_querier_state_ipv6', 'root_port']) delete info.info_data?.[key];
  return link!;
}

/**
 * The router's look at and changes to the host's links go over netlink in its own process when
 * its addon is there, and through `ip` when not: both must give the same answers, make the same
 * devices, and fail the same way.
 */
describe('link ops over netlink and over ip', function () {
  this.timeout(60_000);
  let host: Netns;
  let pod: Netns;
  let netlink: LinkOps;

  before(() => {
    requireRoot();
    const ops = loadNetlinkLinkOps();
    assert.notEqual(typeof ops, 'string', `netlink must load: ${String(ops)}`);
    netlink = ops as LinkOps;
    host = Netns.create('lop');
    pod = Netns.create('lopp');
    const inHost = (...args: string[]) => host.exec('ip', args);
    inHost('link', 'add', 'weave', 'type', 'bridge');
    inHost('link', 'set', 'weave', 'up');
    inHost('addr', 'add', '10.32.0.1/12', 'dev', 'weave');
    inHost('addr', 'add', '10.40.0.1/16', 'dev', 'weave');
    inHost('addr', 'add', 'fd00::1/64', 'dev', 'weave');
    inHost('link', 'add', 'vethwepl1234567', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', pod.name);
    inHost('link', 'set', 'vethwepl1234567', 'master', 'weave', 'alias', 'abcdef0123', 'up');
    inHost('link', 'set', 'vethwepl1234567', 'type', 'bridge_slave', 'hairpin', 'on');
    inHost('link', 'add', 'vxlan-lop', 'type', 'vxlan', 'id', '7', 'dstport', '6790', 'local', '127.0.0.1', 'nolearning');
    inHost('link', 'set', 'vxlan-lop', 'master', 'weave', 'mtu', '1400');
    inHost('link', 'set', 'vxlan-lop', 'type', 'bridge_slave', 'isolated', 'on');
    inHost('link', 'add', 'vlopa', 'type', 'veth', 'peer', 'name', 'vlopb');
  });

  after(() => {
    pod?.delete();
    host?.delete();
  });

  it('shows each link as ip does: kind, MTU, master, alias, peer elsewhere, VXLAN and port settings', async () => {
    for (const name of ['weave', 'vethwepl1234567', 'vxlan-lop', 'vlopa', 'lo']) {
      const [viaNetlink, viaIp] = await Promise.all([netlink.show(name, host.path), ipLinkOps.show(name, host.path)]);
      assert.ok(viaNetlink, name);
      assert.deepEqual(seen(viaNetlink), seen(viaIp), name);
    }
    const vxlan = await netlink.show('vxlan-lop', host.path);
    assert.deepEqual(vxlan?.linkinfo?.info_data, {id: 7, port: 6790, learning: false, local: '127.0.0.1'});
    assert.equal(vxlan?.master, 'weave');
    const veth = await netlink.show('vethwepl1234567', host.path);
    assert.equal(veth?.ifalias, 'abcdef0123');
    assert.equal(veth?.linkinfo?.info_slave_data?.hairpin, true);
    assert.ok(veth?.link_netnsid !== undefined && veth.link_index !== undefined, 'the peer in the pod');
  });

  it('lists every link with its IPv4 addresses in the order ip gives', async () => {
    const [viaNetlink, viaIp] = await Promise.all([netlink.list(host.path), ipLinkOps.list(host.path)]);
    assert.deepEqual(
      viaNetlink.map(l => [seen(l), l.cidrs]),
      viaIp.map(l => [seen(l), l.cidrs]),
    );
    assert.deepEqual(viaNetlink.find(l => l.ifname === 'weave')?.cidrs, ['10.32.0.1/12', '10.40.0.1/16']);
  });

  it('shows nothing for a missing link, a link in another namespace, or a missing namespace, as ip does', async () => {
    for (const [name, ns] of [
      ['nosuchlink', host.path],
      ['eth0', host.path],
      ['weave', '/run/netns/nosuchnetns-lop'],
    ] as const) {
      assert.equal(await netlink.show(name, ns), undefined, `${name} in ${ns}`);
      assert.equal(await ipLinkOps.show(name, ns), undefined, `${name} in ${ns}`);
    }
  });

  it('fails to list a missing namespace with a not-found IpError, as ip does', async () => {
    for (const ops of [netlink, ipLinkOps]) {
      await assert.rejects(ops.list('/run/netns/nosuchnetns-lop'), (error: unknown) => error instanceof IpError && error.notFound);
    }
  });

  describe('changes', () => {
    let a: Netns;
    let b: Netns;
    beforeEach(() => {
      a = Netns.create('lopa');
      b = Netns.create('lopb');
    });
    afterEach(() => {
      a.delete();
      b.delete();
    });

    /** The router's changes, made with netlink in `a` and with ip in `b`. */
    const both = async (changes: LinkChange[], show: string) => {
      const [viaNetlink, viaIp] = await Promise.all([netlink.applyAndShow(changes, show, a.path), ipLinkOps.applyAndShow(changes, show, b.path)]);
      // The kernel gives each new VXLAN device a random MAC.
      const alike = (link: LinkInfo) => ({...(seen(link) as object), ifindex: 0, address: link.linkinfo?.info_kind === 'vxlan' ? '' : link.address});
      assert.deepEqual(alike(viaNetlink), alike(viaIp));
      return viaNetlink;
    };

    it('makes the same bridge and VXLAN devices as ip, on the bridge and isolated', async () => {
      const mac = '02:11:22:33:44:55';
      const bridge = await both([{op: 'add-bridge', name: 'weave', mac}, {op: 'set', name: 'weave', mac, mtu: 1376, up: true}], 'weave');
      assert.equal(bridge.address, mac);
      assert.equal(bridge.mtu, 1376);
      assert.ok(bridge.flags.includes('UP'));
      for (const [name, learning, local] of [['vxlan-6784', true, undefined], ['vxlan-relay', false, '127.0.0.1']] as const) {
        const vxlan = await both(
          [
            {op: 'add-vxlan', name, vni: name === 'vxlan-6784' ? 1 : 5000, port: 6785, learning, ...(local ? {local} : {})},
            {op: 'no-addrgen', name},
            {op: 'set', name, mtu: 1376, master: 'weave', up: true},
            {op: 'bridge-port', name, isolated: true, ...(learning ? {} : {learning: false, flood: false, mcastFlood: false, bcastFlood: false})},
          ],
          name,
        );
        assert.equal(vxlan.master, 'weave');
        assert.equal(ipDetails(a, name).inet6_addr_gen_mode, 'none');
        assert.deepEqual(ipDetails(a, name), ipDetails(b, name), `${name}: every setting ip shows`);
      }
      assert.deepEqual(ipDetails(a, 'weave'), ipDetails(b, 'weave'));
      await netlink.apply([{op: 'del', name: 'vxlan-relay'}], a.path);
      assert.equal(await netlink.show('vxlan-relay', a.path), undefined);
    });

    it('fails as ip does: the failing change named, exists and not-found told apart, the rest not made', async () => {
      // Each with the index of the change that fails.
      const cases: [LinkChange[], 'exists' | 'notFound', number][] = [
        [[{op: 'set', name: 'nosuch', mtu: 1400}], 'notFound', 0],
        [[{op: 'del', name: 'nosuch'}], 'notFound', 0],
        [[{op: 'add-bridge', name: 'br0', mac: '02:00:00:00:00:01'}, {op: 'set', name: 'br0', master: 'nosuchbridge'}], 'notFound', 1],
        [[{op: 'add-bridge', name: 'br1', mac: '02:00:00:00:00:01'}, {op: 'add-bridge', name: 'br1', mac: '02:00:00:00:00:02'}, {op: 'set', name: 'br1', mtu: 1300}], 'exists', 1],
      ];
      for (const [changes, kind, failing] of cases) {
        const errors = await Promise.all(
          [netlink.apply(changes, a.path), ipLinkOps.apply(changes, b.path)].map(p =>
            p.then(
              () => assert.fail(`${JSON.stringify(changes)} must fail`),
              (error: unknown) => error,
            ),
          ),
        );
        for (const error of errors) {
          assert.ok(error instanceof IpError, String(error));
          assert.ok(error[kind], `${kind}: ${error.message}`);
        }
        // `ip` names no line when a master it looks up is missing (it exits there): netlink always does.
        assert.deepEqual((errors[0] as IpError).command, ipCommand(changes[failing]!));
      }
      // The change after the failing one was not made, either way.
      assert.equal((await netlink.show('br1', a.path))?.mtu, (await ipLinkOps.show('br1', b.path))?.mtu);
      assert.notEqual((await netlink.show('br1', a.path))?.mtu, 1300);
    });

    it('fails in a missing namespace with a not-found IpError, as ip does', async () => {
      for (const ops of [netlink, ipLinkOps]) {
        await assert.rejects(ops.apply([{op: 'add-bridge', name: 'weave', mac: '02:00:00:00:00:01'}], '/run/netns/nosuchnetns-lop'), (error: unknown) => error instanceof IpError && error.notFound);
      }
    });
  });

  describe('a router without its addon', () => {
    let copy: string;
    let ns: Netns;
    let router: RouterProcess | undefined;
    before(() => {
      // The package as installed where its optional addon could not be built: no native/.
      copy = mkdtempSync(join(tmpdir(), 'weave-noaddon-'));
      for (const file of ['bin', 'dist', 'package.json', 'oclif.manifest.json']) cpSync(join(PACKAGE_ROOT, file), join(copy, file), {recursive: true});
      symlinkSync(join(PACKAGE_ROOT, 'node_modules'), join(copy, 'node_modules'));
      ns = Netns.create('lopr');
    });
    after(async () => {
      await router?.destroy();
      ns?.delete();
      rmSync(copy, {recursive: true, force: true});
    });

    it('makes its bridge and VXLAN device through ip, as it says, the same as over netlink', async () => {
      router = await RouterProcess.start(ns, {bin: join(copy, 'bin', 'weave.js')});
      assert.match(router.logs, /host links through ip, as the addon has no netlink/);
      const bridge = await ipLinkOps.show('weave', ns.path);
      const vxlan = await ipLinkOps.show('vxlan-6784', ns.path);
      assert.equal(bridge?.linkinfo?.info_kind, 'bridge');
      assert.ok(bridge?.flags.includes('UP'));
      assert.deepEqual([vxlan?.master, vxlan?.linkinfo?.info_data?.id, vxlan?.linkinfo?.info_slave_data?.isolated], ['weave', 1, true]);
      assert.deepEqual(seen(await netlink.show('vxlan-6784', ns.path)), seen(vxlan));
    });
  });
});
