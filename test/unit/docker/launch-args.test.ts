import assert from 'node:assert/strict';
import {describe, it} from 'mocha';
import {LaunchUsageError, parseLaunchArgs, routerArgs} from '../../../src/lib/docker/launch-args.js';

const context = {env: {}, hostname: 'host1'};

describe('weave launch arguments (as the original script split them)', () => {
  it('takes --password, --port, --ipalloc-range and --no-restart in every spelling, and passes the rest through in order', () => {
    const args = parseLaunchArgs(['--conn-limit', '10', 'host2', '-password', 'x', '--port=7000', '--iprange', '10.40.0.0/16', '--no-restart', '--trusted-subnets=10.0.0.0/8', 'host3']);
    assert.equal(args.password, 'x');
    assert.equal(args.port, '7000');
    assert.equal(args.ipallocRange, '10.40.0.0/16');
    assert.equal(args.noRestart, true);
    assert.deepEqual(args.passThrough, ['--conn-limit', '10', 'host2', '--trusted-subnets=10.0.0.0/8', 'host3']);
  });

  it('lets a later occurrence win, and keeps an empty range (IPAM off)', () => {
    const args = parseLaunchArgs(['--password', 'a', '--password=b', '--ipalloc-range', '']);
    assert.equal(args.password, 'b');
    assert.equal(args.ipallocRange, '');
  });

  it('refuses a consumed flag without its value', () => {
    assert.throws(() => parseLaunchArgs(['host2', '--port']), LaunchUsageError);
  });

  it('takes --image and --http-addr for itself, and drops --no-color', () => {
    const args = parseLaunchArgs(['--image', 'x/weave-net:1', '--http-addr=127.0.0.1:7784', '--no-color']);
    assert.equal(args.image, 'x/weave-net:1');
    assert.equal(args.httpAddr, '127.0.0.1:7784');
    assert.deepEqual(args.passThrough, []);
  });

  it("builds section 5's router command line, never holding the password", () => {
    const argv = routerArgs(parseLaunchArgs(['--password', 'secret', 'host2']), context);
    assert.deepEqual(argv, [
      '--port', '6783', '--nickname', 'host1', '--weave-bridge', 'weave', '--ipalloc-range', '10.32.0.0/12',
      '--http-addr', '127.0.0.1:6784', '--status-addr', '127.0.0.1:6782', 'host2',
    ]);
  });

  it('reads WEAVE_PORT, WEAVE_MTU, WEAVE_HTTP_ADDR and WEAVE_STATUS_ADDR', () => {
    const env = {WEAVE_PORT: '7783', WEAVE_MTU: '1400', WEAVE_HTTP_ADDR: '127.0.0.1:7784', WEAVE_STATUS_ADDR: ''};
    const argv = routerArgs(parseLaunchArgs([]), {env, hostname: 'h'});
    assert.deepEqual(argv.slice(0, 2), ['--port', '7783']);
    assert.ok(argv.join(' ').includes('--mtu 1400'));
    assert.ok(argv.join(' ').includes('--http-addr 127.0.0.1:7784'));
    assert.ok(argv.join(' ').includes('--status-addr '), 'an empty WEAVE_STATUS_ADDR turns the status API off');
  });

  it('leaves out a default the user gives, since the router takes each flag once', () => {
    const argv = routerArgs(parseLaunchArgs(['--nickname', 'mine', '--status-addr=', 'host2']), context);
    assert.equal(argv.filter(a => a === '--nickname').length, 1);
    assert.ok(!argv.includes('--status-addr'));
    assert.deepEqual(argv.slice(-4), ['--nickname', 'mine', '--status-addr=', 'host2']);
  });
});
