import assert from 'node:assert/strict';
import {reportJson} from '../../src/lib/router/status/report.js';
import {httpError, text} from '../../src/lib/router/http/routes.js';
import {statusText} from '../../src/lib/router/status/text.js';
import {VERSION} from '../../src/lib/package.js';
import {Netns} from '../helpers/netns.js';
import {runPlugin} from '../helpers/plugin.js';
import {requireRoot} from '../helpers/root.js';
import {ipIn, RouterProcess} from '../helpers/router.js';
import {BUSY, NO_IPAM, NOT_READY} from '../helpers/router-states.js';
import {closedAddress, StatusServer} from '../helpers/status-server.js';
import {weave} from '../helpers/weave-cli.js';

/** No stack trace on any failure path. */
function assertNoTrace(stderr: string): void {
  assert.doesNotMatch(stderr, /^\s+at /m, `stderr holds a stack trace:\n${stderr}`);
}

describe('CLI commands that talk to the router', function () {
  this.timeout(60_000);

  describe('against the status routes over a fixed state', () => {
    let server: StatusServer;
    const connects: [string, string][][] = [];
    const run = (args: string[]) => weave(args, {env: {WEAVE_HTTP_ADDR: server.addr}});

    before(async () => {
      server = await StatusServer.start(BUSY);
      server.table.add('POST', '/connect', req => {
        connects.push([...req.form]);
        return req.form.getAll('peer').includes('no.such.host.invalid') ? httpError(400, 'lookup no.such.host.invalid: no such host') : text('');
      });
    });
    after(() => server.close());
    beforeEach(() => {
      server.state = BUSY;
      connects.length = 0;
    });

    it('status prints the summary between a blank first and last line', async () => {
      const out = await run(['status']);
      assert.equal(out.exitCode, 0, out.stderr);
      assert.equal(out.stdout, `\n${statusText(BUSY)}\n`);
      assert.equal(out.stderr, '');
    });

    it('status <page> prints the page alone', async () => {
      const out = await run(['status', 'targets']);
      assert.deepEqual([out.exitCode, out.stdout], [0, '192.168.48.12\n192.168.48.13:6783\n']);
      const peers = await run(['status', 'peers']);
      assert.ok(peers.stdout.startsWith('8a:3e:3e:3e:3e:3e(host1)\n   -> 192.168.48.12:6783    '), peers.stdout);
    });

    it('status with an unknown page names it and the pages there are, and exits 1', async () => {
      for (const args of [['status', 'bogus'], ['status', 'peers', 'extra']]) {
        const out = await run(args);
        assert.equal(out.exitCode, 1);
        assert.equal(out.stdout, '');
        assert.equal(out.stderr, `Invalid 'weave status' sub-command: ${args.slice(1).join(' ')}\nthe pages are targets, connections, peers, dns, ipam\n`);
      }
    });

    it('status fails with exit 1 and the page on stderr until the router is ready', async () => {
      server.state = NOT_READY;
      const out = await run(['status']);
      assert.deepEqual([out.exitCode, out.stdout, out.stderr], [1, '', statusText(NOT_READY)]);
    });

    it('status ipam without IPAM fails with the template error (exit 1, never 4)', async () => {
      server.state = NO_IPAM;
      const out = await run(['status', 'ipam']);
      assert.deepEqual([out.exitCode, out.stdout, out.stderr], [1, '', 'error during template execution\n']);
    });

    it('status --json prints the report the page comes from, indented as the report', async () => {
      const all = await run(['status', '--json']);
      assert.equal(all.exitCode, 0, all.stderr);
      assert.equal(all.stdout, `${reportJson(BUSY)}\n`, 'the whole report, UID digits and all');
      const peers = await run(['status', 'peers', '--json']);
      assert.deepEqual(
        (JSON.parse(peers.stdout) as {NickName: string}[]).map(p => p.NickName),
        ['host1', 'host2', 'host4'],
      );
      // A router without weaveDNS has no DNS in its report: null, as the original's `report -f '{{json .DNS}}'`.
      const dns = await run(['status', 'dns', '--json']);
      assert.deepEqual([dns.exitCode, dns.stdout], [0, 'null\n'], dns.stderr);
    });

    it('report prints the JSON as the router sends it, without a newline at the end', async () => {
      const out = await run(['report']);
      assert.deepEqual([out.exitCode, out.stdout], [0, reportJson(BUSY)]);
      assert.equal((await run(['report', '--json'])).stdout, reportJson(BUSY));
    });

    it('report -f runs the templates of the upstream tests', async () => {
      const cases: [string, string][] = [
        ['{{.Router.Name}}({{.Router.NickName}})', '8a:3e:3e:3e:3e:3e(host1)'],
        ['{{len .Router.Peers}}', '3'],
        ['{{.IPAM.DefaultSubnet}}', '10.32.0.0/12'],
        ['{{range .Router.Targets}}{{.}}\n{{end}}', '192.168.48.12\n192.168.48.13:6783\n'],
        ['{{.VersionCheck.Enabled}}', 'false'],
      ];
      for (const [template, expected] of cases) {
        const out = await run(['report', '-f', template]);
        assert.deepEqual([out.exitCode, out.stdout], [0, expected], template);
      }
    });

    it('report -f with a bad template prints the parse error and exits 1', async () => {
      const out = await run(['report', '-f', '{{.Router.Name']);
      assert.deepEqual([out.exitCode, out.stdout, out.stderr], [1, '', 'template: format:1: unclosed action\n']);
      server.state = NO_IPAM;
      const exec = await run(['report', '-f', '{{.IPAM.Range}}']);
      assert.deepEqual([exec.exitCode, exec.stderr], [1, 'error during template execution\n']);
    });

    it("version prints the script's line, then the router's", async () => {
      const out = await run(['version']);
      assert.deepEqual([out.exitCode, out.stdout], [0, `weave script ${VERSION}\nweave 2.8.1\n`]);
    });

    it('connect sends peer= for each peer; --replace alone clears the targets; a 400 goes to stderr', async () => {
      assert.equal((await run(['connect', '10.2.2.1', 'host2:6783'])).exitCode, 0);
      assert.equal((await run(['connect', '--replace'])).exitCode, 0);
      const bad = await run(['connect', 'no.such.host.invalid']);
      assert.deepEqual([bad.exitCode, bad.stdout, bad.stderr], [1, '', 'lookup no.such.host.invalid: no such host\n']);
      assert.deepEqual(connects, [[['peer', '10.2.2.1'], ['peer', 'host2:6783']], [['replace', 'true']], [['peer', 'no.such.host.invalid']]]);
    });

    it('--http-addr wins over WEAVE_HTTP_ADDR', async () => {
      const out = await weave(['report', '-f', '{{.Version}}', '--http-addr', server.addr], {env: {WEAVE_HTTP_ADDR: await closedAddress()}});
      assert.deepEqual([out.exitCode, out.stdout], [0, '2.8.1']);
    });
  });

  describe('with no router', () => {
    let addr: string;
    before(async () => {
      addr = await closedAddress();
    });
    const run = (args: string[]) => weave(args, {env: {WEAVE_HTTP_ADDR: addr}});

    for (const args of [['status'], ['status', 'peers'], ['report'], ['report', '-f', '{{.Version}}'], ['expose'], ['hide'], ['prime'], ['rmpeer', 'host3'], ['connect', 'host2'], ['forget', 'host2']]) {
      it(`${args.join(' ')} says the router is not running and how to start it, exit 1`, async () => {
        const out = await run(args);
        assert.equal(out.exitCode, 1, out.stderr);
        assert.equal(out.stdout, '');
        assert.match(out.stderr.replace(/\s*\n\s*›?\s*/g, ' '), new RegExp(`the weave router is not running at ${addr.replace(/\./g, '\\.')} \\(connection refused\\): start it with \`weave launch\``));
        assertNoTrace(out.stderr);
      });
    }

    it("version prints only the script's line", async () => {
      const out = await run(['version']);
      assert.deepEqual([out.exitCode, out.stdout, out.stderr], [0, `weave script ${VERSION}\n`, '']);
    });

    it('commands missing their arguments say so and where the usage is, and exit 1, before calling the router', async () => {
      for (const [args, message] of [
        [['connect'], "'weave connect' needs at least one peer (or --replace to forget all targets)"],
        [['forget'], "'weave forget' needs at least one peer"],
        [['rmpeer'], "'weave rmpeer' needs at least one peer name or nickname"],
        [['expose', 'not-an-address'], "Invalid address 'not-an-address' for 'weave expose': use [ip:]<cidr>, net:<cidr> or net:default"],
        [['hide', '10.2.0.1'], "Invalid address '10.2.0.1' for 'weave hide': use [ip:]<cidr>, net:<cidr> or net:default"],
      ] as const) {
        const out = await run([...args]);
        assert.equal(out.exitCode, 1, args.join(' '));
        assert.equal(out.stderr, `${message}\nSee \`weave ${args[0]} --help\`.\n`);
      }
    });

    it('status exits 1, never 2, even on a flag it does not know', async () => {
      const out = await run(['status', '--bogus']);
      assert.equal(out.exitCode, 1);
      assert.match(out.stderr, /Nonexistent flag: --bogus/);
    });

    it('a malformed WEAVE_HTTP_ADDR is named, exit 1', async () => {
      const out = await weave(['status'], {env: {WEAVE_HTTP_ADDR: 'localhost'}});
      assert.equal(out.exitCode, 1);
      assert.match(out.stderr, /invalid --http-addr \(WEAVE_HTTP_ADDR\) "localhost"/);
      assertNoTrace(out.stderr);
    });
  });

  describe('against a real router in its own network namespace', function () {
    requireRoot();
    let host: Netns;
    let router: RouterProcess;
    const pods: Netns[] = [];
    const run = (args: string[]) => weave(args, {netns: host});
    const bridgeMac = () => (JSON.parse(ipIn(host, ['-j', 'link', 'show', 'dev', 'weave'])) as {address: string}[])[0]!.address;
    const bridgeAddrs = () =>
      // `-4` leaves out a link without IPv4 addresses altogether.
      (JSON.parse(ipIn(host, ['-j', '-4', 'addr', 'show', 'dev', 'weave'])) as {addr_info: {local: string; prefixlen: number}[]}[]).flatMap(l =>
        l.addr_info.map(a => `${a.local}/${a.prefixlen}`),
      );

    before(async () => {
      host = Netns.create('wtc');
      // The target never answers: with the default quorum of two the ring would wait for it, as in the original.
      router = await RouterProcess.start(host, {args: ['--ipalloc-init', 'consensus=1', '10.2.2.1']});
    });
    after(async () => {
      await router?.destroy();
      for (const p of pods) p.delete();
      host?.delete();
    });

    it('status shows the same values as report -f, and the peers given as targets', async () => {
      const out = await run(['status']);
      assert.equal(out.exitCode, 0, out.stderr);
      assert.ok(out.stdout.startsWith(`\n        Version: ${VERSION} (version check update disabled)\n\n        Service: router\n`), out.stdout);
      assert.ok(out.stdout.includes('  DefaultSubnet: 10.32.0.0/12\n\n        Service: dns\n         Domain: weave.local.\n'), out.stdout);
      const field = (name: string) => new RegExp(`^ *${name}: (.*)$`, 'm').exec(out.stdout)?.[1];
      for (const [name, template] of [
        ['Name', '{{.Router.Name}}({{.Router.NickName}})'],
        ['Peers', '{{len .Router.Peers}}'],
        ['DefaultSubnet', '{{.IPAM.DefaultSubnet}}'],
        ['Targets', '{{len .Router.Targets}}'],
      ]) {
        assert.equal((await run(['report', '-f', template!])).stdout, field(name!), name);
      }
      assert.equal(field('Name'), `${bridgeMac()}(${host.name})`);
      assert.equal((await run(['status', 'targets'])).stdout, '10.2.2.1\n');
      assert.equal((JSON.parse((await run(['report'])).stdout) as {Ready: boolean}).Ready, true);
    });

    it("version prints the router's version on the second line", async () => {
      assert.equal((await run(['version'])).stdout, `weave script ${VERSION}\nweave ${VERSION}\n`);
    });

    it('expose gives the bridge the first address of the range, the same one each time', async () => {
      for (let i = 0; i < 2; i++) {
        const out = await run(['expose']);
        assert.deepEqual([out.exitCode, out.stdout, out.stderr], [0, '10.32.0.1\n', '']);
      }
      assert.deepEqual(bridgeAddrs(), ['10.32.0.1/12']);
      assert.equal((await run(['prime'])).exitCode, 0);
      assert.match((await run(['status', 'ipam'])).stdout, new RegExp(`^${bridgeMac()}\\(${host.name}\\) +1048576 IPs \\(100\\.0% of total\\) \\(1 active\\)\n$`));
    });

    it('ps lists the bridge first, then each pod the CNI plugin attached, with the MAC inside the pod', async () => {
      const pod = Netns.create('wtcp');
      pods.push(pod);
      const id = 'c11e0123456789abcdef';
      const env = {CNI_COMMAND: 'ADD', CNI_CONTAINERID: id, CNI_NETNS: pod.path, CNI_IFNAME: 'eth0', CNI_PATH: '/usr/lib/cni'};
      const add = await runPlugin({env, config: {cniVersion: '1.0.0', name: 'weave', type: 'weave-net'}, hostNetns: host.path});
      assert.equal(add.exitCode, 0, add.stdout + add.stderr);
      const address = (add.json as {ips: {address: string}[]}).ips[0]!.address;
      const podMac = (JSON.parse(pod.exec('ip', ['-j', 'link', 'show', 'dev', 'eth0'])) as {address: string}[])[0]!.address;

      const out = await run(['ps']);
      assert.equal(out.exitCode, 0, out.stderr);
      assert.equal(out.stdout, `weave:expose ${bridgeMac()} 10.32.0.1/12\n${id.slice(0, 12)} ${podMac} ${address}\n`);
      assert.equal((await run(['ps', 'c11e01'])).stdout, `c11e01 ${podMac} ${address}\n`);
      assert.equal((await run(['ps', 'weave:expose'])).stdout, `weave:expose ${bridgeMac()} 10.32.0.1/12\n`);
      assert.deepEqual(JSON.parse((await run(['ps', '--json', id])).stdout), [{id, mac: podMac, cidrs: [address]}]);

      const del = await runPlugin({env: {...env, CNI_COMMAND: 'DEL'}, config: {cniVersion: '1.0.0', name: 'weave', type: 'weave-net'}, hostNetns: host.path});
      assert.equal(del.exitCode, 0, del.stdout);
      assert.equal((await run(['ps'])).stdout, `weave:expose ${bridgeMac()} 10.32.0.1/12\n`);
    });

    it('expose of a given address claims it, without masquerading on request', async () => {
      const nat = () => host.exec('iptables', ['-t', 'nat', '-S', 'WEAVE']);
      const before = nat();
      assert.match(before, /-j MASQUERADE/, 'the first expose masquerades');
      const out = await run(['expose', 'ip:10.32.0.100/12', '--without-masquerade']);
      assert.deepEqual([out.exitCode, out.stdout], [0, '10.32.0.100\n']);
      assert.deepEqual(bridgeAddrs().sort(), ['10.32.0.1/12', '10.32.0.100/12']);
      assert.equal(nat(), before, 'no NAT rule for this one');
      assert.equal(router.api('GET', '/ip/weave:expose')[1], '10.32.0.1/12 10.32.0.100/12');
    });

    it('expose in a subnet outside the range fails with the router\'s answer, exit 1', async () => {
      const out = await run(['expose', 'net:10.99.0.0/16']);
      assert.equal(out.exitCode, 1);
      assert.equal(out.stdout, '');
      assert.match(out.stderr, /10\.99\.0\.0\/16/);
      assertNoTrace(out.stderr);
    });

    it('hide takes the IPAM addresses off the bridge and frees them; hiding again is a no-op', async () => {
      const out = await run(['hide']);
      assert.deepEqual([out.exitCode, out.stdout], [0, '10.32.0.1 10.32.0.100\n']);
      assert.deepEqual(bridgeAddrs(), []);
      assert.equal(router.api('GET', '/ip/weave:expose')[1], '');
      const again = await run(['hide']);
      assert.deepEqual([again.exitCode, again.stdout], [0, '\n']);
      assert.deepEqual([(await run(['hide', '10.32.0.100/12'])).exitCode], [0]);
    });

    it('rmpeer of an unknown peer takes over nothing', async () => {
      const out = await run(['rmpeer', 'nosuchpeer']);
      assert.deepEqual([out.exitCode, out.stdout], [0, '0 IPs taken over from nosuchpeer\n']);
    });
  });

  describe('against a real router with IPAM off', function () {
    requireRoot();
    let host: Netns;
    let router: RouterProcess;
    const run = (args: string[]) => weave(args, {netns: host});

    before(async () => {
      host = Netns.create('wtc');
      router = await RouterProcess.start(host, {args: ['--ipalloc-range', '']});
    });
    after(async () => {
      await router?.destroy();
      host?.delete();
    });

    it("expose without an address needs IPAM: the original's message, exit 1", async () => {
      const out = await run(['expose']);
      assert.deepEqual([out.exitCode, out.stdout, out.stderr], [1, '', "IP address allocation must be enabled to use 'net:'\n"]);
    });

    it('expose of a given address works without IPAM', async () => {
      const out = await run(['expose', '10.2.0.1/16']);
      assert.deepEqual([out.exitCode, out.stdout], [0, '10.2.0.1\n']);
      assert.match((await run(['ps'])).stdout, /^weave:expose \S+ 10\.2\.0\.1\/16\n$/);
      assert.deepEqual([(await run(['hide', '10.2.0.1/16'])).stdout], ['10.2.0.1\n']);
    });

    it('prime and hide of IPAM addresses exit 4 (HTTP 404), status ipam exits 1', async () => {
      for (const args of [['prime'], ['hide']]) {
        const out = await run(args);
        assert.deepEqual([out.exitCode, out.stdout], [4, ''], args.join(' '));
        assert.match(out.stderr, /^the router answered GET \/(ring|ip\/\S+) with HTTP 404 \(Not Found\)/, args.join(' '));
      }
      const status = await run(['status', 'ipam']);
      assert.deepEqual([status.exitCode, status.stderr], [1, 'error during template execution\n']);
      assert.doesNotMatch((await run(['status'])).stdout, /Service: ipam/);
    });
  });
});
