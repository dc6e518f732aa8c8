import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import {existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {parseLaunchArgs, routerArgs} from '../../src/lib/docker/launch-args.js';
import {VERSION} from '../../src/lib/package.js';
import {Netns} from '../helpers/netns.js';
import {requireRoot} from '../helpers/root.js';
import {ipIn, RouterProcess} from '../helpers/router.js';
import {WEAVE_BIN} from '../helpers/setup-cli.js';

/**
 * Issue 13: every flag of weave 2.8.1's router (prog/weaver/main.go) and every variable its
 * script and Kubernetes addon read, each on a real router process: accepted, with its effect or
 * with one warning line naming why it has none here.
 */

interface Report {
  Version: string;
  VersionCheck: {Enabled: boolean};
  Router: {Name: string; NickName: string; Port: number; ProtocolMinVersion: number; Encryption: boolean; PeerDiscovery: boolean; Targets: string[] | null; TrustedSubnets: string[]};
  IPAM?: {Range: string; DefaultSubnet: string; Entries: unknown[] | null};
}

function report(r: RouterProcess, addr = '127.0.0.1:6784'): Report {
  return JSON.parse(r.ns.exec('curl', ['-sf', '-H', 'Accept: application/json', `http://${addr}/report`])) as Report;
}

/** The router's warning lines (its log is one JSON object per line). */
function warnings(r: RouterProcess): string[] {
  return r.logs
    .split('\n')
    .filter(line => line.startsWith('{'))
    .map(line => JSON.parse(line) as {level: string; msg: string})
    .filter(entry => entry.level === 'warning')
    .map(entry => entry.msg);
}

/** Whether anything answers HTTP at `addr` inside the router's namespace. */
function answers(r: RouterProcess, addr: string): boolean {
  try {
    r.api('GET', '/metrics', undefined, addr);
    return true;
  } catch {
    return false;
  }
}

function mtuOf(r: RouterProcess, link: string): number {
  return (JSON.parse(ipIn(r.ns, ['-j', 'link', 'show', link])) as {mtu: number}[])[0]!.mtu;
}

/** `weave router <args>` run to its end in a namespace of its own (for the flags that answer and exit). */
function runRouterCommand(args: string[], env: Record<string, string> = {}): {status: number | null; stdout: string; stderr: string} {
  const ns = Netns.create('wtcx');
  try {
    const run = spawnSync('nsenter', [`--net=${ns.path}`, process.execPath, WEAVE_BIN, 'router', ...args], {encoding: 'utf8', env: {...process.env, ...env}});
    return {status: run.status, stdout: run.stdout, stderr: run.stderr};
  } finally {
    ns.delete();
  }
}

interface Row {
  what: string;
  args?: string[];
  env?: Record<string, string>;
  readyAddr?: string;
  bare?: boolean;
  check(r: RouterProcess): void;
}

/** A flag or variable whose only answer here is a warning: the reason its line must give. */
interface Warned {
  args: string[];
  /** How the warning names it. */
  name: string;
  reason: RegExp;
}

const PROXY = /there is no Docker API proxy/;
const PLUGIN = /there is no Docker network plugin/;
const ODP = /without Open vSwitch \(ODP\)/;
const CAPTURE = /nothing to capture or log/;
const DISCOVERY = /peer discovery service no longer exists/;

/** weave 2.8.1's router flags for what this router does not have, with a value each as a launch line would give it. */
const WARNED: Warned[] = [
  {args: ['--proxy'], name: '--proxy', reason: PROXY},
  {args: ['-H', 'unix:///var/run/weave/weave.sock'], name: '-H', reason: PROXY},
  {args: ['--hostname-from-label', 'app'], name: '--hostname-from-label', reason: PROXY},
  {args: ['--hostname-match', '^aws-[0-9]+-(.*)$'], name: '--hostname-match', reason: PROXY},
  {args: ['--hostname-replacement', 'my-app-$1'], name: '--hostname-replacement', reason: PROXY},
  {args: ['--rewrite-inspect'], name: '--rewrite-inspect', reason: PROXY},
  {args: ['--no-default-ipalloc'], name: '--no-default-ipalloc', reason: PROXY},
  {args: ['--no-rewrite-hosts'], name: '--no-rewrite-hosts', reason: PROXY},
  {args: ['--without-dns'], name: '--without-dns', reason: PROXY},
  {args: ['--no-multicast-route'], name: '--no-multicast-route', reason: PROXY},
  {args: ['--tls'], name: '--tls', reason: PROXY},
  {args: ['--tlsverify'], name: '--tlsverify', reason: PROXY},
  {args: ['--tlscacert', '/home/weave/tls/ca.pem'], name: '--tlscacert', reason: PROXY},
  {args: ['--tlscert', '/home/weave/tls/cert.pem'], name: '--tlscert', reason: PROXY},
  {args: ['--tlskey', '/home/weave/tls/key.pem'], name: '--tlskey', reason: PROXY},
  {args: ['--plugin'], name: '--plugin', reason: PLUGIN},
  {args: ['--plugin-v2'], name: '--plugin-v2', reason: PLUGIN},
  {args: ['--plugin-v2-multicast'], name: '--plugin-v2-multicast', reason: PLUGIN},
  {args: ['--plugin-socket', '/run/docker/plugins/weave.sock'], name: '--plugin-socket', reason: PLUGIN},
  {args: ['--plugin-mesh-socket', '/run/docker/plugins/weavemesh.sock'], name: '--plugin-mesh-socket', reason: PLUGIN},
  {args: ['--docker-bridge', 'br-other'], name: '--docker-bridge', reason: /guards docker0 alone/},
  {args: ['--datapath', 'datapath'], name: '--datapath', reason: ODP},
  {args: ['--no-bridged-fastdp'], name: '--no-bridged-fastdp', reason: ODP},
  {args: ['--no-fastdp'], name: '--no-fastdp', reason: /always goes through kernel VXLAN/},
  {args: ['--pkt-debug'], name: '--pkt-debug', reason: CAPTURE},
  {args: ['--bufsz', '16'], name: '--bufsz', reason: CAPTURE},
  {args: ['--awsvpc'], name: '--awsvpc', reason: /AWS VPC mode is not supported/},
  {args: ['--token', 'abc'], name: '--token', reason: DISCOVERY},
  {args: ['--peer-discovery-url', 'https://cloud.weave.works/api/net'], name: '--peer-discovery-url', reason: DISCOVERY},
  {args: ['--advertise-address', '192.168.1.1'], name: '--advertise-address', reason: DISCOVERY},
  {args: ['--expect-npc'], name: '--expect-npc', reason: /weave-npc/},
  {args: ['--no-masq-local'], name: '--no-masq-local', reason: /masqueraded, to local pods too/},
  {args: ['--proc-path', '/host/proc'], name: '--proc-path', reason: /host's pid namespace/},
  {args: ['--profile', '/tmp/prof'], name: '--profile', reason: /--cpu-prof/},
];

/** The line that names `name` among its flags (`ignoring --a, --b: why`). */
const lineNaming = (lines: string[], name: string) => lines.filter(l => /^ignoring (.*?): /.exec(l)?.[1]!.split(', ').includes(name));

describe("weave 2.8.1's router flags and variables, on a real router (issue 13)", function () {
  this.timeout(120_000);
  requireRoot();
  const temp = mkdtempSync(join(tmpdir(), 'weave-compat-'));
  after(() => rmSync(temp, {recursive: true, force: true}));

  const rows: Row[] = [
    // Flags that work here as in the original.
    {what: '--port', args: ['--port', '7783'], check: r => assert.equal(report(r).Router.Port, 7783)},
    {what: '--host', args: ['--host', '127.0.0.1'], check: r => assert.match(r.ns.exec('ss', ['-Hltn']), /127\.0\.0\.1:6783 /)},
    {what: '--name', args: ['--name', '::7'], check: r => assert.equal(report(r).Router.Name, '00:00:00:00:00:07')},
    {what: '--nickname', args: ['--nickname', 'fx1'], check: r => assert.equal(report(r).Router.NickName, 'fx1')},
    {
      what: '--password: encryption on, with a warning that it shows in ps',
      args: ['--password', 's3cret'],
      check: r => {
        assert.equal(report(r).Router.Encryption, true);
        assert.equal(warnings(r).filter(w => /--password flag shows in ps/.test(w)).length, 1);
      },
    },
    {what: '--log-level', args: ['--log-level', 'warning'], check: r => assert.doesNotMatch(r.logs, /"level":"info"/)},
    {what: '--conn-limit', args: ['--conn-limit', '0'], check: r => assert.equal(report(r).Router.Port, 6783)},
    {what: '--no-discovery', args: ['--no-discovery'], check: r => assert.equal(report(r).Router.PeerDiscovery, false)},
    {what: '--resume', args: ['--resume'], check: r => assert.equal(report(r).Router.Targets, null)},
    {what: '--trusted-subnets', args: ['--trusted-subnets', '10.9.0.0/16,192.168.0.0/24'], check: r => assert.deepEqual(report(r).Router.TrustedSubnets, ['10.9.0.0/16', '192.168.0.0/24'])},
    {what: '--min-protocol-version', args: ['--min-protocol-version', '2'], check: r => assert.equal(report(r).Router.ProtocolMinVersion, 2)},
    {what: '--weave-bridge', args: ['--weave-bridge', 'wbr1'], check: r => assert.ok(r.ns.links().includes('wbr1'))},
    {what: '--mtu', args: ['--mtu', '1400'], check: r => assert.equal(mtuOf(r, 'weave'), 1400)},
    {what: '--mtu 0 (the default: from the network; with no peer and no default route, 1376)', args: ['--mtu', '0'], check: r => assert.equal(mtuOf(r, 'weave'), 1376)},
    {what: '--http-addr', args: ['--http-addr', '127.0.0.1:7784'], readyAddr: '127.0.0.1:7784', check: r => assert.equal(report(r, '127.0.0.1:7784').Router.Port, 6783)},
    {what: '--http-addr "" (no control API)', args: ['--http-addr', ''], readyAddr: '127.0.0.1:6782', check: r => assert.equal(answers(r, '127.0.0.1:6784'), false)},
    {what: '--status-addr', args: ['--status-addr', '127.0.0.1:7782'], check: r => assert.equal(r.api('GET', '/status', undefined, '127.0.0.1:7782')[0], 200)},
    {what: '--status-addr "" (none)', args: ['--status-addr', ''], check: r => assert.equal(answers(r, '127.0.0.1:6782'), false)},
    {
      what: '--metrics-addr: /metrics alone',
      args: ['--metrics-addr', '127.0.0.1:7781'],
      check: r => {
        assert.equal(r.api('GET', '/metrics', undefined, '127.0.0.1:7781')[0], 200);
        assert.equal(r.api('GET', '/status', undefined, '127.0.0.1:7781')[0], 404);
      },
    },
    {what: '--ipalloc-range', args: ['--ipalloc-range', '10.40.0.0/16'], check: r => assert.equal(report(r).IPAM?.Range, '10.40.0.0/16')},
    {what: '--ipalloc-range "" (no IPAM)', args: ['--ipalloc-range', ''], check: r => assert.equal(report(r).IPAM, undefined)},
    {what: '--ipalloc-default-subnet', args: ['--ipalloc-default-subnet', '10.32.1.0/24'], check: r => assert.equal(report(r).IPAM?.DefaultSubnet, '10.32.1.0/24')},
    {what: '--ipalloc-init', args: ['--name', '::1', '--ipalloc-init', 'seed=::1'], check: r => assert.notEqual(report(r).IPAM?.Entries, null)},
    {
      what: '--db-prefix',
      bare: true,
      args: ['--nickname', 'db', '--db-prefix', join(temp, 'flag-')],
      check: () => assert.ok(existsSync(join(temp, 'flag-data.snap'))),
    },
    {
      what: "Go's flag syntax: one dash, quoted values, --bool=false, 0x integers",
      args: ['-nickname=q', '--no-discovery=false', '--conn-limit', '0x10', '--trusted-subnets="10.9.0.0/16"'],
      check: r => {
        const {Router} = report(r);
        assert.deepEqual([Router.NickName, Router.PeerDiscovery, Router.TrustedSubnets], ['q', true, ['10.9.0.0/16']]);
      },
    },
    {
      what: 'asking for what this router does anyway gives no warning: --plugin=false --proxy=false --docker-api "" --docker-bridge docker0',
      args: ['--plugin=false', '--proxy=false', '--docker-api', '', '--docker-bridge', 'docker0'],
      check: r => assert.deepEqual(warnings(r), []),
    },

    // The Kubernetes addon's variables, read by the router process.
    {what: 'IPALLOC_RANGE', env: {IPALLOC_RANGE: '10.40.0.0/16'}, check: r => assert.equal(report(r).IPAM?.Range, '10.40.0.0/16')},
    {what: 'IPALLOC_RANGE below --ipalloc-range', env: {IPALLOC_RANGE: '10.40.0.0/16'}, args: ['--ipalloc-range', '10.44.0.0/16'], check: r => assert.equal(report(r).IPAM?.Range, '10.44.0.0/16')},
    {
      what: 'EXTRA_ARGS below the variables',
      env: {EXTRA_ARGS: '--trusted-subnets=10.9.0.0/16 --ipalloc-range=10.48.0.0/16', IPALLOC_RANGE: '10.40.0.0/16'},
      check: r => {
        const {Router, IPAM} = report(r);
        assert.deepEqual([Router.TrustedSubnets, IPAM?.Range], [['10.9.0.0/16'], '10.40.0.0/16']);
      },
    },
    {what: 'IPALLOC_INIT', env: {IPALLOC_INIT: 'seed=::1'}, args: ['--name', '::1'], check: r => assert.notEqual(report(r).IPAM?.Entries, null)},
    {what: 'CONN_LIMIT', env: {CONN_LIMIT: '0'}, check: r => assert.equal(report(r).Router.Port, 6783)},
    {what: 'DB_PREFIX', bare: true, env: {DB_PREFIX: join(temp, 'k8s-')}, args: ['--nickname', 'db'], check: () => assert.ok(existsSync(join(temp, 'k8s-data.snap')))},
    {what: 'WEAVE_HTTP_ADDR', env: {WEAVE_HTTP_ADDR: '127.0.0.1:7784'}, readyAddr: '127.0.0.1:7784', check: r => assert.equal(report(r, '127.0.0.1:7784').Router.Port, 6783)},
    {what: 'WEAVE_STATUS_ADDR', env: {WEAVE_STATUS_ADDR: '127.0.0.1:7782'}, check: r => assert.equal(r.api('GET', '/status', undefined, '127.0.0.1:7782')[0], 200)},
    {what: 'WEAVE_METRICS_ADDR', env: {WEAVE_METRICS_ADDR: '127.0.0.1:7781'}, check: r => assert.equal(r.api('GET', '/metrics', undefined, '127.0.0.1:7781')[0], 200)},
    {what: 'WEAVE_MTU', env: {WEAVE_MTU: '1400'}, check: r => assert.equal(mtuOf(r, 'weave'), 1400)},
    {what: 'WEAVE_NO_FASTDP', env: {WEAVE_NO_FASTDP: '1'}, check: r => assert.equal(lineNaming(warnings(r), '--no-fastdp').length, 1)},
    {what: 'EXPECT_NPC=1', env: {EXPECT_NPC: '1'}, check: r => assert.equal(lineNaming(warnings(r), '--expect-npc').length, 1)},
    {what: 'EXPECT_NPC=0', env: {EXPECT_NPC: '0'}, check: r => assert.deepEqual(warnings(r), [])},
    {what: 'NO_MASQ_LOCAL=1', env: {NO_MASQ_LOCAL: '1'}, check: r => assert.equal(lineNaming(warnings(r), '--no-masq-local').length, 1)},
    {what: 'NO_MASQ_LOCAL=0', env: {NO_MASQ_LOCAL: '0'}, check: r => assert.deepEqual(warnings(r), [])},
    {what: 'KUBE_PEERS', env: {KUBE_PEERS: '127.0.0.2:7000'}, check: r => assert.deepEqual(report(r).Router.Targets, ['127.0.0.2:7000'])},
    {
      what: 'WEAVE_PASSWORD: encryption on, no warning',
      env: {WEAVE_PASSWORD: 's3cret'},
      check: r => {
        assert.equal(report(r).Router.Encryption, true);
        assert.deepEqual(warnings(r), []);
      },
    },
    {what: 'CHECKPOINT_DISABLE: the version check is always off', env: {CHECKPOINT_DISABLE: '1'}, check: r => assert.equal(report(r).VersionCheck.Enabled, false)},

    // What `weave launch` makes of the script's variables, run by a real router.
    {
      what: 'the launch script\'s WEAVE_PORT, WEAVE_MTU, WEAVE_HTTP_ADDR, WEAVE_STATUS_ADDR, WEAVE_NO_FASTDP, WEAVE_NO_BRIDGED_FASTDP, DOCKER_BRIDGE',
      bare: true,
      args: [
        '--db-prefix',
        join(temp, 'launch-'),
        ...routerArgs(parseLaunchArgs([]), {
          hostname: 'launched',
          env: {WEAVE_PORT: '7783', WEAVE_MTU: '1400', WEAVE_HTTP_ADDR: '127.0.0.1:7784', WEAVE_STATUS_ADDR: '127.0.0.1:7782', WEAVE_NO_FASTDP: '1', WEAVE_NO_BRIDGED_FASTDP: '1', DOCKER_BRIDGE: 'br-other'},
        }),
      ],
      readyAddr: '127.0.0.1:7784',
      check: r => {
        const {Router} = report(r, '127.0.0.1:7784');
        assert.deepEqual([Router.Port, Router.NickName, mtuOf(r, 'weave')], [7783, 'launched', 1400]);
        assert.equal(r.api('GET', '/status', undefined, '127.0.0.1:7782')[0], 200);
        const lines = warnings(r);
        for (const name of ['--no-fastdp', '--no-bridged-fastdp', '--docker-bridge']) assert.equal(lineNaming(lines, name).length, 1, name);
      },
    },
  ];

  for (const row of rows) {
    it(row.what, async () => {
      const ns = Netns.create('wtc');
      let router: RouterProcess | undefined;
      try {
        router = await RouterProcess.start(ns, {
          ...(row.args ? {args: row.args} : {}),
          ...(row.env ? {env: row.env} : {}),
          ...(row.readyAddr ? {readyAddr: row.readyAddr} : {}),
          ...(row.bare ? {bare: true} : {}),
        });
        row.check(router);
      } finally {
        await router?.destroy();
        ns.delete();
      }
    });
  }

  it('every flag for what this router lacks, all at once: accepted, one warning line per reason naming its flags', async () => {
    const ns = Netns.create('wtc');
    let router: RouterProcess | undefined;
    try {
      router = await RouterProcess.start(ns, {args: WARNED.flatMap(w => w.args)});
      const lines = warnings(router);
      for (const {name, reason} of WARNED) {
        const naming = lineNaming(lines, name);
        assert.equal(naming.length, 1, `one warning line names ${name}:\n${lines.join('\n')}`);
        assert.match(naming[0]!, reason, name);
      }
      assert.equal(lines.length, new Set(WARNED.map(w => w.reason.source)).size, `one line per reason:\n${lines.join('\n')}`);
    } finally {
      await router?.destroy();
      ns.delete();
    }
  });

  it('--version answers "weave <version>" and exits 0, as the original', () => {
    assert.deepEqual(runRouterCommand(['--version']), {status: 0, stdout: `weave ${VERSION}\n`, stderr: ''});
  });

  it('--print-peer-name prints the name and exits 0; --name gives it', () => {
    assert.deepEqual(runRouterCommand(['--name', '::9', '--print-peer-name']), {status: 0, stdout: '00:00:00:00:00:09\n', stderr: ''});
  });

  it('--host-root and HOST_ROOT: the machine id under it derives the peer name', () => {
    const roots = ['a', 'b'].map(id => {
      const root = join(temp, `root-${id}`);
      mkdirSync(join(root, 'etc'), {recursive: true});
      writeFileSync(join(root, 'etc', 'machine-id'), `${id.repeat(32)}\n`);
      return root;
    });
    const byFlag = roots.map(root => runRouterCommand(['--print-peer-name', '--host-root', root]).stdout);
    const byVariable = roots.map(root => runRouterCommand(['--print-peer-name'], {HOST_ROOT: root}).stdout);
    assert.match(byFlag[0]!, /^[0-9a-f]{2}(:[0-9a-f]{2}){5}\n$/);
    assert.notEqual(byFlag[0], byFlag[1]);
    assert.deepEqual(byVariable, byFlag);
  });

  it('a bad value in a variable is named as the flag it stands for, before anything starts', () => {
    const run = runRouterCommand([], {CONN_LIMIT: 'many'});
    assert.equal(run.status, 2);
    assert.match(run.stderr, /^Parsing --conn-limit: expected an integer but received: many\n/);
  });
});
