import assert from 'node:assert/strict';
import type {ChildProcess} from 'node:child_process';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {InstalledPlugin} from '../helpers/cni-install.js';
import {Lan} from '../helpers/lan.js';
import {getUnix, MeshRouter, waitUntil} from '../helpers/mesh-router.js';
import {Netns} from '../helpers/netns.js';
import {runPlugin} from '../helpers/plugin.js';
import {requireRoot, requireTool} from '../helpers/root.js';
import {collect} from '../helpers/spawn.js';
import {WEAVE_BIN} from '../helpers/setup-cli.js';

const RANGE = '10.41.0.0/24';
/** What the test's own resolver (dnsmasq on host C) answers for a name outside weave.local. */
const OUTSIDE = {name: 'www.outside.example', ip: '192.0.2.7'};

/** `dig` inside a host, asking weaveDNS there: the answer section's data, one per line. */
function dig(ns: Netns, args: string[]): string[] {
  return ns
    .exec('dig', ['@127.0.0.1', '+short', '+time=2', '+tries=1', ...args])
    .split('\n')
    .filter(Boolean);
}

/** The status dig reports (NOERROR, NXDOMAIN, SERVFAIL). */
function digStatus(ns: Netns, name: string): string {
  const out = ns.exec('dig', ['@127.0.0.1', '+time=2', '+tries=1', name]);
  return /status: (\w+)/.exec(out)?.[1] ?? out;
}

/** `weave <args>` inside a host, against its router's API. */
async function weaveIn(ns: Netns, args: string[]): Promise<{exitCode: number; stdout: string; stderr: string}> {
  // No Docker engine in the test's hosts: an unreachable DOCKER_HOST makes the CLI fall back to the router's allocations.
  return collect('nsenter', [`--net=${ns.path}`, process.execPath, WEAVE_BIN, ...args], {env: {...process.env, DOCKER_HOST: 'unix:///nonexistent/docker.sock'}});
}

describe('weaveDNS: names shared over the mesh, answered by every router', function () {
  requireRoot();
  requireTool('dig', 'dnsutils');
  requireTool('dnsmasq', 'dnsmasq-base');
  requireTool('perl', 'perl-base');
  this.timeout(180_000);
  let lan: Lan;
  let a: MeshRouter;
  let b: MeshRouter;
  let resolver: ChildProcess;
  let dir: string;
  const routers: MeshRouter[] = [];

  before(async () => {
    lan = Lan.create(3);
    dir = mkdtempSync(join(tmpdir(), 'weave-dns-'));
    const c = lan.hosts[2]!;
    resolver = c.ns.spawnDetached('dnsmasq', ['-k', '-C', '/dev/null', '--no-resolv', '--no-hosts', '--bind-interfaces', `--listen-address=${c.ip}`, `--address=/outside.example/${OUTSIDE.ip}`, `--pid-file=${join(dir, 'dnsmasq.pid')}`]);
    // The first resolver never answers: weaveDNS gives up on it after --dns-fallback-timeout and asks the next.
    writeFileSync(join(dir, 'resolv.conf'), `nameserver 192.168.90.99\nnameserver ${c.ip}\n`);
    const args = ['--ipalloc-range', RANGE, '--resolv-conf', join(dir, 'resolv.conf'), '--dns-fallback-timeout', '300ms'];
    [a, b] = await Promise.all([MeshRouter.start(lan.hosts[0]!, 0, {args, peers: [lan.hosts[1]!.ip]}), MeshRouter.start(lan.hosts[1]!, 1, {args})]);
    routers.push(a, b);
    await waitUntil('the two routers connected', async () => (await a.report()).Connections?.some(conn => conn.State === 'established') ?? false);
  });

  after(async () => {
    for (const r of routers) await r.halt('SIGKILL');
    resolver?.kill('SIGKILL');
    lan?.destroy();
    if (dir) rmSync(dir, {recursive: true, force: true});
  });

  it('answers a name added on one host on the other, A and PTR, over UDP and TCP', async () => {
    assert.equal(a.process.api('PUT', '/name/c1/10.41.0.5', 'fqdn=web.weave.local.')[0], 204);
    await waitUntil('web.weave.local on host B', async () => dig(b.host.ns, ['web.weave.local'])[0] === '10.41.0.5');
    assert.deepEqual(dig(b.host.ns, ['+tcp', 'web.weave.local']), ['10.41.0.5']);
    assert.deepEqual(dig(b.host.ns, ['-x', '10.41.0.5']), ['web.weave.local.']);
    assert.deepEqual(dig(b.host.ns, ['WEB.Weave.Local']), ['10.41.0.5'], 'names ignore case');
    assert.equal(digStatus(b.host.ns, 'nobody.weave.local'), 'NXDOMAIN');
    const lookup = await weaveIn(b.host.ns, ['dns-lookup', 'web']);
    assert.equal(lookup.exitCode, 0, lookup.stderr);
    assert.equal(lookup.stdout, '10.41.0.5\n');
  });

  it('spreads clients over the addresses of one name (round robin), from either origin', async () => {
    assert.equal(b.process.api('PUT', '/name/c2/10.41.0.6', 'fqdn=web.weave.local.')[0], 204);
    await waitUntil('both addresses of web on host A', async () => dig(a.host.ns, ['web.weave.local']).length === 2);
    const firsts = new Set<string>();
    // Both orders within 20 answers, unless the shuffle is broken (a 1 in 500,000 chance of a false failure).
    for (let i = 0; i < 20; i++) firsts.add(dig(a.host.ns, ['web.weave.local'])[0]!);
    assert.deepEqual([...firsts].sort(), ['10.41.0.5', '10.41.0.6']);
  });

  it('shows the names in status, status dns, report and metrics, in the original\'s layout', async () => {
    const status = await a.text('/status');
    assert.match(status, /\n {8}Service: dns\n {9}Domain: weave\.local\.\n {7}Upstream: 192\.168\.90\.99, 192\.168\.90\.3\n {12}TTL: 1\n {8}Entries: 2\n$/);
    const lines = (await a.text('/status/dns')).split('\n').filter(Boolean).sort();
    assert.deepEqual(lines, [`web          10.41.0.5                 c1 ${a.name}`, `web          10.41.0.6                 c2 ${b.name}`]);
    const [, body] = await getUnix(a.statusSocket, '/report', {Accept: 'application/json'});
    const dns = (JSON.parse(body) as {DNS: {Domain: string; Address: string; TTL: number; Entries: {Hostname: string; Tombstone: number}[]}}).DNS;
    assert.equal(dns.Domain, 'weave.local.');
    assert.equal(dns.Address, '0.0.0.0:53', 'no Docker bridge in the host: every address');
    assert.deepEqual(dns.Entries.map(e => e.Hostname), ['web.weave.local.', 'web.weave.local.']);
    assert.match(await a.text('/metrics'), /^weave_dns_entries 2$/m);
    assert.equal(a.process.api('GET', '/dns-address-port')[1], '0.0.0.0:53');
    assert.equal(a.process.api('GET', '/domain')[1], 'weave.local.');
  });

  it('forwards other names to the host\'s resolvers, past one that does not answer', () => {
    assert.deepEqual(dig(a.host.ns, [OUTSIDE.name]), [OUTSIDE.ip]);
    assert.deepEqual(dig(a.host.ns, ['+tcp', OUTSIDE.name]), [OUTSIDE.ip]);
  });

  it('dns-add / dns-remove from the CLI; a container\'s names go when IPAM releases its address', async () => {
    const [status, cidr] = a.process.api('POST', '/ip/ctr-one');
    assert.equal(status, 200, cidr);
    const ip = cidr.split('/')[0]!;
    const add = await weaveIn(a.host.ns, ['dns-add', 'ctr-one', '-h', 'db.weave.local']);
    assert.equal(add.exitCode, 0, add.stderr);
    await waitUntil('db on host B', async () => dig(b.host.ns, ['db.weave.local'])[0] === ip);
    assert.equal(a.process.api('DELETE', '/ip/ctr-one')[0], 204);
    await waitUntil('db gone on host B', async () => digStatus(b.host.ns, 'db.weave.local') === 'NXDOMAIN');

    const extern = await weaveIn(a.host.ns, ['dns-add', '10.41.0.77', '10.41.0.78', '-h', 'ext.weave.local']);
    assert.equal(extern.exitCode, 0, extern.stderr);
    await waitUntil('ext on host B', async () => dig(b.host.ns, ['ext.weave.local']).length === 2);
    const remove = await weaveIn(a.host.ns, ['dns-remove', '10.41.0.77', '-h', 'ext.weave.local']);
    assert.equal(remove.exitCode, 0, remove.stderr);
    await waitUntil('one address of ext left on host B', async () => dig(b.host.ns, ['ext.weave.local']).join() === '10.41.0.78');
    const args = await weaveIn(a.host.ns, ['dns-args']);
    assert.equal(args.stdout, '--dns=0.0.0.0 --dns-search=weave.local.');
    const bad = await weaveIn(a.host.ns, ['dns-add', '10.41.0.9']);
    assert.equal(bad.exitCode, 1);
    assert.match(bad.stderr, /^usage: weave dns-add/);
  });

  it('names CNI pods: <pod>.<namespace> from Kubernetes\' CNI_ARGS, cold and warm; gone after DEL and GC', async () => {
    const installed = new InstalledPlugin();
    const host = lan.hosts[0]!;
    const pods: Netns[] = [];
    const conf = {cniVersion: '1.0.0', name: 'weave', type: 'weave-net'};
    const env = (command: string, pod: Netns | undefined, id: string, args: string) => ({
      CNI_COMMAND: command,
      CNI_CONTAINERID: id,
      CNI_NETNS: pod?.path ?? '',
      CNI_IFNAME: 'eth0',
      CNI_PATH: '/usr/lib/cni',
      CNI_ARGS: args,
    });
    try {
      const cold = Netns.create('wdp');
      const warm = Netns.create('wdp');
      pods.push(cold, warm);
      const k8s = 'IgnoreUnknown=1;K8S_POD_NAME=web-0;K8S_POD_NAMESPACE=shop';
      const added = await runPlugin({env: env('ADD', cold, 'podcold1', k8s), config: conf, hostNetns: host.ns.path});
      assert.equal(added.exitCode, 0, added.stdout + added.stderr);
      const coldIp = (added.json!.ips[0].address as string).split('/')[0]!;
      // Through the installed launcher, which hands the call to the router (the warm path); podman sends K8S_POD_NAME alone.
      const warmAdd = await runPlugin({env: env('ADD', warm, 'podwarm1', 'IgnoreUnknown=1;K8S_POD_NAME=cache'), config: {...conf, weaveDns: {domain: 'pods.weave.local'}}, hostNetns: host.ns.path, executable: installed.plugin()});
      assert.equal(warmAdd.exitCode, 0, warmAdd.stdout + warmAdd.stderr);
      const warmIp = (warmAdd.json!.ips[0].address as string).split('/')[0]!;
      await waitUntil('the router logging the warm call it ran', async () => /"cni call"[^\n]*"command":"ADD","container":"podwarm1"/.test(a.process.logs), 5000);
      await waitUntil('both pods named on host B', async () => dig(b.host.ns, ['web-0.shop.weave.local'])[0] === coldIp && dig(b.host.ns, ['cache.pods.weave.local'])[0] === warmIp);
      assert.deepEqual(dig(b.host.ns, ['-x', coldIp]), ['web-0.shop.weave.local.']);

      const del = await runPlugin({env: env('DEL', cold, 'podcold1', k8s), config: conf, hostNetns: host.ns.path});
      assert.equal(del.exitCode, 0, del.stdout + del.stderr);
      await waitUntil('web-0.shop gone on host B', async () => digStatus(b.host.ns, 'web-0.shop.weave.local') === 'NXDOMAIN');
      // GC with no attachment still valid: the warm pod's address and name go.
      const gc = await runPlugin({env: {CNI_COMMAND: 'GC', CNI_PATH: '/usr/lib/cni'}, config: {...conf, cniVersion: '1.1.0', 'cni.dev/valid-attachments': []}, hostNetns: host.ns.path});
      assert.equal(gc.exitCode, 0, gc.stdout + gc.stderr);
      await waitUntil('cache.pods gone on host B', async () => digStatus(b.host.ns, 'cache.pods.weave.local') === 'NXDOMAIN');

      const off = Netns.create('wdp');
      pods.push(off);
      const unnamed = await runPlugin({env: env('ADD', off, 'podoff1', 'K8S_POD_NAME=quiet'), config: {...conf, weaveDns: false}, hostNetns: host.ns.path});
      assert.equal(unnamed.exitCode, 0, unnamed.stdout + unnamed.stderr);
      assert.equal(digStatus(a.host.ns, 'quiet.weave.local'), 'NXDOMAIN', '"weaveDns": false gives no name');
    } finally {
      for (const pod of pods) pod.delete();
      installed.remove();
    }
  });

  it('forgets the names of a peer that is gone', async () => {
    await b.halt('SIGKILL');
    await waitUntil("host B's names gone on host A", async () => dig(a.host.ns, ['web.weave.local']).join() === '10.41.0.5');
  });

  it('--no-dns: no DNS routes, no status block, nothing listening', async () => {
    const c = await MeshRouter.start(lan.hosts[1]!, 1, {args: ['--ipalloc-range', RANGE, '--no-dns']});
    routers.push(c);
    assert.equal(c.process.api('GET', '/domain')[0], 404);
    assert.equal(c.process.api('PUT', '/name/c9/10.41.0.9', 'fqdn=x.weave.local.')[0], 404);
    assert.doesNotMatch(await c.text('/status'), /Service: dns/);
    assert.doesNotMatch(c.process.logs, /ignoring --no-dns/);
    assert.throws(
      () => c.host.ns.exec('dig', ['@127.0.0.1', '+time=1', '+tries=1', 'web.weave.local']),
      (error: {stdout?: string}) => /connection refused|no servers could be reached/.test(String(error.stdout)),
    );
    const lookup = await weaveIn(c.host.ns, ['dns-lookup', 'web']);
    assert.equal(lookup.exitCode, 4);
    assert.match(lookup.stderr, /weaveDNS is off on this router/);
  });
});
