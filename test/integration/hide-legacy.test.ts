import assert from 'node:assert/strict';
import {mkdtempSync, rmSync} from 'node:fs';
import {createServer, type Server} from 'node:http';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {exposeAddress} from '../../src/lib/router/dataplane/expose.js';
import {Iptables} from '../../src/lib/router/dataplane/iptables.js';
import {createLogger} from '../../src/lib/router/log.js';
import {Netns} from '../helpers/netns.js';
import {requireRoot} from '../helpers/root.js';
import {weave} from '../helpers/weave-cli.js';

/**
 * Issue 13: `weave hide` against weave 2.8.1's router, which answers our DELETE /expose with
 * 405 (gorilla/mux: a known path, another method, no body). A small HTTP server on a unix
 * socket plays that router; the CLI runs in a namespace of its own with a `weave` bridge.
 */
describe("weave hide against a router answering 405 to DELETE /expose (weave 2.8.1's)", function () {
  this.timeout(60_000);
  requireRoot();
  let ns: Netns;
  let dir: string;
  let server: Server;
  const requests: string[] = [];
  const env = () => ({WEAVE_HTTP_ADDR: join(dir, 'api.sock')});
  const bridgeAddresses = () => ns.exec('ip', ['-o', '-4', 'addr', 'show', 'dev', 'weave']);
  const rulesFor = (network: string) => ns.exec('iptables-save', []).split('\n').filter(line => line.includes(network));

  before(async () => {
    ns = Netns.create('wth');
    ns.exec('ip', ['link', 'add', 'weave', 'type', 'bridge']);
    ns.exec('ip', ['link', 'set', 'weave', 'up']);
    dir = mkdtempSync(join(tmpdir(), 'weave-hide-'));
    server = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      // weaveDNS forgetting a name: 204, as the original's.
      res.statusCode = req.method === 'DELETE' && req.url?.startsWith('/name/') ? 204 : 405;
      res.end();
    });
    await new Promise<void>(resolve => server.listen(join(dir, 'api.sock'), resolve));
  });
  after(async () => {
    await new Promise(resolve => server?.close(resolve));
    ns?.delete();
    rmSync(dir, {recursive: true, force: true});
  });
  beforeEach(() => (requests.length = 0));

  it("takes the address and its network's rules off the bridge here, as the original script did", async () => {
    // What the original router's POST /expose left: the address, masquerading and the accept rule.
    await exposeAddress({bridge: 'weave', netns: ns.path, iptables: new Iptables(ns.path), log: createLogger('error')}, '10.32.0.100/12', true);
    assert.match(bridgeAddresses(), /10\.32\.0\.100\/12/);
    assert.ok(rulesFor('10.32.0.0/12').length >= 3);

    const out = await weave(['hide', '10.32.0.100/12'], {env: env(), netns: ns});
    assert.deepEqual([out.exitCode, out.stdout, out.stderr], [0, '10.32.0.100\n', '']);
    assert.doesNotMatch(bridgeAddresses(), /10\.32\.0\.100/);
    assert.deepEqual(rulesFor('10.32.0.0/12'), []);
    assert.deepEqual(requests, ['DELETE /expose/10.32.0.100/12', 'DELETE /name/weave%3Aexpose/10.32.0.100']);
  });

  it('hiding what is not on the bridge changes nothing and succeeds', async () => {
    const out = await weave(['hide', '10.32.0.101/12'], {env: env(), netns: ns});
    assert.deepEqual([out.exitCode, out.stdout, out.stderr], [0, '10.32.0.101\n', '']);
    assert.deepEqual(requests, ['DELETE /expose/10.32.0.101/12']);
  });

  it('an error answer without a body is still said on stderr, exit 1', async () => {
    const out = await weave(['forget', 'host2'], {env: env(), netns: ns});
    assert.deepEqual([out.exitCode, out.stdout], [1, '']);
    assert.equal(out.stderr, 'the router answered POST /forget with HTTP 405 (Method Not Allowed) and no message\n');
  });
});
