import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, before, describe, it} from 'mocha';
import {type DockerHost as Host, DockerHost, ROUTER_IMAGE} from '../helpers/docker-host.js';
import {Netns} from '../helpers/netns.js';
import {runPlugin} from '../helpers/plugin.js';
import {requireRoot, requireTool} from '../helpers/root.js';
import {derivePeerName} from '../../src/lib/router/peer-name.js';

const ID = /^[0-9a-f]{64}\n$/;

/** WEAVE iptables chains of the namespace, by table. */
function weaveChains(host: Host): string[] {
  return host.ns
    .exec('iptables-save', [])
    .split('\n')
    .filter(line => /^:WEAVE/.test(line))
    .map(line => line.slice(1).split(' ')[0]!);
}

describe('weave launch / stop / reset through Docker (one dockerd in a host namespace)', function () {
  requireRoot();
  requireTool('dockerd', 'docker.io');
  requireTool('curl', 'curl');
  requireTool('iptables-save', 'iptables');
  this.timeout(180_000);

  let host: Host;
  const pods: Netns[] = [];
  /** GET /ip/pod-warm-1 once the pod is attached: [status, body]. */
  let podAddress: [number, string];

  before(async () => {
    host = await DockerHost.start();
  });

  after(async () => {
    for (const pod of pods) pod.delete();
    await host?.destroy();
  });

  it('launches the router with the intended spec: host network and pid, four capabilities, /dev/net/tun, restart always, state volume, no privilege', () => {
    const run = host.weave(['launch', '--nickname', 'h1', '--log-level', 'debug', '--password', 'pa55word']);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.match(run.stdout, ID, 'stdout holds the container id alone');
    const info = host.inspect()!;
    assert.equal(info.Id, run.stdout.trim());
    assert.equal(info.State.Running, true);
    assert.equal(info.Config.Image, ROUTER_IMAGE);
    const hc = info.HostConfig;
    assert.equal(hc.Privileged, false);
    assert.equal(hc.NetworkMode, 'host');
    assert.equal(hc.PidMode, 'host');
    assert.deepEqual(hc.CapDrop, ['ALL']);
    assert.deepEqual([...(hc.CapAdd ?? [])].sort(), ['NET_ADMIN', 'NET_BIND_SERVICE', 'SYS_ADMIN', 'SYS_PTRACE']);
    assert.deepEqual(hc.Devices, [{PathOnHost: '/dev/net/tun', PathInContainer: '/dev/net/tun', CgroupPermissions: 'rwm'}], 'the TUN device, for the encrypted path');
    assert.equal(hc.RestartPolicy.Name, 'always');
    assert.ok(!(hc.ReadonlyPaths ?? []).includes('/proc/sys'), 'the router tunes /proc/sys/net');
    const mounts = Object.fromEntries(info.Mounts.map(m => [m.Destination, m]));
    assert.equal(mounts['/weavedb']?.Type, 'volume');
    assert.equal(mounts['/weavedb']?.Name, 'weavedb');
    assert.equal(mounts['/run/weave']?.Source, '/run/weave');
    // The host's ids for the default peer name, read-only, as the original's container had them.
    for (const dir of ['/etc', '/var/lib/dbus']) {
      assert.equal(mounts[`/host${dir}`]?.Source, dir);
      assert.equal(mounts[`/host${dir}`]?.RW, false);
    }
    // The engine's socket, for check-alive (the router frees the addresses of attached containers that go).
    assert.equal(mounts['/var/run/docker.sock']?.Source, host.engine.socket);
    assert.equal(Object.keys(mounts).length, 5, `no other mounts: ${Object.keys(mounts).join(', ')}`);
    assert.ok(info.Config.Cmd.join(' ').includes('--docker-api unix:///var/run/docker.sock'));
    // The password travels in the environment only.
    assert.ok(info.Config.Env.includes('WEAVE_PASSWORD=pa55word'));
    assert.ok(!info.Config.Cmd.some(arg => arg.includes('pa55word')), `argv holds the password: ${info.Config.Cmd.join(' ')}`);
    assert.deepEqual(info.Config.Cmd.slice(0, 4), ['--host-root', '/host', '--port', '6783']);
    assert.equal(info.Config.Cmd.filter(a => a === '--nickname').length, 1, 'a user --nickname replaces the default one');
  });

  it('answers /status inside the host namespace, and `weave status` shows the router, named from the host machine id as weave 2.8.1 would', async () => {
    assert.equal(host.api('GET', '/status')[0], 200);
    const status = host.weave(['status']);
    assert.equal(status.exitCode, 0, status.stderr);
    assert.match(status.stdout, /Service: router/);
    // A fresh volume and no bridge in this namespace: the name is derived, from the host's /etc seen under /host.
    assert.match(status.stdout, new RegExp(`Name: ${await derivePeerName()}\\(h1\\)`));
    assert.match(status.stdout, /Encryption: enabled/);
    // The encrypted path runs in the container: the TAP addon is in the image and /dev/net/tun is given.
    assert.ok(host.ns.links().includes('sleeve-6783'), `the sleeve's TAP is on the host: ${host.ns.links().join(' ')}`);
  });

  it('refuses a second launch with exit 3 and the original message', () => {
    const run = host.weave(['launch']);
    assert.equal(run.exitCode, 3, run.stderr);
    assert.equal(run.stdout, '');
    assert.ok(run.stderr.endsWith("weave is already running; you can stop it with 'weave stop'.\n"), run.stderr);
  });

  it("attaches a pod through the installed weave-net shim on the router's warm path", async () => {
    const pod = Netns.create('wdp');
    pods.push(pod);
    const config = {cniVersion: '1.0.0', name: 'weave', type: 'weave-net'};
    // As containerd names it: the router's container has no /var/run, yet the call works.
    const env = {CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'pod-warm-1', CNI_NETNS: `/var/run/netns/${pod.name}`, CNI_IFNAME: 'eth0', CNI_PATH: '/usr/lib/cni'};
    const add = await runPlugin({executable: `${host.binDir}/weave-net`, hostNetns: host.ns.path, env, config});
    assert.equal(add.exitCode, 0, add.stdout + add.stderr);
    const address = (add.json?.ips as {address: string}[])[0]!.address;
    assert.match(address, /^10\.(3[2-9]|4[0-7])\.\d+\.\d+\/12$/);
    assert.match(pod.exec('ip', ['-4', '-o', 'addr', 'show', 'dev', 'eth0']), new RegExp(address.replace(/\./g, '\\.')));
    const logs = host.engine.must(['logs', 'weave']) + host.engine.docker(['logs', 'weave']).stderr;
    assert.match(logs, /"msg":"cni call".*"container":"pod-warm-1"/, 'the router served the call (warm path), not a cold plugin');
    podAddress = host.api('GET', '/ip/pod-warm-1');
    assert.deepEqual(podAddress, [200, address]);
  });

  it('takes a namespace bound under a runtime state directory, or as /proc/<pid>/ns/net, on its warm path', async () => {
    const config = {cniVersion: '1.0.0', name: 'weave', type: 'weave-net'};
    const state = mkdtempSync(join(tmpdir(), 'weave-runtime-state-'));
    const bound = join(state, 'netns');
    writeFileSync(bound, '');
    const bindPod = Netns.create('wdp');
    const procPod = Netns.create('wdp');
    pods.push(bindPod, procPod);
    execFileSync('mount', ['--bind', bindPod.path, bound]);
    const sleeper = procPod.spawnDetached('sleep', ['600']);
    try {
      await host.until('sleep to run in the pod', () => {
        try {
          return readFileSync(`/proc/${sleeper.pid}/comm`, 'utf8').trim() === 'sleep';
        } catch {
          return false;
        }
      });
      for (const [id, netns] of [['pod-bound', bound], ['pod-proc', `/proc/${sleeper.pid}/ns/net`]]) {
        const env = {CNI_COMMAND: 'ADD', CNI_CONTAINERID: id!, CNI_NETNS: netns!, CNI_IFNAME: 'eth0', CNI_PATH: '/usr/lib/cni'};
        const add = await runPlugin({executable: `${host.binDir}/weave-net`, hostNetns: host.ns.path, env, config});
        assert.equal(add.exitCode, 0, `${id}: ${add.stdout}${add.stderr}`);
        const logs = host.engine.must(['logs', 'weave']) + host.engine.docker(['logs', 'weave']).stderr;
        assert.match(logs, new RegExp(`"msg":"cni call".*"container":"${id}"`), `${id} ran in the router`);
        const del = await runPlugin({executable: `${host.binDir}/weave-net`, hostNetns: host.ns.path, env: {...env, CNI_COMMAND: 'DEL'}, config});
        assert.equal(del.exitCode, 0, del.stdout);
      }
    } finally {
      sleeper.kill('SIGKILL');
      execFileSync('umount', [bound]);
      rmSync(state, {recursive: true, force: true});
    }
  });

  // As the original's test 090: the router process is killed. (`docker kill` counts as a manual
  // stop for Docker 20.10, which then does not restart the container whatever its policy.)
  it('is restarted by Docker when its process is killed (policy always), keeping its addresses', async () => {
    process.kill(host.inspect()!.State.Pid, 'SIGKILL');
    await host.until('Docker to restart the router', () => (host.inspect()?.RestartCount ?? 0) >= 1 && host.inspect()!.State.Running);
    await host.until('the restarted router to answer', () => host.api('GET', '/status')[0] === 200);
    assert.deepEqual(host.api('GET', '/ip/pod-warm-1'), podAddress);
  });

  it('stops with exit 0, keeping the container and its state', () => {
    const run = host.weave(['stop']);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.equal(run.stderr, '');
    assert.equal(host.inspect()?.State.Status, 'exited');
    assert.equal(host.engine.docker(['volume', 'inspect', 'weavedb']).exitCode, 0);
  });

  it('refuses to reset a stopped router without --force: exit 1, the two lines, nothing removed', () => {
    const run = host.weave(['reset']);
    assert.equal(run.exitCode, 1);
    assert.equal(run.stderr, 'ERROR: weave is not running; unable to remove from cluster.\nRe-launch weave before reset or use --force to override.\n');
    assert.ok(host.inspect(), 'the container is still there');
    assert.ok(host.ns.links().includes('weave'), 'the bridge is still there');
  });

  it('launches again over the stopped container (removed first), with the addresses of before', () => {
    const run = host.weave(['launch', '--nickname', 'h1']);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.match(run.stdout, ID);
    assert.equal(host.api('GET', '/status')[0], 200);
    assert.deepEqual(host.api('GET', '/ip/pod-warm-1'), podAddress);
  });

  it('reset leaves no container, volume, bridge, WEAVE chain or vethwe* link', async () => {
    // A stray link of a crashed attach, which reset must sweep too.
    host.ip(['link', 'add', 'vethwestray', 'type', 'veth', 'peer', 'name', 'vethwestrayp']);
    assert.ok(weaveChains(host).length > 0, 'the router made its chains');
    const run = host.weave(['reset']);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.equal(host.inspect(), undefined);
    assert.notEqual(host.engine.docker(['volume', 'inspect', 'weavedb']).exitCode, 0, 'the state volume is gone');
    assert.deepEqual(host.ns.links().filter(l => l === 'weave' || l.startsWith('vethwe')), []);
    assert.deepEqual(weaveChains(host), []);
  });

  it('stop with no router exits 0 with the original message', () => {
    const run = host.weave(['stop']);
    assert.equal(run.exitCode, 0);
    assert.equal(run.stderr, 'Weave is not running (ignore on Kubernetes).\n');
  });

  it('with --no-restart the router stays down when its process is killed', async () => {
    const run = host.weave(['launch', '--no-restart']);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.equal(host.inspect()?.HostConfig.RestartPolicy.Name, 'no');
    process.kill(host.inspect()!.State.Pid, 'SIGKILL');
    await new Promise(resolve => setTimeout(resolve, 2000));
    const info = host.inspect()!;
    assert.equal(info.State.Running, false);
    assert.equal(info.RestartCount, 0);
    assert.equal(host.weave(['reset', '--force']).exitCode, 0);
  });

  for (const running of [true, false]) {
    it(`exits 2 when ${running ? 'a running' : 'another'} container not of weave holds the name`, () => {
      host.engine.must(['tag', ROUTER_IMAGE, 'someone/else:1']);
      const args = ['--name', 'weave', '--entrypoint', '/usr/bin/node', 'someone/else:1', '-e', 'setTimeout(() => {}, 600000)'];
      host.engine.must(running ? ['run', '-d', ...args] : ['create', ...args]);
      try {
        const run = host.weave(['launch']);
        assert.equal(run.exitCode, 2, run.stderr);
        const text = running ? "Found another running container named 'weave'. Aborting." : "Found another container named 'weave'. Aborting.";
        assert.ok(run.stderr.endsWith(`${text}\n`), run.stderr);
      } finally {
        host.engine.must(['rm', '-f', 'weave']);
        host.engine.must(['rmi', 'someone/else:1']);
      }
    });
  }

  it('stops on a default range that overlaps a host route (exit 1), and only warns on a chosen one', () => {
    host.ip(['link', 'add', 'wtroute', 'type', 'bridge']);
    host.ip(['addr', 'add', '10.33.0.1/16', 'dev', 'wtroute']);
    host.ip(['link', 'set', 'wtroute', 'up']);
    try {
      const refused = host.weave(['launch']);
      assert.equal(refused.exitCode, 1);
      assert.ok(
        refused.stderr.endsWith(
          'Network 10.32.0.0/12 overlaps with existing route 10.33.0.0/16 on host.\nERROR: Default --ipalloc-range 10.32.0.0/12 overlaps with existing route on host.\nYou must pick another range and set it on all hosts.\n',
        ),
        refused.stderr,
      );
      assert.equal(host.inspect(), undefined, 'no container was created');
      const warned = host.weave(['launch', '--ipalloc-range', '10.32.0.0/12']);
      assert.equal(warned.exitCode, 0, warned.stderr);
      assert.match(warned.stderr, /WARNING: Specified --ipalloc-range 10\.32\.0\.0\/12 overlaps with existing route on host\.\nUnless this is deliberate, you must pick another range and set it on all hosts\.\n/);
    } finally {
      host.weave(['reset', '--force']);
      host.ip(['link', 'del', 'wtroute']);
    }
  });

  it('launches without the CNI plugin when its directories are missing, printing the mkdir line', () => {
    const missing = `${host.cniDir}/absent-bin`;
    const run = host.weave(['launch'], {WEAVE_CNI_PLUGIN_DIR: missing});
    try {
      assert.equal(run.exitCode, 0, run.stderr);
      assert.ok(run.stderr.includes(`WARNING: weave CNI plugin not installed: ${missing} does not exist. Create it, then run \`weave setup\`:\n  mkdir -p ${missing}\n`), run.stderr);
    } finally {
      assert.equal(host.weave(['reset']).exitCode, 0);
    }
  });

  it('names the process holding the mesh port, and exits 1', async () => {
    const holder = host.ns.spawnDetached('socat', ['TCP-LISTEN:6783,bind=0.0.0.0,reuseaddr', 'STDOUT']);
    try {
      await host.until('socat to listen', () => /:6783\b/.test(host.ns.exec('ss', ['-Hltn'])));
      const run = host.weave(['launch']);
      assert.equal(run.exitCode, 1);
      assert.match(run.stderr, /TCP port 6783 \(the peer mesh, --port\) on 0\.0\.0\.0 is taken by socat \(pid \d+\)/);
      assert.equal(host.inspect(), undefined);
    } finally {
      holder.kill();
    }
  });

  it('reports a router that dies at start with its last log lines, and exits 1', () => {
    // Bad flags never get this far (launch checks them first): an address the host does not have does.
    const run = host.weave(['launch', '--status-addr', '192.0.2.1:6782']);
    assert.equal(run.exitCode, 1);
    assert.match(run.stderr, /The weave container has died\. Consult the container logs for further details\./);
    assert.match(run.stderr, /cannot listen on 192\.0\.2\.1:6782 for the status API/);
    assert.equal(host.inspect()?.State.Running, false, 'the crash loop is stopped');
    assert.equal(host.weave(['reset', '--force']).exitCode, 0);
  });
});
