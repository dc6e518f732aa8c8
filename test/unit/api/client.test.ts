import assert from 'node:assert/strict';
import {mkdtempSync, rmSync} from 'node:fs';
import type {Server} from 'node:http';
import type {AddressInfo} from 'node:net';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {RouterClient} from '../../../src/lib/api/client.js';
import {HttpStatusError, NotFoundError, RouterUnreachableError} from '../../../src/lib/api/errors.js';
import {RouterConfigError} from '../../../src/lib/errors.js';
import {createApiServer} from '../../../src/lib/router/http/server.js';
import {httpError, type Request, RouteTable, text} from '../../../src/lib/router/http/routes.js';
import {closedAddress} from '../../helpers/status-server.js';

interface Seen {
  method: string;
  path: string;
  params: Record<string, string>;
  form: [string, string][];
  accept?: string;
}

/** Routes of the router's API that record what they got and answer as the router does. */
function recordingTable(seen: Seen[]): RouteTable {
  const record = (answer: (req: Request) => ReturnType<typeof text>) => (req: Request) => {
    seen.push({method: req.method, path: req.path, params: req.params, form: [...req.form], accept: req.headers.accept as string | undefined});
    return answer(req);
  };
  const noContent = () => ({status: 204});
  return new RouteTable()
    .add('GET', '/status', record(() => text('status page\n')))
    .add('GET', '/status/peers', record(() => text('peers page\n')))
    .add('GET', '/report', record(req => text(req.form.has('format') ? `ran ${req.form.get('format')}` : '{\n    "Ready": true\n}')))
    .add('POST', '/connect', record(req => (req.form.getAll('peer').includes('bad') ? httpError(400, 'invalid peer name "bad", should be host[:port]') : text(''))))
    .add('POST', '/forget', record(() => text('')))
    .add('POST', '/expose/{ip}/{len}', record(noContent))
    .add('DELETE', '/expose/{ip}/{len}', record(noContent))
    .add('POST', '/ip/{id}', record(() => text('10.32.0.1/12')))
    .add('POST', '/ip/{id}/{ip}/{len}', record(req => text(`${req.params.ip!.replace(/0$/, '1')}/${req.params.len}`)))
    .add('PUT', '/ip/{id}/{ip}/{len}', record(noContent))
    .add('GET', '/ip/{id}', record(() => text('10.32.0.1/12 10.32.0.7/12')))
    .add('GET', '/ip', record(() => text('{"owned":[{"containerid":"abc","addrs":["10.32.0.2/12"]}]}\n')))
    .add('DELETE', '/ip/{id}/{ip}', record(noContent))
    .add('DELETE', '/ip/{id}', record(noContent))
    .add('GET', '/ring', record(() => text('')))
    .add('DELETE', '/peer/{name}', record(req => (req.params.name === 'boom' ? httpError(500, 'unable to remove peer: boom') : text(`0 IPs taken over from ${req.params.name}\n`))))
    .add('DELETE', '/peer', record(noContent));
}

async function listen(server: Server, where: string | number): Promise<void> {
  await new Promise<void>(resolve => (typeof where === 'number' ? server.listen(where, '127.0.0.1', resolve) : server.listen(where, resolve)));
}

describe('router API client', () => {
  const seen: Seen[] = [];
  let server: Server;
  let client: RouterClient;

  before(async () => {
    server = createApiServer(recordingTable(seen), () => {});
    await listen(server, 0);
    client = new RouterClient(`127.0.0.1:${(server.address() as AddressInfo).port}`);
  });
  after(() => server.close());
  beforeEach(() => {
    seen.length = 0;
  });

  it('reads status pages and the report', async () => {
    assert.equal(await client.status(), 'status page\n');
    assert.equal(await client.status(['peers']), 'peers page\n');
    assert.equal(await client.report(), '{\n    "Ready": true\n}');
    assert.equal(seen[2]!.accept, 'application/json');
    assert.equal(await client.reportFormat('{{.Router.Name}} & {{len .X}}'), 'ran {{.Router.Name}} & {{len .X}}');
  });

  it('sends peers as a form: peer=a&peer=b, replace=true', async () => {
    await client.connect(['10.2.2.1', 'host2:6783']);
    await client.connect([], true);
    await client.forget(['10.2.2.1']);
    assert.deepEqual(
      seen.map(s => [s.path, s.form]),
      [
        ['/connect', [['peer', '10.2.2.1'], ['peer', 'host2:6783']]],
        ['/connect', [['replace', 'true']]],
        ['/forget', [['peer', '10.2.2.1']]],
      ],
    );
  });

  it('exposes and hides a CIDR, with skipNAT on request', async () => {
    await client.expose('10.32.0.1/12');
    await client.expose('10.2.0.1/16', true);
    await client.hide('10.2.0.1/16');
    assert.deepEqual(
      seen.map(s => [s.method, s.path, s.form]),
      [
        ['POST', '/expose/10.32.0.1/12', []],
        ['POST', '/expose/10.2.0.1/16', [['skipNAT', 'true']]],
        ['DELETE', '/expose/10.2.0.1/16', []],
      ],
    );
  });

  it('allocates, claims, looks up, lists and frees addresses, escaping ids', async () => {
    assert.equal(await client.allocate('weave:expose'), '10.32.0.1/12');
    assert.equal(await client.allocate('c1', '10.2.3.0/24'), '10.2.3.1/24');
    await client.claim('weave:expose', '10.32.0.9/12');
    assert.deepEqual(await client.lookup('weave:expose'), ['10.32.0.1/12', '10.32.0.7/12']);
    assert.deepEqual(await client.allocations(), [{containerid: 'abc', addrs: ['10.32.0.2/12']}]);
    await client.free('a b/c', '10.32.0.1');
    await client.free('c1');
    assert.deepEqual(
      seen.map(s => [s.method, s.path, s.params.id]),
      [
        ['POST', '/ip/weave%3Aexpose', 'weave:expose'],
        ['POST', '/ip/c1/10.2.3.0/24', 'c1'],
        ['PUT', '/ip/weave%3Aexpose/10.32.0.9/12', 'weave:expose'],
        ['GET', '/ip/weave%3Aexpose', 'weave:expose'],
        ['GET', '/ip', undefined],
        ['DELETE', '/ip/a%20b%2Fc/10.32.0.1', 'a b/c'],
        ['DELETE', '/ip/c1', 'c1'],
      ],
    );
  });

  it('primes, removes a peer and leaves', async () => {
    await client.ring();
    assert.equal(await client.removePeer('host3'), '0 IPs taken over from host3\n');
    await client.leave();
    assert.deepEqual(
      seen.map(s => [s.method, s.path]),
      [
        ['GET', '/ring'],
        ['DELETE', '/peer/host3'],
        ['DELETE', '/peer'],
      ],
    );
  });

  it('throws NotFoundError (exit 4) on 404 and HttpStatusError (exit 1, the body) on other errors', async () => {
    await assert.rejects(client.status(['dns']), (error: unknown) => error instanceof NotFoundError && error.exitCode === 4 && error.path === '/status/dns');
    await assert.rejects(
      client.connect(['bad']),
      (error: unknown) =>
        error instanceof HttpStatusError && error.exitCode === 1 && error.status === 400 && error.body === 'invalid peer name "bad", should be host[:port]\n',
    );
    await assert.rejects(
      client.removePeer('boom'),
      (error: unknown) => error instanceof HttpStatusError && error.status === 500 && error.message === 'unable to remove peer: boom',
    );
  });

  it('says the router is not running, where, and how to start it, when nothing answers', async () => {
    const addr = await closedAddress();
    const started = Date.now();
    await assert.rejects(new RouterClient(addr).status(), (error: unknown) => {
      assert.ok(error instanceof RouterUnreachableError);
      assert.equal(error.exitCode, 1);
      assert.equal(
        error.message,
        `the weave router is not running at ${addr} (connection refused): start it with \`weave launch\`, or set WEAVE_HTTP_ADDR (or --http-addr) to the address it listens on`,
      );
      return true;
    });
    assert.ok(Date.now() - started < 1000, 'a refused connection fails at once');
  });

  it('talks over a unix socket path, and says when there is none', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weave-api-'));
    const socket = join(dir, 'weave.sock');
    const unixServer = createApiServer(recordingTable(seen), () => {});
    await listen(unixServer, socket);
    try {
      assert.equal(await new RouterClient(socket).status(), 'status page\n');
      await assert.rejects(new RouterClient(join(dir, 'none.sock')).status(), /not running at .*none\.sock \(no such socket\)/);
    } finally {
      unixServer.close();
      rmSync(dir, {recursive: true, force: true});
    }
  });

  it('rejects an address that is neither host:port nor a socket path, naming the variable', () => {
    assert.throws(() => new RouterClient('localhost'), (error: unknown) => error instanceof RouterConfigError && /WEAVE_HTTP_ADDR/.test(error.message));
  });
});
