import assert from 'node:assert/strict';
import {type ChildProcess, execFileSync} from 'node:child_process';
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, before, describe, it} from 'mocha';
import {Netns} from '../helpers/netns.js';
import {type PluginRun, runPlugin} from '../helpers/plugin.js';
import {requireRoot, requireTool} from '../helpers/root.js';
import {RouterProcess} from '../helpers/router.js';
import {InstalledPlugin, SOCAT_CLIENT_TOOLS} from '../helpers/cni-install.js';

type Json = Record<string, any>;

/**
 * Runtimes name a pod's namespace in many ways: containerd and CRI-O /var/run/netns/cni-<uuid>,
 * podman /run/netns/..., Mesos and older Docker setups /proc/<pid>/ns/net, others a bind mount
 * under their own state directory. Each must work whoever runs the call: the router (warm path,
 * reached through the Perl or the socat client) or the plugin on the host (cold path).
 */
describe('CNI_NETNS in every form the host can open, on the warm and the cold path', function () {
  requireRoot();
  requireTool('socat', 'socat');
  requireTool('perl', 'perl-base');
  this.timeout(120_000);
  let host: Netns;
  let router: RouterProcess;
  let installed: InstalledPlugin;
  let scratch: string;
  let socatPath: string;
  const pods: Netns[] = [];
  const sleepers: ChildProcess[] = [];
  const mounts: string[] = [];
  const conf = {cniVersion: '1.0.0', name: 'weave', type: 'weave-net'};
  const owned = (id: string): string[] | undefined => (JSON.parse(router.api('GET', '/ip')[1]).owned as Json[] | null)?.find(o => o.containerid === id)?.addrs;

  const env = (command: string, netns: string, id: string) => ({CNI_COMMAND: command, CNI_CONTAINERID: id, CNI_NETNS: netns, CNI_IFNAME: 'eth0', CNI_PATH: '/usr/lib/cni'});
  const clients: Record<string, (e: Record<string, string>, on?: Netns) => Promise<PluginRun>> = {
    perl: (e, on = host) => runPlugin({env: e, config: conf, hostNetns: on.path, executable: installed.plugin()}),
    socat: (e, on = host) => runPlugin({env: {...e, PATH: socatPath}, config: conf, hostNetns: on.path, executable: installed.plugin()}),
    cold: (e, on = host) => runPlugin({env: e, config: conf, hostNetns: on.path}),
  };

  /** The forms of one fresh pod's namespace. */
  const forms: Record<string, () => string> = {
    '/run/netns/NAME (podman)': () => newPod().path,
    '/var/run/netns/NAME (containerd, CRI-O)': () => `/var/run/netns/${newPod().name}`,
    '/proc/PID/ns/net': () => {
      const sleeper = newPod().spawnDetached('sleep', ['600']);
      sleepers.push(sleeper);
      // nsenter has entered the namespace once sleep runs as the same pid.
      for (let i = 0; i < 100 && readComm(sleeper.pid!) !== 'sleep'; i++) execFileSync('sleep', ['0.02']);
      return `/proc/${sleeper.pid}/ns/net`;
    },
    'a bind mount under a runtime state directory': () => {
      const state = mkdtempSync(join(tmpdir(), 'weave-runtime-state-'));
      const file = join(state, 'sandboxes', 'abc', 'netns');
      mkdirSync(join(state, 'sandboxes', 'abc'), {recursive: true});
      writeFileSync(file, '');
      execFileSync('mount', ['--bind', newPod().path, file]);
      mounts.push(file);
      return file;
    },
  };
  function newPod(): Netns {
    const p = Netns.create('wtn');
    pods.push(p);
    return p;
  }
  function readComm(pid: number): string {
    try {
      return execFileSync('cat', [`/proc/${pid}/comm`], {encoding: 'utf8'}).trim();
    } catch {
      return '';
    }
  }

  before(async function () {
    host = Netns.create('wth');
    installed = new InstalledPlugin();
    scratch = mkdtempSync(join(tmpdir(), 'weave-netns-'));
    socatPath = installed.pathWith('socat-path', SOCAT_CLIENT_TOOLS);
    router = await RouterProcess.start(host);
  });
  after(async () => {
    for (const s of sleepers) s.kill('SIGKILL');
    for (const m of mounts) execFileSync('umount', [m]);
    await router?.destroy();
    for (const p of pods) p.delete();
    host?.delete();
    installed?.remove();
    rmSync(scratch, {recursive: true, force: true});
  });

  let n = 0;
  for (const [client, call] of Object.entries(clients)) {
    for (const [form, make] of Object.entries(forms)) {
      it(`${client}: ${form}`, async () => {
        const netns = make();
        const id = `ns${client}${n++}`;
        const add = await call(env('ADD', netns, id));
        assert.equal(add.exitCode, 0, add.stdout + add.stderr);
        const result = add.json as Json;
        assert.equal(result.interfaces[2].sandbox, netns, 'the result names the namespace as the runtime gave it');
        const address = result.ips[0].address as string;
        assert.deepEqual(owned(id), [address]);
        const inPod = execFileSync('nsenter', [`--net=${netns}`, 'ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0'], {encoding: 'utf8'});
        assert.ok(inPod.includes(` ${address} `), inPod);
        const ran = client === 'cold' ? 'not in the router' : 'in the router';
        assert.equal(new RegExp(`"msg":"cni call".*"container":"${id}"`).test(router.logs), client !== 'cold', `the call ran ${ran}`);

        const del = await call(env('DEL', netns, id));
        assert.equal(del.exitCode, 0, del.stdout);
        assert.equal(owned(id), undefined);
        assert.deepEqual(host.links().filter(l => l.startsWith('vethwepl')), []);
      });
    }
  }

  describe('what is not a network namespace is refused at once, with code 4 and the same words on every path', () => {
    let fifo: string;
    let file: string;
    before(() => {
      fifo = join(scratch, 'a-fifo');
      execFileSync('mkfifo', [fifo]);
      file = join(scratch, 'a-file');
      writeFileSync(file, 'not a namespace');
    });
    const bad: [string, () => string, RegExp][] = [
      ['a FIFO', () => fifo, /^CNI_NETNS ".*a-fifo" is not a network namespace: it is a FIFO$/],
      ['a regular file', () => file, /^CNI_NETNS ".*a-file" is not a network namespace: it is a regular file$/],
      ['a directory', () => scratch, /^CNI_NETNS ".*" is not a network namespace: it is a directory$/],
      ['a path that does not exist', () => '/var/run/netns/weave-absent', /^CNI_NETNS "\/var\/run\/netns\/weave-absent" does not exist$/],
      ['the host\'s own namespace', () => host.path, /^can not add a container to weave in the host network namespace$/],
    ];
    for (const [what, path, message] of bad) {
      it(what, async () => {
        for (const [client, call] of Object.entries(clients)) {
          const add = await call(env('ADD', path(), `bad${client}`));
          assert.equal(add.exitCode, 1, `${client}: ${add.stdout}${add.stderr}`);
          assert.equal(add.json?.code, 4, `${client}: ${add.stdout}`);
          assert.match(add.json?.msg, message, client);
          assert.equal(owned(`bad${client}`), undefined, `${client}: no address kept`);
        }
        assert.deepEqual(host.links().filter(l => l.startsWith('vethwepl')), []);
      });
    }
  });

  describe('a router that cannot see what the host opened (its own PID namespace, as a container without --pid=host)', () => {
    let blind: RouterProcess;
    let other: Netns;
    before(async () => {
      other = Netns.create('wth');
      blind = await RouterProcess.start(other, {ownPidns: true});
    });
    after(async () => {
      // unshare --fork ignores SIGTERM; killed, it takes the router with it (--kill-child).
      await blind?.stop('SIGKILL');
      await blind?.destroy();
      other?.delete();
    });

    it('says so, and how to run it, instead of "does not exist"', async () => {
      for (const client of ['perl', 'socat'] as const) {
        const pod = newPod();
        const add = await clients[client]!(env('ADD', `/var/run/netns/${pod.name}`, `blind${client}`), other);
        assert.equal(add.json?.code, 4, `${client}: ${add.stdout}${add.stderr}`);
        assert.match(add.json?.msg, /^the weave router cannot see the network namespace CNI_NETNS "\/var\/run\/netns\/wtn\w+" that the host opened/, client);
        assert.match(add.json?.details, /PID namespace.*CAP_SYS_PTRACE.*weave stop/, client);
        assert.deepEqual(pod.links(), ['lo']);
      }
    });
  });
});
