import assert from 'node:assert/strict';
import {describe, it} from 'mocha';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {describeEndpoint, openDocker} from '../../../src/lib/docker/client.js';
import {DockerOperatorError} from '../../../src/lib/docker/errors.js';
import {listenerFromSs} from '../../../src/lib/host/port-check.js';
import {routerPort} from '../../../src/lib/docker/reset.js';
import {checkRange} from '../../../src/lib/host/route-check.js';
import {cidrsOverlap} from '../../../src/lib/net/cidr.js';
import {demuxLogs} from '../../../src/lib/docker/router-container.js';
import {READONLY_PATHS, ROUTER_CAPABILITIES, routerContainerSpec} from '../../../src/lib/docker/spec.js';

describe('the range check against host routes', () => {
  const routes = [{dst: 'default', dev: 'eth0'}, {dst: '10.0.0.0/8', dev: 'eth0'}, {dst: '10.32.0.0/12', dev: 'weave'}];

  it('finds overlaps either way round, and host routes without a prefix', () => {
    assert.ok(cidrsOverlap('10.0.0.0/8', '10.32.0.0/12'));
    assert.ok(cidrsOverlap('10.32.0.0/12', '10.40.1.0/24'));
    assert.ok(cidrsOverlap('10.33.1.1', '10.32.0.0/12'));
    assert.ok(!cidrsOverlap('10.48.0.0/16', '10.32.0.0/12'));
  });

  it('stops on the default range with the original three lines', () => {
    assert.throws(
      () => checkRange('10.32.0.0/12', false, routes, 'weave'),
      (e: DockerOperatorError) =>
        e.message === 'Network 10.32.0.0/12 overlaps with existing route 10.0.0.0/8 on host.\nERROR: Default --ipalloc-range 10.32.0.0/12 overlaps with existing route on host.\nYou must pick another range and set it on all hosts.' && e.exitCode === 1,
    );
  });

  it('only warns on a chosen range, ignores the default route and the weave bridge, and skips IPAM off', () => {
    assert.deepEqual(checkRange('10.32.0.0/12', true, routes, 'weave').warnings.slice(1), [
      'WARNING: Specified --ipalloc-range 10.32.0.0/12 overlaps with existing route on host.',
      'Unless this is deliberate, you must pick another range and set it on all hosts.',
    ]);
    assert.deepEqual(checkRange('192.168.0.0/16', false, routes, 'weave').warnings, []);
    assert.deepEqual(checkRange('', false, routes, 'weave').warnings, []);
  });
});

describe('the router container spec', () => {
  const spec = routerContainerSpec({name: 'weave', image: 'weave-net:1', args: ['--port', '6783'], restart: true, password: 'pw', version: '1', env: {CHECKPOINT_DISABLE: '1'}});

  it('asks for no privilege, host namespaces, the least capabilities, and a writable /proc/sys', () => {
    assert.equal(spec.HostConfig?.Privileged, false);
    assert.equal(spec.HostConfig?.NetworkMode, 'host');
    assert.equal(spec.HostConfig?.PidMode, 'host');
    assert.deepEqual(spec.HostConfig?.CapDrop, ['ALL']);
    assert.deepEqual(spec.HostConfig?.CapAdd, ROUTER_CAPABILITIES);
    assert.ok(!READONLY_PATHS.includes('/proc/sys'));
  });

  it('passes the password in the environment only, and clears the restart policy for --no-restart', () => {
    assert.deepEqual(spec.Env, ['CHECKPOINT_DISABLE=1', 'WEAVE_PASSWORD=pw']);
    assert.ok(!spec.Cmd?.includes('pw'));
    assert.equal(spec.HostConfig?.RestartPolicy?.Name, 'always');
    assert.equal(routerContainerSpec({name: 'w2', image: 'i', args: [], restart: false, version: '1'}).HostConfig?.RestartPolicy?.Name, 'no');
  });

  it('mounts the state volume (<name>db) and the CNI socket directory, no namespace directory', () => {
    const mounts = spec.HostConfig?.Mounts ?? [];
    assert.deepEqual(mounts.map(m => [m.Type, m.Source, m.Target]), [['volume', 'weavedb', '/weavedb'], ['bind', '/run/weave', '/run/weave']]);
  });

  it("binds the engine's unix socket where the router looks for it (check-alive), as the original", () => {
    const withSocket = routerContainerSpec({name: 'weave', image: 'i', args: [], restart: true, version: '1', dockerSocket: '/tmp/d.sock'});
    assert.ok(withSocket.HostConfig?.Binds?.includes('/tmp/d.sock:/var/run/docker.sock'), String(withSocket.HostConfig?.Binds));
    assert.ok(!spec.HostConfig?.Binds?.some(b => b.includes('docker.sock')), 'none without one');
  });
});

describe('small readers of the host and the engine', () => {
  it('reads DOCKER_HOST through docker-modem, with the docker CLI\'s defaults where it has none', async () => {
    const endpoint = async (env: Record<string, string>) => (await openDocker(env)).endpoint;
    assert.deepEqual(await endpoint({DOCKER_HOST: 'unix:///tmp/d.sock'}), {kind: 'unix', socketPath: '/tmp/d.sock'});
    assert.deepEqual(await endpoint({DOCKER_HOST: 'tcp://10.0.0.1:2375'}), {kind: 'tcp', host: '10.0.0.1', port: 2375, tls: false});
    assert.deepEqual(await endpoint({DOCKER_HOST: 'tcp://10.0.0.1'}), {kind: 'tcp', host: '10.0.0.1', port: 2375, tls: false}, 'the CLI\'s port, not 80');
    assert.deepEqual(await endpoint({DOCKER_HOST: '[fd00::1]:2375'}), {kind: 'tcp', host: 'fd00::1', port: 2375, tls: false}, 'no scheme: tcp');
    assert.equal(describeEndpoint(await endpoint({DOCKER_HOST: 'tcp://[fd00::1]:2375'})), 'tcp://[fd00::1]:2375', 'brackets once');
    await assert.rejects(endpoint({DOCKER_HOST: 'ssh://core@h'}), {message: 'DOCKER_HOST=ssh://core@h is not supported: use unix:///path/to/docker.sock or tcp://<host>:<port>'});
    const certs = mkdtempSync(join(tmpdir(), 'weave-certs-'));
    try {
      for (const name of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(join(certs, name), '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n');
      assert.deepEqual(await endpoint({DOCKER_HOST: 'tcp://h', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certs}), {kind: 'tcp', host: 'h', port: 2376, tls: true});
      rmSync(join(certs, 'key.pem'));
      const home = process.env.HOME;
      process.env.HOME = certs; // ~/.docker is then a directory that does not exist
      try {
        await assert.rejects(endpoint({DOCKER_HOST: 'tcp://h', DOCKER_TLS_VERIFY: '1'}), {message: new RegExp(`cannot read ${join(certs, '.docker', 'ca.pem')} for TLS`)}, 'TLS without DOCKER_CERT_PATH: ~/.docker, as the CLI');
      } finally {
        process.env.HOME = home;
      }
      await assert.rejects(endpoint({DOCKER_HOST: 'tcp://h:2376', DOCKER_CERT_PATH: certs}), (e: Error) => e instanceof DockerOperatorError && e.message.includes(`cannot read ${join(certs, 'key.pem')} for TLS`) && /set DOCKER_CERT_PATH/.test(e.message));
    } finally {
      rmSync(certs, {recursive: true, force: true});
    }
    await assert.rejects(endpoint({DOCKER_HOST: 'tcp://a b'}), (e: Error) => e instanceof DockerOperatorError && /DOCKER_HOST=tcp:\/\/a b is not supported: use unix:/.test(e.message));
  });

  it("lends docker-modem the caller's Docker variables and puts process.env back", async () => {
    const before = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = 'unix:///tmp/outer.sock';
    try {
      assert.deepEqual((await openDocker({DOCKER_HOST: 'tcp://10.0.0.9:2375'})).endpoint, {kind: 'tcp', host: '10.0.0.9', port: 2375, tls: false});
      assert.equal(process.env.DOCKER_HOST, 'unix:///tmp/outer.sock');
      assert.deepEqual((await openDocker({})).endpoint.kind, 'unix', 'unset in the given env: the default socket, not the outer variable');
      assert.equal(process.env.DOCKER_HOST, 'unix:///tmp/outer.sock');
    } finally {
      if (before === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = before;
    }
  });

  it('names the process holding a port from ss', () => {
    assert.equal(listenerFromSs('LISTEN 0 5 0.0.0.0:6783 0.0.0.0:* users:(("socat",pid=4242,fd=5))'), 'socat (pid 4242)');
    assert.equal(listenerFromSs(''), undefined);
  });

  it("finds the router's --port in the container's arguments, else WEAVE_PORT, else 6783", () => {
    const info = (args: string[]) => ({Args: args}) as never;
    assert.equal(routerPort(info(['/weave/bin/weave.js', 'router', '--port', '7000']), {}), 7000);
    assert.equal(routerPort(info(['--port=7001']), {}), 7001);
    assert.equal(routerPort(undefined, {WEAVE_PORT: '7002'}), 7002);
    assert.equal(routerPort(undefined, {}), 6783);
  });

  it("splits Docker's multiplexed log frames", () => {
    const frame = (stream: number, text: string) => Buffer.concat([Buffer.from([stream, 0, 0, 0, 0, 0, 0, text.length]), Buffer.from(text)]);
    assert.equal(demuxLogs(Buffer.concat([frame(1, 'out\n'), frame(2, 'err\n')])), 'out\nerr\n');
    assert.equal(demuxLogs(Buffer.from('plain text\n')), 'plain text\n');
  });
});
