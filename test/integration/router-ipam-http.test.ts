import assert from 'node:assert/strict';
import {mkdtempSync, rmSync} from 'node:fs';
import {request as httpRequest, Agent, type Server} from 'node:http';
import type {AddressInfo} from 'node:net';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {DEFAULTS} from '../../src/lib/defaults.js';
import {RouteTable} from '../../src/lib/router/http/routes.js';
import {createApiServer} from '../../src/lib/router/http/server.js';
import {registerIpamRoutes, registerPeerRoutes} from '../../src/lib/router/ipam/http.js';
import {IpamService} from '../../src/lib/router/ipam/service.js';
import {recordingLogger, tick} from '../helpers/ipam.js';

const US = '8a:3e:3e:3e:3e:3e';

interface Answer {
  status: number;
  body: string;
  type?: string;
}

/** One request over a keep-alive agent; `body` is sent urlencoded. */
function call(port: number, agent: Agent, method: string, path: string, body?: string, signal?: AbortSignal): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = body === undefined ? {} : {'content-type': 'application/x-www-form-urlencoded'};
    const req = httpRequest({host: '127.0.0.1', port, method, path, agent, headers, signal}, res => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({status: res.statusCode!, body: Buffer.concat(chunks).toString(), type: res.headers['content-type']}));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function listen(table: RouteTable): Promise<{server: Server; port: number}> {
  const server = createApiServer(table, () => undefined);
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  return {server, port: (server.address() as AddressInfo).port};
}

describe('router/ipam HTTP routes (real server on 127.0.0.1, data on disk)', () => {
  let dir: string;
  let ipam: IpamService;
  let server: Server;
  let port: number;
  const agent = new Agent({keepAlive: true});
  const go = (method: string, path: string, body?: string, signal?: AbortSignal) => call(port, agent, method, path, body, signal);

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'weave-ipam-http-'));
    ipam = await IpamService.open({range: '10.32.0.0/12', peerName: US, nickname: 'host1', logger: recordingLogger().logger, dbPrefix: join(dir, 'weave')});
    const table = new RouteTable();
    registerIpamRoutes(table, ipam, DEFAULTS.cniIpamWait * 1000);
    registerPeerRoutes(table, ipam);
    ({server, port} = await listen(table));
  });

  afterEach(async () => {
    server.closeAllConnections();
    await new Promise(resolve => server.close(resolve));
    await ipam.close();
    rmSync(dir, {recursive: true, force: true});
  });

  after(() => agent.destroy());

  it('POST /ip/{id}: the lowest address with the subnet length, no newline, idempotent', async () => {
    assert.deepEqual(await go('POST', '/ip/c1'), {status: 200, body: '10.32.0.1/12', type: 'text/plain; charset=utf-8'});
    assert.equal((await go('POST', '/ip/c1')).body, '10.32.0.1/12');
    assert.equal((await go('POST', '/ip/c2')).body, '10.32.0.2/12');
    assert.deepEqual(await go('GET', '/ip/c1'), {status: 200, body: '10.32.0.1/12', type: 'text/plain; charset=utf-8'});
  });

  it('POST /ip/{id}/{net}/{len}: in a subnet, with the errors of the original', async () => {
    assert.deepEqual(await go('POST', '/ip/c1/10.32.7.0/24'), {status: 200, body: '10.32.7.1/24', type: 'text/plain; charset=utf-8'});
    assert.equal((await go('POST', '/ip/c1/10.32.7.0/24')).body, '10.32.7.1/24');
    const errors: [string, string][] = [
      ['/ip/c1/10.32.7.1/24', 'invalid subnet - bits after network prefix are not all zero: 10.32.7.1/24\n'],
      ['/ip/c1/10.32.7.0/31', 'invalid subnet - smaller than minimum size 4: 10.32.7.0/31\n'],
      ['/ip/c1/192.168.0.0/24', 'range 192.168.0.0/24 out of bounds: 10.32.0.0/12\n'],
      ['/ip/c1/10.32.7.0/33', 'invalid CIDR address: 10.32.7.0/33\n'],
      ['/ip/c1/10.32.7/24', 'invalid CIDR address: 10.32.7/24\n'],
      ['/ip/c1/not-an-ip/24', 'invalid CIDR address: not-an-ip/24\n'],
      ['/ip/c1/fd00::/64', 'invalid Non-IPv4 address not supported: fd00::/64\n'],
    ];
    for (const [path, body] of errors) assert.deepEqual(await go('POST', path), {status: 400, body, type: 'text/plain; charset=utf-8'}, path);
  });

  it('GET /ip/{id}[/{net}/{len}]: space-separated CIDRs, possibly empty, never waiting', async () => {
    await go('POST', '/ip/c1');
    await go('POST', '/ip/c1/10.33.0.0/16');
    assert.equal((await go('GET', '/ip/c1')).body, '10.32.0.1/12 10.33.0.1/16');
    assert.equal((await go('GET', '/ip/c1/10.33.0.0/16')).body, '10.33.0.1/16');
    assert.deepEqual(await go('GET', '/ip/nobody'), {status: 200, body: '', type: 'text/plain; charset=utf-8'});
    assert.deepEqual(await go('GET', '/ip/c1/10.33.0.1/16'), {
      status: 400,
      body: 'invalid subnet - bits after network prefix are not all zero: 10.33.0.1/16\n',
      type: 'text/plain; charset=utf-8',
    });
  });

  it('GET /ip lists holders as the original (null when empty, a newline after the JSON)', async () => {
    assert.deepEqual(await go('GET', '/ip'), {status: 200, body: '{"owned":null}\n', type: 'application/json'});
    await go('POST', '/ip/c1');
    await go('PUT', '/ip/weave:expose/10.32.0.9/12');
    assert.equal(
      (await go('GET', '/ip')).body,
      '{"owned":[{"containerid":"c1","addrs":["10.32.0.1/12"]},{"containerid":"weave:expose","addrs":["10.32.0.9/12"]}]}\n',
    );
  });

  it('PUT /ip/{id}/{ip}/{len} claims: 204, or 400 "Unable to claim: ..."', async () => {
    assert.deepEqual(await go('PUT', '/ip/weave:expose/10.32.0.1/12'), {status: 204, body: '', type: undefined});
    assert.equal((await go('PUT', '/ip/weave:expose/10.32.0.1/12')).status, 204);
    assert.deepEqual(await go('PUT', '/ip/c2/10.32.0.1/12'), {
      status: 400,
      body: 'Unable to claim: address 10.32.0.1/12 is already owned by weave:expose\n',
      type: 'text/plain; charset=utf-8',
    });
    assert.equal((await go('PUT', '/ip/_/10.32.0.5/12')).status, 204);
    assert.equal((await go('PUT', '/ip/c3/10.32.0.5/12')).body, 'Unable to claim: address 10.32.0.5/12 already in use\n');
    assert.deepEqual(await go('PUT', '/ip/c3/300.1.1.1/12'), {status: 400, body: 'invalid CIDR address: 300.1.1.1/12\n', type: 'text/plain; charset=utf-8'});
    assert.equal((await go('POST', '/ip/c9')).body, '10.32.0.2/12');
  });

  it('DELETE /ip/{id} and /ip/{id}/{ip}: 204, or 400 with the messages of the original', async () => {
    await go('POST', '/ip/c1');
    await go('POST', '/ip/c1/10.33.0.0/16');
    assert.deepEqual(await go('DELETE', '/ip/c1/10.32.0.7'), {status: 400, body: 'Unable to free: Free: address 10.32.0.7 not found for c1\n', type: 'text/plain; charset=utf-8'});
    assert.deepEqual(await go('DELETE', '/ip/c1/not-an-ip'), {status: 400, body: 'invalid IP address: not-an-ip\n', type: 'text/plain; charset=utf-8'});
    assert.equal((await go('DELETE', '/ip/c1/10.32.0.1')).status, 204);
    assert.equal((await go('GET', '/ip/c1')).body, '10.33.0.1/16');
    assert.equal((await go('DELETE', '/ip/c1')).status, 204);
    assert.deepEqual(await go('DELETE', '/ip/c1'), {status: 400, body: 'Delete: no addresses for c1\n', type: 'text/plain; charset=utf-8'});
  });

  it('ids with shell metacharacters are plain strings', async () => {
    const ids = ['$(touch /tmp/pwned)', '`reboot`;rm -rf /', "a'b\"c|d&e>f", 'sp ace', '*', 'semi;colon'];
    for (const [i, id] of ids.entries()) {
      assert.equal((await go('POST', `/ip/${encodeURIComponent(id)}`)).body, `10.32.0.${i + 1}/12`, id);
    }
    const listed = JSON.parse((await go('GET', '/ip')).body) as {owned: {containerid: string}[]};
    assert.deepEqual(listed.owned.map(o => o.containerid), ids);
    for (const id of ids) assert.equal((await go('DELETE', `/ip/${encodeURIComponent(id)}`)).status, 204, id);
  });

  it('origin=cni (query or urlencoded body) marks CNI allocations; POST /ip-gc/cni frees those not kept', async () => {
    await go('POST', '/ip/pod-a?origin=cni');
    await go('POST', '/ip/pod-b', 'origin=cni');
    await go('POST', '/ip/pod-c', 'origin=cni');
    await go('POST', '/ip/weave:expose', 'origin=cni');
    await go('POST', '/ip/docker-1');
    assert.deepEqual(await go('POST', '/ip-gc/cni', 'keep=pod-b&keep=unknown'), {status: 200, body: '{"freed":["pod-a","pod-c"]}', type: 'application/json'});
    const listed = JSON.parse((await go('GET', '/ip')).body) as {owned: {containerid: string}[]};
    assert.deepEqual(listed.owned.map(o => o.containerid), ['pod-b', 'weave:expose', 'docker-1']);
    assert.equal((await go('POST', '/ip-gc/cni')).body, '{"freed":["pod-b"]}');
  });

  it('GET /ring, /ipinfo/defaultsubnet, /ipinfo/tracker', async () => {
    assert.equal(ipam.status().status, 'idle');
    assert.deepEqual(await go('GET', '/ring'), {status: 200, body: '', type: 'text/plain; charset=utf-8'});
    assert.equal(ipam.status().status, 'ready', 'priming establishes the ring');
    assert.deepEqual(await go('GET', '/ipinfo/defaultsubnet'), {status: 200, body: '10.32.0.0/12', type: 'text/plain; charset=utf-8'});
    assert.deepEqual(await go('GET', '/ipinfo/tracker'), {status: 200, body: '\n', type: 'text/plain; charset=utf-8'});
  });

  it('DELETE /peer/{name}: "0 IPs taken over" on one host; DELETE /peer: 204, then allocations are cancelled', async () => {
    await go('POST', '/ip/c1');
    for (const name of [US, 'host1', 'aa:bb:cc:dd:ee:ff', 'nobody']) {
      assert.deepEqual(await go('DELETE', `/peer/${name}`), {status: 200, body: `0 IPs taken over from ${name}\n`, type: 'text/plain; charset=utf-8'});
    }
    assert.deepEqual(await go('DELETE', '/peer'), {status: 204, body: '', type: undefined});
    assert.deepEqual(await go('POST', '/ip/c2'), {status: 200, body: 'cancelled', type: 'text/plain; charset=utf-8'});
    assert.equal((await go('GET', '/ip/c1')).body, '10.32.0.1/12', 'the allocations stay');
  });

  it('wrong methods are 405, unknown paths 404', async () => {
    for (const [method, path] of [
      ['HEAD', '/ip/c1'],
      ['PATCH', '/ip'],
      ['PUT', '/ip/c1'],
      ['GET', '/ip/c1/10.32.0.1'],
      ['GET', '/ip-gc/cni'],
      ['POST', '/ring'],
      ['GET', '/peer'],
    ]) {
      assert.equal((await go(method!, path!)).status, 405, `${method} ${path}`);
    }
    for (const path of ['/ipinfo', '/ipinfo/nope', '/ip/a/b/c/d', '/ip/', '/ipam']) {
      assert.deepEqual(await go('GET', path), {status: 404, body: '404 page not found\n', type: 'text/plain; charset=utf-8'}, path);
    }
  });

  it('an allocation waits while the range is full, and gives up when its client goes away', async () => {
    const table = new RouteTable();
    const small = await IpamService.open({range: '10.40.0.0/30', peerName: US, nickname: 'host1', logger: recordingLogger().logger, dbPrefix: join(dir, 'small')});
    registerIpamRoutes(table, small, DEFAULTS.cniIpamWait * 1000);
    const other = await listen(table);
    try {
      const goSmall = (method: string, path: string, signal?: AbortSignal) => call(other.port, agent, method, path, undefined, signal);
      assert.equal((await goSmall('POST', '/ip/a')).body, '10.40.0.1/30');
      assert.equal((await goSmall('POST', '/ip/b')).body, '10.40.0.2/30');
      const controller = new AbortController();
      const gone = goSmall('POST', '/ip/gone', controller.signal).catch((e: Error) => e.name);
      const waiting = goSmall('POST', '/ip/waits');
      while (small.status().pendingAllocates.length < 2) await tick();
      assert.equal(small.status().status, 'waiting for IP(s) to become available');
      controller.abort();
      assert.equal(await gone, 'AbortError');
      while (small.status().pendingAllocates.length > 1) await tick();
      assert.deepEqual(small.status().pendingAllocates, ['waits 10.40.0.0/30']);
      assert.equal((await goSmall('DELETE', '/ip/b')).status, 204);
      assert.deepEqual(await waiting, {status: 200, body: '10.40.0.2/30', type: 'text/plain; charset=utf-8'});
      assert.equal((await goSmall('GET', '/ip/gone')).body, '', 'the client that went away got nothing');
    } finally {
      other.server.closeAllConnections();
      await new Promise(resolve => other.server.close(resolve));
      await small.close();
    }
  });

  it('100 concurrent allocations get 100 distinct addresses', async () => {
    const answers = await Promise.all(Array.from({length: 100}, (_, i) => go('POST', `/ip/pod-${i}`, 'origin=cni')));
    assert.ok(answers.every(a => a.status === 200));
    assert.equal(new Set(answers.map(a => a.body)).size, 100);
  });

  it('without IPAM the IPAM routes are 404 and the peer routes still answer', async () => {
    const table = new RouteTable();
    registerPeerRoutes(table, undefined);
    const bare = await listen(table);
    try {
      const goBare = (method: string, path: string) => call(bare.port, agent, method, path);
      assert.equal((await goBare('POST', '/ip/c1')).status, 404);
      assert.equal((await goBare('GET', '/ring')).status, 404);
      assert.equal((await goBare('DELETE', '/peer')).status, 204);
      assert.deepEqual(await goBare('DELETE', '/peer/x'), {status: 200, body: '', type: 'text/plain; charset=utf-8'});
    } finally {
      bare.server.closeAllConnections();
      await new Promise(resolve => bare.server.close(resolve));
    }
  });
});
