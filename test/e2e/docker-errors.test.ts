import assert from 'node:assert/strict';
import {type ChildProcess, spawn} from 'node:child_process';
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, before, describe, it} from 'mocha';
import {DockerHost} from '../helpers/docker-host.js';
import {requireRoot, requireTool} from '../helpers/root.js';
import {runWeave} from '../helpers/setup-cli.js';

const START_HINT = /Is dockerd running\? Start it \(`systemctl start docker`, or `setsid dockerd [^`]*` where there is no init system\), or set DOCKER_HOST/;

/** A unix socket file nobody listens on: its server was killed without removing it. */
async function staleSocket(path: string): Promise<void> {
  const server: ChildProcess = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`]);
  await new Promise<void>(resolve => server.stdout!.once('data', () => resolve()));
  server.kill('SIGKILL');
  await new Promise(resolve => server.once('exit', resolve));
}

describe('weave launch / stop / reset when Docker cannot be reached', function () {
  requireRoot();
  this.timeout(60_000);

  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'weave-nodocker-'));
    await staleSocket(join(dir, 'stale.sock'));
  });
  after(() => rmSync(dir, {recursive: true, force: true}));

  const cases: [string, () => string, RegExp][] = [
    ['the socket is missing', () => `unix://${dir}/missing.sock`, /Cannot connect to the Docker engine at unix:\/\/.*\/missing\.sock: no such socket\./],
    ['the engine is down (stale socket)', () => `unix://${dir}/stale.sock`, /Cannot connect to the Docker engine at unix:\/\/.*\/stale\.sock: connection refused\./],
    ['nothing listens on the TCP endpoint', () => 'tcp://127.0.0.1:1', /Cannot connect to the Docker engine at tcp:\/\/127\.0\.0\.1:1: connection refused\./],
  ];
  for (const [what, dockerHost, message] of cases) {
    for (const command of ['launch', 'stop', 'reset']) {
      it(`${command}: ${what} → says how to start Docker, exit 1, no stack trace`, () => {
        const run = runWeave([command], {DOCKER_HOST: dockerHost(), NO_COLOR: '1'});
        assert.equal(run.exitCode, 1, run.stderr);
        assert.equal(run.stdout, '');
        assert.match(run.stderr, message);
        assert.match(run.stderr, START_HINT);
        assert.doesNotMatch(run.stderr, /^\s+at /m);
      });
    }
  }

  it('colours its failure red when colours are on (FORCE_COLOR), and not with NO_COLOR or --no-color', () => {
    const missing = {DOCKER_HOST: `unix://${dir}/missing.sock`, FORCE_COLOR: '1'};
    assert.match(runWeave(['stop'], {...missing, NO_COLOR: ''}).stderr, /^\x1b\[31mCannot connect to the Docker engine/);
    for (const [args, env] of [[['stop', '--no-color'], {NO_COLOR: ''}], [['stop'], {NO_COLOR: '1'}]] as const) {
      const run = runWeave([...args], {...missing, ...env});
      assert.equal(run.exitCode, 1);
      assert.match(run.stderr, /^Cannot connect to the Docker engine/);
      assert.doesNotMatch(run.stderr, /\x1b/);
    }
  });

  it('an unsupported DOCKER_HOST is named, exit 1', () => {
    const run = runWeave(['stop'], {DOCKER_HOST: 'ssh://user@host'});
    assert.equal(run.exitCode, 1);
    assert.match(run.stderr, /DOCKER_HOST=ssh:\/\/user@host is not supported: use unix:\/\/\/path\/to\/docker\.sock or tcp:\/\/<host>:<port>/);
  });

  it('launch with a flag missing its value says so and where the usage is, exit 1', () => {
    const run = runWeave(['launch', '--password'], {DOCKER_HOST: `unix://${dir}/missing.sock`});
    assert.equal(run.exitCode, 1);
    assert.equal(run.stderr, '--password needs a value\nSee `weave launch --help`.\n');
  });
});

describe('DOCKER_HOST over TCP', function () {
  requireRoot();
  requireTool('dockerd', 'docker.io');
  this.timeout(120_000);

  let host: DockerHost;
  before(async () => {
    host = await DockerHost.start({image: false, tcp: 'tcp://127.0.0.1:2375'});
  });
  after(async () => {
    await host?.destroy();
  });

  it('reaches the engine at tcp://host:port (stop answers with the not-running message)', () => {
    const run = host.weave(['stop'], {DOCKER_HOST: 'tcp://127.0.0.1:2375'});
    assert.equal(run.exitCode, 0, run.stderr);
    assert.equal(run.stderr, 'Weave is not running (ignore on Kubernetes).\n');
  });
});
