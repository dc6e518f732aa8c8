import assert from 'node:assert/strict';
import {execFileSync, spawnSync} from 'node:child_process';
import {chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync} from 'node:fs';
import {basename, join} from 'node:path';
import {ADVERTISED_VERSIONS, CONFLIST_VERSIONS, renderConflist, validateCniVersion} from '../../src/lib/setup/conflist.js';
import {mkdirCommand, resolveCniDirs} from '../../src/lib/setup/dirs.js';
import {CNI_CLIENT, LAUNCHER_SOURCE, launcherScript} from '../../src/lib/setup/launcher.js';
import {VERSION} from '../../src/lib/package.js';
import {Netns} from '../helpers/netns.js';
import {CNI_MAIN, runPlugin} from '../helpers/plugin.js';
import {requireRoot, requireTool} from '../helpers/root.js';
import {CniScratch, runWeave} from '../helpers/setup-cli.js';

const LAUNCHER = `weave-plugin-${VERSION}`;
/** The reference plugins setup checks for in the bin dir. */
const REFERENCE_PLUGINS = ['/usr/lib/cni/portmap', '/usr/lib/cni/loopback'];

/** What a later run must leave exactly as it was: the directory's mtime, and identity, mtime and content of every entry. */
function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(
    ['.', ...readdirSync(dir)].map(name => {
      const path = join(dir, name);
      const st = lstatSync(path);
      const body = st.isSymbolicLink() ? `-> ${readlinkSync(path)}` : st.isDirectory() ? '' : readFileSync(path, 'utf8');
      return [name, `${st.ino} ${st.mtimeMs} ${st.mode.toString(8)} ${body}`];
    }),
  );
}

function readConflist(scratch: CniScratch): Record<string, unknown> {
  return JSON.parse(readFileSync(join(scratch.confDir, '10-weave.conflist'), 'utf8')) as Record<string, unknown>;
}

// The CNI install of `weave setup`, run as `weave setup-cni`: the same install without the router
// image step, whose task list and Docker engine are test/e2e/docker-setup.test.ts's.
describe('weave setup', function () {
  let scratch: CniScratch;

  beforeEach(() => {
    scratch = new CniScratch();
  });
  afterEach(() => scratch.remove());

  function makeDirs(): void {
    mkdirSync(scratch.binDir);
    mkdirSync(scratch.confDir);
  }

  describe('a fresh install', () => {
    it('installs the launcher, both links and the conflist, one line per change', () => {
      makeDirs();
      const run = runWeave(['setup-cni', ...scratch.flags]);
      assert.equal(run.exitCode, 0, run.stderr);
      assert.deepEqual(run.stdout.trim().split('\n'), [
        `installed launcher ${join(scratch.binDir, LAUNCHER)}`,
        `linked ${join(scratch.binDir, 'weave-net')} -> ${LAUNCHER}`,
        `linked ${join(scratch.binDir, 'weave-ipam')} -> ${LAUNCHER}`,
        `wrote ${join(scratch.confDir, '10-weave.conflist')}`,
      ]);

      const launcher = join(scratch.binDir, LAUNCHER);
      assert.equal(lstatSync(launcher).mode & 0o777, 0o755);
      const script = readFileSync(launcher, 'utf8');
      assert.ok(script.startsWith(`#!/bin/sh\n# weave CNI plugin launcher, written by weave ${VERSION} (weave setup)`));
      // Its settings, then the body shipped as bin/weave-cni-launcher.sh.
      assert.ok(script.includes(`\nWEAVE_NODE='${process.execPath}'\nWEAVE_ENTRY='${CNI_MAIN}'\nWEAVE_CNI_CLIENT='${CNI_CLIENT}'\nWEAVE_SOCKET_DIR='/run/weave'\n`), script);
      assert.ok(script.endsWith(readFileSync(LAUNCHER_SOURCE, 'utf8').replace(/^#!.*\n/, '')), 'the body is the shipped launcher');
      assert.equal(readlinkSync(join(scratch.binDir, 'weave-net')), LAUNCHER);
      assert.equal(readlinkSync(join(scratch.binDir, 'weave-ipam')), LAUNCHER);
      // No temporary file is left behind.
      assert.deepEqual(readdirSync(scratch.binDir).sort(), ['weave-ipam', 'weave-net', LAUNCHER]);
      assert.deepEqual(readdirSync(scratch.confDir), ['10-weave.conflist']);

      assert.deepEqual(readConflist(scratch), {
        cniVersion: '0.4.0',
        cniVersions: ['0.4.0', '1.0.0', '1.1.0'],
        name: 'weave',
        plugins: [
          {name: 'weave', type: 'weave-net', hairpinMode: true},
          {type: 'portmap', capabilities: {portMappings: true}, snat: true},
        ],
      });
    });

    it('installs links that run the plugin under the name they were called by', async () => {
      makeDirs();
      assert.equal(runWeave(['setup-cni', ...scratch.flags]).exitCode, 0);

      // Called from a namespace of the test's own: from the host's, the launcher would hand the
      // calls to a router running there (the quick start's), through its socket in /run/weave.
      const ns = Netns.create('wtsetup');
      const call = (name: string, env: Record<string, string>, config: unknown) => runPlugin({executable: join(scratch.binDir, name), env, config, hostNetns: ns.path});
      try {
        const version = await call('weave-net', {CNI_COMMAND: 'VERSION'}, '');
        assert.equal(version.exitCode, 0, version.stderr);
        assert.deepEqual(version.json, {cniVersion: '1.1.0', supportedVersions: ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0']});

        // The same call tells the two apart: weave-ipam goes straight to the (absent) router,
        // weave-net first insists on the container's namespace.
        const env = {CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'setup-test', CNI_NETNS: '/run/netns/weave-setup-absent', CNI_IFNAME: 'eth0', CNI_PATH: scratch.binDir};
        const config = {cniVersion: '1.0.0', name: 'weave', type: 'weave-ipam'};
        const ipam = await call('weave-ipam', env, config);
        assert.equal(ipam.exitCode, 1);
        assert.equal(ipam.json?.code, 11, ipam.stdout);
        assert.match(String(ipam.json?.msg), /router must be running/);
        const net = await call('weave-net', env, config);
        assert.equal(net.exitCode, 1);
        assert.equal(net.json?.code, 4, net.stdout);
      } finally {
        ns.delete();
      }
    });
  });

  describe('a second run', () => {
    it('changes nothing and says so', () => {
      makeDirs();
      assert.equal(runWeave(['setup-cni', ...scratch.flags]).exitCode, 0);
      const bin = snapshot(scratch.binDir);
      const conf = snapshot(scratch.confDir);

      const again = runWeave(['setup-cni', ...scratch.flags]);
      assert.equal(again.exitCode, 0, again.stderr);
      assert.equal(again.stdout, `weave CNI plugin already installed in ${scratch.binDir}; nothing changed\n`);
      assert.deepEqual(snapshot(scratch.binDir), bin);
      assert.deepEqual(snapshot(scratch.confDir), conf);
    });

    it('never overwrites a conflist the user edited', () => {
      makeDirs();
      assert.equal(runWeave(['setup-cni', ...scratch.flags]).exitCode, 0);
      const path = join(scratch.confDir, '10-weave.conflist');
      const edited = readConflist(scratch);
      (edited.plugins as Record<string, unknown>[])[0]!.ipam = {routes: []};
      writeFileSync(path, JSON.stringify(edited));
      const before = snapshot(scratch.confDir);

      const again = runWeave(['setup-cni', ...scratch.flags, '--cni-version', '1.0.0']);
      assert.equal(again.exitCode, 0, again.stderr);
      assert.deepEqual(snapshot(scratch.confDir), before);
      assert.deepEqual((readConflist(scratch).plugins as Record<string, unknown>[])[0]!.ipam, {routes: []});
      // The explicit version could not be applied, and setup says how to apply it.
      assert.match(again.stderr, new RegExp(`--cni-version 1\\.0\\.0 not applied: ${path} exists and is never overwritten`));
    });

    it('replaces a legacy copy and a link to another version, atomically and relatively', () => {
      makeDirs();
      writeFileSync(join(scratch.binDir, 'weave-net'), 'legacy weaveutil copy');
      writeFileSync(join(scratch.binDir, 'weave-plugin-2.8.1'), 'old launcher');
      symlinkSync('weave-plugin-2.8.1', join(scratch.binDir, 'weave-ipam'));

      const run = runWeave(['setup-cni', ...scratch.flags]);
      assert.equal(run.exitCode, 0, run.stderr);
      assert.match(run.stdout, new RegExp(`^linked ${join(scratch.binDir, 'weave-net')} -> ${LAUNCHER} \\(replaced a legacy copy\\)$`, 'm'));
      assert.match(run.stdout, new RegExp(`^linked ${join(scratch.binDir, 'weave-ipam')} -> ${LAUNCHER} \\(was -> weave-plugin-2\\.8\\.1\\)$`, 'm'));
      assert.equal(readlinkSync(join(scratch.binDir, 'weave-net')), LAUNCHER);
      assert.equal(readlinkSync(join(scratch.binDir, 'weave-ipam')), LAUNCHER);
      // The other version's launcher stays for runtimes still calling it; no X.tmp is left.
      assert.deepEqual(readdirSync(scratch.binDir).sort(), ['weave-ipam', 'weave-net', LAUNCHER, 'weave-plugin-2.8.1']);
    });

    it('rewrites a launcher whose content or mode differs', () => {
      makeDirs();
      const launcher = join(scratch.binDir, LAUNCHER);
      writeFileSync(launcher, "#!/bin/sh\nWEAVE_NODE='/elsewhere/node'\n");
      chmodSync(launcher, 0o755);
      const run = runWeave(['setup-cni', ...scratch.flags]);
      assert.match(run.stdout, new RegExp(`^updated launcher ${launcher}$`, 'm'));
      assert.ok(readFileSync(launcher, 'utf8').includes(`WEAVE_NODE='${process.execPath}'`));

      chmodSync(launcher, 0o644);
      assert.match(runWeave(['setup-cni', ...scratch.flags]).stdout, /^updated launcher /);
      assert.equal(lstatSync(launcher).mode & 0o777, 0o755);
    });

    it('removes the legacy 10-weave.conf', () => {
      makeDirs();
      const legacy = join(scratch.confDir, '10-weave.conf');
      writeFileSync(legacy, '{"name": "weave", "type": "weave-net", "hairpinMode": true}\n');
      const run = runWeave(['setup-cni', ...scratch.flags]);
      assert.equal(run.exitCode, 0, run.stderr);
      assert.match(run.stdout, new RegExp(`^removed legacy ${legacy}$`, 'm'));
      assert.equal(existsSync(legacy), false);
      assert.deepEqual(readdirSync(scratch.confDir), ['10-weave.conflist']);
    });
  });

  describe('directories', () => {
    it('creates nothing when both are missing, and prints the mkdir to run', () => {
      const run = runWeave(['setup-cni', ...scratch.flags]);
      assert.equal(run.exitCode, 0, run.stderr);
      assert.match(run.stdout, new RegExp(`^  mkdir -p ${scratch.binDir} ${scratch.confDir}$`, 'm'));
      assert.match(run.stdout, /do not exist/);
      assert.deepEqual(readdirSync(scratch.root), []);
    });

    it('names only the missing one and installs nothing in the other', () => {
      mkdirSync(scratch.binDir);
      const run = runWeave(['setup-cni', ...scratch.flags]);
      assert.equal(run.exitCode, 0, run.stderr);
      assert.match(run.stdout, new RegExp(`^  mkdir -p ${scratch.confDir}$`, 'm'));
      assert.deepEqual(readdirSync(scratch.binDir), []);
      assert.equal(existsSync(scratch.confDir), false);
    });

    it('takes WEAVE_CNI_PLUGIN_DIR and WEAVE_CNI_CONF_DIR, and a flag beats them', () => {
      makeDirs();
      const run = runWeave(['setup-cni'], {WEAVE_CNI_PLUGIN_DIR: scratch.binDir, WEAVE_CNI_CONF_DIR: scratch.confDir});
      assert.equal(run.exitCode, 0, run.stderr);
      assert.equal(readlinkSync(join(scratch.binDir, 'weave-net')), LAUNCHER);
      assert.ok(existsSync(join(scratch.confDir, '10-weave.conflist')));

      const flagBin = join(scratch.root, 'flag-bin');
      const flagConf = join(scratch.root, 'flag-conf');
      mkdirSync(flagBin);
      mkdirSync(flagConf);
      const envBin = join(scratch.root, 'env-bin');
      const envConf = join(scratch.root, 'env-conf');
      mkdirSync(envBin);
      mkdirSync(envConf);
      const flagged = runWeave(['setup-cni', '--cni-bin-dir', flagBin, '--cni-conf-dir', flagConf], {WEAVE_CNI_PLUGIN_DIR: envBin, WEAVE_CNI_CONF_DIR: envConf});
      assert.equal(flagged.exitCode, 0, flagged.stderr);
      assert.equal(readlinkSync(join(flagBin, 'weave-ipam')), LAUNCHER);
      assert.ok(existsSync(join(flagConf, '10-weave.conflist')));
      assert.deepEqual(readdirSync(envBin), []);
      assert.deepEqual(readdirSync(envConf), []);
    });

    it('defaults to /opt/cni/bin and /etc/cni/net.d', () => {
      assert.deepEqual(resolveCniDirs({}, {}), {binDir: '/opt/cni/bin', confDir: '/etc/cni/net.d'});
      assert.deepEqual(resolveCniDirs({binDir: 'rel/bin'}, {WEAVE_CNI_PLUGIN_DIR: '/env/bin', WEAVE_CNI_CONF_DIR: '/env/conf'}), {
        binDir: join(process.cwd(), 'rel/bin'),
        confDir: '/env/conf',
      });
      assert.equal(mkdirCommand(['/opt/cni/bin', "/tmp/it's here"]), `mkdir -p /opt/cni/bin '/tmp/it'\\''s here'`);
    });

    describe('unwritable', function () {
      requireRoot();
      let mounted: string | undefined;
      afterEach(() => {
        if (mounted) execFileSync('umount', [mounted]);
        mounted = undefined;
      });

      it('exits 1 naming the path, with the fix', () => {
        makeDirs();
        // Root writes through any mode bits; a read-only bind mount stops even root.
        execFileSync('mount', ['--bind', scratch.binDir, scratch.binDir]);
        mounted = scratch.binDir;
        execFileSync('mount', ['-o', 'remount,ro,bind', scratch.binDir]);
        const run = runWeave(['setup-cni', ...scratch.flags]);
        assert.equal(run.exitCode, 1);
        assert.equal(run.stdout, '');
        assert.equal(run.stderr, `cannot write ${join(scratch.binDir, LAUNCHER)}: the file system is read-only; choose another directory with --cni-bin-dir / --cni-conf-dir\n`);
        assert.deepEqual(readdirSync(scratch.confDir), []);
      });
    });
  });

  describe('the conflist', () => {
    it('--cni-version writes that version alone', () => {
      makeDirs();
      const run = runWeave(['setup-cni', ...scratch.flags, '--cni-version', '1.0.0']);
      assert.equal(run.exitCode, 0, run.stderr);
      const conflist = readConflist(scratch);
      assert.equal(conflist.cniVersion, '1.0.0');
      assert.equal('cniVersions' in conflist, false);
    });

    it('--cni-version refuses versions a conflist or the plugin cannot carry, before any change', () => {
      makeDirs();
      const old = runWeave(['setup-cni', ...scratch.flags, '--cni-version', '0.2.0']);
      assert.equal(old.exitCode, 1);
      assert.equal(old.stderr, '--cni-version 0.2.0 cannot be used: a conflist needs cniVersion 0.3.0 or later; choose one of 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0\n');
      const unknown = runWeave(['setup-cni', ...scratch.flags, '--cni-version', '2.0.0']);
      assert.equal(unknown.exitCode, 1);
      assert.match(unknown.stderr, /^--cni-version 2\.0\.0 cannot be used: weave-net does not support it; choose one of/);
      assert.deepEqual(readdirSync(scratch.binDir), []);
      assert.deepEqual(readdirSync(scratch.confDir), []);
    });

    it('HAIRPIN_MODE=false turns hairpin mode off in a new conflist', () => {
      makeDirs();
      assert.equal(runWeave(['setup-cni', ...scratch.flags], {HAIRPIN_MODE: 'false'}).exitCode, 0);
      assert.equal((readConflist(scratch).plugins as Record<string, unknown>[])[0]!.hairpinMode, false);

      const bad = runWeave(['setup-cni', ...scratch.flags], {HAIRPIN_MODE: 'maybe'});
      assert.equal(bad.exitCode, 1);
      assert.equal(bad.stderr, 'HAIRPIN_MODE="maybe" is not a boolean: set it to true or false\n');
    });

    it('offers only versions the plugin supports, 0.3.0 and later', () => {
      assert.deepEqual(CONFLIST_VERSIONS, ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0']);
      for (const v of ADVERTISED_VERSIONS) assert.equal(validateCniVersion(v), v);
      assert.match(renderConflist({hairpinMode: true}), /^\{\n {4}"cniVersion": "0\.4\.0",\n/);
    });
  });

  describe('prerequisites', () => {
    it('warns when portmap or loopback is missing from the bin dir or nsenter or both perl and socat from PATH, with the fix', () => {
      makeDirs();
      const run = runWeave(['setup-cni', ...scratch.flags], {PATH: scratch.root});
      assert.equal(run.exitCode, 0, run.stderr);
      assert.match(run.stderr, new RegExp(`^warning: portmap is missing from ${scratch.binDir}:`, 'm'));
      assert.match(run.stderr, new RegExp(`^  apt-get install containernetworking-plugins && ln -s /usr/lib/cni/portmap ${join(scratch.binDir, 'portmap')}$`, 'm'));
      assert.match(run.stderr, new RegExp(`^warning: loopback is missing from ${scratch.binDir}: containerd's CRI plugin calls it for every pod's lo`, 'm'));
      assert.match(run.stderr, new RegExp(`^  apt-get install containernetworking-plugins && ln -s /usr/lib/cni/loopback ${join(scratch.binDir, 'loopback')}$`, 'm'));
      assert.match(run.stderr, /^warning: nsenter is not in PATH: .*\n {2}apt-get install util-linux$/m);
      assert.match(run.stderr, /^warning: neither perl nor socat is in PATH: .*warm path.*\n {2}apt-get install socat$/m);
    });

    it('takes perl without socat as a warm path client', () => {
      makeDirs();
      const only = join(scratch.root, 'perl-only');
      mkdirSync(only);
      symlinkSync(execFileSync('sh', ['-c', 'command -v perl'], {encoding: 'utf8'}).trim(), join(only, 'perl'));
      const run = runWeave(['setup-cni', ...scratch.flags], {PATH: only});
      assert.equal(run.exitCode, 0, run.stderr);
      assert.match(run.stderr, /nsenter is not in PATH/, 'the PATH given was used');
      assert.doesNotMatch(run.stderr, /socat/);
    });

    it('is quiet when all are there', () => {
      for (const plugin of REFERENCE_PLUGINS) requireTool(plugin, 'containernetworking-plugins');
      requireTool('nsenter', 'util-linux');
      requireTool('socat', 'socat');
      makeDirs();
      for (const plugin of REFERENCE_PLUGINS) symlinkSync(plugin, join(scratch.binDir, basename(plugin)));
      const run = runWeave(['setup-cni', ...scratch.flags]);
      assert.equal(run.exitCode, 0);
      assert.equal(run.stderr, '');
    });
  });

  describe('the launcher script', () => {
    it('quotes any path safely', () => {
      makeDirs();
      // A stand-in "node" under a path with a quote and spaces, which prints its arguments.
      const odd = join(scratch.root, `it's a "dir" $HOME`);
      mkdirSync(odd);
      const fakeNode = join(odd, 'node');
      writeFileSync(fakeNode, '#!/bin/sh\nprintf "%s\\n" "$@"\n');
      chmodSync(fakeNode, 0o755);
      const launcher = join(scratch.binDir, 'launcher');
      // A socket directory of its own: from the host's namespace, /run/weave may hold a running router's socket.
      writeFileSync(launcher, launcherScript({version: VERSION, node: fakeNode, entry: join(odd, "main's.js"), socketDir: join(scratch.root, 'run')}));
      chmodSync(launcher, 0o755);
      symlinkSync('launcher', join(scratch.binDir, 'weave-ipam'));
      assert.equal(execFileSync(join(scratch.binDir, 'weave-ipam'), {encoding: 'utf8'}), `${join(odd, "main's.js")}\nweave-ipam\n`);
    });

    it('runs the plugin itself, config on stdin, when the socket does not answer, with every client', () => {
      requireTool('socat', 'socat');
      makeDirs();
      // The socket of a router killed -9: the file stays, nothing listens.
      const socketDir = join(scratch.root, 'run');
      mkdirSync(socketDir);
      const inode = /\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/net'))![1];
      const stale = join(socketDir, `cni-${inode}.sock`);
      execFileSync(process.execPath, ['-e', "require('node:net').createServer().listen(process.argv[1], () => process.exit(0))", stale]);
      assert.ok(lstatSync(stale).isSocket());
      // A stand-in "node" of shell builtins only, so it runs under any PATH: prints its arguments and stdin.
      const fakeNode = join(scratch.root, 'node');
      writeFileSync(fakeNode, '#!/bin/sh\nprintf "%s\\n" "$@"\nwhile IFS= read -r line; do printf "%s\\n" "$line"; done\nprintf "%s" "$line"\nexit 3\n');
      chmodSync(fakeNode, 0o755);
      writeFileSync(join(scratch.binDir, 'launcher'), launcherScript({version: VERSION, node: fakeNode, entry: '/entry.js', socketDir}), {mode: 0o755});
      symlinkSync('launcher', join(scratch.binDir, 'weave-net'));
      // PATH without perl picks socat; without both, the shim goes cold before it reads anything.
      const farm = (name: string, tools: string[]): string => {
        const dir = join(scratch.root, name);
        mkdirSync(dir);
        for (const tool of tools) symlinkSync(execFileSync('sh', ['-c', 'command -v "$1"', 'sh', tool], {encoding: 'utf8'}).trim(), join(dir, tool));
        return dir;
      };
      const paths = {perl: process.env.PATH!, socat: farm('socat-only', ['readlink', 'socat', 'cat', 'stat']), none: farm('no-client', ['readlink'])};
      for (const [client, PATH] of Object.entries(paths)) {
        const run = spawnSync(join(scratch.binDir, 'weave-net'), {input: '{"cniVersion":"1.0.0",\n"name":"x"}', env: {PATH, CNI_COMMAND: 'ADD'}, encoding: 'utf8'});
        assert.equal(run.stdout, '/entry.js\nweave-net\n{"cniVersion":"1.0.0",\n"name":"x"}', client);
        assert.equal(run.stderr, '', client);
        assert.equal(run.status, 3, `${client}: the plugin's exit code`);
      }
    });
  });
});
