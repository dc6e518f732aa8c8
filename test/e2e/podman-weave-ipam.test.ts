import assert from 'node:assert/strict';
import {randomBytes} from 'node:crypto';
import {mkdirSync, mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, before, describe, it} from 'mocha';
import {Netns} from '../helpers/netns.js';
import {Podman} from '../helpers/podman.js';
import {requireRoot, requireTool} from '../helpers/root.js';
import {RouterProcess} from '../helpers/router.js';
import {runWeave} from '../helpers/setup-cli.js';

type Owned = {containerid: string; addrs: string[]};

describe('podman on the default conflist: weave IPAM through a running router', function () {
  requireRoot();
  requireTool('podman', 'podman');
  requireTool('socat', 'socat');
  requireTool('busybox', 'busybox-static');
  this.timeout(120_000);

  const image = `localhost/weave-test-${randomBytes(3).toString('hex')}:busybox`;
  let host: Netns;
  let router: RouterProcess;
  let dir: string;
  let podman: Podman;
  const containers: string[] = [];
  const owned = (): Owned[] => JSON.parse(router.api('GET', '/ip')[1]).owned ?? [];

  before(async () => {
    // A simulated host: podman, the plugin and the router all in one namespace of their own.
    host = Netns.create('wtpod');
    dir = mkdtempSync(join(tmpdir(), 'weave-podman-ipam-'));
    const [binDir, confDir] = [join(dir, 'bin'), join(dir, 'net')];
    mkdirSync(binDir);
    mkdirSync(confDir);
    const setup = runWeave(['setup-cni', '--cni-bin-dir', binDir, '--cni-conf-dir', confDir]);
    assert.equal(setup.exitCode, 0, setup.stderr);
    router = await RouterProcess.start(host);
    podman = Podman.configure(join(dir, 'containers.conf'), {pluginDirs: [binDir, '/usr/lib/cni'], networkConfigDir: confDir, netns: host.path});
    podman.importBusyboxImage(image);
  });

  after(async () => {
    if (containers.length) podman.remove(containers);
    podman?.run(['rmi', image]);
    await router?.destroy();
    host?.delete();
    rmSync(dir, {recursive: true, force: true});
  });

  it('gives two containers addresses from 10.32.0.0/12 that reach each other, and DEL returns them', async () => {
    const start = (args: string[]) => {
      const id = podman.run(['run', '--detach', '--network', 'weave', image, ...args]);
      containers.push(id);
      return id;
    };
    const a = start(['sleep', '300']);
    const b = start(['sleep', '300']);
    const [ipA, ipB] = [podman.address(a, 'weave'), podman.address(b, 'weave')];
    for (const ip of [ipA, ipB]) assert.match(ip, /^10\.(3[2-9]|4[0-7])\.\d+\.\d+$/);
    assert.notEqual(ipA, ipB);
    const held = owned().flatMap(o => o.addrs.map(a => a.split('/')[0]));
    assert.ok(held.includes(ipA) && held.includes(ipB), `the router holds both: ${JSON.stringify(owned())}`);
    // podman ran synchronously: let the router's log output reach us first.
    await new Promise(resolve => setTimeout(resolve, 300));
    assert.match(router.logs, /"msg":"cni call".*"command":"ADD"/, 'the calls took the warm path');

    const ping = podman.run(['exec', a, 'ping', '-c', '2', '-W', '2', ipB]);
    assert.match(ping, /2 packets received/);

    podman.remove([a, b]);
    containers.length = 0;
    const after = owned().map(o => o.containerid);
    assert.ok(!after.some(id => id.startsWith(a.slice(0, 12)) || id.startsWith(b.slice(0, 12))), `DEL released both: ${after}`);
    assert.deepEqual(owned().filter(o => o.containerid !== 'weave:expose'), []);
  });

  it('names a container in weaveDNS by its podman name (K8S_POD_NAME), resolvable from another container, gone at DEL', async () => {
    const name = `wpod${randomBytes(3).toString('hex')}`;
    const named = podman.run(['run', '--detach', '--name', name, '--network', 'weave', image, 'sleep', '300']);
    const asker = podman.run(['run', '--detach', '--network', 'weave', image, 'sleep', '300']);
    containers.push(named, asker);
    const ip = podman.address(named, 'weave');
    // The router listens on every address of the host (no docker0 here): the bridge's is the pods' way to it.
    const [bridge] = (JSON.parse(host.exec('ip', ['-4', '-j', 'addr', 'show', 'dev', 'weave'])) as {addr_info: {local: string}[]}[])[0]!.addr_info;
    // busybox nslookup exits 1 on NXDOMAIN: its words are the answer either way.
    const lookup = () => {
      try {
        return podman.run(['exec', asker, 'nslookup', '-type=a', `${name}.weave.local`, bridge!.local]);
      } catch (error) {
        return (error as Error).message;
      }
    };
    assert.match(lookup(), new RegExp(`Address: ${ip.replaceAll('.', '\\.')}\\b`));

    podman.remove([named]);
    containers.splice(containers.indexOf(named), 1);
    const after = lookup();
    assert.match(after, /NXDOMAIN/, after);
    assert.doesNotMatch(after, /Address: 10\./, 'DEL took the name away with the address');
  });
});
