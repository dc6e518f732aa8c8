import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import {isIPv4} from 'node:net';
import {withBusyboxRootfs} from '../helpers/busybox.js';
import {DockerHost} from '../helpers/docker-host.js';
import {Lan} from '../helpers/lan.js';
import {requireRoot, requireTool} from '../helpers/root.js';

const IMAGE = 'weave-test-busybox:1';

/**
 * `weave attach`, `detach` and `ps` for Docker containers on two simulated hosts, each with its
 * own dockerd and router (launched by `weave launch`, which hands the router the engine's socket
 * for check-alive): addresses in every form, the interface as weave 2.8.1 made it, pings across
 * the hosts, names in weaveDNS across the hosts, and addresses (and names) freed when a
 * container goes, also while the router is down.
 */
describe('weave attach and detach of Docker containers on two hosts', function () {
  requireRoot();
  requireTool('dockerd', 'docker.io');
  requireTool('curl', 'curl');
  requireTool('ping', 'iputils-ping');
  this.timeout(300_000);

  let lan: Lan;
  let a: DockerHost;
  let b: DockerHost;
  let seq = 0;
  /** The container attached on B by the ping test, which the weaveDNS tests ask from. */
  let peerOnB: string;

  /** A container of busybox `sleep` with no network of Docker's; its full id. */
  const run = (host: DockerHost, ...options: string[]): string => host.engine.must(['run', '-d', '--name', `c${++seq}`, ...options, IMAGE, 'sleep', '3600']);
  const pid = (host: DockerHost, id: string): number => host.inspect(id)!.State.Pid;
  /** A command inside the container's network namespace, with this machine's tools. */
  const inNetns = (host: DockerHost, id: string, cmd: string[]): string => execFileSync('nsenter', [`--net=/proc/${pid(host, id)}/ns/net`, ...cmd], {encoding: 'utf8'});
  const attach = (host: DockerHost, args: string[]) => {
    const out = host.weave(['attach', ...args]);
    assert.equal(out.exitCode, 0, out.stderr);
    assert.equal(out.stderr, '');
    return out.stdout;
  };
  const held = (host: DockerHost, id: string, subnet = '') => host.api('GET', `/ip/${id}${subnet}`)[1].split(' ').filter(Boolean);
  const ethwe = (host: DockerHost, id: string) =>
    (JSON.parse(inNetns(host, id, ['ip', '-j', 'addr', 'show', 'dev', 'ethwe'])) as {address: string; mtu: number; addr_info: {family: string; local: string; prefixlen: number}[]}[])[0]!;
  const cidrsOf = (host: DockerHost, id: string) => ethwe(host, id).addr_info.filter(i => i.family === 'inet').map(i => `${i.local}/${i.prefixlen}`);

  before(async () => {
    lan = Lan.create(2, {subnet: '192.168.97'});
    [a, b] = await Promise.all(lan.hosts.map(h => DockerHost.start({ns: h.ns})));
    withBusyboxRootfs(tarball => {
      for (const host of [a, b]) host.engine.must(['import', tarball, IMAGE]);
    });
    // The simulated hosts share this machine's id: each router is named. B dials A until it answers.
    const launched = await Promise.all([a.weaveAsync(['launch', '--name', '0e:00:00:00:97:01']), b.weaveAsync(['launch', '--name', '0e:00:00:00:97:02', lan.hosts[0]!.ip])]);
    for (const run of launched) assert.equal(run.exitCode, 0, run.stderr);
  });

  after(async () => {
    await Promise.all([a, b].filter(Boolean).map(host => host.destroy()));
    lan?.destroy();
  });

  it('attaches a container: ethwe with an address from IPAM under its id, vethwepl<pid> on the bridge, MTU of the bridge, hairpin, multicast route and rules', () => {
    const id = run(a);
    const out = attach(a, [`c${seq}`]);
    assert.match(out, /^10\.32\.\d+\.\d+\n$/);
    const [cidr] = held(a, id);
    assert.equal(cidr!.split('/')[0], out.trim());
    assert.deepEqual(cidrsOf(a, id), [cidr]);
    const veth = `vethwepl${pid(a, id)}`;
    const [port] = JSON.parse(a.ip(['-j', '-d', 'link', 'show', 'dev', veth])) as {master: string; mtu: number; ifalias: string; linkinfo: {info_slave_data: {hairpin: boolean}}}[];
    assert.equal(port!.master, 'weave');
    assert.equal(port!.linkinfo.info_slave_data.hairpin, true);
    assert.equal(port!.ifalias, `docker:${id}`);
    const bridgeMtu = (JSON.parse(a.ip(['-j', 'link', 'show', 'dev', 'weave'])) as {mtu: number}[])[0]!.mtu;
    assert.equal(ethwe(a, id).mtu, bridgeMtu);
    assert.match(inNetns(a, id, ['ip', 'route', 'show', 'dev', 'ethwe']), /^224\.0\.0\.0\/4 scope link/m);
    const input = inNetns(a, id, ['iptables', '-S', 'INPUT']);
    assert.match(input, /-A INPUT -s 10\.32\.0\.0\/12 -d 224\.0\.0\.0\/4 -i ethwe -j ACCEPT\n-A INPUT -d 224\.0\.0\.0\/4 -i ethwe -j DROP/);
  });

  it('attaching again gives the same address and changes nothing in the container', () => {
    const id = a.inspect(`c${seq}`)!.Id;
    const before = [cidrsOf(a, id), inNetns(a, id, ['iptables', '-S', 'INPUT']), inNetns(a, id, ['ip', 'route'])];
    const again = attach(a, [id.slice(0, 12)]);
    assert.equal(again.trim(), before[0]![0]!.split('/')[0]);
    assert.deepEqual([cidrsOf(a, id), inNetns(a, id, ['iptables', '-S', 'INPUT']), inNetns(a, id, ['ip', 'route'])], before);
  });

  it('pings between containers attached on the two hosts', async () => {
    const onA = a.inspect(`c${seq}`)!.Id;
    const onB = (peerOnB = run(b));
    const ipB = attach(b, [onB]).trim();
    const ipA = cidrsOf(a, onA)[0]!.split('/')[0]!;
    assert.notEqual(ipA, ipB);
    // The overlay between the hosts comes up with the connection: wait for it, then ping both ways.
    await a.until('the peers to connect', () => /Connections: 1 \(1 established\)/.test(a.weave(['status']).stdout), 60_000);
    inNetns(a, onA, ['ping', '-c', '2', '-W', '3', '-i', '0.2', ipB]);
    inNetns(b, onB, ['ping', '-c', '2', '-W', '3', '-i', '0.2', ipA]);
  });

  it('registers the fully qualified hostname of a container attached on A in weaveDNS: a container on B resolves it, and so does `weave dns-lookup` on B', async () => {
    const id = run(a, '--hostname', 'dnsweb.weave.local');
    const ip = attach(a, [id]).trim();
    // No docker0 on these hosts: B's weaveDNS listens on 0.0.0.0:53 in the host's namespace, which
    // B's container reaches on the bridge's exposed address (the original users' `weave expose`).
    const exposed = b.weave(['expose']);
    assert.equal(exposed.exitCode, 0, exposed.stderr);
    const server = exposed.stdout.trim();
    assert.ok(isIPv4(server), exposed.stdout);
    const nslookup = () => b.engine.docker(['exec', peerOnB, 'nslookup', '-type=a', 'dnsweb.weave.local', server]);
    // The name reaches B by gossip: wait for its answer.
    await b.until('the name registered on A to resolve in a container on B', () => new RegExp(`^Address:\\s+${ip.replaceAll('.', '\\.')}$`, 'm').test(nslookup().stdout), 15_000);
    assert.equal(b.weave(['dns-lookup', 'dnsweb']).stdout, `${ip}\n`);
    assert.equal(b.weave(['dns-lookup', 'dnsweb.weave.local']).stdout, `${ip}\n`);
  });

  it('takes the name off on B when the container is removed on A (check-alive through --docker-api)', async () => {
    const id = a.inspect(`c${seq}`)!.Id;
    assert.notEqual(b.weave(['dns-lookup', 'dnsweb']).stdout, '', 'the name is known on B before');
    a.engine.must(['rm', '--force', id]);
    await b.until('the removed container\'s name to be gone on B', () => {
      const out = b.weave(['dns-lookup', 'dnsweb']);
      assert.equal(out.exitCode, 0, out.stderr);
      return out.stdout === '';
    }, 15_000);
  });

  it('--without-dns registers no name', () => {
    const id = run(a, '--hostname', 'quiet.weave.local');
    attach(a, ['--without-dns', id]);
    // A registers synchronously during attach: had it registered, A would list it already.
    const names = JSON.parse(a.api('GET', '/name')[1]) as {Hostname: string; ContainerID: string}[];
    assert.deepEqual(names.filter(n => n.ContainerID === id || n.Hostname.startsWith('quiet.')), []);
    assert.equal(a.weave(['dns-lookup', 'quiet']).stdout, '');
  });

  it('takes every address form: net:default, net:<cidr>, ip:<cidr> and a bare CIDR; detach takes them off one group at a time', () => {
    const id = run(a);
    const out = attach(a, ['net:default', 'net:10.32.4.0/24', 'ip:10.99.0.5/24', '10.98.0.7/16', `c${seq}`]);
    const ips = out.trim().split(' ');
    assert.equal(ips.length, 4, out);
    assert.match(ips[1]!, /^10\.32\.4\.\d+$/);
    assert.deepEqual(ips.slice(2), ['10.99.0.5', '10.98.0.7']);
    assert.deepEqual(cidrsOf(a, id).map(c => c.split('/')[0]).sort(), [...ips].sort());
    assert.equal(held(a, id, '/10.32.4.0/24').length, 1);
    assert.match(inNetns(a, id, ['iptables', '-S', 'INPUT']), /-s 10\.99\.0\.0\/24 -d 224\.0\.0\.0\/4 -i ethwe -j ACCEPT/);

    const first = a.weave(['detach', 'net:10.32.4.0/24', 'ip:10.99.0.5/24', id]);
    assert.equal(first.exitCode, 0, first.stderr);
    assert.equal(first.stdout, `${ips[1]} 10.99.0.5\n`);
    assert.deepEqual(cidrsOf(a, id).map(c => c.split('/')[0]).sort(), [ips[0], '10.98.0.7'].sort());
    assert.deepEqual(held(a, id, '/10.32.4.0/24'), [], 'the net: address is free again');
    assert.doesNotMatch(inNetns(a, id, ['iptables', '-S', 'INPUT']), /10\.99\.0\.0\/24/, 'its multicast rule went with it');

    const rest = a.weave(['detach', '10.98.0.7/16', 'net:default', id]);
    assert.equal(rest.exitCode, 0, rest.stderr);
    assert.equal(rest.stdout, `10.98.0.7 ${ips[0]}\n`);
    assert.doesNotMatch(inNetns(a, id, ['ip', 'link']), /ethwe/, 'the interface went with its last address');
    assert.doesNotMatch(inNetns(a, id, ['iptables', '-S', 'INPUT']), /ethwe/);
    assert.deepEqual(held(a, id), []);
    assert.equal(a.ns.links().filter(l => l === `vethwepl${pid(a, id)}`).length, 0);
  });

  it('--no-multicast-route leaves the route out; --rewrite-hosts writes /etc/hosts with the --add-host entries', () => {
    const id = run(a, '--hostname', 'web', '--domainname', 'weave.local');
    const ip = attach(a, ['--no-multicast-route', '--rewrite-hosts', '--add-host', 'db:10.1.2.3', '--add-host=cache:10.1.2.4', id]).trim();
    assert.doesNotMatch(inNetns(a, id, ['ip', 'route']), /224\.0\.0\.0/);
    const hosts = a.engine.must(['exec', id, 'cat', '/etc/hosts']);
    assert.match(hosts, new RegExp(`^${ip.replaceAll('.', '\\.')} +web\\.weave\\.local web$`, 'm'));
    assert.match(hosts, /^10\.1\.2\.3 +db$/m);
    assert.match(hosts, /^10\.1\.2\.4 +cache$/m);
    assert.match(hosts, /^127\.0\.0\.1 +localhost$/m);
  });

  it('`weave ps` lists the bridge, then each attached container as <id12> <mac> <cidrs>', () => {
    const id = a.inspect(`c${seq}`)!.Id;
    const out = a.weave(['ps']);
    assert.equal(out.exitCode, 0, out.stderr);
    const lines = out.stdout.trim().split('\n');
    assert.match(lines[0]!, /^weave:expose ([0-9a-f]{2}:){5}[0-9a-f]{2}/);
    const line = `${id.slice(0, 12)} ${ethwe(a, id).address} ${cidrsOf(a, id).join(' ')}`;
    assert.ok(lines.includes(line), `${line} in:\n${out.stdout}`);
    for (const row of lines.slice(1)) assert.match(row, /^[0-9a-f]{12} ([0-9a-f]{2}:){5}[0-9a-f]{2}( \d+\.\d+\.\d+\.\d+\/\d+)+$/);
    assert.deepEqual(a.weave(['ps', id.slice(0, 8)]).stdout, `${id.slice(0, 8)} ${ethwe(a, id).address} ${cidrsOf(a, id).join(' ')}\n`);
  });

  it('refuses what cannot be attached, in the original words, leaving no address behind', () => {
    const missing = a.weave(['attach', 'no-such-container']);
    assert.equal(missing.exitCode, 1);
    assert.match(missing.stderr, /unable to inspect container no-such-container: No such container: no-such-container/);
    const hostNet = run(a, '--network', 'host');
    const onHost = a.weave(['attach', hostNet]);
    assert.equal(onHost.exitCode, 1);
    assert.match(onHost.stderr, /^Container is running in the host network namespace, and therefore cannot be\nconnected to weave - perhaps the container was started with --net=host/);
    assert.deepEqual(held(a, hostNet), []);
    const stopped = run(a);
    a.engine.must(['kill', stopped]);
    const dead = a.weave(['attach', stopped]);
    assert.equal(dead.exitCode, 1);
    assert.match(dead.stderr, /not running/);
    assert.deepEqual(held(a, stopped), []);
  });

  it('frees the address of a container that is killed and removed (the router watches Docker)', async () => {
    const id = run(a);
    attach(a, [id]);
    assert.equal(held(a, id).length, 1);
    a.engine.must(['rm', '--force', id]);
    await a.until('the removed container\'s address to be free', () => held(a, id).length === 0, 15_000);
  });

  it('frees at start the address of a container removed while the router was down, never a CNI allocation', async () => {
    const id = run(a);
    attach(a, [id]);
    // A CNI pod's allocation under an id Docker does not know, and one not marked as a container's.
    const cniId = 'f'.repeat(64);
    assert.equal(a.api('POST', `/ip/${cniId}?origin=cni`)[0], 200);
    assert.equal(a.api('POST', '/ip/plain-owner')[0], 200);
    const stop = a.weave(['stop']);
    assert.equal(stop.exitCode, 0, stop.stderr);
    a.engine.must(['rm', '--force', id]);
    // Without a router, an address given explicitly is still attached, as the original.
    const withoutRouter = run(a);
    assert.equal(attach(a, ['10.97.0.9/24', withoutRouter]), '10.97.0.9\n');
    const relaunch = await a.weaveAsync(['launch', '--name', '0e:00:00:00:97:01']);
    assert.equal(relaunch.exitCode, 0, relaunch.stderr);
    await a.until('the address of the container removed meanwhile to be free', () => held(a, id).length === 0, 15_000);
    assert.equal(held(a, cniId).length, 1, 'the CNI allocation stays');
    assert.equal(held(a, 'plain-owner').length, 1, 'an allocation without check-alive stays');
  });
});
