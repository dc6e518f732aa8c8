import assert from 'node:assert/strict';
import {COMMANDS, parseEnv, validateContainerId, validateInterfaceName} from '../../../src/lib/cni/env.js';

/** Every variable any command needs, valid. */
const FULL = {
  CNI_CONTAINERID: 'c0ffee42',
  CNI_NETNS: '/run/netns/pod1',
  CNI_IFNAME: 'eth0',
  CNI_PATH: '/opt/cni/bin:/usr/lib/cni',
};

const envFor = (command: string, extra: Record<string, string | undefined> = {}) => ({CNI_COMMAND: command, ...FULL, ...extra});

/** What assert.throws checks for an invalid-environment error (code 4). */
const invalidEnv = (message: RegExp) => ({name: 'CniError', code: 4, message});

describe('cni/env parseEnv', () => {
  describe('CNI_COMMAND', () => {
    it('is required', () => {
      assert.throws(() => parseEnv({...FULL}), invalidEnv(/CNI_COMMAND is not set/));
      assert.throws(() => parseEnv(envFor('')), invalidEnv(/CNI_COMMAND is not set/));
    });

    for (const command of ['add', 'INIT', 'DELETE', 'version', ' ADD']) {
      it(`refuses ${JSON.stringify(command)} naming it, and lists the commands in details`, () => {
        assert.throws(() => parseEnv(envFor(command)), (error: Error & {code: number; details: string}) => {
          assert.equal(error.code, 4);
          assert.ok(error.message.includes(`"${command}"`), error.message);
          for (const c of COMMANDS) assert.ok(error.details.includes(c), error.details);
          return true;
        });
      });
    }

    for (const command of COMMANDS) {
      it(`accepts ${command} with every variable set`, () => assert.equal(parseEnv(envFor(command)).command, command));
    }
  });

  describe('required variables', () => {
    const required: Record<string, string[]> = {
      ADD: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH'],
      CHECK: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH'],
      DEL: ['CNI_CONTAINERID', 'CNI_IFNAME', 'CNI_PATH'],
      GC: ['CNI_PATH'],
    };
    for (const [command, names] of Object.entries(required)) {
      for (const name of names) {
        it(`${command} refuses a missing ${name} with code 4 naming it`, () => {
          assert.throws(() => parseEnv(envFor(command, {[name]: undefined})), invalidEnv(new RegExp(`^${name} is not set$`)));
        });
        it(`${command} refuses an empty ${name} like a missing one`, () => {
          assert.throws(() => parseEnv(envFor(command, {[name]: ''})), invalidEnv(new RegExp(`^${name} is not set$`)));
        });
      }
    }

    it('names the command in the details of a missing variable', () => {
      assert.throws(() => parseEnv(envFor('CHECK', {CNI_NETNS: undefined})), {code: 4, details: /CHECK/});
    });

    it('DEL works without CNI_NETNS: the namespace may already be gone', () => {
      const env = parseEnv(envFor('DEL', {CNI_NETNS: undefined}));
      assert.equal(env.command, 'DEL');
      assert.equal(env.netns, '');
      assert.equal(parseEnv(envFor('DEL', {CNI_NETNS: ''})).netns, '');
    });

    it('VERSION needs nothing but CNI_COMMAND', () => {
      const env = parseEnv({CNI_COMMAND: 'VERSION'});
      assert.deepEqual(env, {command: 'VERSION', containerId: '', netns: '', netnsPath: '', netnsHandle: {}, ifname: '', args: {}, path: []});
    });

    it('GC needs no container id, namespace or interface (and does not validate them)', () => {
      const env = parseEnv({CNI_COMMAND: 'GC', CNI_PATH: '/opt/cni/bin', CNI_IFNAME: 'not valid/'});
      assert.equal(env.command, 'GC');
    });

    // CNI SPEC 1.1 "STATUS": CNI_PATH is an optional environment parameter, not a required one.
    it('STATUS works without CNI_PATH (spec 1.1: CNI_PATH is optional for STATUS)', () => {
      assert.equal(parseEnv({CNI_COMMAND: 'STATUS'}).command, 'STATUS');
    });
  });

  describe('the parsed call', () => {
    it('carries every variable', () => {
      const env = parseEnv(envFor('ADD', {CNI_ARGS: 'IgnoreUnknown=1'}));
      assert.deepEqual(env, {
        command: 'ADD',
        containerId: 'c0ffee42',
        netns: '/run/netns/pod1',
        netnsPath: '/run/netns/pod1',
        netnsHandle: {},
        ifname: 'eth0',
        args: {IgnoreUnknown: '1'},
        path: ['/opt/cni/bin', '/usr/lib/cni'],
      });
    });

    it('enters the namespace its caller holds open, and names it as given', () => {
      const env = parseEnv(envFor('ADD'), {path: '/proc/42/fd/3', id: '4:4026532174'});
      assert.equal(env.netns, '/run/netns/pod1');
      assert.equal(env.netnsPath, '/proc/42/fd/3');
      assert.deepEqual(env.netnsHandle, {path: '/proc/42/fd/3', id: '4:4026532174'});
    });

    it('splits CNI_PATH on ":" and drops empty entries', () => {
      assert.deepEqual(parseEnv(envFor('ADD', {CNI_PATH: ':/a::/b:'})).path, ['/a', '/b']);
    });
  });

  describe('CNI_ARGS', () => {
    const parsed: [string, Record<string, string>][] = [
      ['', {}],
      ['IgnoreUnknown=1;K8S_POD_NAME=x', {IgnoreUnknown: '1', K8S_POD_NAME: 'x'}],
      [
        'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;K8S_POD_INFRA_CONTAINER_ID=abc123',
        {IgnoreUnknown: '1', K8S_POD_NAMESPACE: 'default', K8S_POD_NAME: 'web-0', K8S_POD_INFRA_CONTAINER_ID: 'abc123'},
      ],
      // empty pairs (doubled or trailing separators) are skipped
      [';;IgnoreUnknown=1;;K8S_POD_NAME=x;', {IgnoreUnknown: '1', K8S_POD_NAME: 'x'}],
      [';', {}],
      // an empty value is a value
      ['K8S_POD_NAME=', {K8S_POD_NAME: ''}],
      // only the first "=" separates key from value
      ['IP=10.32.0.5=x', {IP: '10.32.0.5=x'}],
      // the last of a repeated key wins
      ['A=1;A=2', {A: '2'}],
    ];
    for (const [text, want] of parsed) {
      it(`parses ${JSON.stringify(text)}`, () => assert.deepEqual(parseEnv(envFor('ADD', {CNI_ARGS: text})).args, want));
    }

    it('is optional', () => assert.deepEqual(parseEnv(envFor('ADD', {CNI_ARGS: undefined})).args, {}));

    for (const bad of ['K8S_POD_NAME', '=x', 'IgnoreUnknown=1;novalue', 'A=1;=2']) {
      it(`refuses the malformed ${JSON.stringify(bad)} with code 4 naming the pair`, () => {
        const pair = bad.split(';').find(p => p !== '' && p.indexOf('=') <= 0)!;
        assert.throws(() => parseEnv(envFor('ADD', {CNI_ARGS: bad})), {code: 4, message: `invalid CNI_ARGS pair "${pair}"`, details: /KEY=VALUE/});
      });
    }
  });

  describe('container id', () => {
    const valid = [
      'a',
      '0',
      'c0ffee42',
      '3f6940ab5ab43bc522569d15b23f8c1bbde1d7678b080398506924fc01d72755',
      'pod_1.infra-2',
      'A-B_C.D',
      'x'.repeat(300),
    ];
    for (const id of valid) {
      it(`accepts ${JSON.stringify(id.length > 40 ? `${id.slice(0, 20)}…` : id)}`, () => {
        assert.doesNotThrow(() => validateContainerId(id));
        assert.equal(parseEnv(envFor('ADD', {CNI_CONTAINERID: id})).containerId, id);
      });
    }

    const invalid = [
      'abc;rm -rf /',
      'abc$(reboot)',
      '$(reboot)',
      'abc`id`',
      'two words',
      ' leading',
      'trailing ',
      '-rf',
      '--help',
      '_under',
      '.hidden',
      '../../etc',
      'a/b',
      'a|b',
      'a&b',
      'a>b',
      "a'b",
      'a"b',
      'tab\there',
      'new\nline',
      'ünïcode',
    ];
    for (const id of invalid) {
      it(`refuses ${JSON.stringify(id)} with code 4 naming CNI_CONTAINERID`, () => {
        const want = {name: 'CniError', code: 4, message: `invalid CNI_CONTAINERID "${id}"`};
        assert.throws(() => validateContainerId(id), want);
        for (const command of ['ADD', 'DEL', 'CHECK']) assert.throws(() => parseEnv(envFor(command, {CNI_CONTAINERID: id})), want);
      });
    }
  });

  describe('interface name', () => {
    const valid = ['eth0', 'e', 'net1', 'a'.repeat(15), 'veth-1_x', 'eth0.100', '...', 'ÿ'.repeat(7)];
    for (const name of valid) {
      it(`accepts ${JSON.stringify(name)}`, () => {
        assert.doesNotThrow(() => validateInterfaceName(name));
        assert.equal(parseEnv(envFor('ADD', {CNI_IFNAME: name})).ifname, name);
      });
    }

    const invalid: [string, RegExp][] = [
      ['', /it is empty/],
      ['a'.repeat(16), /longer than 15/],
      ['a'.repeat(64), /longer than 15/],
      // the kernel counts bytes: 8 two-byte characters are 16 bytes
      ['é'.repeat(8), /longer than 15/],
      ['.', /"\." or "\.\."/],
      ['..', /"\." or "\.\."/],
      ['/', /"\/", ":" or white space/],
      ['eth/0', /"\/", ":" or white space/],
      ['eth0:1', /"\/", ":" or white space/],
      [':', /"\/", ":" or white space/],
      ['eth 0', /"\/", ":" or white space/],
      [' ', /"\/", ":" or white space/],
      ['eth\t0', /"\/", ":" or white space/],
      ['eth0\n', /"\/", ":" or white space/],
    ];
    for (const [name, why] of invalid) {
      it(`refuses ${JSON.stringify(name)} with code 4 saying why`, () => {
        assert.throws(() => validateInterfaceName(name), {name: 'CniError', code: 4, message: why});
        assert.throws(() => validateInterfaceName(name), {message: new RegExp(`^invalid CNI_IFNAME `)});
        // An empty CNI_IFNAME is reported as missing, before it is validated.
        if (name !== '') assert.throws(() => parseEnv(envFor('ADD', {CNI_IFNAME: name})), {code: 4, message: why});
      });
    }

    it('names what it validates when told to', () => {
      assert.throws(() => validateInterfaceName('a/b', '"bridge"'), {message: /^invalid "bridge" "a\/b"/});
    });

    it('says in its details what a good name looks like', () => {
      assert.throws(() => validateInterfaceName('..'), {details: /1 to 15/});
    });
  });
});
