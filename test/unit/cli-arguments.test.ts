import assert from 'node:assert/strict';
import {Tripwire} from '../helpers/tripwire.js';
import {weave} from '../helpers/weave-cli.js';

/** A command line with a bad argument, and what the first line of its error must say. */
const CASES: [string[], RegExp][] = [
  [['launch', 'a b'], /^invalid peer "a b" for 'weave launch': "a b" is neither an IP address nor a host name/],
  [['launch', 'host1:99999'], /^invalid peer "host1:99999" for 'weave launch': the port "99999" is not a number from 1 to 65535/],
  [['launch', '--ipalloc-range', 'garbage'], /^weave launch: invalid --ipalloc-range "garbage": expected an IPv4 CIDR/],
  [['launch', '--iprange=10.0.0.0/31'], /^weave launch: invalid --ipalloc-range "10.0.0.0\/31"/],
  [['launch', '--port', '70000'], /^weave launch: invalid --port 70000: expected 1 to 65535/],
  [['launch', '--mtu', 'big'], /^weave launch: Parsing --mtu: expected an integer but received: big/],
  [['launch', '--ipalloc-init', 'seed=nope'], /^weave launch: invalid --ipalloc-init "seed=nope"/],
  [['launch', '--http-addr', 'localhost'], /^weave launch: invalid --http-addr "localhost"/],
  [['launch', '--no-such-flag'], /^weave launch: Nonexistent flag: --no-such-flag/],
  [['launch', '--resume', 'host2'], /^weave launch: You must not specify an initial peer list in conjunction with --resume/],
  [['connect', ''], /^invalid peer "" for 'weave connect': the host is empty/],
  [['connect', 'a:99999'], /^invalid peer "a:99999" for 'weave connect': the port "99999" is not a number from 1 to 65535/],
  [['connect', '--replace', 'host2', 'bad host'], /^invalid peer "bad host" for 'weave connect'/],
  [['connect', 'host2:0'], /^invalid peer "host2:0" for 'weave connect': the port "0"/],
  [['forget', 'x\ty'], /^invalid peer "x\ty" for 'weave forget'/],
  [['expose', '1.2.3.4/99'], /^Invalid address '1\.2\.3\.4\/99' for 'weave expose'/],
  [['expose', 'net:300.1.1.0/24'], /^Invalid address 'net:300\.1\.1\.0\/24' for 'weave expose'/],
  [['hide', 'ip:10.0.0.1/33'], /^Invalid address 'ip:10\.0\.0\.1\/33' for 'weave hide'/],
  [['status', 'nopage'], /^Invalid 'weave status' sub-command: nopage$/],
  [['status', 'nopage', '--json'], /^Invalid 'weave status' sub-command: nopage$/],
  [['status', 'peers', 'extra'], /^Invalid 'weave status' sub-command: peers extra$/],
  [['dns-add'], /^usage: weave dns-add \[<ip_address> \.\.\.\] <container_id>/],
  [['dns-add', '10.32.0.9'], /^usage: weave dns-add/],
  [['dns-add', '10.32.0.9', 'c1', 'c2'], /^unexpected argument 'c2': usage: weave dns-add/],
  [['dns-remove', '-h', 'web.weave.local'], /^usage: weave dns-remove/],
  [['env'], /^There is no Docker API proxy in this weave/],
  [['config'], /^There is no Docker API proxy in this weave/],
  [['rmpeer', ''], /^invalid peer name or nickname "" for 'weave rmpeer'/],
  [['ps', 'a b'], /^invalid container id "a b" for 'weave ps'/],
  [['attach'], /^'weave attach' needs a container: weave attach \[<addr> \.\.\.\] <container>/],
  [['attach', 'c1', 'c2'], /^Invalid address 'c1' for 'weave attach'/],
  [['attach', 'net:10.32.0.0/33', 'c1'], /^Invalid address 'net:10\.32\.0\.0\/33' for 'weave attach'/],
  [['attach', '--add-host', 'db', 'c1'], /^invalid --add-host "db" for 'weave attach': expected <name>:<ip address>/],
  [['attach', 'a b'], /^invalid container "a b" for 'weave attach'/],
  [['detach', '10.0.0.1', 'c1'], /^Invalid address '10\.0\.0\.1' for 'weave detach'/],
  [['detach'], /^'weave detach' needs a container/],
  [['ps', '--weave-bridge', 'name-over-15-chars'], /^invalid --weave-bridge "name-over-15-chars" for 'weave ps': it is longer than 15 characters/],
];

describe('the CLI checks its arguments before it contacts Docker or the router', function () {
  this.timeout(120_000);
  let docker: Tripwire;
  let router: Tripwire;
  const run = (args: string[]) => weave(args, {env: {DOCKER_HOST: `tcp://${docker.addr}`, WEAVE_HTTP_ADDR: router.addr, CI: '1'}});

  before(async () => {
    [docker, router] = await Promise.all([Tripwire.start(), Tripwire.start()]);
  });
  after(async () => {
    await Promise.all([docker.close(), router.close()]);
  });
  beforeEach(() => {
    docker.connections = 0;
    router.connections = 0;
  });

  for (const [args, message] of CASES) {
    it(`weave ${args.map(a => JSON.stringify(a)).join(' ')}: names the bad argument, exit 1, contacts nothing`, async () => {
      const out = await run(args);
      assert.equal(out.exitCode, 1, out.stderr);
      // Under --json (oclif's json flag) the error is JSON on stdout.
      const text = args.includes('--json') ? (JSON.parse(out.stdout) as {error: {message: string}}).error.message : out.stderr;
      assert.equal(args.includes('--json') ? out.stderr : out.stdout, '');
      const [first] = text.split('\n');
      assert.match(first!, message, text);
      assert.doesNotMatch(text, /^\s+at /m, 'stack trace');
      assert.deepEqual({docker: docker.connections, router: router.connections}, {docker: 0, router: 0});
    });
  }

  // The wires must catch a contact, or the cases above prove nothing.
  it('the same commands with good arguments do contact Docker and the router', async () => {
    for (const [args, wire] of [
      [['launch', 'host1:6783', '--ipalloc-range', '10.40.0.0/16'], () => docker.connections],
      [['connect', 'host2:6783'], () => router.connections],
      [['status', 'peers'], () => router.connections],
      [['expose', '10.32.0.9/12'], () => router.connections],
    ] as [string[], () => number][]) {
      const before = wire();
      const out = await run(args);
      assert.equal(out.exitCode, 1, out.stderr);
      assert.ok(wire() > before, `weave ${args.join(' ')} did not contact its tripwire:\n${out.stderr}`);
    }
  });
});
