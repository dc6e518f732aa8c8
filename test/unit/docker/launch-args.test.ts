import assert from 'node:assert/strict';
import {describe, it} from 'mocha';
import {launchEnvWarnings, LaunchUsageError, parseLaunchArgs, routerArgs, routerFlagWarnings} from '../../../src/lib/docker/launch-args.js';

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
      '--http-addr', '127.0.0.1:6784', '--status-addr', '127.0.0.1:6782', '--docker-api', 'unix:///var/run/docker.sock', 'host2',
    ]);
  });

  it('points the router at the engine socket mounted in its container, unless DOCKER_HOST is TCP (then it warns)', () => {
    const unix = routerArgs(parseLaunchArgs([]), {env: {DOCKER_HOST: 'unix:///tmp/d.sock'}, hostname: 'h'});
    assert.equal(unix[unix.indexOf('--docker-api') + 1], 'unix:///var/run/docker.sock');
    assert.ok(!routerArgs(parseLaunchArgs([]), {env: {DOCKER_HOST: 'tcp://10.0.0.1:2375'}, hostname: 'h'}).includes('--docker-api'));
    assert.match(launchEnvWarnings({DOCKER_HOST: 'tcp://10.0.0.1:2375'}).join('\n'), /DOCKER_HOST is a network address.*will not watch Docker/);
    assert.deepEqual(launchEnvWarnings({}), []);
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

  it("passes the script's WEAVE_NO_FASTDP, WEAVE_NO_BRIDGED_FASTDP and DOCKER_BRIDGE as its router_bridge_opts did, the user's flags last", () => {
    const env = {WEAVE_NO_FASTDP: '1', WEAVE_NO_BRIDGED_FASTDP: 'yes', DOCKER_BRIDGE: 'br0'};
    const argv = routerArgs(parseLaunchArgs(['--no-fastdp=false']), {env, hostname: 'h'});
    assert.deepEqual(argv.slice(0, 8), ['--port', '6783', '--nickname', 'h', '--docker-bridge', 'br0', '--weave-bridge', 'weave']);
    assert.ok(argv.includes('--no-bridged-fastdp'));
    assert.ok(!argv.includes('--no-fastdp'), 'the user gave --no-fastdp=false: no default added');
    assert.equal(argv.at(-1), '--no-fastdp=false');
  });

  it("names the router flags that will have no effect, and the environment launch does not use, one line per reason", () => {
    assert.deepEqual(routerFlagWarnings(['--proxy', '--hostname-match', 'x', '--no-dns', '--plugin=false', 'host2']), ['WARNING: ignoring --proxy, --hostname-match: there is no Docker API proxy']);
    assert.deepEqual(routerFlagWarnings(['--bogus']), [], 'a bad flag is the router\'s to refuse');
    const lines = launchEnvWarnings({IPALLOC_RANGE: '10.40.0.0/16', CONN_LIMIT: '30', WEAVE_VERSION: '2.8.1', DOCKERHUB_USER: 'me', WEAVE_DOCKER_ARGS: '-m 1g', AWSVPC: '', HOME: '/root'});
    assert.deepEqual(lines, [
      "WARNING: IPALLOC_RANGE, CONN_LIMIT: read by the router from its own environment (as weave 2.8.1's Kubernetes addon), not by weave launch (nor by the original's script); give --ipalloc-range, --conn-limit instead",
      "WARNING: ignoring WEAVE_VERSION, DOCKERHUB_USER: named weave 2.8.1's images: set WEAVE_IMAGE to choose the router image",
      'WARNING: ignoring WEAVE_DOCKER_ARGS: the router container is created with fixed options here',
    ]);
    assert.deepEqual(launchEnvWarnings({PATH: '/bin'}), []);
  });
});
