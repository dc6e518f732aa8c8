import assert from 'node:assert/strict';
import {createServer} from 'node:http';
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {pathToFileURL} from 'node:url';
import {join} from 'node:path';
import {after, before, describe, it} from 'mocha';
import {PACKAGE_ROOT} from '../../src/lib/package.js';
import {Netns} from '../helpers/netns.js';
import {BUSY, NOT_READY} from '../helpers/router-states.js';
import {WEAVE_BIN} from '../helpers/setup-cli.js';
import {collect} from '../helpers/spawn.js';
import {closedAddress, StatusServer} from '../helpers/status-server.js';
import {weave} from '../helpers/weave-cli.js';

/** `weave <args>` through oclif alone (dist/cli/main.js), as bin/weave.js ran every command before the fast path. */
function weaveThroughOclif(args: string[], env: Record<string, string>) {
  const main = pathToFileURL(join(PACKAGE_ROOT, 'dist', 'cli', 'main.js')).href;
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'WEAVE_HTTP_ADDR'));
  const script = `const {main} = await import(${JSON.stringify(main)}); await main();`;
  // After `-e`, process.argv[1] is the first word given: the script's path, as when bin/weave.js runs.
  return collect(process.execPath, ['--input-type=module', '-e', script, '--', WEAVE_BIN, ...args], {env: {...base, ...env}});
}

describe('weave version, status and ps without oclif (bin/weave.js, src/fast.ts)', function () {
  this.timeout(120_000);

  let ready: StatusServer;
  let notReady: StatusServer;
  let closed: string;
  before(async () => {
    [ready, notReady, closed] = await Promise.all([StatusServer.start(BUSY), StatusServer.start(NOT_READY), closedAddress()]);
  });
  after(() => Promise.all([ready.close(), notReady.close()]));

  it('takes the fast path (else the comparisons below prove nothing)', async () => {
    const out = await weave(['version'], {env: {WEAVE_HTTP_ADDR: ready.addr, NODE_DEBUG: 'esm'}});
    assert.equal(out.exitCode, 0, out.stderr);
    assert.match(out.stderr, /dist\/cli\/fast\/fast\.js/);
    assert.doesNotMatch(out.stderr, /dist\/cli\/main\.js/);
  });

  it('prints a failure that is no operator error itself, without asking the router again through oclif', async () => {
    const asked: string[] = [];
    // A router whose list of allocations is no JSON: a bug on one side or the other, not the operator's.
    const broken = createServer((req, res) => {
      asked.push(req.url ?? '');
      res.setHeader('content-type', 'application/json');
      res.end('{broken');
    });
    const dir = mkdtempSync(join(tmpdir(), 'weave-fast-'));
    const socket = join(dir, 'http.sock');
    // ps asks for the allocations only when the bridge exists: one in a namespace of the test's own.
    const ns = Netns.create('wfast');
    try {
      ns.exec('ip', ['link', 'add', 'weave', 'type', 'bridge']);
      await new Promise<void>(resolve => broken.listen(socket, resolve));
      for (const json of [[], ['--json']]) {
        asked.length = 0;
        const out = await weave(['ps', ...json, `--http-addr=${socket}`], {netns: ns});
        assert.equal(out.exitCode, 1, out.stderr);
        const message = json.length === 0 ? out.stderr : (JSON.parse(out.stdout) as {error: {message: string}}).error.message;
        assert.match(message, /^SyntaxError: .*JSON/);
        assert.deepEqual(asked, ['/ip'], 'asked once');
      }
    } finally {
      broken.closeAllConnections();
      await new Promise(resolve => broken.close(resolve));
      ns.delete();
      rmSync(dir, {recursive: true, force: true});
    }
  });

  // A bridge that no test makes: ps of it prints nothing, exit 0.
  const bridge = `wfast${process.pid}`;
  const cases: {args: string[]; router: 'ready' | 'notReady' | 'closed'}[] = [
    {args: ['version'], router: 'ready'},
    {args: ['version', '--json'], router: 'ready'},
    {args: ['version'], router: 'closed'},
    {args: ['version', '--json'], router: 'closed'},
    {args: ['status'], router: 'ready'},
    {args: ['status', '--json'], router: 'ready'},
    {args: ['status', 'peers'], router: 'ready'},
    {args: ['status', 'connections', '--json'], router: 'ready'},
    {args: ['status', 'ipam'], router: 'ready'},
    {args: ['status', 'targets'], router: 'ready'},
    {args: ['status'], router: 'notReady'},
    {args: ['status', '--json'], router: 'notReady'},
    {args: ['status'], router: 'closed'},
    {args: ['status', '--json'], router: 'closed'},
    {args: ['status', 'peerz'], router: 'ready'},
    {args: ['status', '--json', 'bogus', 'page'], router: 'ready'},
    {args: ['status', '--bogus'], router: 'ready'},
    {args: ['status', '-w', '--interval'], router: 'ready'},
    {args: ['ps', '--weave-bridge', bridge], router: 'ready'},
    {args: ['ps', `--weave-bridge=${bridge}`, '--json'], router: 'ready'},
    {args: ['ps', 'bad id'], router: 'ready'},
    {args: ['ps', '--weave-bridge=much-too-long-a-bridge-name'], router: 'ready'},
    {args: ['ps', '--json', '--weave-bridge=much-too-long-a-bridge-name'], router: 'ready'},
    {args: ['version', 'extra'], router: 'ready'},
    {args: ['version', '--json', '--json'], router: 'ready'},
    {args: ['version', '--http-addr'], router: 'ready'},
    {args: ['status', '--', 'peers'], router: 'ready'},
  ];
  for (const c of cases) {
    for (const via of ['--http-addr', 'WEAVE_HTTP_ADDR'] as const) {
      it(`weave ${c.args.join(' ')} (router ${c.router}, address by ${via}) prints and exits as through oclif`, async () => {
        const addr = {ready: ready.addr, notReady: notReady.addr, closed}[c.router];
        const args = via === '--http-addr' ? [...c.args.slice(0, 1), `--http-addr=${addr}`, ...c.args.slice(1)] : c.args;
        const env: Record<string, string> = via === 'WEAVE_HTTP_ADDR' ? {WEAVE_HTTP_ADDR: addr} : {};
        const [fast, oclif] = await Promise.all([weave(args, {env}), weaveThroughOclif(args, env)]);
        assert.deepEqual({stdout: fast.stdout, stderr: fast.stderr, exitCode: fast.exitCode}, {stdout: oclif.stdout, stderr: oclif.stderr, exitCode: oclif.exitCode});
      });
    }
  }
});
