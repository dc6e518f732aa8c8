import assert from 'node:assert/strict';
import {ChildProcess, type SpawnOptions} from 'node:child_process';
import {mkdtempSync, rmSync, symlinkSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import type {AddressInfo} from 'node:net';
import type {Server} from 'node:http';
import {after, before, describe, it} from 'mocha';
import {Dataplane, type DataplaneOptions} from '../../src/lib/router/dataplane/dataplane.js';
import {registerDataplaneRoutes} from '../../src/lib/router/dataplane/http.js';
import {teardownDataplane} from '../../src/lib/router/dataplane/teardown.js';
import {RouteTable} from '../../src/lib/router/http/routes.js';
import {createApiServer} from '../../src/lib/router/http/server.js';
import {createLogger} from '../../src/lib/router/log.js';
import {pings} from '../helpers/cni-host.js';
import {Netns} from '../helpers/netns.js';
import {requireRoot, requireTool} from '../helpers/root.js';

const log = createLogger('error');

/** iptables-save without its timestamps and counters, so two dumps compare. */
function rules(ns: Netns): string {
  return ns
    .exec('iptables-save', [])
    .split('\n')
    .filter(line => !line.startsWith('#'))
    .map(line => line.replace(/\[\d+:\d+\]$/, '[0:0]'))
    .join('\n');
}

function tableOf(ns: Netns, table: string): string {
  return ns.exec('iptables-save', ['-t', table]);
}

function chainRules(ns: Netns, table: string, chain: string): string[] {
  return tableOf(ns, table)
    .split('\n')
    .filter(line => line.startsWith(`-A ${chain} `));
}

function link(ns: Netns, name: string): {mtu: number; flags: string[]; address: string; linkinfo?: {info_kind?: string}} {
  return JSON.parse(ns.exec('ip', ['-j', '-d', 'link', 'show', 'dev', name]))[0];
}

/** The command lines of the processes this process starts within `ms` (five of the tests' 200 ms canary intervals by default). */
async function spawnedDuring(ms = 1000): Promise<string[]> {
  // Every child process goes through ChildProcess#spawn (Node's own, untyped): note each, change nothing.
  const proto = ChildProcess.prototype as unknown as {spawn(this: ChildProcess, options: SpawnOptions & {args: string[]}): unknown};
  const spawned: string[] = [];
  const spawn = proto.spawn;
  proto.spawn = function (options) {
    spawned.push(options.args.join(' '));
    return spawn.call(this, options);
  };
  try {
    await new Promise(resolve => setTimeout(resolve, ms));
  } finally {
    proto.spawn = spawn;
  }
  return spawned;
}

async function until(condition: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (condition()) return true;
    await new Promise(r => setTimeout(r, 50));
  }
  return condition();
}

/** The address an "outside" server sees a pod connect from: it answers with the peer's address. */
function peerSeenByOutside(from: Netns): string {
  return from.exec('socat', ['-T', '3', '-u', 'TCP:192.168.78.2:7000,connect-timeout=3', 'STDOUT']).trim();
}

describe('router data plane in real namespaces', function () {
  requireRoot();
  requireTool('iptables-save', 'iptables');
  requireTool('ping', 'iputils-ping');
  requireTool('socat', 'socat');
  requireTool('nft', 'nftables');
  let host: Netns;
  let pod: Netns;
  let outside: Netns;
  let outsideServer: ChildProcess;
  let options: DataplaneOptions;
  let dataplane: Dataplane;
  let server: Server;
  let base: string;

  const api = (method: string, path: string, body?: string) =>
    fetch(`${base}${path}`, {method, ...(body === undefined ? {} : {body, headers: {'content-type': 'application/x-www-form-urlencoded'}})});

  before(async () => {
    host = Netns.create('wtdh');
    pod = Netns.create('wtdp');
    outside = Netns.create('wtdo');
    // "Outside": a network of its own behind the host, with no route back to the weave range.
    host.exec('ip', ['link', 'add', 'wtout', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', outside.path]);
    host.exec('ip', ['addr', 'add', '192.168.78.1/24', 'dev', 'wtout']);
    host.exec('ip', ['link', 'set', 'wtout', 'up']);
    outside.exec('ip', ['addr', 'add', '192.168.78.2/24', 'dev', 'eth0']);
    outside.exec('ip', ['link', 'set', 'eth0', 'up']);
    host.exec('sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']);
    // Docker's FORWARD policy: only our FORWARD rules let pods out and replies back in.
    host.exec('iptables', ['-P', 'FORWARD', 'DROP']);
    outsideServer = outside.spawnDetached(process.execPath, [
      '-e',
      "require('node:net').createServer(s => s.end(s.remoteAddress + '\\n')).listen(7000, '192.168.78.2')",
    ]);
    assert.ok(
      await until(() => {
        try {
          return peerSeenByOutside(host) === '192.168.78.1';
        } catch {
          return false;
        }
      }, 5000),
      'the outside server did not start',
    );

    options = {bridge: 'weave', mtu: 1376, meshPort: 6783, httpPort: 6784, netns: host.path, canaryIntervalMs: 200, log};
    dataplane = new Dataplane(options);
    const table = new RouteTable();
    registerDataplaneRoutes(table, {expose: (c, n) => dataplane.expose(c, n), hide: c => dataplane.hide(c)});
    server = createApiServer(table, () => {});
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    await dataplane?.stop();
    server?.closeAllConnections();
    server?.close();
    outsideServer?.kill();
    for (const ns of [pod, outside, host]) ns?.delete();
  });

  it('creates the bridge up, with its MTU and a MAC of its own, and the rules of the original', async () => {
    await dataplane.start();
    const bridge = link(host, 'weave');
    assert.equal(bridge.linkinfo?.info_kind, 'bridge');
    assert.equal(bridge.mtu, 1376);
    assert.ok(bridge.flags.includes('UP'));
    assert.equal(dataplane.mac, bridge.address);
    assert.equal(host.exec('sysctl', ['-n', 'net.ipv6.conf.weave.accept_ra']).trim(), '0');

    const filter = tableOf(host, 'filter');
    const forward = filter.split('\n').filter(l => l.startsWith('-A FORWARD '));
    assert.deepEqual(forward, [
      '-A FORWARD -i weave -o weave -j ACCEPT',
      '-A FORWARD -o weave -j WEAVE-EXPOSE',
      '-A FORWARD -i weave ! -o weave -j ACCEPT',
      '-A FORWARD -o weave -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    ]);
    assert.ok(
      filter.includes(
        '-A INPUT -d 127.0.0.1/32 -p tcp -m tcp --dport 6784 -m addrtype ! --src-type LOCAL -m conntrack ! --ctstate RELATED,ESTABLISHED -m comment --comment "Block non-local access to Weave Net control port" -j DROP',
      ),
    );
    assert.ok(!filter.includes('docker0'), 'no docker0 rules without docker0');
    assert.match(tableOf(host, 'nat'), /^-A POSTROUTING -j WEAVE$/m);
    for (const table of ['mangle', 'nat', 'filter']) assert.match(tableOf(host, table), /^:WEAVE-CANARY /m, table);
    assert.match(filter, /^:WEAVE-EXPOSE /m);

    // A pod on the bridge, in the default range, with its default route via the bridge address.
    host.exec('ip', ['link', 'add', 'vethwepod', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', pod.path]);
    host.exec('ip', ['link', 'set', 'vethwepod', 'master', 'weave', 'up']);
    pod.exec('ip', ['addr', 'add', '10.32.0.10/12', 'dev', 'eth0']);
    pod.exec('ip', ['link', 'set', 'eth0', 'up']);
    pod.exec('ip', ['route', 'add', 'default', 'via', '10.32.0.1', 'dev', 'eth0', 'onlink']);
    assert.equal(link(host, 'weave').address, bridge.address, 'a port must not change the bridge MAC (the peer name)');
  });

  it('the host reaches a pod after POST /expose and the pod reaches the outside as the host', async () => {
    assert.ok(!pings(host, '10.32.0.10'), 'reachable before expose');
    const res = await api('POST', '/expose/10.32.0.1/12');
    assert.equal(res.status, 204, await res.text());
    assert.match(host.exec('ip', ['-4', '-o', 'addr', 'show', 'dev', 'weave']), /inet 10\.32\.0\.1\/12/);
    assert.ok(pings(host, '10.32.0.10'), 'the host cannot reach the pod after expose');
    assert.deepEqual(chainRules(host, 'nat', 'WEAVE'), [
      '-A WEAVE -s 10.32.0.0/12 -d 224.0.0.0/4 -j RETURN',
      '-A WEAVE ! -s 10.32.0.0/12 -d 10.32.0.0/12 -j MASQUERADE',
      '-A WEAVE -s 10.32.0.0/12 ! -d 10.32.0.0/12 -j MASQUERADE',
    ]);
    assert.deepEqual(chainRules(host, 'filter', 'WEAVE-EXPOSE'), ['-A WEAVE-EXPOSE -d 10.32.0.0/12 -j ACCEPT']);
    // The outside has no route to 10.32.0.0/12: only the masquerade rule lets it answer.
    assert.equal(peerSeenByOutside(pod), '192.168.78.1');

    const again = await api('POST', '/expose/10.32.0.1/12', 'skipNAT=false');
    assert.equal(again.status, 204);
    assert.equal(chainRules(host, 'nat', 'WEAVE').length, 3, 'expose twice must not duplicate rules');
  });

  it('restarts idempotently: the bridge and its exposed address are adopted, no rule is duplicated', async () => {
    const before = rules(host);
    const mac = dataplane.mac;
    await dataplane.stop();
    dataplane = new Dataplane(options);
    await dataplane.start();
    assert.equal(rules(host), before);
    assert.equal(dataplane.mac, mac);
    assert.ok(pings(host, '10.32.0.10'));
    assert.equal(peerSeenByOutside(pod), '192.168.78.1');
  });

  it('puts the rules back after iptables -t nat -F and the nat canary deleted', async () => {
    const before = rules(host);
    host.exec('iptables', ['-t', 'nat', '-F']);
    host.exec('iptables', ['-t', 'nat', '-X', 'WEAVE-CANARY']);
    assert.ok(!rules(host).includes('-A POSTROUTING -j WEAVE'));
    assert.ok(await until(() => rules(host) === before, 5000), `rules not restored:\n${rules(host)}`);
    assert.equal(peerSeenByOutside(pod), '192.168.78.1');
  });

  it('puts the rules back after nft flush ruleset took every table', async () => {
    // The FORWARD policy (Docker's, set above) is not the router's: it goes with the tables.
    const before = rules(host).replace(':FORWARD DROP ', ':FORWARD ACCEPT ');
    host.exec('nft', ['flush', 'ruleset']);
    assert.equal(host.exec('nft', ['list', 'tables']), '');
    assert.ok(await until(() => rules(host) === before, 5000), `rules not restored:\n${rules(host)}`);
    host.exec('iptables', ['-P', 'FORWARD', 'DROP']);
    assert.equal(peerSeenByOutside(pod), '192.168.78.1');
  });

  it('checks its canary without starting a process while the chains are there', async () => {
    assert.deepEqual(await spawnedDuring(1000), []);
  });

  it('keeps skipNAT exposures unmasqueraded, through restarts and flushes', async () => {
    const res = await api('POST', '/expose/10.40.0.1/16?skipNAT=true');
    assert.equal(res.status, 204, await res.text());
    const nat = () => chainRules(host, 'nat', 'WEAVE').filter(r => r.includes('10.40.0.0/16'));
    assert.deepEqual(nat(), []);
    assert.deepEqual(chainRules(host, 'filter', 'WEAVE-EXPOSE'), [
      '-A WEAVE-EXPOSE -d 10.32.0.0/12 -j ACCEPT',
      '-A WEAVE-EXPOSE -d 10.40.0.0/16 -j ACCEPT',
    ]);
    await dataplane.stop();
    dataplane = new Dataplane(options);
    await dataplane.start();
    assert.deepEqual(nat(), [], 'a restart must not masquerade a skipNAT exposure');
    const before = rules(host);
    host.exec('iptables', ['-t', 'mangle', '-X', 'WEAVE-CANARY']);
    assert.ok(await until(() => rules(host) === before, 5000), 'rules not restored after the mangle canary went');
    assert.equal((await api('DELETE', '/expose/10.40.0.1/16')).status, 204);
  });

  it('the host no longer reaches the pod after DELETE /expose, and every rule of the network is gone', async () => {
    const res = await api('DELETE', '/expose/10.32.0.1/12');
    assert.equal(res.status, 204, await res.text());
    assert.doesNotMatch(host.exec('ip', ['-4', '-o', 'addr', 'show', 'dev', 'weave']), /10\.32\.0\.1/);
    assert.ok(!pings(host, '10.32.0.10'), 'the pod is still reachable after hide');
    assert.doesNotMatch(rules(host), /10\.32\.0\.0\/12|10\.40\.0\.0\/16/, 'the multicast RETURN rule must go too');
    assert.equal((await api('DELETE', '/expose/10.32.0.1/12')).status, 204, 'hide twice');
  });

  it('answers bad input with 400 and the reason, changing nothing', async () => {
    const before = rules(host);
    const cidrs = ['10.32.0.300/12', '10.32.0.1/33', 'abc/12', '10.32.0.1/x', '010.32.0.1/12', `${encodeURIComponent('10.32.0.1;reboot')}/12`, `${encodeURIComponent('fd00::1')}/64`];
    for (const cidr of cidrs) {
      for (const method of ['POST', 'DELETE']) {
        const res = await api(method, `/expose/${cidr}`);
        assert.equal(res.status, 400, `${method} ${cidr}`);
        assert.match(await res.text(), /^invalid CIDR address: .*\n$/);
      }
    }
    const bad = await api('POST', '/expose/10.32.0.1/12', 'skipNAT=maybe');
    assert.equal(bad.status, 400);
    assert.equal(await bad.text(), 'strconv.ParseBool: parsing "maybe": invalid syntax\n');
    assert.equal((await api('GET', '/expose/10.32.0.1/12')).status, 405);
    assert.equal((await api('POST', '/expose/10.32.0.1')).status, 404);
    assert.equal(rules(host), before);
    assert.doesNotMatch(host.exec('ip', ['-4', '-o', 'addr', 'show', 'dev', 'weave']), /10\.32\.0\.1/);
  });

  it('tears everything down for weave reset, twice in a row', async () => {
    await dataplane.stop();
    // The original's overlay veth pair: both ends go.
    host.exec('ip', ['link', 'add', 'vethwe-bridge', 'type', 'veth', 'peer', 'name', 'vethwe-pcap']);
    await teardownDataplane({bridge: 'weave', netns: host.path});
    await teardownDataplane({bridge: 'weave', netns: host.path});
    assert.deepEqual(host.links().sort(), ['lo', 'wtout']);
    assert.doesNotMatch(rules(host), /weave|WEAVE/i);
    assert.doesNotMatch(rules(host), /6784/);
  });
});

describe('router data plane over an existing set-up', function () {
  requireRoot();
  requireTool('iptables-save', 'iptables');

  it('adopts a bridge made by someone else, resets its MTU, re-exposes its address, adds docker0 rules', async () => {
    const host = Netns.create('wtdx');
    try {
      host.exec('ip', ['link', 'add', 'docker0', 'type', 'bridge']);
      host.exec('ip', ['addr', 'add', '172.17.0.1/16', 'dev', 'docker0']);
      host.exec('ip', ['link', 'add', 'weave', 'type', 'bridge']);
      host.exec('ip', ['addr', 'add', '10.32.0.1/12', 'dev', 'weave']);
      const options: DataplaneOptions = {bridge: 'weave', mtu: 1400, mac: '8a:3e:3e:3e:3e:3e', meshPort: 6783, netns: host.path, log};
      const first = new Dataplane(options);
      await first.start();
      await first.stop();
      const bridge = link(host, 'weave');
      assert.equal(bridge.mtu, 1400);
      assert.equal(bridge.address, '8a:3e:3e:3e:3e:3e');
      assert.ok(bridge.flags.includes('UP'));
      const saved = rules(host);
      assert.match(saved, /^-A FORWARD -i docker0 -o weave -j DROP\n-A FORWARD -i weave -o weave -j ACCEPT$/m);
      for (const rule of [
        '-A INPUT -d 172.17.0.1/32 -i docker0 -p tcp -m tcp --dport 6783 -j DROP',
        '-A INPUT -d 172.17.0.1/32 -i docker0 -p udp -m udp --dport 6783 -j DROP',
        '-A INPUT -d 172.17.0.1/32 -i docker0 -p udp -m udp --dport 6784 -j DROP',
        '-A INPUT -i docker0 -p udp -m udp --dport 53 -j ACCEPT',
        '-A INPUT -i docker0 -p tcp -m tcp --dport 53 -j ACCEPT',
        '-A WEAVE -s 10.32.0.0/12 ! -d 10.32.0.0/12 -j MASQUERADE',
        '-A WEAVE-EXPOSE -d 10.32.0.0/12 -j ACCEPT',
      ]) {
        assert.ok(saved.includes(rule), rule);
      }
      assert.doesNotMatch(saved, /127\.0\.0\.1/, 'no control-port rule when the API is on a unix socket');

      // Someone inserted a rule above ours: a restart moves ours back to the top, once each.
      host.exec('iptables', ['-I', 'FORWARD', '1', '-i', 'eth9', '-j', 'ACCEPT']);
      const second = new Dataplane(options);
      await second.start();
      await second.stop();
      const forward = rules(host).split('\n').filter(l => l.startsWith('-A FORWARD '));
      assert.deepEqual(forward, [...saved.split('\n').filter(l => l.startsWith('-A FORWARD ')), '-A FORWARD -i eth9 -j ACCEPT']);

      await teardownDataplane({bridge: 'weave', netns: host.path});
      assert.doesNotMatch(rules(host), /weave|WEAVE|docker0/i);
      assert.deepEqual(host.links().sort(), ['docker0', 'lo']);
    } finally {
      host.delete();
    }
  });

  it('refuses a link of another kind under the bridge name, with the original words', async () => {
    const host = Netns.create('wtdy');
    try {
      host.exec('ip', ['link', 'add', 'weave', 'type', 'veth', 'peer', 'name', 'weavepeer']);
      const dataplane = new Dataplane({bridge: 'weave', mtu: 1376, meshPort: 6783, netns: host.path, log});
      await assert.rejects(dataplane.start(), {message: "Inconsistent bridge state detected. Please do 'weave reset' and try again"});
      assert.doesNotMatch(rules(host), /WEAVE/, 'nothing is installed when the bridge is refused');
    } finally {
      host.delete();
    }
  });

  it('answers 500 "unable to expose" when there is no bridge', async () => {
    const host = Netns.create('wtdz');
    try {
      const dataplane = new Dataplane({bridge: 'weave', mtu: 1376, meshPort: 6783, netns: host.path, log});
      const table = new RouteTable();
      registerDataplaneRoutes(table, dataplane);
      const match = table.match('POST', '/expose/10.32.0.1/12');
      assert.ok('handler' in match);
      const res = await match.handler({
        method: 'POST',
        path: '/expose/10.32.0.1/12',
        params: match.params,
        form: new URLSearchParams(),
        headers: {},
        body: '',
        signal: new AbortController().signal,
      });
      assert.equal(res.status, 500);
      assert.match(res.body!, /^unable to expose: .*Cannot find device "weave"/);
    } finally {
      host.delete();
    }
  });
});

describe('router data plane on a host whose iptables is the legacy backend', function () {
  requireRoot();
  requireTool('iptables-legacy-save', 'iptables');
  requireTool('nft', 'nftables');
  let host: Netns;
  let bin: string;
  let dataplane: Dataplane;
  const path = process.env.PATH;

  before(async () => {
    host = Netns.create('wtdl');
    // `iptables` on this PATH is the legacy backend, as on a host outside the router's image.
    bin = mkdtempSync(join(tmpdir(), 'weave-legacy-'));
    for (const tool of ['iptables', 'iptables-save', 'iptables-restore']) symlinkSync(`/usr/sbin/${tool.replace('iptables', 'iptables-legacy')}`, join(bin, tool));
    process.env.PATH = `${bin}:${path}`;
    dataplane = new Dataplane({bridge: 'weave', mtu: 1376, meshPort: 6783, netns: host.path, canaryIntervalMs: 200, log});
    await dataplane.start();
  });

  after(async () => {
    await dataplane?.stop();
    process.env.PATH = path;
    host?.delete();
    if (bin) rmSync(bin, {recursive: true, force: true});
  });

  it('finds its canaries through iptables-save when nftables has none, and restores nothing', async () => {
    assert.match(host.exec('iptables-legacy-save', ['-t', 'nat']), /^:WEAVE-CANARY /m);
    assert.equal(host.exec('nft', ['list', 'tables']), '', 'the rules must be outside nftables');
    const spawned = await spawnedDuring();
    assert.ok(spawned.some(line => line.endsWith(' iptables-save')), `no check asked iptables-save: ${spawned.join(', ')}`);
    assert.deepEqual(
      spawned.filter(line => !line.endsWith(' iptables-save')),
      [],
      'a canary found must not be restored',
    );
  });

  it('puts the rules back after the nat canary is deleted', async () => {
    const legacyRules = () => host.exec('iptables-legacy-save', []).split('\n').filter(line => !line.startsWith('#')).map(line => line.replace(/\[\d+:\d+\]$/, '[0:0]')).join('\n');
    const before = legacyRules();
    host.exec('iptables-legacy', ['-t', 'nat', '-X', 'WEAVE-CANARY']);
    assert.ok(await until(() => legacyRules() === before, 5000), `rules not restored:\n${legacyRules()}`);
  });
});
