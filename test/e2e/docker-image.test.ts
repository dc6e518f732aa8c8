import assert from 'node:assert/strict';
import {after, before, describe, it} from 'mocha';
import {BUILD_LABEL} from '../../src/lib/docker/image.js';
import {VERSION} from '../../src/lib/package.js';
import {DockerHost, ROUTER_IMAGE} from '../helpers/docker-host.js';
import {requireRoot, requireTool} from '../helpers/root.js';

/** What the image may execute: node, a shell, and the router's network tools. */
const EXPECTED_PROGRAMS = ['bridge', 'dash', 'flock', 'ip', 'iptables', 'iptables-restore', 'iptables-save', 'node', 'nsenter', 'setpriv', 'sh', 'sysctl', 'xtables-nft-multi'];

describe('the router image, built from this machine with no registry', function () {
  requireRoot();
  requireTool('dockerd', 'docker.io');
  this.timeout(180_000);

  let host: DockerHost;

  before(async () => {
    // No image provided: the launch must build it.
    host = await DockerHost.start({image: false});
  });

  after(async () => {
    await host?.destroy();
  });

  it('is built by `weave launch` on an engine that lacks it, and runs the router', () => {
    assert.equal(host.engine.hasImage(ROUTER_IMAGE), false);
    const started = Date.now();
    const run = host.weave(['launch']);
    const seconds = (Date.now() - started) / 1000;
    assert.equal(run.exitCode, 0, run.stderr);
    assert.match(run.stderr, new RegExp(`Router image ${ROUTER_IMAGE.replace(/\./g, '\\.')} \\(built locally, \\d+ MB\\)`));
    assert.equal(host.api('GET', '/status')[0], 200);
    const image = JSON.parse(host.engine.must(['image', 'inspect', ROUTER_IMAGE]))[0] as {Size: number; Config: {Entrypoint: string[]; Labels: Record<string, string>}};
    assert.deepEqual(image.Config.Entrypoint, ['/usr/bin/node', '/weave/bin/weave.js', 'router']);
    assert.equal(image.Config.Labels['org.opencontainers.image.version'], VERSION);
    assert.match(image.Config.Labels[BUILD_LABEL] ?? '', /^[0-9a-f]{16}$/);
    assert.ok(image.Size < 200e6, `the image is ${Math.round(image.Size / 1e6)} MB`);
    console.log(`      (launch with a local build: ${seconds.toFixed(1)} s; image ${Math.round(image.Size / 1e6)} MB)`);
    assert.equal(host.weave(['reset']).exitCode, 0);
  });

  it('answers `weave router --help` as its entry point', () => {
    const run = host.engine.docker(['run', '--rm', ROUTER_IMAGE, '--help']);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.match(run.stdout, /\$ weave router/);
  });

  it('holds node, a shell and the network tools, each loading its libraries, and no other program', () => {
    const list = "for (const d of ['/usr/bin', '/usr/sbin']) for (const f of require('fs').readdirSync(d)) console.log(f)";
    // A set: a program may be in both directories (Debian's /usr/sbin/ip links to /usr/bin/ip).
    const programs = [...new Set(host.engine.must(['run', '--rm', '--entrypoint', '/usr/bin/node', ROUTER_IMAGE, '-e', list]).split('\n'))].sort();
    assert.deepEqual(programs, EXPECTED_PROGRAMS);
    const versions = host.engine.docker(['run', '--rm', '--entrypoint', '/bin/sh', ROUTER_IMAGE, '-c', 'ip -V && bridge -V && iptables --version && iptables-save --version && nsenter --version && flock --version && setpriv --version && sysctl --version']);
    assert.equal(versions.exitCode, 0, versions.stderr);
    assert.match(versions.stdout, /iptables v[\d.]+ \(nf_tables\)/);
  });

  it('builds an image of ours named with a registry that does not answer, under that name', () => {
    const image = 'localhost:5999/weave-net:e2e';
    const run = host.weave(['launch', '--image', image]);
    try {
      assert.equal(run.exitCode, 0, run.stderr);
      assert.equal(host.inspect()?.Config.Image, image);
    } finally {
      host.weave(['reset', '--force']);
      host.engine.docker(['rmi', image]);
    }
  });

  it("says what to do when an image that is not ours cannot be pulled, and exits 1", () => {
    const run = host.weave(['launch'], {WEAVE_IMAGE: 'weaveworks/weave:2.8.1'});
    assert.equal(run.exitCode, 1);
    assert.match(run.stderr, /image weaveworks\/weave:2\.8\.1 is not on this Docker engine and cannot be pulled \(.+\): load it \(`docker load -i <file>`\), or unset WEAVE_IMAGE and --image/);
    assert.equal(host.inspect(), undefined);
  });

  it('rejects a malformed image name before touching Docker', () => {
    const run = host.weave(['launch', '--image', 'Bad Name']);
    assert.equal(run.exitCode, 1);
    assert.match(run.stderr, /invalid image "Bad Name"/);
  });
});
