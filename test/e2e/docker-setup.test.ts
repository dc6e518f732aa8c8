import assert from 'node:assert/strict';
import {existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {after, before, describe, it} from 'mocha';
import {VERSION} from '../../src/lib/package.js';
import {DockerHost, ROUTER_IMAGE} from '../helpers/docker-host.js';
import {runInPty} from '../helpers/pty.js';
import {requireRoot, requireTool} from '../helpers/root.js';
import {runWeave, WEAVE_BIN} from '../helpers/setup-cli.js';

const IMAGE = ROUTER_IMAGE.replace(/\./g, '\\.');
const LAUNCHER = `weave-plugin-${VERSION}`;
/** An SGR sequence: a colour (cursor movement and visibility are not colours). */
const COLOUR = /\x1b\[[0-9;]*m/;
const START_HINT = /Is dockerd running\? Start it \(`systemctl start docker`, or `setsid dockerd [^`]*` where there is no init system\), or set DOCKER_HOST/;

describe('weave setup without a Docker engine', function () {
  requireRoot();
  requireTool('python3', 'python3');
  this.timeout(60_000);

  let dir: string;
  let binDir: string;
  let confDir: string;
  let env: Record<string, string>;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'h3-setup-'));
    binDir = join(dir, 'bin');
    confDir = join(dir, 'conf');
    env = {DOCKER_HOST: `unix://${join(dir, 'missing.sock')}`, WEAVE_CNI_PLUGIN_DIR: binDir, WEAVE_CNI_CONF_DIR: confDir};
  });

  after(() => rmSync(dir, {recursive: true, force: true}));

  const fresh = () => {
    rmSync(binDir, {recursive: true, force: true});
    rmSync(confDir, {recursive: true, force: true});
    mkdirSync(binDir);
    mkdirSync(confDir);
  };

  it('still installs the CNI plugin, and warns (exit 0) that the image is not ready, saying how to start Docker', () => {
    fresh();
    const run = runWeave(['setup'], env);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.deepEqual(run.stdout.trim().split('\n'), [
      `installed launcher ${join(binDir, LAUNCHER)}`,
      `linked ${join(binDir, 'weave-net')} -> ${LAUNCHER}`,
      `linked ${join(binDir, 'weave-ipam')} -> ${LAUNCHER}`,
      `wrote ${join(confDir, '10-weave.conflist')}`,
    ]);
    assert.ok(existsSync(join(binDir, 'weave-net')));
    assert.match(run.stderr, new RegExp(`^warning: the router image ${IMAGE} is not ready: Cannot connect to the Docker engine at unix://.*/missing\\.sock: no such socket\\.`, 'm'));
    assert.match(run.stderr, START_HINT);
    assert.match(run.stderr, /Then run `weave setup` again \(`weave launch` also makes the image\)\.$/m);
    assert.doesNotMatch(run.stderr, /^\s+at /m);
  });

  it('off a terminal shows its two steps as plain lines on stderr, without colour', () => {
    fresh();
    const run = runWeave(['setup'], env);
    assert.equal(run.exitCode, 0, run.stderr);
    const steps = run.stderr.split('\n').filter(line => /^[✔❯✖] /.test(line));
    assert.deepEqual(steps, [
      '❯ Install the weave CNI plugin',
      `✔ Installed the weave CNI plugin in ${binDir}`,
      `❯ Router image ${ROUTER_IMAGE}`,
      `✔ Router image ${ROUTER_IMAGE}: skipped, no Docker engine answered`,
    ]);
    assert.doesNotMatch(run.stderr, /\x1b/);
  });

  it('on a terminal redraws its task list and colours the warning, unless NO_COLOR or --no-color', async () => {
    fresh();
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'CI' && k !== 'NO_COLOR' && k !== 'FORCE_COLOR')) as Record<string, string>;
    const setup = (args: string[], extra: Record<string, string> = {}) => runInPty([process.execPath, WEAVE_BIN, 'setup', ...args], {...base, ...env, ...extra}, []);
    const coloured = await setup([]);
    assert.equal(coloured.exitCode, 0, coloured.output);
    assert.match(coloured.output, /\x1b\[1A/, 'the task list is redrawn in place');
    assert.match(coloured.output, /\x1b\[33mwarning: the router image/, 'the warning is yellow');
    for (const [args, extra] of [[[], {NO_COLOR: '1'}], [['--no-color'], {}]] as const) {
      const plain = await setup([...args], extra);
      assert.equal(plain.exitCode, 0, plain.output);
      assert.match(plain.output, /warning: the router image/);
      assert.doesNotMatch(plain.output, COLOUR, `${args.join(' ')} ${JSON.stringify(extra)}`);
    }
  });

  it('prints the mkdir line when the CNI directories are missing, and still goes on to the image (exit 0)', () => {
    rmSync(binDir, {recursive: true, force: true});
    rmSync(confDir, {recursive: true, force: true});
    const run = runWeave(['setup'], env);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.equal(
      run.stdout,
      `weave CNI plugin not installed: ${binDir} and ${confDir} do not exist. Create them, then run \`weave setup\` again:\n  mkdir -p ${binDir} ${confDir}\n`,
    );
    assert.match(run.stderr, new RegExp(`^✔ weave CNI plugin not installed: ${binDir} and ${confDir} missing$`, 'm'));
    assert.match(run.stderr, /^warning: the router image /m);
  });

  it('rejects a malformed image name before changing anything: exit 1', () => {
    fresh();
    const run = runWeave(['setup', '--image', 'Bad Name'], env);
    assert.equal(run.exitCode, 1);
    assert.match(run.stderr, /invalid image "Bad Name": each name component is lower-case/);
    assert.deepEqual(readdirSync(binDir), []);
    assert.deepEqual(readdirSync(confDir), []);
  });

  it('setup-cni installs the CNI plugin alone, never asking Docker', () => {
    fresh();
    const run = runWeave(['setup-cni'], env);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.match(run.stdout, /^installed launcher /m);
    assert.doesNotMatch(run.stderr, /Docker|router image/);
  });
});

describe('weave setup with a Docker engine', function () {
  requireRoot();
  requireTool('dockerd', 'docker.io');
  this.timeout(240_000);

  let host: DockerHost;

  before(async () => {
    host = await DockerHost.start({image: false});
  });

  after(async () => {
    await host?.destroy();
  });

  it('builds the router image when no registry has it, after installing the CNI plugin', () => {
    assert.equal(host.engine.hasImage(ROUTER_IMAGE), false);
    const run = host.weave(['setup']);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.match(run.stderr, new RegExp(`^✔ Router image ${IMAGE} \\(built locally, \\d+ MB\\)$`, 'm'));
    assert.ok(run.stderr.indexOf('Installed the weave CNI plugin') < run.stderr.indexOf('Router image'), run.stderr);
    assert.ok(host.engine.hasImage(ROUTER_IMAGE));
    assert.ok(existsSync(join(host.binDir, 'weave-net')));
    assert.doesNotMatch(run.stderr, /warning: the router image/);
  });

  it('finds it there the next time, and changes nothing', () => {
    const run = host.weave(['setup']);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.match(run.stderr, new RegExp(`^✔ Router image ${IMAGE} \\(present, \\d+ MB\\)$`, 'm'));
    assert.equal(run.stdout, `weave CNI plugin already installed in ${host.binDir}; nothing changed\n`);
  });

  it('fails (exit 1) on an image that is not ours and cannot be pulled, saying what to do; the CNI install stays', () => {
    const run = host.weave(['setup'], {WEAVE_IMAGE: 'weaveworks/weave:2.8.1'});
    assert.equal(run.exitCode, 1);
    assert.match(run.stderr, /image weaveworks\/weave:2\.8\.1 is not on this Docker engine and cannot be pulled \(.+\): load it \(`docker load -i <file>`\), or unset WEAVE_IMAGE and --image/);
    assert.equal(run.stdout, `weave CNI plugin already installed in ${host.binDir}; nothing changed\n`);
    assert.doesNotMatch(run.stderr, /^\s+at /m);
  });
});
