import assert from 'node:assert/strict';
import {reportJson} from '../../../../src/lib/router/status/report.js';
import {statusText} from '../../../../src/lib/router/status/text.js';
import {BUSY, FRESH, NO_IPAM, NOT_READY} from '../../../helpers/router-states.js';
import {StatusServer} from '../../../helpers/status-server.js';

describe('status routes over HTTP', () => {
  let server: StatusServer;
  before(async () => {
    server = await StatusServer.start(FRESH);
  });
  after(() => server.close());
  beforeEach(() => {
    server.state = FRESH;
  });

  async function get(path: string, headers: Record<string, string> = {}): Promise<[number, string, string]> {
    const res = await fetch(`${server.url}${path}`, {headers});
    return [res.status, await res.text(), res.headers.get('content-type') ?? ''];
  }

  it('serves /status and each sub-page as text', async () => {
    assert.deepEqual(await get('/status'), [200, statusText(FRESH), 'text/plain; charset=utf-8']);
    server.state = BUSY;
    assert.deepEqual((await get('/status/targets')).slice(0, 2), [200, '192.168.48.12\n192.168.48.13:6783\n']);
    for (const page of ['connections', 'peers', 'ipam']) assert.equal((await get(`/status/${page}`))[0], 200, page);
  });

  it('answers every status page with 503 and its body until the router is ready', async () => {
    server.state = NOT_READY;
    assert.deepEqual((await get('/status')).slice(0, 2), [503, statusText(NOT_READY)]);
    for (const page of ['targets', 'connections', 'peers', 'ipam']) assert.equal((await get(`/status/${page}`))[0], 503, page);
  });

  it('answers an unknown page 404 and other methods 405; /status/dns with a template error (500) when weaveDNS is off', async () => {
    assert.deepEqual((await get('/status/dns')).slice(0, 2), [500, 'error during template execution\n']);
    assert.deepEqual((await get('/status/nosuch')).slice(0, 2), [404, '404 page not found\n']);
    const res = await fetch(`${server.url}/status`, {method: 'POST'});
    assert.equal(res.status, 405);
  });

  it('answers /status/ipam with a template error (500) when IPAM is off', async () => {
    server.state = NO_IPAM;
    assert.deepEqual((await get('/status/ipam')).slice(0, 2), [500, 'error during template execution\n']);
  });

  it('serves the JSON report only for Accept: application/json exactly', async () => {
    assert.deepEqual(await get('/report', {Accept: 'application/json'}), [200, reportJson(FRESH), 'application/json']);
    assert.deepEqual((await get('/report', {Accept: 'application/json, text/plain'})).slice(0, 2), [400, 'error: must supply one format parameter\n']);
  });

  it('runs ?format= templates: exactly one format, 400 on a parse error, 500 on an execution error', async () => {
    const format = (...templates: string[]) => get(`/report?${templates.map(t => `format=${encodeURIComponent(t)}`).join('&')}`);
    assert.deepEqual((await format('{{.Router.Name}}({{.Router.NickName}})')).slice(0, 2), [200, '8a:3e:3e:3e:3e:3e(host1)']);
    assert.deepEqual((await get('/report')).slice(0, 2), [400, 'error: must supply one format parameter\n']);
    assert.deepEqual((await format('a', 'b')).slice(0, 2), [400, 'error: must supply one format parameter\n']);
    assert.deepEqual((await format('{{.Router.Name')).slice(0, 2), [400, 'template: format:1: unclosed action\n']);
    server.state = NO_IPAM;
    assert.deepEqual((await format('x{{.IPAM.DefaultSubnet}}')).slice(0, 2), [500, 'error during template execution\n']);
  });

  it('serves /metrics in the Prometheus text format', async () => {
    const [status, body, type] = await get('/metrics');
    assert.equal(status, 200);
    assert.equal(type, 'text/plain; version=0.0.4; charset=utf-8');
    assert.match(body, /^weave_max_ips 1\.048576e\+06$/m);
  });
});
