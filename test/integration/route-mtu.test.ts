import assert from 'node:assert/strict';
import {after, before, describe, it} from 'mocha';
import {ipRouteMtus} from '../../src/lib/net/mtu.js';
import {netlinkRouteMtus} from '../../src/lib/net/netlink/route-mtu.js';
import {loadNetlinkAddon, type NetlinkAddon} from '../../src/lib/net/netlink/socket.js';
import {Netns} from '../helpers/netns.js';
import {requireRoot} from '../helpers/root.js';

/**
 * The router measures the links towards its peers over netlink in its own process; `ip` is the
 * fallback without the addon. Both must say the same of every destination.
 */
describe('the MTU of the route towards each destination, over netlink and over ip', function () {
  requireRoot();
  this.timeout(30_000);
  let ns: Netns;
  let addon: NetlinkAddon;

  before(() => {
    const loaded = loadNetlinkAddon();
    if (typeof loaded === 'string') throw new Error(`the router's addon is needed: ${loaded}`);
    addon = loaded;
    ns = Netns.create('wrm');
    // Two links at different MTUs, a route through a gateway on each, an IPv6 address, and a default route on neither.
    for (const [dev, mtu, cidr] of [['rma', '9000', '10.71.0.1/24'], ['rmb', '1400', '10.72.0.1/24']] as const) {
      ns.exec('ip', ['link', 'add', dev, 'mtu', mtu, 'type', 'veth', 'peer', 'name', `${dev}p`, 'mtu', mtu]);
      ns.exec('ip', ['link', 'set', 'dev', `${dev}p`, 'up']);
      ns.exec('ip', ['link', 'set', 'dev', dev, 'up']);
      ns.exec('ip', ['addr', 'add', cidr, 'dev', dev]);
    }
    ns.exec('ip', ['route', 'add', '192.0.2.0/24', 'via', '10.72.0.2']);
    ns.exec('ip', ['-6', 'addr', 'add', 'fd00:71::1/64', 'dev', 'rma', 'nodad']);
  });

  after(() => ns?.delete());

  const dsts = ['10.71.0.9', '10.72.0.9', '192.0.2.7', '203.0.113.1', 'fd00:71::9', 'not-an-address', '10.71.0.9'];

  it('reads each routed destination`s link and MTU, and leaves out those with no route', async () => {
    const found = await netlinkRouteMtus(addon, dsts, ns.path);
    assert.deepEqual(
      [...found],
      [
        ['10.71.0.9', {dev: 'rma', mtu: 9000}],
        ['10.72.0.9', {dev: 'rmb', mtu: 1400}],
        ['192.0.2.7', {dev: 'rmb', mtu: 1400}],
        ['fd00:71::9', {dev: 'rma', mtu: 9000}],
      ],
    );
  });

  it('says the same as `ip route get` and `ip link show`', async () => {
    const routed = dsts.filter(d => d !== 'not-an-address');
    assert.deepEqual(await netlinkRouteMtus(addon, routed, ns.path), await ipRouteMtus(routed, ns.path));
  });

  it('follows a change of the link`s MTU', async () => {
    ns.exec('ip', ['link', 'set', 'dev', 'rmb', 'mtu', '1280']);
    assert.deepEqual(await netlinkRouteMtus(addon, ['192.0.2.7'], ns.path), new Map([['192.0.2.7', {dev: 'rmb', mtu: 1280}]]));
  });

  it('a namespace that does not exist is an error that names it', async () => {
    await assert.rejects(netlinkRouteMtus(addon, ['10.71.0.9'], '/run/netns/wrm-no-such'), /wrm-no-such/);
  });
});
