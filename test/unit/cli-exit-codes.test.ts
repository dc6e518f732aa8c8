import assert from 'node:assert/strict';
import {createServer, type Server} from 'node:http';
import type {AddressInfo} from 'node:net';
import {Config} from '@oclif/core';
import {PACKAGE_ROOT} from '../../src/lib/package.js';
import {closedAddress} from '../helpers/status-server.js';
import {Tripwire} from '../helpers/tripwire.js';
import {weave} from '../helpers/weave-cli.js';

/** Commands outside this table: the router daemon parses its own flags (bin/weave.js hands it argv), like weave 2.8.1's weaver. */
const NOT_OCLIF = ['router'];

/** The arguments each command needs to get as far as its flags (a required argument would fail first). */
const NEEDS: Record<string, string[]> = {completion: ['bash'], 'dns-lookup': ['web']};

/** An HTTP server on 127.0.0.1 that answers every request with one status and body: a router that fails in one way. */
async function answering(status: number, body: string): Promise<{addr: string; server: Server}> {
  const server = createServer((_req, res) => {
    res.statusCode = status;
    res.end(body);
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  return {addr: `127.0.0.1:${(server.address() as AddressInfo).port}`, server};
}

/** The exit codes of the original's script (http_call): 404 is 4 (body dropped), any other error status 1 (body on stderr); `status` only ever 0 or 1. */
const ROUTER_ANSWERS: [string[], {notFound: number; serverError: number; down: number}][] = [
  [['status'], {notFound: 1, serverError: 1, down: 1}],
  [['status', 'peers'], {notFound: 1, serverError: 1, down: 1}],
  [['report'], {notFound: 4, serverError: 1, down: 1}],
  [['report', '-f', '{{.Version}}'], {notFound: 4, serverError: 1, down: 1}],
  [['connect', 'host2'], {notFound: 4, serverError: 1, down: 1}],
  [['forget', 'host2'], {notFound: 4, serverError: 1, down: 1}],
  [['prime'], {notFound: 4, serverError: 1, down: 1}],
  [['rmpeer', 'host3'], {notFound: 1, serverError: 1, down: 1}],
  // net:default with IPAM off (404): the original's "IP address allocation must be enabled", exit 1.
  [['expose'], {notFound: 1, serverError: 1, down: 1}],
  [['expose', '10.32.0.9/12'], {notFound: 4, serverError: 1, down: 1}],
  [['hide', '10.32.0.9/12'], {notFound: 0, serverError: 1, down: 1}],
  // weaveDNS off (--no-dns) answers 404: said in words, exit 4 as the script's.
  [['dns-add', '10.32.0.9', '-h', 'web.weave.local'], {notFound: 4, serverError: 1, down: 1}],
  [['dns-remove', '10.32.0.9', '-h', 'web.weave.local'], {notFound: 4, serverError: 1, down: 1}],
  [['dns-lookup', 'web'], {notFound: 4, serverError: 1, down: 1}],
  [['dns-args'], {notFound: 4, serverError: 1, down: 1}],
  [['version'], {notFound: 0, serverError: 0, down: 0}],
];

describe('exit codes, over every command', function () {
  this.timeout(300_000);
  let commands: {id: string; json: boolean}[];
  let docker: Tripwire;
  let router: Tripwire;

  before(async () => {
    const config = await Config.load(PACKAGE_ROOT);
    commands = config.commands.filter(c => !NOT_OCLIF.includes(c.id)).map(c => ({id: c.id, json: Boolean(c.enableJsonFlag)}));
    assert.ok(commands.length >= 16, `only ${commands.length} commands found`);
    [docker, router] = await Promise.all([Tripwire.start(), Tripwire.start()]);
  });
  after(async () => {
    await Promise.all([docker.close(), router.close()]);
  });

  const run = (args: string[]) => weave(args, {env: {DOCKER_HOST: `tcp://${docker.addr}`, WEAVE_HTTP_ADDR: router.addr, CI: '1'}});

  it('a flag a command does not have: exit 1 (a usage error, as the original), the flag named, nothing contacted', async () => {
    for (const {id} of commands) {
      const args = [id, ...(NEEDS[id] ?? []), '--bogus'];
      const out = await run(args);
      assert.equal(out.exitCode, 1, `weave ${args.join(' ')}: ${out.stderr}`);
      assert.equal(out.stdout, '', `weave ${args.join(' ')}`);
      assert.match(out.stderr, /--bogus/, `weave ${args.join(' ')}`);
      assert.doesNotMatch(out.stderr, /^\s+at /m, `weave ${args.join(' ')}: stack trace`);
    }
    assert.deepEqual({docker: docker.connections, router: router.connections}, {docker: 0, router: 0});
  });

  it('under --json, every failure is JSON on stdout, {"error": {"message", "exitCode"}}, with that exit code', async () => {
    const withJson = commands.filter(c => c.json).map(c => c.id);
    assert.deepEqual(withJson.sort(), ['ps', 'report', 'status', 'version']);
    for (const args of [
      ...withJson.map(id => [id, '--json', '--bogus']),
      ['status', 'nopage', '--json'],
      ['ps', 'a b', '--json'],
    ]) {
      const out = await run(args);
      assert.equal(out.exitCode, 1, `weave ${args.join(' ')}: ${out.stderr}`);
      assert.equal(out.stderr, '', `weave ${args.join(' ')}`);
      const json = JSON.parse(out.stdout) as {error: {message: string; exitCode: number}};
      assert.equal(json.error.exitCode, 1);
      assert.equal(typeof json.error.message, 'string');
    }
    const down = await weave(['status', '--json'], {env: {WEAVE_HTTP_ADDR: await closedAddress()}});
    assert.equal(down.exitCode, 1);
    assert.match((JSON.parse(down.stdout) as {error: {message: string}}).error.message, /^the weave router is not running at /);
  });

  describe("the router's answers", () => {
    let notFound: {addr: string; server: Server};
    let serverError: {addr: string; server: Server};
    let closed: string;
    before(async () => {
      [notFound, serverError, closed] = await Promise.all([answering(404, '404 page not found\n'), answering(500, 'it broke\n'), closedAddress()]);
    });
    after(() => {
      notFound.server.close();
      serverError.server.close();
    });

    for (const [args, codes] of ROUTER_ANSWERS) {
      it(`weave ${args.join(' ')}: 404 exits ${codes.notFound}, 500 exits ${codes.serverError}, no router exits ${codes.down}`, async () => {
        for (const [addr, code, what] of [
          [notFound.addr, codes.notFound, '404'],
          [serverError.addr, codes.serverError, '500'],
          [closed, codes.down, 'no router'],
        ] as const) {
          const out = await weave(args, {env: {WEAVE_HTTP_ADDR: addr}});
          assert.equal(out.exitCode, code, `${what}: weave ${args.join(' ')}: ${out.stderr}`);
          assert.doesNotMatch(out.stderr, /^\s+at /m, 'stack trace');
          if (what === '500' && code === 1 && args[0] !== 'version') assert.match(out.stderr, /it broke/, 'the router\'s answer goes to stderr');
        }
      });
    }
  });
});
