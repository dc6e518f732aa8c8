import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import {readFileSync} from 'node:fs';
import {connect, type Socket} from 'node:net';
import {join} from 'node:path';
import {after, before, describe, it} from 'mocha';
import {GREETING} from '../../src/lib/router/cni/protocol.js';
import {DEFAULTS} from '../../src/lib/defaults.js';
import {Netns} from '../helpers/netns.js';
import {type PluginRun, runPlugin} from '../helpers/plugin.js';
import {requireRoot, requireTool} from '../helpers/root.js';
import {RouterProcess} from '../helpers/router.js';
import {InstalledPlugin} from '../helpers/cni-install.js';

type Json = Record<string, any>;

/** Resident memory of a process, in MB. */
function rssMb(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

/** Resolves when the other side closes the connection; what it sent until then. */
function closed(socket: Socket): Promise<string> {
  let got = '';
  socket.on('data', d => (got += d));
  return new Promise(resolve => socket.once('close', () => resolve(got)));
}

/**
 * The warm path is bounded and cannot be fooled: values are framed, not lines; requests, idle
 * connections and open connections have limits; a call the router took is never run again on
 * the host; and a wait for IPAM ends with its reason.
 */
describe('the warm CNI socket: bounds, framing and calls that never run twice', function () {
  requireRoot();
  requireTool('perl', 'perl-base');
  this.timeout(120_000);
  let host: Netns;
  let router: RouterProcess;
  let installed: InstalledPlugin;
  let socketPath: string;
  const pods: Netns[] = [];
  const pod = () => {
    const p = Netns.create('wtb');
    pods.push(p);
    return p;
  };
  const conf = {cniVersion: '1.0.0', name: 'weave', type: 'weave-net'};
  const env = (command: string, p: Netns | undefined, id: string) => ({CNI_COMMAND: command, CNI_CONTAINERID: id, CNI_NETNS: p?.path ?? '', CNI_IFNAME: 'eth0', CNI_PATH: '/usr/lib/cni'});
  const warm = (e: Record<string, string>): Promise<PluginRun> => runPlugin({env: e, config: conf, hostNetns: host.path, executable: installed.plugin()});
  const cold = (e: Record<string, string>): Promise<PluginRun> => runPlugin({env: e, config: conf, hostNetns: host.path});
  const owned = (): Json[] => JSON.parse(router.api('GET', '/ip')[1]).owned ?? [];
  const veths = () => host.links().filter(l => l.startsWith('vethwepl'));

  before(async () => {
    host = Netns.create('wth');
    installed = new InstalledPlugin();
    router = await RouterProcess.start(host);
    const inode = execFileSync('stat', ['-L', '-c', '%i', host.path], {encoding: 'utf8'}).trim();
    socketPath = join(DEFAULTS.cniSocketDir, `cni-${inode}.sock`);
  });
  after(async () => {
    await router?.destroy();
    for (const p of pods) p.delete();
    host?.delete();
    installed?.remove();
  });

  it('takes a value with a newline as one value: the same answer as the cold path, nothing injected', async () => {
    const cases: [string, Record<string, string>][] = [
      ['CNI_IFNAME', {CNI_IFNAME: 'eth0\nPLUGIN=weave-ipam'}],
      ['CNI_CONTAINERID', {CNI_CONTAINERID: 'inj1\nCNI_NETNS=/run/netns/other'}],
    ];
    for (const [name, bad] of cases) {
      const p = pod();
      const answers = [await warm({...env('ADD', p, 'inj1'), ...bad}), await cold({...env('ADD', p, 'inj1'), ...bad})];
      for (const answer of answers) {
        assert.equal(answer.json?.code, 4, `${name}: ${answer.stdout}`);
        assert.match(answer.json?.msg, new RegExp(`^invalid ${name} `));
      }
      assert.equal(answers[0]!.stdout, answers[1]!.stdout, `${name}: both paths say the same`);
      assert.deepEqual(p.links(), ['lo']);
    }
    // In CNI_ARGS a newline is part of a value; the container id stays the one given.
    const p = pod();
    const add = await warm({...env('ADD', p, 'inj2'), CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAME=a\nCNI_CONTAINERID=evil'});
    assert.equal(add.exitCode, 0, add.stdout);
    assert.deepEqual(owned().find(o => o.containerid === 'inj2')?.addrs, [add.json!.ips[0].address]);
    assert.ok(!owned().some(o => o.containerid === 'evil'));
    assert.equal((await warm(env('DEL', p, 'inj2'))).exitCode, 0);
  });

  it('refuses a request that says it is larger than the cap, at once and with the reason', async () => {
    const socket = connect(socketPath);
    const answer = closed(socket);
    socket.write(`${GREETING}\nCONFIG ${100 << 20}\n`);
    assert.match(await answer, /^1\n\{.*"code":6,"msg":"malformed request on the warm CNI socket: field CONFIG is larger than 1048576 bytes"/);
  });

  it('cuts off 100 MB sent in fields under the cap once the request passes it, and the router stays small', async () => {
    const before = rssMb(router.child.pid!);
    const socket = connect(socketPath);
    const gone = closed(socket);
    socket.on('error', () => undefined);
    socket.write(`${GREETING}\n`);
    // Fields of half a MiB, each under the cap and each named once: the sum passes it.
    const names = ['CONFIG', 'CNI_ARGS', 'CNI_PATH', 'CNI_NETNS'];
    let sent = 0;
    for (let i = 0; sent < 100 << 20 && !socket.destroyed; i++) {
      const field = Buffer.from(`${names[i % names.length]} ${1 << 19}\n${' '.repeat(1 << 19)}\n`);
      if (!socket.write(field)) await new Promise(resolve => setTimeout(resolve, 5));
      sent += field.length;
    }
    await gone;
    assert.ok(sent < 100 << 20, `the router read all ${sent} bytes`);
    const grown = rssMb(router.child.pid!) - before;
    assert.ok(grown < 30, `the router grew by ${grown.toFixed(1)} MB`);
    // It still serves calls.
    const p = pod();
    assert.equal((await warm(env('ADD', p, 'afterbig'))).exitCode, 0);
    assert.equal((await warm(env('DEL', p, 'afterbig'))).exitCode, 0);
  });

  it('closes a connection that sends nothing, and takes no more than its bound of connections at once', async () => {
    const idle = connect(socketPath);
    idle.on('error', () => undefined);
    const extra = Array.from({length: 70}, () => {
      const s = connect(socketPath);
      s.on('error', () => undefined);
      return s;
    });
    let refusedAtOnce = 0;
    await Promise.all(extra.map(s => new Promise<void>(resolve => {
      const timer = setTimeout(resolve, 1000);
      s.once('close', () => {
        refusedAtOnce++;
        clearTimeout(timer);
        resolve();
      });
    })));
    assert.ok(refusedAtOnce >= 70 + 1 - 64, `${refusedAtOnce} of 71 connections closed at once`);
    assert.equal(await closed(idle), '', 'the idle connection is closed, unanswered');
    for (const s of extra) s.destroy();
  });

  it('never runs a call twice when the router is killed during a burst, and a DEL then leaves nothing', async function () {
    this.timeout(240_000);
    const many = Array.from({length: 30}, () => pod());
    const logged = () => (router.logs.match(/"msg":"cni call"/g) ?? []).length;
    const start = logged();
    const adds = Promise.all(many.map((p, i) => warm(env('ADD', p, `burst${i}`))));
    // Killed once some calls have finished, while others are running.
    while (logged() < start + 3) await new Promise(resolve => setTimeout(resolve, 10));
    await router.stop('SIGKILL');
    const results = await adds;
    for (const [i, add] of results.entries()) {
      assert.ok(add.exitCode === 0 || add.json?.code === 11, `burst${i}: ${add.stdout}${add.stderr}`);
    }
    const failed = results.flatMap((add, i) => (add.exitCode === 0 ? [] : [i]));
    assert.ok(failed.length > 0 && failed.length < 30, `${failed.length} of 30 failed: the kill came mid-burst`);
    router = await RouterProcess.start(host, {dbDir: router.dbDir});
    // Every acknowledged address survived the kill, each held once.
    const held = new Map(owned().map(o => [o.containerid as string, o.addrs as string[]]));
    for (const [i, add] of results.entries()) if (add.exitCode === 0) assert.deepEqual(held.get(`burst${i}`), [add.json!.ips[0].address]);
    // The runtime deletes what failed, as kubelet and containerd do.
    for (const i of failed) assert.equal((await warm(env('DEL', many[i], `burst${i}`))).exitCode, 0);
    for (const i of failed) {
      assert.deepEqual(many[i]!.links(), ['lo'], `burst${i}`);
      assert.ok(!owned().some(o => o.containerid === `burst${i}`));
    }
    assert.equal(veths().length, 30 - failed.length, 'one veth per acknowledged pod, none for the failed ones');
    for (const [i, add] of results.entries()) if (add.exitCode === 0) assert.equal((await warm(env('DEL', many[i], `burst${i}`))).exitCode, 0);
    assert.deepEqual(veths(), []);
  });

  it('refuses an ipam.subnet weave cannot allocate in with code 7, the same words on both paths', async () => {
    const cases: [string, RegExp][] = [
      ['fd00::/64', /^invalid "ipam.subnet" "fd00::\/64": invalid Non-IPv4 address not supported: fd00::\/64$/],
      ['10.32.0.1/32', /^invalid "ipam.subnet" "10.32.0.1\/32": invalid subnet - smaller than minimum size 4: 10.32.0.1\/32$/],
      ['192.168.0.0/24', /^invalid "ipam.subnet" "192.168.0.0\/24": range 192.168.0.0\/24 out of bounds: 10.32.0.0\/12$/],
    ];
    for (const [subnet, message] of cases) {
      const p = pod();
      const config = {...conf, ipam: {subnet}};
      const answers: PluginRun[] = [];
      for (const executable of [installed.plugin(), undefined]) {
        answers.push(await runPlugin({env: env('ADD', p, 'badsubnet'), config, hostNetns: host.path, ...(executable ? {executable} : {})}));
      }
      for (const answer of answers) {
        assert.equal(answer.json?.code, 7, `${subnet}: ${answer.stdout}`);
        assert.match(answer.json?.msg, message);
      }
      assert.equal(answers[0]!.stdout, answers[1]!.stdout, subnet);
      assert.deepEqual(p.links(), ['lo']);
    }
    assert.deepEqual(veths(), []);
  });

  it('a DEL with the router down says it could not release, and how to get it going', async () => {
    const dbDir = router.dbDir;
    await router.stop();
    try {
      for (const run of [warm, cold]) {
        const del = await run(env('DEL', undefined, 'downdel'));
        assert.equal(del.json?.code, 11, del.stdout);
        assert.match(del.json?.msg, /^the weave router must be running to release the addresses of downdel with weave IPAM$/);
        assert.match(del.json?.details, /weave launch/);
      }
    } finally {
      router = await RouterProcess.start(host, {dbDir});
    }
  });

  describe('an ADD while IPAM awaits consensus', () => {
    let waiting: RouterProcess;
    let other: Netns;
    before(async () => {
      other = Netns.create('wth');
      waiting = await RouterProcess.start(other, {args: ['--ipalloc-init', 'consensus=2', '--cni-ipam-wait', '2']});
    });
    after(async () => {
      await waiting?.destroy();
      other?.delete();
    });

    it('fails after --cni-ipam-wait with code 11 and the cause, the same words on both paths, leaving nothing', async () => {
      const said: string[] = [];
      for (const [path, executable] of [['warm', installed.plugin()], ['cold', undefined]] as const) {
        const p = pod();
        const add = await runPlugin({env: env('ADD', p, `consensus${path}`), config: conf, hostNetns: other.path, ...(executable ? {executable} : {})});
        assert.equal(add.json?.code, 11, `${path}: ${add.stdout}${add.stderr}`);
        assert.match(add.json?.msg, /^IPAM awaits consensus: 1 of 2 peers known; connect the peers \(weave connect\) or use --ipalloc-init seed=<peer names>/, path);
        assert.deepEqual(p.links(), ['lo'], path);
        assert.deepEqual(other.links().filter(l => l.startsWith('vethwepl')), [], path);
        said.push(add.stdout);
      }
      assert.equal(said[0], said[1]);
    });
  });
});
