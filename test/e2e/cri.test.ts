import assert from 'node:assert/strict';
import {type ChildProcess, spawn, spawnSync} from 'node:child_process';
import {copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {after, afterEach, before, describe, it} from 'mocha';
import {pings} from '../helpers/cni-host.js';
import {Containerd, type CriPod} from '../helpers/containerd.js';
import {DockerHost} from '../helpers/docker-host.js';
import {CriError} from '../helpers/cri/client.js';
import {type PauseImage, pauseImage} from '../helpers/cri/pause-image.js';
import {Lan, type LanHost} from '../helpers/lan.js';
import {requireRoot, requireTool} from '../helpers/root.js';
import {RouterProcess} from '../helpers/router.js';
import {runWeave} from '../helpers/setup-cli.js';

const REFERENCE = '/usr/lib/cni';
const ENV_LOG_PLUGIN = fileURLToPath(new URL('../helpers/cri/cni-env-log.sh', import.meta.url));
/** The runtime handler whose pods get Debian's bridge + host-local (through the env-logging wrapper). */
const REF_HANDLER = 'reference';
const REF_SUBNET = '10.88.0.0/16';
const HOST_PORT = 18080;
const POD_PORT = 8080;

/** Runs `fn` over `items`, `width` at a time (kubelet starts pods concurrently, not all at once). */
async function inBatches<T, R>(items: readonly T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += width) out.push(...(await Promise.all(items.slice(i, i + width).map(fn))));
  return out;
}

/** The message of a CRI call that had to fail. */
async function criFailure(call: Promise<unknown>): Promise<string> {
  try {
    await call;
  } catch (error) {
    if (error instanceof CriError) return error.details;
    throw error;
  }
  assert.fail('the CRI call succeeded');
}

/** What one line of a TCP server says when asked from inside `netns`; '' when nothing answers. */
function ask(netns: string, address: string, port: number): string {
  const out = spawnSync('nsenter', [`--net=${netns}`, 'busybox', 'nc', '-w', '3', address, String(port)], {encoding: 'utf8', input: ''});
  return out.stdout.trim();
}

/** Asks until the answer comes (a server just started needs a moment to listen). */
async function answer(netns: string, address: string, port: number): Promise<string> {
  for (let i = 0; i < 20; i++) {
    const said = ask(netns, address, port);
    if (said) return said;
    await new Promise(resolve => setTimeout(resolve, 150));
  }
  return '';
}

/** A TCP server in the pod that answers every connection with `word` (busybox nc, persistent). */
function serveInPod(pod: CriPod, port: number, word: string): ChildProcess {
  return spawn('nsenter', [`--net=${pod.netns}`, 'busybox', 'nc', '-ll', '-p', String(port), '-e', '/bin/busybox', 'echo', word], {stdio: 'ignore'});
}

describe('containerd CRI: pods run as kubelet runs them, through containerd and the installed plugin', function () {
  requireRoot();
  const tools: [string, string][] = [
    ['containerd', 'containerd'],
    ['ctr', 'containerd'],
    ['runc', 'runc'],
    ['busybox', 'busybox-static'],
    ['ping', 'iputils-ping'],
    ['curl', 'curl'],
    ['iptables', 'iptables'],
  ];
  for (const [tool, pkg] of tools) requireTool(tool, pkg);
  for (const plugin of ['loopback', 'portmap', 'bridge', 'host-local']) requireTool(join(REFERENCE, plugin), 'containernetworking-plugins');
  this.timeout(120_000);

  let lan: Lan;
  /** The node: containerd, the router and every pod's host side live in its namespace. */
  let node: LanHost;
  /** Another machine on the LAN, for hostPort from outside. */
  let outside: LanHost;
  let dir: string;
  let binDir: string;
  let router: RouterProcess;
  let containerd: Containerd;
  let image: PauseImage;
  const owned = (): {containerid: string; addrs: string[]}[] => JSON.parse(router.api('GET', '/ip')[1]).owned ?? [];
  const heldBy = (id: string) => owned().find(o => o.containerid === id)?.addrs.map(a => a.split('/')[0]) ?? [];
  const nat = () => node.ns.exec('iptables', ['-w', '-t', 'nat', '-S']);

  before(async function () {
    this.timeout(180_000);
    lan = Lan.create(2);
    [node, outside] = lan.hosts as [LanHost, LanHost];
    dir = mkdtempSync(join(tmpdir(), 'weave-cri-'));
    binDir = join(dir, 'bin');
    const confDir = join(dir, 'net.d');
    const refConfDir = join(dir, 'reference.d');
    for (const d of [binDir, confDir, refConfDir]) mkdirSync(d);
    // What a node's bin dir holds besides weave: containerd calls loopback, weave's conflist portmap.
    for (const plugin of ['loopback', 'portmap', 'bridge', 'host-local']) symlinkSync(join(REFERENCE, plugin), join(binDir, plugin));
    const setup = runWeave(['setup-cni', '--cni-bin-dir', binDir, '--cni-conf-dir', confDir]);
    assert.equal(setup.exitCode, 0, setup.stderr);
    assert.doesNotMatch(setup.stderr, /warning/, 'setup finds everything the runtime needs');

    copyFileSync(ENV_LOG_PLUGIN, join(binDir, 'bridge-env-log'));
    const reference = {
      cniVersion: '1.0.0',
      name: 'reference',
      plugins: [
        {type: 'bridge-env-log', bridge: 'cni-ref', isGateway: true, hairpinMode: true, ipam: {type: 'host-local', subnet: REF_SUBNET, dataDir: join(dir, 'host-local')}},
        {type: 'portmap', capabilities: {portMappings: true}, snat: true},
      ],
    };
    writeFileSync(join(refConfDir, '10-reference.conflist'), JSON.stringify(reference, null, 2));

    image = pauseImage();
    router = await RouterProcess.start(node.ns);
    containerd = await Containerd.start({ns: node.ns, binDir, confDir, handlers: {[REF_HANDLER]: refConfDir}, image});
  });

  afterEach(async function () {
    this.timeout(120_000);
    for (const pod of (await containerd?.cri.listPodSandbox()) ?? []) await containerd.removePod(pod.id);
  });

  after(async function () {
    this.timeout(120_000);
    await containerd?.destroy();
    await router?.destroy();
    lan?.destroy();
    if (dir) rmSync(dir, {recursive: true, force: true});
  });

  describe("the harness, on Debian's bridge + host-local", () => {
    it('runs a pod, and records what containerd passes to the plugins', async () => {
      const pod = await containerd.runPod({name: 'ref-pod', namespace: 'team-a', handler: REF_HANDLER});
      assert.match(pod.ip, /^10\.88\.\d+\.\d+$/);
      assert.ok(pings(node.ns, pod.ip), `the node reaches the pod at ${pod.ip}`);
      await containerd.removePod(pod.id);

      const calls = readFileSync(join(binDir, 'cni-env.log'), 'utf8').trim().split('\n').map(line => line.split('\t'));
      const [command, containerId, netns, ifname, args, path] = calls.find(c => c[0] === 'ADD' && c[1] === pod.id) ?? [];
      assert.equal(command, 'ADD', `an ADD for ${pod.id}: ${JSON.stringify(calls)}`);
      assert.equal(containerId, pod.id);
      assert.equal(netns, pod.netns, 'CNI_NETNS is the namespace PodSandboxStatus reports');
      assert.match(netns!, /^\/var\/run\/netns\/cni-[0-9a-f-]{36}$/, 'containerd 1.6 names its namespaces under /var/run/netns');
      assert.equal(ifname, 'eth0');
      assert.equal(path, binDir);
      // containerd builds CNI_ARGS from a map: the order of its pairs differs from call to call.
      const pairs = (text: string) => Object.fromEntries(text.split(';').map(kv => kv.split('=')));
      const expected = {IgnoreUnknown: '1', K8S_POD_NAMESPACE: 'team-a', K8S_POD_NAME: 'ref-pod', K8S_POD_INFRA_CONTAINER_ID: pod.id, K8S_POD_UID: pod.uid};
      assert.deepEqual(pairs(args!), expected, `CNI_ARGS: ${args}`);
      const dels = calls.filter(c => c[0] === 'DEL' && c[1] === pod.id);
      // StopPodSandbox tears down with the namespace still there; RemovePodSandbox once more, without it.
      assert.deepEqual(dels.map(c => c[2]), [pod.netns, ''], `CNI_NETNS of the DELs: ${JSON.stringify(dels)}`);
      for (const del of dels) assert.deepEqual(pairs(del[4]!), expected, `the DEL's CNI_ARGS: ${del[4]}`);
      assert.ok(!existsSync(pod.netns), 'the namespace mount is gone');
    });

    it("fails every pod while loopback is missing from bin_dir, and weave setup says so with the fix", async () => {
      const loopback = join(binDir, 'loopback');
      renameSync(loopback, `${loopback}.away`);
      try {
        const message = await criFailure(containerd.runPod({name: 'no-loopback', handler: REF_HANDLER}));
        assert.match(message, /"loopback"/);
        const setup = runWeave(['setup-cni', '--cni-bin-dir', binDir, '--cni-conf-dir', join(dir, 'net.d')]);
        assert.match(setup.stderr, new RegExp(`warning: loopback is missing from ${binDir}:.*\\n.*ln -s /usr/lib/cni/loopback ${loopback}`));
      } finally {
        renameSync(`${loopback}.away`, loopback);
      }
    });
  });

  describe('on the weave conflist weave setup installed, with a weave router on the node', () => {
    it('gives 20 pods weave addresses, each held for its sandbox, and the pods reach each other', async () => {
      const pods = await inBatches(Array.from({length: 20}, (_, i) => `pod-${i}`), 4, name => containerd.runPod({name}));
      const ips = pods.map(p => p.ip);
      for (const ip of ips) assert.match(ip, /^10\.(3[2-9]|4[0-7])\.\d+\.\d+$/, 'an address of 10.32.0.0/12');
      assert.equal(new Set(ips).size, 20, `20 distinct addresses: ${ips}`);
      for (const pod of pods) assert.deepEqual(heldBy(pod.id), [pod.ip], `the router holds ${pod.ip} for ${pod.name}`);
      const unreachable = pods.filter((pod, i) => !pings({path: pod.netns}, pods[(i + 1) % pods.length]!.ip));
      assert.deepEqual(unreachable.map(p => p.name), [], 'each pod pings the next');
      assert.ok(pods.slice(1).every(to => pings({path: pods[0]!.netns}, to.ip)), 'the first pod pings every other');
      await new Promise(resolve => setTimeout(resolve, 200));
      assert.match(router.logs, /"msg":"cni call","plugin":"weave-net","command":"ADD"/, 'the calls took the warm path');
    });

    it('publishes a hostPort through the chained portmap: on the node address, on 127.0.0.1, and to the pod itself', async () => {
      const pod = await containerd.runPod({name: 'web', ports: [{containerPort: POD_PORT, hostPort: HOST_PORT}]});
      const server = serveInPod(pod, POD_PORT, `hello-from-${pod.name}`);
      try {
        assert.equal(await answer(pod.netns, pod.ip, POD_PORT), 'hello-from-web', 'the server answers on the pod address');
        assert.equal(await answer(outside.ns.path, node.ip, HOST_PORT), 'hello-from-web', `another host reaches ${node.ip}:${HOST_PORT}`);
        assert.equal(await answer(node.ns.path, node.ip, HOST_PORT), 'hello-from-web', 'the node reaches its own address');
        assert.equal(await answer(node.ns.path, '127.0.0.1', HOST_PORT), 'hello-from-web', 'the node reaches 127.0.0.1');
        assert.equal(await answer(pod.netns, node.ip, HOST_PORT), 'hello-from-web', 'the pod reaches itself through the hostPort (hairpin)');
      } finally {
        server.kill();
      }
    });

    it('leaves no veth, address, NAT rule or namespace after StopPodSandbox and RemovePodSandbox', async () => {
      const pods = [await containerd.runPod({name: 'gone-1', ports: [{containerPort: POD_PORT, hostPort: HOST_PORT}]}), await containerd.runPod({name: 'gone-2'})];
      const veth = (pod: CriPod) => `vethwepl${pod.id.slice(0, 7)}`;
      for (const pod of pods) assert.ok(node.ns.links().includes(veth(pod)), `${veth(pod)} is on the node`);
      assert.match(nat(), new RegExp(pods[0]!.id), 'portmap put its rules in');

      for (const pod of pods) await containerd.cri.stopPodSandbox(pod.id);
      const check = (when: string) => {
        const links = node.ns.links();
        for (const pod of pods) {
          assert.ok(!links.includes(veth(pod)), `${when}: ${veth(pod)} is gone`);
          assert.deepEqual(heldBy(pod.id), [], `${when}: the router holds nothing for ${pod.name}`);
          assert.doesNotMatch(nat(), new RegExp(pod.id), `${when}: no NAT rule names ${pod.name}`);
          assert.ok(!existsSync(pod.netns), `${when}: ${pod.netns} is gone`);
        }
        assert.doesNotMatch(nat(), new RegExp(`--dport ${HOST_PORT}\\b`), `${when}: the hostPort's DNAT rule is gone`);
      };
      check('after Stop');
      for (const pod of pods) await containerd.cri.removePodSandbox(pod.id);
      check('after Remove');
      assert.deepEqual(await containerd.cri.listPodSandbox(), []);
    });

    it('keeps pods and their addresses across a containerd restart', async () => {
      const pods = await inBatches(['stay-1', 'stay-2', 'stay-3'], 3, name => containerd.runPod({name}));
      await containerd.restart();
      const listed = await containerd.cri.listPodSandbox();
      assert.deepEqual(listed.map(p => [p.id, p.state]).sort(), pods.map(p => [p.id, 'SANDBOX_READY']).sort());
      for (const pod of pods) {
        assert.equal((await containerd.pod(pod.id)).ip, pod.ip, `${pod.name} keeps ${pod.ip}`);
        assert.deepEqual(heldBy(pod.id), [pod.ip]);
      }
      assert.ok(pings({path: pods[0]!.netns}, pods[2]!.ip), 'the pods still reach each other');
      const later = await containerd.runPod({name: 'after-restart'});
      assert.ok(!pods.some(p => p.ip === later.ip), `a new pod gets a free address, not ${later.ip} again`);
      assert.ok(pings({path: later.netns}, pods[0]!.ip));
    });

    it('fails pods clearly while the router is stopped (DEL says release), and the retry succeeds once it is back', async () => {
      const alive = await containerd.runPod({name: 'before-stop'});
      const dbDir = router.dbDir;
      await router.stop();
      try {
        const add = await criFailure(containerd.runPod({name: 'while-stopped'}));
        assert.match(add, /plugin type="weave-net".*failed \(add\): the weave router must be running/, add);
        assert.match(add, /weave launch/, 'it says how to start the router');
        // containerd's own teardown of the failed sandbox ran DEL: its error is in containerd's log.
        const teardown = containerd.log.split('\n').filter(l => /Failed to destroy network for sandbox/.test(l)).at(-1) ?? '';
        assert.match(teardown, /release/, `the teardown's DEL speaks of releasing: ${teardown}`);
        assert.doesNotMatch(teardown, /allocat/, teardown);
        const del = await criFailure(containerd.cri.stopPodSandbox(alive.id));
        assert.match(del, /failed \(delete\).*release/, `a DEL while the router is down speaks of releasing: ${del}`);
        assert.doesNotMatch(del, /allocat/, del);
      } finally {
        router = await RouterProcess.start(node.ns, {dbDir});
      }
      const retried = await containerd.runPod({name: 'while-stopped'});
      assert.match(retried.ip, /^10\.(3[2-9]|4[0-7])\./);
      assert.notEqual(retried.ip, alive.ip);
      assert.deepEqual(heldBy(alive.id), [alive.ip], 'the restarted router still holds the live pod\'s address');
      await containerd.removePod(alive.id);
      assert.deepEqual(heldBy(alive.id), [], 'and releases it on the retried DEL');
    });

    it('gives 10 concurrent RunPodSandbox calls 10 distinct addresses', async () => {
      const pods = await Promise.all(Array.from({length: 10}, (_, i) => containerd.runPod({name: `burst-${i}`})));
      const ips = pods.map(p => p.ip);
      assert.equal(new Set(ips).size, 10, `no duplicate: ${ips}`);
      const held = owned().filter(o => o.containerid !== 'weave:expose');
      assert.deepEqual(held.map(o => o.containerid).sort(), pods.map(p => p.id).sort(), 'the router holds one allocation per pod, no more');
      assert.deepEqual(held.flatMap(o => o.addrs.map(a => a.split('/')[0])).sort(), [...ips].sort());
    });
  });
  describe('with the router in its container, as `weave launch` runs it', () => {
    // A node of its own: a dockerd in its namespace runs the router container, containerd beside it.
    let host: DockerHost;
    let own: Containerd;

    before(async function () {
      this.timeout(240_000);
      host = await DockerHost.start();
      for (const plugin of ['loopback', 'portmap']) symlinkSync(join(REFERENCE, plugin), join(host.binDir, plugin));
      const launch = host.weave(['launch']);
      assert.equal(launch.exitCode, 0, launch.stderr);
      own = await Containerd.start({ns: host.ns, binDir: host.binDir, confDir: host.confDir, image});
    });

    after(async function () {
      this.timeout(120_000);
      await own?.destroy();
      await host?.destroy();
    });

    it('gives pods weave addresses through the router container: containerd\'s /var/run/netns paths reach it', async () => {
      const pods = [await own.runPod({name: 'warm-1'}), await own.runPod({name: 'warm-2'})];
      for (const pod of pods) assert.match(pod.ip, /^10\.(3[2-9]|4[0-7])\./);
      assert.notEqual(pods[0]!.ip, pods[1]!.ip);
      assert.ok(pings({path: pods[0]!.netns}, pods[1]!.ip), 'the pods reach each other');
      for (const pod of pods) await own.removePod(pod.id);
      const owned = (JSON.parse(host.api('GET', '/ip')[1]) as {owned: {containerid: string}[] | null}).owned ?? [];
      assert.deepEqual(owned.filter(o => o.containerid !== 'weave:expose'), [], 'Stop and Remove released both');
    });
  });
});
