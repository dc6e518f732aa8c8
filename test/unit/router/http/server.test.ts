import assert from 'node:assert/strict';
import {once} from 'node:events';
import {type IncomingMessage, request, type Server} from 'node:http';
import {type AddressInfo, connect, type Socket} from 'node:net';
import {API_LIMITS, type ApiLimits, createApiServer, targetOf} from '../../../../src/lib/router/http/server.js';
import {RouteTable, text} from '../../../../src/lib/router/http/routes.js';

interface Reply {
  status: number;
  body: string;
}

/** One HTTP request on a fresh connection; `chunks` are written one by one (chunked when no length is given). */
function call(port: number, method: string, path: string, chunks: Buffer[] = [], headers: Record<string, string | number> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({host: '127.0.0.1', port, method, path, headers, agent: false}, (res: IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({status: res.statusCode ?? 0, body}));
    });
    req.on('error', reject);
    if (headers.Expect) {
      // Sends the body only on 100 Continue, as curl does.
      req.on('continue', () => req.end(Buffer.concat(chunks)));
      req.flushHeaders();
      return;
    }
    for (const c of chunks) req.write(c);
    req.end();
  });
}

/** A raw connection and everything it received until it closed. */
async function raw(port: number, send?: string): Promise<{socket: Socket; closed: Promise<string>}> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let got = '';
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => (got += d));
  const closed = new Promise<string>(resolve => socket.on('close', () => resolve(got)));
  socket.on('error', () => {});
  if (send) socket.write(send);
  return {socket, closed};
}

describe('the API server: body cap, time limits and a bound on connections', function () {
  this.timeout(30_000);
  let server: Server;
  let port: number;
  const logs: string[] = [];
  let release: () => void = () => {};

  const start = async (limits: Partial<ApiLimits>) => {
    const table = new RouteTable()
      .add('GET', '/status', () => text('ok'))
      .add('POST', '/ip/{id}', req => text(`${req.params.id} ${req.body.length}`))
      // An answer that waits, as an allocation waiting for IPAM.
      .add('POST', '/slow', () => new Promise(resolve => (release = () => resolve(text('done')))))
      // An answer that waits until its client goes away.
      .add('POST', '/wait', req => new Promise(resolve => req.signal.addEventListener('abort', () => resolve(text('gone')), {once: true})));
    server = createApiServer(table, line => logs.push(line), {...API_LIMITS, ...limits});
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  };
  afterEach(async () => {
    release();
    server.closeAllConnections();
    await new Promise(resolve => server.close(resolve));
    logs.length = 0;
  });

  describe('with a 1 MB body cap', () => {
    beforeEach(() => start({}));
    const big = Buffer.alloc(5 * 1024 * 1024, 'a');

    it('answers a body over the cap with 413, whether its length is declared, streamed, or announced with Expect: 100-continue', async () => {
      const declared = await call(port, 'POST', '/ip/x', [big], {'Content-Length': big.length});
      assert.equal(declared.status, 413);
      assert.match(declared.body, /^request body larger than 1048576 bytes/);
      const streamed = await call(port, 'POST', '/ip/x', Array.from({length: 80}, () => Buffer.alloc(64 * 1024, 'b')));
      assert.equal(streamed.status, 413);
      const expecting = await call(port, 'POST', '/ip/x', [big], {'Content-Length': big.length, Expect: '100-continue'});
      assert.equal(expecting.status, 413);
    });

    it('takes a body up to the cap, also after Expect: 100-continue', async () => {
      const form = Buffer.alloc(API_LIMITS.maxBodyBytes, 'c');
      assert.deepEqual(await call(port, 'POST', '/ip/x', [form]), {status: 200, body: `x ${form.length}`});
      assert.deepEqual(await call(port, 'POST', '/ip/y', [Buffer.from('a=1')], {'Content-Length': 3, Expect: '100-continue'}), {status: 200, body: 'y 3'});
    });

    it('reads requests with and without a body on one connection', async () => {
      const conn = await raw(port, 'POST /ip/a HTTP/1.1\r\nHost: weave\r\n\r\nPOST /ip/b HTTP/1.1\r\nHost: weave\r\nContent-Length: 0\r\n\r\nPOST /ip/c HTTP/1.1\r\nHost: weave\r\nContent-Length: 3\r\n\r\nabcPOST /ip/d HTTP/1.1\r\nHost: weave\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nde\r\n0\r\n\r\nPOST /ip/e HTTP/1.1\r\nHost: weave\r\nConnection: close\r\n\r\n');
      const answers = [...(await conn.closed).matchAll(/\r\n\r\n([a-e] \d)/g)].map(m => m[1]);
      assert.deepEqual(answers, ['a 0', 'b 0', 'c 3', 'd 2', 'e 0']);
    });

    it('tells a waiting answer when its client goes away, after the connection answered others', async () => {
      const conn = await raw(port, 'POST /ip/a HTTP/1.1\r\nHost: weave\r\n\r\nPOST /wait HTTP/1.1\r\nHost: weave\r\n\r\n');
      await new Promise(resolve => setTimeout(resolve, 100));
      conn.socket.destroy();
      assert.match(await conn.closed, /\r\n\r\na 0$/);
      await new Promise(resolve => setTimeout(resolve, 100));
      assert.ok(logs.includes('POST /wait 200'), logs.join('\n'));
    });

    it('answers changes from this process\'s own user (root for the router)', async () => {
      assert.deepEqual(await call(port, 'POST', '/ip/mine'), {status: 200, body: 'mine 0'});
    });
  });

  describe('with short time limits', () => {
    beforeEach(() => start({headersTimeoutMs: 300, requestTimeoutMs: 600}));

    it('closes a connection that sends nothing', async () => {
      const {closed} = await raw(port);
      assert.match(await closed, /^$|^HTTP\/1\.1 408 /);
    });

    it('answers 408 to headers that never end, and to a body that never comes', async () => {
      const headers = await raw(port, 'POST /ip/x HTTP/1.1\r\nHost: weave\r\n');
      assert.match(await headers.closed, /^HTTP\/1\.1 408 /);
      const body = await raw(port, 'POST /ip/x HTTP/1.1\r\nHost: weave\r\nContent-Length: 10\r\n\r\nabc');
      assert.match(await body.closed, /^HTTP\/1\.1 408 /);
    });

    it('lets an answer take longer than those limits (an allocation may wait)', async () => {
      const answer = call(port, 'POST', '/slow');
      await new Promise(resolve => setTimeout(resolve, 1500));
      release();
      assert.deepEqual(await answer, {status: 200, body: 'done'});
    });
  });

  describe('with room for two connections', () => {
    beforeEach(() => start({maxConnections: 2}));

    it('closes further connections at once, and serves again once one is gone', async () => {
      const first = await raw(port, 'GET /status HTTP/1.1\r\nHost: weave\r\n');
      const second = await raw(port, 'GET /status HTTP/1.1\r\nHost: weave\r\n');
      const third = await raw(port, 'GET /status HTTP/1.1\r\nHost: weave\r\n\r\n');
      assert.equal(await third.closed, '', 'no answer past the bound');
      assert.ok(logs.some(l => /connection refused: 2 connections are open already/.test(l)), logs.join('\n'));
      first.socket.destroy();
      await first.closed;
      await new Promise(resolve => setTimeout(resolve, 100));
      assert.deepEqual(await call(port, 'GET', '/status'), {status: 200, body: 'ok'});
      second.socket.destroy();
    });
  });
});

describe('the API server reads a request target as URL does', () => {
  const targets = [
    '/ip/bench-1-2',
    '/ip/abc/10.32.0.1',
    '/ip/abc/10.32.0.0/12?check-alive=true&origin=cni',
    '/ip/a%20b?x=%zz&y=a+b',
    '/ipinfo/defaultsubnet',
    '/',
    '/ip/../status',
    '/ip/./x',
    '/ip/%2e%2e/x',
    '/ip/%2E/x',
    '/ip/x/..',
    '//evil/ip',
    '/ip/x#frag',
    '/ip/x?q=1#frag',
    '/ip/a b',
    '/ip/\\x',
    '/ip/é',
    "/ip/x?q='\"<>",
    '/ip/x?',
    '/ip/x??a=b',
    'http://other/ip/x?y=z',
    '*',
    '/ip/x..y/.z/..w',
  ];
  for (const raw of targets) {
    it(`reads ${JSON.stringify(raw)}`, () => {
      const url = new URL(raw, 'http://weave');
      const target = targetOf(raw);
      assert.deepEqual(target, {pathname: url.pathname, search: url.search});
      assert.deepEqual([...new URLSearchParams(target.search)], [...url.searchParams]);
    });
  }
});

describe('the route table', () => {
  const ok = () => text('ok');
  const table = new RouteTable().add('GET', '/ip/{id}', ok).add('POST', '/ip/{id}/{ip}/{prefixlen}', ok).add('DELETE', '/ip/{id}', ok).add('GET', '/ipinfo/defaultsubnet', ok);
  const found = (method: string, path: string) => {
    const match = table.match(method, path);
    return 'status' in match ? match.status : match.params;
  };

  it('matches method and path, with decoded params, and tells 404 from 405', () => {
    assert.deepEqual(found('GET', '/ip/a%2Fb'), {id: 'a/b'});
    assert.deepEqual(found('DELETE', '/ip/x'), {id: 'x'});
    assert.deepEqual(found('POST', '/ip/x/10.32.0.0/12'), {id: 'x', ip: '10.32.0.0', prefixlen: '12'});
    assert.deepEqual(found('GET', '/ipinfo/defaultsubnet'), {});
    assert.equal(found('PUT', '/ip/x'), 405);
    assert.equal(found('GET', '/ip/x/y'), 404);
    assert.equal(found('GET', '/ip/'), 404, 'an empty param');
    assert.equal(found('PUT', '/ip/%zz'), 404, 'a param that is not valid percent-encoding');
    assert.equal(found('GET', '/ipinfo/tracker'), 404);
  });
});
