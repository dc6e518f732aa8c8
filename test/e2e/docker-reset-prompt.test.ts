import assert from 'node:assert/strict';
import {after, before, describe, it} from 'mocha';
import {DockerHost} from '../helpers/docker-host.js';
import {runInPty} from '../helpers/pty.js';
import {requireRoot, requireTool} from '../helpers/root.js';
import {WEAVE_BIN} from '../helpers/setup-cli.js';

describe('weave reset on a terminal asks first, saying what will be lost', function () {
  requireRoot();
  requireTool('dockerd', 'docker.io');
  requireTool('python3', 'python3');
  this.timeout(120_000);

  let host: DockerHost;
  const reset = (args: string[], send?: string) =>
    runInPty(['nsenter', `--net=${host.ns.path}`, process.execPath, WEAVE_BIN, 'reset', ...args], host.env(), send ? [{when: /Reset weave on this host\?/, send}] : []);

  before(async () => {
    host = await DockerHost.start();
    const run = host.weave(['launch']);
    assert.equal(run.exitCode, 0, run.stderr);
  });

  after(async () => {
    await host?.destroy();
  });

  it('answered no: lists the losses, removes nothing, exits 1', async () => {
    const run = await reset([], 'n\r');
    assert.equal(run.exitCode, 1, run.output);
    assert.match(run.output, /weave reset removes from this host:/);
    assert.match(run.output, /the router container 'weave' \(running: it first hands its address ranges to another peer\)/);
    assert.match(run.output, /the state volume 'weavedb'/);
    assert.match(run.output, /Reset cancelled: nothing was removed\./);
    assert.equal(host.inspect()?.State.Running, true);
    assert.equal(host.engine.docker(['volume', 'inspect', 'weavedb']).exitCode, 0);
    assert.ok(host.ns.links().includes('weave'));
    assert.equal(host.api('GET', '/status')[0], 200);
  });

  it('answered yes: resets', async () => {
    const run = await reset([], 'y\r');
    assert.equal(run.exitCode, 0, run.output);
    assert.equal(host.inspect(), undefined);
    assert.ok(!host.ns.links().includes('weave'));
  });

  it('with --yes does not ask', async () => {
    const run = await reset(['--yes']);
    assert.equal(run.exitCode, 0, run.output);
    assert.doesNotMatch(run.output, /Reset weave on this host\?/);
  });
});
