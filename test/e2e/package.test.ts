import assert from 'node:assert/strict';
import {cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, realpathSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {PACKAGE_ROOT, VERSION} from '../../src/lib/package.js';
import {collect} from '../helpers/spawn.js';

/**
 * The package as a user gets it: `npm pack`, then `npm install` of the tarball into an empty
 * prefix (dependencies from npm's cache, else the registry), then the installed `weave` run from
 * there. npm test has built dist/ already, so the pack skips prepack (which would build again).
 */
describe('the npm package (npm pack, npm install of the tarball)', function () {
  this.timeout(600_000);
  let scratch: string;
  let prefix: string;
  let installed: string;
  let weaveBin: string;
  // Only what a user's shell has: no WEAVE_* settings of the test run, a Docker engine that is not there.
  let env: NodeJS.ProcessEnv;

  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'weave-package-'));
    prefix = join(scratch, 'prefix');
    mkdirSync(prefix);
    const pack = await collect('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', scratch], {env: {...process.env, npm_config_loglevel: 'error'}});
    assert.equal(pack.exitCode, 0, pack.stderr);
    const [{filename}] = JSON.parse(pack.stdout) as [{filename: string}];
    const install = await collect('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--prefix', prefix, join(scratch, filename)]);
    assert.equal(install.exitCode, 0, `npm install of the tarball failed:\n${install.stderr}`);
    installed = join(prefix, 'node_modules', 'weave-net');
    weaveBin = join(prefix, 'node_modules', '.bin', 'weave');
    env = {
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('WEAVE_') && k !== 'HAIRPIN_MODE')),
      DOCKER_HOST: `unix://${join(scratch, 'no-docker.sock')}`,
      CI: '1',
    };
  });
  after(() => rmSync(scratch, {recursive: true, force: true}));

  it('installs `weave`, which prints its version', async () => {
    assert.equal(readlinkSync(weaveBin), '../weave-net/bin/weave.js');
    const run = await collect(weaveBin, ['version'], {env: {...env, WEAVE_HTTP_ADDR: join(scratch, 'no-router.sock')}});
    assert.deepEqual([run.exitCode, run.stdout, run.stderr], [0, `weave script ${VERSION}\n`, '']);
  });

  it('holds what runs and nothing of the development tree', () => {
    for (const file of ['bin/weave.js', 'bin/weave-cni-launcher.sh', 'bin/weave-cni-client.pl', 'dist/cli/main.js', 'dist/weave-cni.cjs', 'dist/lib/weave-router.mjs', 'oclif.manifest.json', 'completions/weave.bash', 'native/tap.c', 'native/gso.c', 'native/gcm.c', 'native/udp.c', 'native/lock.c', 'native/addon.h', 'native/install.cjs']) {
      assert.ok(existsSync(join(installed, file)), `the package lacks ${file}`);
    }
    for (const file of ['src', 'test', 'bench', 'scripts', 'dist/commands', 'dist/cli/meta.json', 'tsconfig.json']) {
      assert.ok(!existsSync(join(installed, file)), `the package holds ${file}`);
    }
  });

  it('ships the TAP addon for this platform, and it loads (the router image always has it)', async () => {
    const addon = join(installed, 'native', 'build', 'Release', 'weave_tap.node');
    const load = await collect(process.execPath, ['-e', 'const tap = require(process.argv[1]); process.exit(typeof tap.open === "function" ? 0 : 1)', addon]);
    assert.equal(load.exitCode, 0, load.stderr);
  });

  it('`weave setup` from the package installs the plugin into temporary dirs, pointing at the installed package, and the plugin runs', async () => {
    const bin = join(scratch, 'cni-bin');
    const conf = join(scratch, 'cni-conf');
    mkdirSync(bin);
    mkdirSync(conf);
    const setup = await collect(weaveBin, ['setup', '--cni-bin-dir', bin, '--cni-conf-dir', conf], {env});
    // No Docker engine here: the CNI install stands and setup warns how to start Docker.
    assert.equal(setup.exitCode, 0, setup.stderr);
    assert.match(setup.stdout, new RegExp(`^installed launcher ${join(bin, `weave-plugin-${VERSION}`)}$`, 'm'));
    assert.match(setup.stderr, /Docker/);
    const launcher = readFileSync(join(bin, `weave-plugin-${VERSION}`), 'utf8');
    const real = realpathSync(installed);
    assert.ok(launcher.includes(`WEAVE_ENTRY='${join(real, 'dist', 'weave-cni.cjs')}'`), launcher.slice(0, 400));
    assert.ok(launcher.includes(`WEAVE_CNI_CLIENT='${join(real, 'bin', 'weave-cni-client.pl')}'`));
    assert.ok(existsSync(join(conf, '10-weave.conflist')));
    const version = await collect(join(bin, 'weave-net'), [], {env: {...env, CNI_COMMAND: 'VERSION'}, input: ''});
    assert.equal(version.exitCode, 0, version.stderr);
    assert.equal((JSON.parse(version.stdout) as {cniVersion: string}).cniVersion, '1.1.0');
  });

  it('prints its completion scripts', async () => {
    const run = await collect(weaveBin, ['completion', 'bash'], {env});
    assert.equal(run.exitCode, 0, run.stderr);
    assert.equal(run.stdout, readFileSync(join(PACKAGE_ROOT, 'completions', 'weave.bash'), 'utf8'));
  });

  it('builds in prepack, and its install script never fails the install', () => {
    const {scripts} = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as {scripts: Record<string, string>};
    assert.match(scripts.prepack!, /npm run build/);
    assert.equal(scripts.install, 'node native/install.cjs');
  });
});

describe('the TAP addon is optional at install (native/install.cjs)', function () {
  this.timeout(120_000);
  let dir: string;
  before(() => {
    // The addon's sources as the package ships them, without a build: a host where the shipped one does not load.
    dir = mkdtempSync(join(tmpdir(), 'weave-native-'));
    const {files} = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as {files: string[]};
    const sources = files.filter(file => file.startsWith('native/') && !file.startsWith('native/build/'));
    for (const file of sources) cpSync(join(PACKAGE_ROOT, file), join(dir, file.slice('native/'.length)));
  });
  after(() => rmSync(dir, {recursive: true, force: true}));

  // No Node headers where node-gyp is told to find them: the build fails, as on a host without them.
  const noHeaders = {...process.env, npm_config_nodedir: join(tmpdir(), 'no-node-headers')};

  it('warns and exits 0 when it cannot be built, saying who needs it and how to build it', async () => {
    const run = await collect(process.execPath, [join(dir, 'install.cjs')], {env: noHeaders});
    assert.equal(run.exitCode, 0, run.stderr);
    assert.match(run.stderr, /the TAP addon for the router's encrypted data path cannot be built/);
    assert.match(run.stderr, /The CLI and the CNI plugin do not need it/);
    assert.ok(run.stderr.includes(`node ${join(dir, 'install.cjs')} --required`), run.stderr);
    assert.ok(!existsSync(join(dir, 'build', 'Release', 'weave_tap.node')));
  });

  it('fails with --required (npm run build:native, the router image build)', async () => {
    const run = await collect(process.execPath, [join(dir, 'install.cjs'), '--required'], {env: noHeaders});
    assert.equal(run.exitCode, 1);
  });

  it('builds it where Node\'s headers are', async () => {
    const run = await collect(process.execPath, [join(dir, 'install.cjs'), '--required']);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.ok(existsSync(join(dir, 'build', 'Release', 'weave_tap.node')));
  });
});
