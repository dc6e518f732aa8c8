import assert from 'node:assert/strict';
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, afterEach, before, describe, it} from 'mocha';
import {createLogger} from '../../src/lib/router/log.js';
import {TargetStore} from '../../src/lib/router/mesh/target-store.js';
import {Lan} from '../helpers/lan.js';
import {fullyMeshed, MeshRouter, waitUntil} from '../helpers/mesh-router.js';
import {requireRoot, requireTool} from '../helpers/root.js';
import {attachPod, type Pod} from '../helpers/weave-pods.js';

const silent = createLogger('error', () => {});

describe('the pod MTU follows the network when --mtu is not given (weave router processes on a LAN)', function () {
  requireRoot();
  requireTool('ping', 'iputils-ping');
  this.timeout(120_000);
  let lan: Lan;
  let dir: string;
  let routers: MeshRouter[] = [];
  const pods: Pod[] = [];

  before(() => {
    lan = Lan.create(3);
    dir = mkdtempSync(join(tmpdir(), 'h2-mtu-'));
  });

  afterEach(async () => {
    for (const r of routers.splice(0)) {
      await r.halt('SIGTERM');
      rmSync(new TargetStore(join(r.process.dbDir, 'weave'), silent).sentinel, {force: true});
    }
    for (const pod of pods.splice(0)) pod.ns.delete();
  });

  after(() => {
    lan?.destroy();
    rmSync(dir, {recursive: true, force: true});
  });

  /** Each host's LAN link (and its switch port) at the MTU given for it. */
  function linkMtus(mtus: number[]): void {
    for (const [i, host] of lan.hosts.entries()) {
      lan.switchNs.exec('ip', ['link', 'set', 'dev', host.port, 'mtu', String(mtus[i])]);
      host.ns.exec('ip', ['link', 'set', 'dev', host.ifname, 'mtu', String(mtus[i])]);
    }
  }

  /** Routers on all three hosts over fresh state, A given B and C as peers, fully meshed. */
  async function launch(): Promise<MeshRouter[]> {
    const [, B, C] = lan.hosts;
    const start = (i: number, peers: string[]) => MeshRouter.start(lan.hosts[i]!, i, {peers, dbDir: mkdtempSync(join(dir, `db${i}-`))});
    routers = [await start(1, []), await start(2, [])];
    routers.unshift(await start(0, [B!.ip, C!.ip]));
    await waitUntil('a full mesh', () => fullyMeshed(routers));
    return routers;
  }

  /** Every router's connections all show `mtu`, and its bridge has it. */
  async function settledAt(mtu: number): Promise<void> {
    await waitUntil(`every peer at MTU ${mtu}`, async () => {
      for (const r of routers) {
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
    const onA = await attachPod(lan.hosts[0]!, 0, 'h2mtu0', 'h2m');
    pods.push(onA);
    const onC = await attachPod(lan.hosts[2]!, 2, 'h2mtu2', 'h2m');
    pods.push(onC);
    const [eth0] = JSON.parse(onA.ns.exec('ip', ['-j', 'link', 'show', 'dev', 'eth0'])) as {mtu: number}[];
    assert.equal(eth0!.mtu, 8950);
    // The don't-fragment bit set: 28 bytes of IP and ICMP headers.
    onA.ns.exec('ping', ['-c', '1', '-W', '2', onC.ip]);
    onA.ns.exec('ping', ['-c', '1', '-W', '2', '-M', 'do', '-s', String(8950 - 28), onC.ip]);
  });
});
