import assert from 'node:assert/strict';
import {execFileSync, spawnSync} from 'node:child_process';
import {randomBytes, randomInt} from 'node:crypto';
import {mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {after, before, describe, it} from 'mocha';
import {DEFAULTS} from '../../src/lib/defaults.js';
import {Netns} from '../helpers/netns.js';
import {Podman, writeHostLocalConflist} from '../helpers/podman.js';
import {requireRoot, requireTool} from '../helpers/root.js';

const WEAVE = fileURLToPath(new URL('../../bin/weave.js', import.meta.url));
const NETWORK = 'weave';

/** Retries `fn` until it stops throwing: a freshly started httpd needs a moment to listen. */
async function eventually<T>(fn: () => T, tries = 20): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return fn();
    } catch (error) {
      if (i >= tries) throw error;
      await new Promise(r => setTimeout(r, 250));
    }
  }
}

describe('podman runs containers on the weave network (CNI backend, weave setup)', function () {
  requireRoot();
  requireTool('podman', 'podman');
  requireTool('iptables', 'iptables');
  requireTool('curl', 'curl');
  requireTool('/usr/lib/cni/host-local', 'containernetworking-plugins');
  requireTool('/usr/lib/cni/portmap', 'containernetworking-plugins');
  requireTool('busybox', 'busybox-static');
  this.timeout(120_000);

  // Per run, so runs side by side on one machine never collide on podman's shared state.
  const run = randomBytes(3).toString('hex');
  const octet = randomInt(256);
  const subnet = `10.98.${octet}.0/24`;
  /** host-local's default gateway (the subnet's first address), which the hostPort case exposes. */
  const gateway = `10.98.${octet}.1`;
  const image = `localhost/weave-test-${run}:busybox`;
  let dir: string;
  let dataDir: string;
  /**
   * A simulated host: podman, the plugin, the bridge and portmap's rules all in a namespace of
   * their own, so the host's weave bridge, router and iptables are never touched (the quick
   * start may run them) and the installed plugin never goes warm to the host's router.
   */
  let host: Netns;
  let podman: Podman;
  let madeImage = false;
  const containers: string[] = [];

  /** A program run in the simulated host; its stdout. */
  const inHost = (file: string, args: string[]): string => host.exec(file, args);

  /** Host-local's allocations for the network: one file per address in use. */
  const allocations = () => readdirSync(join(dataDir, NETWORK)).filter(f => /^\d+\.\d+\.\d+\.\d+$/.test(f));

  const start = (args: string[]): string => {
    const id = podman.run(['run', '--detach', '--network', NETWORK, ...args]);
    containers.push(id);
    return id;
  };

  const remove = (ids: string[]): void => {
    podman.remove(ids);
    for (const id of ids) containers.splice(containers.indexOf(id), 1);
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'weave-podman-'));
    const binDir = join(dir, 'bin');
    const installedDir = join(dir, 'installed');
    const netDir = join(dir, 'net');
    dataDir = join(dir, 'ipam');
    for (const d of [binDir, installedDir, netDir, dataDir]) mkdirSync(d);
    host = Netns.create('wtpodm');

    execFileSync(process.execPath, [WEAVE, 'setup-cni', '--cni-bin-dir', binDir, '--cni-conf-dir', installedDir], {stdio: 'pipe'});
    writeHostLocalConflist(join(installedDir, '10-weave.conflist'), join(netDir, '10-weave.conflist'), {subnet, dataDir});
    podman = Podman.configure(join(dir, 'containers.conf'), {pluginDirs: [binDir, '/usr/lib/cni'], networkConfigDir: netDir, netns: host.path});
    podman.importBusyboxImage(image);
    madeImage = true;
  });

  after(() => {
    // Each step on its own: one failing must not leave the others' resources behind.
    const steps: [string, () => unknown][] = [
      ['remove containers', () => podman?.remove(containers)],
      ['remove the image', () => madeImage && podman.run(['rmi', image])],
      // The bridge and portmap's rules go with it.
      ['delete the simulated host', () => host?.delete()],
      ['remove the temp dir', () => dir && rmSync(dir, {recursive: true, force: true})],
    ];
    const failures: string[] = [];
    for (const [what, step] of steps) {
      try {
        step();
      } catch (error) {
        failures.push(`${what}: ${(error as Error).message}`);
      }
    }
    if (failures.length > 0) throw new Error(`cleanup failed: ${failures.join('; ')}`);
  });

  it('gives two containers addresses from the conflist IPAM, and they reach each other', () => {
    const a = start([image, 'sleep', '300']);
    const b = start([image, 'sleep', '300']);
    const [addrA, addrB] = [podman.address(a, NETWORK), podman.address(b, NETWORK)];
    for (const addr of [addrA, addrB]) assert.ok(addr.startsWith(`10.98.${octet}.`), `${addr} is not in ${subnet}`);
    assert.notEqual(addrA, addrB);
    assert.deepEqual(allocations().sort(), [addrA, addrB].sort());
    assert.match(podman.run(['exec', a, 'ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0']), new RegExp(`inet ${addrA.replaceAll('.', '\\.')}/24 `));

    for (const [from, to] of [[a, addrB], [b, addrA]] as const) {
      const out = podman.run(['exec', from, 'ping', '-c', '2', '-w', '5', to]);
      assert.match(out, /2 packets transmitted, 2 packets received/);
    }
  });

  it('runs DEL when a container is removed: the address is released and its host veth is gone', () => {
    const id = start([image, 'sleep', '300']);
    const addr = podman.address(id, NETWORK);
    const hostVeth = `vethwepl${id.slice(0, 7)}`;
    assert.ok(allocations().includes(addr), `host-local holds no allocation for ${addr}`);
    assert.ok(host.links().includes(hostVeth), `${hostVeth} missing while the container runs`);

    remove([id]);
    assert.ok(!allocations().includes(addr), `${addr} is still allocated after podman rm`);
    assert.ok(!host.links().includes(hostVeth), `${hostVeth} is left after podman rm`);
  });

  it('publishes a hostPort through the chained portmap plugin', async () => {
    // The host reaches pods through an address on the bridge, as `weave expose` gives it;
    // portmap reads the route to the pod at ADD, so the bridge and the address must be there first.
    if (!host.links().includes(DEFAULTS.weaveBridge)) {
      inHost('ip', ['link', 'add', 'name', DEFAULTS.weaveBridge, 'type', 'bridge']);
      inHost('ip', ['link', 'set', 'dev', DEFAULTS.weaveBridge, 'mtu', String(DEFAULTS.mtu), 'up']);
    }
    inHost('ip', ['addr', 'add', `${gateway}/24`, 'dev', DEFAULTS.weaveBridge]);
    const www = join(dir, 'www');
    mkdirSync(www);
    writeFileSync(join(www, 'index.html'), 'served from a weave pod\n');
    // The simulated host is fresh: nothing listens on any of its ports.
    const port = randomInt(20_000, 30_000);
    const id = start(['--publish', `${port}:8080`, '--volume', `${www}:/www:ro`, image, 'httpd', '-f', '-p', '8080', '-h', '/www']);
    const body = await eventually(() => {
      const get = spawnSync('nsenter', [`--net=${host.path}`, 'curl', '-sS', '-m', '5', `http://127.0.0.1:${port}/`], {encoding: 'utf8'});
      if (get.status !== 0) throw new Error(`curl of the published port failed: ${get.stderr.trim()}`);
      return get.stdout;
    });
    assert.equal(body, 'served from a weave pod\n');

    remove([id]);
    const nat = inHost('iptables', ['-w', '-t', 'nat', '-S']);
    assert.doesNotMatch(nat, new RegExp(`--dport ${port}\\b`), 'portmap DEL left its DNAT rule');
  });
});
