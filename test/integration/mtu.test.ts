import assert from 'node:assert/strict';
import {after, afterEach, before, describe, it} from 'mocha';
import {fullyMeshed, waitUntil} from '../helpers/mesh-router.js';
import {requireRoot, requireTool} from '../helpers/root.js';
import {RouterLan} from '../helpers/router-lan.js';

describe('the pod MTU follows the network when --mtu is not given (weave router processes on a LAN)', function () {
  requireRoot();
  requireTool('ping', 'iputils-ping');
  this.timeout(120_000);
  let net: RouterLan;

  before(() => {
    net = RouterLan.create(3, 'h2m');
  });

  afterEach(() => net.clear());

  after(() => net?.destroy());

  /** Each host's LAN link (and its switch port) at the MTU given for it. */
  function linkMtus(mtus: number[]): void {
    for (const [i, host] of net.lan.hosts.entries()) {
      net.lan.switchNs.exec('ip', ['link', 'set', 'dev', host.port, 'mtu', String(mtus[i])]);
      host.ns.exec('ip', ['link', 'set', 'dev', host.ifname, 'mtu', String(mtus[i])]);
    }
  }

  /** Routers on all three hosts over fresh state, A given B and C as peers, fully meshed. */
  async function launch(): Promise<void> {
    await net.start(1);
    await net.start(2);
    await net.start(0, [1, 2]);
    await waitUntil('a full mesh', () => fullyMeshed(net.routers));
  }

  /** Every router's connections all show `mtu`, and its bridge has it. */
  async function settledAt(mtu: number): Promise<void> {
    await waitUntil(`every peer at MTU ${mtu}`, async () => {
      for (const r of net.routers) {
        const lines = (await r.text('/status/connections')).split('\n').filter(Boolean);
        if (lines.length !== 2 || !lines.every(line => line.endsWith(` mtu=${mtu}`))) return false;
        const [bridge] = JSON.parse(r.host.ns.exec('ip', ['-j', 'link', 'show', 'dev', 'weave'])) as {mtu: number}[];
        if (bridge?.mtu !== mtu) return false;
      }
      return true;
    });
  }

  it('a LAN of 1500 bytes gives pods 1450', async () => {
    linkMtus([1500, 1500, 1500]);
    await launch();
    await settledAt(1450);
  });

  it('a mixed LAN (one host at 1500, the others at 9000): every peer takes the smallest, 1450', async () => {
    linkMtus([9000, 9000, 1500]);
    await launch();
    await settledAt(1450);
  });

  // Last: its pods leave IPAM state on the hosts' bridges.
  it('a LAN of 9000 bytes gives pods 8950: a new pod gets it, and a packet of that size crosses whole', async () => {
    linkMtus([9000, 9000, 9000]);
    await launch();
    await settledAt(8950);
    const onA = await net.attach(0);
    const onC = await net.attach(2);
    const [eth0] = JSON.parse(onA.ns.exec('ip', ['-j', 'link', 'show', 'dev', 'eth0'])) as {mtu: number}[];
    assert.equal(eth0!.mtu, 8950);
    // The don't-fragment bit set: 28 bytes of IP and ICMP headers.
    onA.ns.exec('ping', ['-c', '1', '-W', '2', onC.ip]);
    onA.ns.exec('ping', ['-c', '1', '-W', '2', '-M', 'do', '-s', String(8950 - 28), onC.ip]);
  });
});
