import assert from 'node:assert/strict';
import {type ChildProcess, execFileSync, spawn} from 'node:child_process';
import {randomBytes} from 'node:crypto';
import {cpSync, mkdtempSync, rmSync, symlinkSync} from 'node:fs';
import type {Server} from 'node:http';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {RouterClient} from '../../src/lib/api/client.js';
import {type Attachment, listAttachments} from '../../src/lib/host/attachments.js';
import {IpHostLinks} from '../../src/lib/net/host-links-ip.js';
import {loadNetlinkHostLinks} from '../../src/lib/net/netlink/host-links.js';
import {PACKAGE_ROOT} from '../../src/lib/package.js';
import {createApiServer} from '../../src/lib/router/http/server.js';
import {json, RouteTable} from '../../src/lib/router/http/routes.js';
import {Netns} from '../helpers/netns.js';
import {requireRoot} from '../helpers/root.js';
import {collect} from '../helpers/spawn.js';
import {weave} from '../helpers/weave-cli.js';

const containerId = () => randomBytes(32).toString('hex');

interface Link {
  address: string;
}

/**
 * `weave ps` reads the host over netlink in its own process when the router's addon is there, and
 * with `ip` processes when not: both must give the same lines, for every kind of attachment.
 */
describe('weave ps over netlink and over ip', function () {
  this.timeout(60_000);
  let host: Netns;
  let podman: Netns;
  let containerd: Netns;
  const sleepers: ChildProcess[] = [];
  const ids = {podman: containerId(), containerd: containerId(), unnamed: containerId(), unattached: containerId(), docker: containerId()};
  let dir: string;
  let server: Server;
  let client: RouterClient;
  let socket: string;

  const inHost = (...args: string[]) => host.exec('ip', args);
  /** A process alone in a namespace without a name, as Docker's containers and some runtimes' pods are. */
  const unnamedNetns = (): number => {
    const sleeper = spawn('unshare', ['--net', 'sleep', '600'], {stdio: 'ignore'});
    sleepers.push(sleeper);
    return sleeper.pid!;
  };
  /** A veth from the bridge to `ifname` in `target` (a namespace name or a pid), with an address there. */
  const attach = (hostName: string, target: string, ifname: string, cidr: string, alias?: string): string => {
    inHost('link', 'add', hostName, 'type', 'veth', 'peer', 'name', ifname, 'netns', target);
    inHost('link', 'set', hostName, 'master', 'weave', 'up', ...(alias ? ['alias', alias] : []));
    const [file, prefix] = /^\d+$/.test(target) ? ['nsenter', [`--net=/proc/${target}/ns/net`]] : ['nsenter', [`--net=/run/netns/${target}`]];
    execFileSync(file, [...prefix, 'ip', 'addr', 'add', cidr, 'dev', ifname]);
    execFileSync(file, [...prefix, 'ip', 'link', 'set', ifname, 'up']);
    const [link] = JSON.parse(execFileSync(file, [...prefix, 'ip', '-j', 'link', 'show', ifname], {encoding: 'utf8'})) as Link[];
    return link!.address;
  };

  let macs: Record<'bridge' | 'podman' | 'containerd' | 'docker', string>;

  before(async function () {
    requireRoot();
    host = Netns.create('psh');
    podman = Netns.create('psp');
    // containerd and CRI-O name theirs cni-<uuid>, under /var/run/netns (the same directory).
    containerd = Netns.create('cni-');
    inHost('link', 'add', 'weave', 'type', 'bridge');
    inHost('link', 'set', 'weave', 'up');
    inHost('addr', 'add', '10.32.0.1/12', 'dev', 'weave');
    const unnamedPid = unnamedNetns();
    const dockerPid = unnamedNetns();
    await new Promise(resolve => setTimeout(resolve, 200)); // unshare has entered its namespace
    const attached = {
      podman: attach(`vethwepl${ids.podman.slice(0, 7)}`, podman.name, 'eth0', '10.32.0.2/12'),
      containerd: attach(`vethwepl${ids.containerd.slice(0, 7)}`, containerd.name, 'eth0', '10.32.0.3/12'),
      docker: attach(`vethwepl${dockerPid}`, String(dockerPid), 'ethwe', '10.32.0.9/12', `docker:${ids.docker}`),
    };
    attach(`vethwepl${ids.unnamed.slice(0, 7)}`, String(unnamedPid), 'eth0', '10.32.0.4/12');
    // Read last: a bridge takes the lowest MAC of its ports.
    macs = {...attached, bridge: (JSON.parse(inHost('-j', 'link', 'show', 'weave')) as Link[])[0]!.address};

    // The router's IPAM as `weave ps` asks it, on a unix socket: reachable from the host's namespace too.
    dir = mkdtempSync(join(tmpdir(), 'weave-ps-'));
    socket = join(dir, 'weave.sock');
    const owned = Object.entries(ids).map(([kind, id], i) => ({containerid: id, addrs: [`10.32.0.${kind === 'docker' ? 9 : i + 2}/12`]}));
    server = createApiServer(new RouteTable().add('GET', '/ip', () => json({owned})), () => {});
    await new Promise<void>(resolve => server.listen(socket, resolve));
    client = new RouterClient(socket);
  });

  after(async () => {
    for (const sleeper of sleepers) sleeper.kill();
    for (const ns of [host, podman, containerd]) ns?.delete();
    server?.closeAllConnections();
    await new Promise(resolve => server?.close(resolve));
    if (dir) rmSync(dir, {recursive: true, force: true});
  });

  const netlink = () => {
    const links = loadNetlinkHostLinks(host.path);
    assert.notEqual(typeof links, 'string', `netlink must load: ${String(links)}`);
    return links as Exclude<typeof links, string>;
  };

  it('lists the bridge, the Docker container, then each pod: its MAC read in its named namespace, else -', async () => {
    const rows = await listAttachments(client, 'weave', [], netlink());
    const expected: Attachment[] = [
      {id: 'weave:expose', mac: macs.bridge, cidrs: ['10.32.0.1/12']},
      {id: ids.docker.slice(0, 12), mac: macs.docker, cidrs: ['10.32.0.9/12']},
      {id: ids.podman.slice(0, 12), mac: macs.podman, cidrs: ['10.32.0.2/12']},
      {id: ids.containerd.slice(0, 12), mac: macs.containerd, cidrs: ['10.32.0.3/12']},
      {id: ids.unnamed.slice(0, 12), mac: '-', cidrs: ['10.32.0.4/12']},
    ];
    assert.deepEqual(rows, expected);
  });

  for (const wanted of [[], ['weave:expose'], ['DOCKER'], ['PODMAN', 'UNNAMED'], ['UNATTACHED'], ['ffff']]) {
    it(`gives the same lines as ip for ${JSON.stringify(wanted)}`, async () => {
      const asked = wanted.map(w => (w in ids ? '' : w) || ids[w.toLowerCase() as keyof typeof ids].slice(0, 9));
      const [viaNetlink, viaIp] = await Promise.all([listAttachments(client, 'weave', asked, netlink()), listAttachments(client, 'weave', asked, new IpHostLinks(host.path))]);
      assert.deepEqual(viaNetlink, viaIp);
    });
  }

  it('gives no lines for a bridge that is not there, as ip does', async () => {
    assert.deepEqual(await listAttachments(client, 'nosuchbridge', [], netlink()), []);
    assert.deepEqual(await listAttachments(client, 'nosuchbridge', [], new IpHostLinks(host.path)), []);
  });

  it('leaves out a Docker container whose namespace went meanwhile, as ip does', async () => {
    const gone = ['link', 'add', 'vethwepl999999', 'type', 'veth', 'peer', 'name', 'psgone'];
    inHost(...gone);
    try {
      inHost('link', 'set', 'vethwepl999999', 'master', 'weave', 'alias', `docker:${containerId()}`);
      const [viaNetlink, viaIp] = await Promise.all([listAttachments(client, 'weave', [], netlink()), listAttachments(client, 'weave', [], new IpHostLinks(host.path))]);
      assert.equal(viaNetlink.length, 5);
      assert.deepEqual(viaNetlink, viaIp);
    } finally {
      inHost('link', 'del', 'vethwepl999999');
    }
  });

  describe('the CLI', () => {
    let copy: string;
    before(() => {
      // The package as installed where its optional addon could not be built: no native/.
      copy = mkdtempSync(join(tmpdir(), 'weave-noaddon-'));
      for (const file of ['bin', 'dist', 'package.json', 'oclif.manifest.json']) cpSync(join(PACKAGE_ROOT, file), join(copy, file), {recursive: true});
      symlinkSync(join(PACKAGE_ROOT, 'node_modules'), join(copy, 'node_modules'));
    });
    after(() => rmSync(copy, {recursive: true, force: true}));

    it('prints the same lines with the addon (netlink) and without it (ip)', async () => {
      const expected = (await listAttachments(client, 'weave', [], netlink())).map(r => `${[r.id, r.mac, ...r.cidrs].join(' ')}\n`).join('');
      const withAddon = await weave(['ps'], {netns: host, env: {WEAVE_HTTP_ADDR: socket}});
      assert.equal(withAddon.exitCode, 0, withAddon.stderr);
      assert.equal(withAddon.stdout, expected);
      const without = await collect('nsenter', [`--net=${host.path}`, process.execPath, join(copy, 'bin', 'weave.js'), 'ps'], {env: {...process.env, WEAVE_HTTP_ADDR: socket}});
      assert.equal(without.exitCode, 0, without.stderr);
      assert.equal(without.stdout, expected);
    });
  });
});
