import assert from 'node:assert/strict';
import {after, before, describe, it} from 'mocha';
import {VERSION} from '../../src/lib/package.js';
import {BUSY} from '../helpers/router-states.js';
import {closedAddress, StatusServer} from '../helpers/status-server.js';
import {weave} from '../helpers/weave-cli.js';

describe('weave version --json', function () {
  this.timeout(60_000);

  let server: StatusServer;
  before(async () => {
    server = await StatusServer.start(BUSY);
  });
  after(() => server.close());

  it("names the script's version and the router's", async () => {
    const out = await weave(['version', '--json'], {env: {WEAVE_HTTP_ADDR: server.addr}});
    assert.equal(out.exitCode, 0, out.stderr);
    assert.equal(out.stdout, `{\n    "script": "${VERSION}",\n    "router": "2.8.1"\n}\n`);
  });

  it('gives the router as null when none answers, exit 0 as the text form', async () => {
    const out = await weave(['version', '--json'], {env: {WEAVE_HTTP_ADDR: await closedAddress()}});
    assert.equal(out.exitCode, 0, out.stderr);
    assert.deepEqual(JSON.parse(out.stdout), {script: VERSION, router: null});
    assert.equal(out.stderr, '');
  });
});
