import assert from 'node:assert/strict';
import {createServer} from 'node:net';
import {runPlugin, type PluginName} from '../../../src/lib/cni/skel.js';
import {SUPPORTED_VERSIONS} from '../../../src/lib/cni/version.js';

// Only the paths that end before any kernel work: ADD/DEL/CHECK that get as far as links and
// addresses are covered by the integration suite, against real namespaces.

const ATTACHMENT = {CNI_CONTAINERID: 'c0ffee42', CNI_NETNS: '/run/netns/does-not-exist-weave-unit', CNI_IFNAME: 'eth0', CNI_PATH: '/usr/lib/cni'};

/** A loopback address nothing listens on: "no router" without depending on port 6784 being free. */
async function closedAddress(): Promise<string> {
  const server = createServer();
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const {port} = server.address() as {port: number};
  await new Promise(resolve => server.close(resolve));
  return `127.0.0.1:${port}`;
}

const conf = (fields: Record<string, unknown> = {}) => JSON.stringify({cniVersion: '1.1.0', name: 'weave', type: 'weave-net', ...fields});

interface Reply {
  exitCode: number;
  stdout: string;
  json: Record<string, unknown>;
}

/** One call, checking what every reply must be: one JSON line on stdout. */
async function call(plugin: PluginName, env: Record<string, string | undefined>, stdin: string): Promise<Reply> {
  const {stdout, exitCode} = await runPlugin(plugin, env, stdin);
  assert.ok(stdout.endsWith('\n'), `stdout ends with a newline: ${JSON.stringify(stdout)}`);
  assert.equal(stdout.indexOf('\n'), stdout.length - 1, `stdout is one line: ${JSON.stringify(stdout)}`);
  return {exitCode, stdout, json: JSON.parse(stdout) as Record<string, unknown>};
}

/** A failed call: exit 1, the spec's error object, no stack trace. */
async function failure(plugin: PluginName, env: Record<string, string | undefined>, stdin: string) {
  const reply = await call(plugin, env, stdin);
  assert.equal(reply.exitCode, 1, reply.stdout);
  assert.deepEqual(Object.keys(reply.json).filter(k => k !== 'details'), ['cniVersion', 'code', 'msg'], reply.stdout);
  assert.equal(typeof reply.json.msg, 'string');
  assert.doesNotMatch(reply.stdout, /\bat .*\.(ts|js):\d+/, 'no stack trace');
  return reply.json as {cniVersion: string; code: number; msg: string; details?: string};
}

describe('cni/skel runPlugin', () => {
  describe('VERSION', () => {
    const want = {cniVersion: '1.1.0', supportedVersions: [...SUPPORTED_VERSIONS]};
    for (const plugin of ['weave-net', 'weave-ipam'] as const) {
      for (const [what, stdin] of [
        ['without stdin', ''],
        ['with the cniVersion libcni sends', '{"cniVersion": "0.4.0"}'],
        ['with a full config', conf()],
        ['with stdin that is not JSON', 'not json'],
      ]) {
        it(`${plugin} ${what}: prints the supported versions and exits 0`, async () => {
          const reply = await call(plugin, {CNI_COMMAND: 'VERSION'}, stdin);
          assert.equal(reply.exitCode, 0);
          assert.deepEqual(reply.json, want);
          assert.equal(reply.stdout, `${JSON.stringify(want)}\n`);
        });
      }
    }

    it('needs no other variable, and ignores invalid ones', async () => {
      const reply = await call('weave-net', {CNI_COMMAND: 'VERSION', CNI_CONTAINERID: '$(reboot)', CNI_IFNAME: 'a/b'}, '');
      assert.equal(reply.exitCode, 0);
    });
  });

  describe('invalid environment (code 4)', () => {
    it('reports a missing CNI_COMMAND in the config\'s cniVersion', async () => {
      const error = await failure('weave-net', {...ATTACHMENT}, conf({cniVersion: '0.4.0'}));
      assert.equal(error.code, 4);
      assert.equal(error.cniVersion, '0.4.0');
      assert.match(error.msg, /CNI_COMMAND is not set/);
    });

    it('reports an unknown CNI_COMMAND', async () => {
      const error = await failure('weave-net', {...ATTACHMENT, CNI_COMMAND: 'INIT'}, conf());
      assert.equal(error.code, 4);
      assert.match(error.msg, /"INIT"/);
    });

    for (const [name, command] of [['CNI_NETNS', 'ADD'], ['CNI_CONTAINERID', 'DEL'], ['CNI_IFNAME', 'CHECK'], ['CNI_PATH', 'ADD'], ['CNI_PATH', 'GC']] as const) {
      it(`${command} without ${name}: code 4 naming it, in the config's version`, async () => {
        const error = await failure('weave-net', {...ATTACHMENT, CNI_COMMAND: command, [name]: undefined}, conf({cniVersion: '0.3.1'}));
        assert.equal(error.code, 4);
        assert.equal(error.cniVersion, '0.3.1');
        assert.equal(error.msg, `${name} is not set`);
        assert.match(error.details ?? '', new RegExp(command));
      });
    }

    for (const [what, stdin] of [
      ['is empty', ''],
      ['is not JSON', '{"cniVersion": "0.4.0"'],
      ['names an unsupported version', conf({cniVersion: '9.0.0'})],
      ['names a version that is not a string', conf({cniVersion: 1})],
      ['has no cniVersion', '{"name": "weave"}'],
      ['is a list', '["0.4.0"]'],
    ]) {
      it(`reports in 1.1.0 when the config ${what}`, async () => {
        const error = await failure('weave-net', {CNI_COMMAND: 'ADD'}, stdin);
        assert.equal(error.code, 4);
        assert.equal(error.cniVersion, '1.1.0');
      });
    }

    it('checks the environment before the config', async () => {
      const error = await failure('weave-net', {CNI_COMMAND: 'ADD'}, 'not json');
      assert.equal(error.code, 4);
    });

    for (const id of ['abc;reboot', '$(reboot)', 'a b', '-rf']) {
      it(`refuses the container id ${JSON.stringify(id)} before doing anything`, async () => {
        const error = await failure('weave-net', {...ATTACHMENT, CNI_COMMAND: 'ADD', CNI_CONTAINERID: id}, conf());
        assert.equal(error.code, 4);
        assert.match(error.msg, /CNI_CONTAINERID/);
      });
    }

    it('refuses an interface name longer than 15 bytes', async () => {
      const error = await failure('weave-net', {...ATTACHMENT, CNI_COMMAND: 'ADD', CNI_IFNAME: 'a'.repeat(16)}, conf());
      assert.equal(error.code, 4);
      assert.match(error.msg, /CNI_IFNAME/);
    });
  });

  describe('invalid config', () => {
    const add = {...ATTACHMENT, CNI_COMMAND: 'ADD'};

    it('ADD with a config that is not JSON: code 6, in 1.1.0', async () => {
      const error = await failure('weave-net', add, '{"cniVersion": "1.0.0", ');
      assert.equal(error.code, 6);
      assert.equal(error.cniVersion, '1.1.0');
      assert.match(error.msg, /not valid JSON/);
    });

    it('ADD with an unsupported cniVersion: code 1 naming it', async () => {
      const error = await failure('weave-net', add, conf({cniVersion: '2.0.0'}));
      assert.equal(error.code, 1);
      assert.match(error.msg, /"2\.0\.0"/);
    });

    it('ADD with "ipMasq": true: code 2, in the config\'s version', async () => {
      const error = await failure('weave-net', add, conf({cniVersion: '0.3.0', ipMasq: true}));
      assert.equal(error.code, 2);
      assert.equal(error.cniVersion, '0.3.0');
    });

    it('ADD with a bad "mtu": code 7', async () => {
      const error = await failure('weave-net', add, conf({mtu: 12}));
      assert.equal(error.code, 7);
    });

    it('ADD with a bad "ipam.subnet": code 7, for both plugins', async () => {
      for (const plugin of ['weave-net', 'weave-ipam'] as const) {
        const error = await failure(plugin, add, conf({ipam: {type: 'weave-ipam', subnet: '10.32.0.0/40'}}));
        assert.equal(error.code, 7, plugin);
      }
    });
  });

  describe('weave IPAM without a router', () => {
    let router: string;
    before(async () => {
      router = await closedAddress();
    });
    const env = (fields: Record<string, string>) => ({...fields, WEAVE_HTTP_ADDR: router});

    for (const command of ['ADD', 'DEL']) {
      it(`weave-ipam ${command}: code 11 (try again later), saying to run \`weave launch\``, async () => {
        const error = await failure('weave-ipam', env({...ATTACHMENT, CNI_COMMAND: command}), conf({cniVersion: '0.3.0'}));
        assert.equal(error.code, 11);
        assert.equal(error.cniVersion, '0.3.0');
        assert.match(error.msg, /weave router must be running/);
        assert.match(error.details ?? '', /`weave launch`/);
      });
    }

    it('weave-ipam CHECK (0.4.0): code 11', async () => {
      const error = await failure('weave-ipam', env({...ATTACHMENT, CNI_COMMAND: 'CHECK'}), conf({cniVersion: '0.4.0'}));
      assert.equal(error.code, 11);
    });

    it('weave-ipam under another plugin reads only the IPAM part: the host plugin\'s fields are not refused', async () => {
      // bridge's own isGateway/ipMasq/mtu are not weave-net's to judge when weave-ipam is its IPAM.
      const stdin = conf({type: 'bridge', bridge: 'cni0', isGateway: true, ipMasq: true, mtu: 9, hairpinMode: 'yes', ipam: {type: 'weave-ipam'}});
      const error = await failure('weave-ipam', env({...ATTACHMENT, CNI_COMMAND: 'ADD'}), stdin);
      assert.equal(error.code, 11);
    });

    for (const plugin of ['weave-net', 'weave-ipam'] as const) {
      it(`${plugin} STATUS (1.1.0, no ipam.type): code 50, not available`, async () => {
        const error = await failure(plugin, env({CNI_COMMAND: 'STATUS', CNI_PATH: '/usr/lib/cni'}), conf());
        assert.equal(error.code, 50);
        assert.equal(error.cniVersion, '1.1.0');
        assert.match(error.msg, /weave router must be running/);
        assert.match(error.details ?? '', /`weave launch`/);
      });

      it(`${plugin} GC (1.1.0, no ipam.type): code 11`, async () => {
        const stdin = conf({'cni.dev/valid-attachments': [{containerID: 'c0ffee42', ifname: 'eth0'}]});
        const error = await failure(plugin, env({CNI_COMMAND: 'GC', CNI_PATH: '/usr/lib/cni'}), stdin);
        assert.equal(error.code, 11);
      });
    }
  });

  describe('commands the config\'s version does not have (code 1)', () => {
    for (const command of ['STATUS', 'GC']) {
      for (const version of ['1.0.0', '0.4.0', '0.2.0']) {
        it(`weave-net ${command} with cniVersion ${version}`, async () => {
          const error = await failure('weave-net', {CNI_COMMAND: command, CNI_PATH: '/usr/lib/cni'}, conf({cniVersion: version}));
          assert.equal(error.code, 1);
          assert.equal(error.cniVersion, version);
          assert.match(error.msg, new RegExp(`${command} needs cniVersion 1\\.1\\.0`));
        });
      }
    }

    for (const version of ['0.3.0', '0.3.1', '0.2.0', '0.1.0']) {
      it(`weave-net CHECK with cniVersion ${version}`, async () => {
        const error = await failure('weave-net', {...ATTACHMENT, CNI_COMMAND: 'CHECK'}, conf({cniVersion: version}));
        assert.equal(error.code, 1);
        assert.match(error.msg, /CHECK needs cniVersion 0\.4\.0/);
      });
    }

    for (const [command, version] of [['STATUS', '1.0.0'], ['GC', '1.0.0'], ['CHECK', '0.3.0']] as const) {
      it(`weave-ipam ${command} with cniVersion ${version}: code 1, as weave-net does`, async () => {
        const error = await failure('weave-ipam', {...ATTACHMENT, CNI_COMMAND: command}, conf({cniVersion: version}));
        assert.equal(error.code, 1);
      });
    }
  });

  describe('checks made before touching the kernel', () => {
    it('CHECK without prevResult: code 7', async () => {
      const error = await failure('weave-net', {...ATTACHMENT, CNI_COMMAND: 'CHECK'}, conf({cniVersion: '1.0.0'}));
      assert.equal(error.code, 7);
      assert.match(error.msg, /prevResult/);
    });

    it('CHECK with a CNI_NETNS that does not exist: code 4 naming it', async () => {
      const prevResult = {cniVersion: '1.0.0', ips: [{address: '10.32.0.2/12'}]};
      const error = await failure('weave-net', {...ATTACHMENT, CNI_COMMAND: 'CHECK'}, conf({cniVersion: '1.0.0', prevResult}));
      assert.equal(error.code, 4);
      assert.match(error.msg, /does-not-exist-weave-unit.*does not exist/);
    });

    it('ADD with a CNI_NETNS that does not exist: code 4 naming it', async () => {
      const error = await failure('weave-net', {...ATTACHMENT, CNI_COMMAND: 'ADD'}, conf());
      assert.equal(error.code, 4);
      assert.match(error.msg, /does-not-exist-weave-unit.*does not exist/);
    });

    it('ADD into the host\'s own network namespace: code 4, saying why', async () => {
      // runPlugin runs in this process, so /proc/self/ns/net is the "host" namespace.
      const error = await failure('weave-net', {...ATTACHMENT, CNI_COMMAND: 'ADD', CNI_NETNS: '/proc/self/ns/net'}, conf());
      assert.equal(error.code, 4);
      assert.match(error.msg, /host network namespace/);
      assert.match(error.details ?? '', /--net=host/);
    });
  });
});
