import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import {randomBytes, randomInt} from 'node:crypto';
import {mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync} from 'node:fs';
import {get} from 'node:http';
import {createServer} from 'node:net';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {after, before, describe, it} from 'mocha';
import {DEFAULT_BRIDGE, DEFAULT_MTU} from '../../src/lib/cni/config.js';
import {ensureBridge} from '../../src/lib/net/bridge.js';
import {Podman, writeHostLocalConflist} from '../helpers/podman.js';
import {requireRoot, requireTool} from '../helpers/root.js';

const WEAVE = fileURLToPath(new URL('../../bin/weave.js', import.meta.url));
const NETWORK = 'weave';

function linkExists(name: string): boolean {
  try {
    execFileSync('ip', ['link', 'show', 'dev', name], {stdio: 'ignore'});
    return true;
  } catch {
    return false;
  }
}

/** Links enslaved to the bridge: pods of other runs, or of a real weave, still on it. */
function bridgePorts(bridge: string): string[] {
  return (JSON.parse(execFileSync('ip', ['-j', 'link', 'show', 'master', bridge], {encoding: 'utf8'}) || '[]') as {ifname: string}[]).map(l => l.ifname);
}

function iptables(args: string[]): boolean {
  try {
    execFileSync('iptables', ['-w', ...args], {stdio: 'ignore'});
    return true;
  } catch {
    return false;
  }
}

/** Adds an address to the bridge; false when it was there already (then it stays). */
function addBridgeAddress(cidr: string): boolean {
  try {
    execFileSync('ip', ['addr', 'add', cidr, 'dev', DEFAULT_BRIDGE], {stdio: 'pipe'});
    return true;
  } catch (error) {
    if (/File exists/.test(String((error as {stderr?: Buffer}).stderr))) return false;
    throw error;
  }
}

/** A TCP port nothing listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const {port} = server.address() as {port: number};
      server.close(() => resolve(port));
    });
  });
}

function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get(url, {timeout: 5000}, res => {
      let body = '';
      res.on('data', d => (body += d));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error(`${url} did not answer within 5 s`)));
    req.on('error', reject);
  });
}

/** Retries `fn` until it stops throwing: a freshly started httpd needs a moment to listen. */
async function eventually<T>(fn: () => Promise<T>, tries = 20): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
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
  requireTool('/usr/lib/cni/host-local', 'containernetworking-plugins');
  requireTool('/usr/lib/cni/portmap', 'containernetworking-plugins');
  requireTool('busybox', 'busybox-static');
  this.timeout(120_000);

  // Per run, so runs side by side on one machine (and the quick-start's) never collide.
  const run = randomBytes(3).toString('hex');
  const octet = randomInt(256);
  const subnet = `10.98.${octet}.0/24`;
  /** host-local's default gateway (the subnet's first address), which the hostPort case exposes. */
  const gateway = `10.98.${octet}.1`;
  const image = `localhost/weave-test-${run}:busybox`;
  /** Marked, so removing it never touches the router's own rule or another run's. */
  const forwardRule = ['FORWARD', '-i', DEFAULT_BRIDGE, '-o', DEFAULT_BRIDGE, '-m', 'comment', '--comment', `weave podman test ${run}`, '-j', 'ACCEPT'];

  let dir: string;
  let dataDir: string;
  let podman: Podman;
  let madeImage = false;
  let madeBridge = false;
  let addedForward = false;
  const containers: string[] = [];

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
    madeBridge = !linkExists(DEFAULT_BRIDGE);

    execFileSync(process.execPath, [WEAVE, 'setup-cni', '--cni-bin-dir', binDir, '--cni-conf-dir', installedDir], {stdio: 'pipe'});
    writeHostLocalConflist(join(installedDir, '10-weave.conflist'), join(netDir, '10-weave.conflist'), {subnet, dataDir});
    podman = Podman.configure(join(dir, 'containers.conf'), {pluginDirs: [binDir, '/usr/lib/cni'], networkConfigDir: netDir});
    podman.importBusyboxImage(image);
    madeImage = true;
    // Until the router adds its own FORWARD rules, a DROP policy (dockerd sets one) would
    // block traffic between pods on the bridge, as br_netfilter hands it to iptables.
    addedForward = iptables(['-I', ...forwardRule]);
  });

  after(() => {
    // Each step on its own: one failing must not leave the others' resources behind.
    const steps: [string, () => unknown][] = [
      ['remove containers', () => podman?.remove(containers)],
      ['remove the FORWARD rule', () => addedForward && iptables(['-D', ...forwardRule])],
      ['remove the image', () => madeImage && podman.run(['rmi', image])],
      // Only an empty bridge: another run's pods may still be on it.
      ['delete the bridge', () => madeBridge && linkExists(DEFAULT_BRIDGE) && bridgePorts(DEFAULT_BRIDGE).length === 0 && execFileSync('ip', ['link', 'del', 'dev', DEFAULT_BRIDGE])],
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
    assert.ok(linkExists(hostVeth), `${hostVeth} missing while the container runs`);

    remove([id]);
    assert.ok(!allocations().includes(addr), `${addr} is still allocated after podman rm`);
    assert.ok(!linkExists(hostVeth), `${hostVeth} is left after podman rm`);
  });

  it('publishes a hostPort through the chained portmap plugin', async () => {
    // The host reaches pods through an address on the bridge, as `weave expose` gives it;
    // portmap reads the route to the pod at ADD, so the address must be there first.
    await ensureBridge(DEFAULT_BRIDGE, DEFAULT_MTU);
    const cidr = `${gateway}/24`;
    const exposed = addBridgeAddress(cidr);
    try {
      const www = join(dir, 'www');
      mkdirSync(www);
      writeFileSync(join(www, 'index.html'), 'served from a weave pod\n');
      const port = await freePort();
      const id = start(['--publish', `${port}:8080`, '--volume', `${www}:/www:ro`, image, 'httpd', '-f', '-p', '8080', '-h', '/www']);
      const body = await eventually(() => httpGet(`http://127.0.0.1:${port}/`));
      assert.equal(body, 'served from a weave pod\n');

      remove([id]);
      const nat = execFileSync('iptables', ['-w', '-t', 'nat', '-S'], {encoding: 'utf8'});
      assert.doesNotMatch(nat, new RegExp(`--dport ${port}\\b`), 'portmap DEL left its DNAT rule');
    } finally {
      if (exposed) execFileSync('ip', ['addr', 'del', cidr, 'dev', DEFAULT_BRIDGE]);
    }
  });
});
