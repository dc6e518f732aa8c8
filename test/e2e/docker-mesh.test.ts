import assert from 'node:assert/strict';
import {createHash} from 'node:crypto';
import {once} from 'node:events';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {DockerHost} from '../helpers/docker-host.js';
import {Lan} from '../helpers/lan.js';
import {Netns} from '../helpers/netns.js';
import {runPlugin} from '../helpers/plugin.js';
import {requireRoot, requireTool} from '../helpers/root.js';
import {collect} from '../helpers/spawn.js';

/**
 * Three simulated hosts, each with its own dockerd, as an operator would run weave: `weave
 * launch` on A, `weave launch <A>` on B and C, a pod on each attached through the installed
 * `weave-net` shim, and every pod reaching every other over the overlay.
 */
describe('weave launch on three hosts, each with its own Docker engine', function () {
  requireRoot();
  requireTool('dockerd', 'docker.io');
  requireTool('curl', 'curl');
  requireTool('ping', 'iputils-ping');
  requireTool('socat', 'socat');
  this.timeout(300_000);

  let lan: Lan;
  const hosts: DockerHost[] = [];
  const pods: Netns[] = [];
  const addresses: string[] = [];
  const scratch = mkdtempSync(join(tmpdir(), 'weave-dm-'));

  before(async () => {
    lan = Lan.create(3, {subnet: '192.168.93'});
    for (const lanHost of lan.hosts) hosts.push(await DockerHost.start({ns: lanHost.ns}));
  });

  after(async () => {
    for (const pod of pods) pod.delete();
    for (const host of hosts) await host.destroy();
    lan?.destroy();
    rmSync(scratch, {recursive: true, force: true});
  });

  it('launches A alone, then B and C with A as their peer', async () => {
    const [a, b, c] = hosts as [DockerHost, DockerHost, DockerHost];
    // The simulated hosts share this machine's machine-id, from which each router would take the
    // same peer name (as clones of one VM image would): each is named, as an operator would then.
    const first = await a.weaveAsync(['launch', '--name', '0e:00:00:00:93:01']);
    assert.equal(first.exitCode, 0, first.stderr);
    const others = await Promise.all([b, c].map((h, i) => h.weaveAsync(['launch', '--name', `0e:00:00:00:93:0${i + 2}`, lan.hosts[0]!.ip])));
    for (const run of others) assert.equal(run.exitCode, 0, run.stderr);
  });

  it('`weave status` on A lists 3 peers with 6 established connections', async () => {
    const a = hosts[0]!;
    let out = '';
    await a.until('3 peers, 6 established connections', () => {
      out = a.weave(['status']).stdout;
      return /Peers: 3 \(with 6 established connections\)/.test(out);
    }, 60_000);
    assert.match(out, /Connections: 2 \(2 established\)/);
  });

  it('attaches a pod on each host through the installed shim, each with its own address', async () => {
    for (const [i, host] of hosts.entries()) {
      const pod = Netns.create(`wdm${i}`);
      pods.push(pod);
      const env = {CNI_COMMAND: 'ADD', CNI_CONTAINERID: `mesh-pod-${i}`, CNI_NETNS: pod.path, CNI_IFNAME: 'eth0', CNI_PATH: '/usr/lib/cni'};
      const add = await runPlugin({executable: `${host.binDir}/weave-net`, hostNetns: host.ns.path, env, config: {cniVersion: '1.0.0', name: 'weave', type: 'weave-net'}});
      assert.equal(add.exitCode, 0, add.stdout + add.stderr);
      addresses.push((add.json?.ips as {address: string}[])[0]!.address.split('/')[0]!);
    }
    assert.equal(new Set(addresses).size, 3, `distinct addresses: ${addresses.join(' ')}`);
  });

  it('every pod pings every other across the hosts', () => {
    for (const [i, pod] of pods.entries()) {
      for (const [j, target] of addresses.entries()) {
        if (i === j) continue;
        pod.exec('ping', ['-c', '2', '-W', '3', '-i', '0.2', target]);
      }
    }
  });

  it('carries a TCP transfer from the pod on C to the pod on A intact', async () => {
    const payload = 'weave over docker '.repeat(1 << 18);
    const file = join(scratch, 'received');
    const server = pods[0]!.spawnDetached('socat', ['-u', 'TCP-LISTEN:7001,reuseaddr', `CREATE:${file}`]);
    const closed = once(server, 'close');
    const send = await collect('nsenter', [`--net=${pods[2]!.path}`, 'socat', '-u', 'STDIN', `TCP:${addresses[0]}:7001,retry=50,interval=0.2`], {input: payload});
    assert.equal(send.exitCode, 0, send.stderr);
    await closed;
    const digest = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');
    assert.equal(digest(readFileSync(file)), digest(payload));
  });
});
