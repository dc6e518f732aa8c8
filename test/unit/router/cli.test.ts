import assert from 'node:assert/strict';
import {parseRouterArgv, RouterUsageError} from '../../../src/lib/router/cli.js';
import {DEFAULTS} from '../../../src/lib/defaults.js';
import {goDurationMs, ROUTER_FLAGS} from '../../../src/lib/router/config.js';
import {runWeave} from '../../helpers/setup-cli.js';

/** No stack trace, and no oclif banner: the lean entry answered, not oclif. */
function assertPlain(stderr: string): void {
  assert.doesNotMatch(stderr, /^\s+at /m, `stderr holds a stack trace:\n${stderr}`);
  assert.doesNotMatch(stderr, /›/, `oclif answered:\n${stderr}`);
}

describe('weave router flags without oclif (src/lib/router/cli.ts)', () => {
  describe('parseRouterArgv', () => {
    it('gives every default, false for booleans, and the peers in order', () => {
      const {flags, peers} = parseRouterArgv(['host2', 'host3:6790']);
      assert.deepEqual(peers, ['host2', 'host3:6790']);
      assert.equal(flags.port, DEFAULTS.port);
      assert.equal(flags['ipalloc-range'], DEFAULTS.ipallocRange);
      assert.equal(flags['conn-limit'], DEFAULTS.connLimit);
      assert.equal(flags.resume, false);
      assert.equal(flags['no-discovery'], false);
      assert.equal(flags.name, undefined);
    });

    it('reads --flag value, --flag=value, empty values, negative numbers, and bare booleans', () => {
      const {flags, peers} = parseRouterArgv(['--port', '7000', '--ipalloc-range=', '--conn-limit', '-1', '--no-discovery', '--nickname=a b', '10.0.0.2']);
      assert.equal(flags.port, 7000);
      assert.equal(flags['ipalloc-range'], '');
      assert.equal(flags['conn-limit'], -1);
      assert.equal(flags['no-discovery'], true);
      assert.equal(flags.nickname, 'a b');
      assert.deepEqual(peers, ['10.0.0.2']);
    });

    it("reads Go's flag forms as the original's parser did: one dash or two, quoted values, booleans with values, Go integers, lists", () => {
      const {flags, peers} = parseRouterArgv([
        '-port=0x1e87', '--nickname="a b"', "--dns-domain='x.'", '--no-discovery=t', '--resume=False', '--conn-limit', '010',
        '-H', 'unix:///a.sock', '-H=tcp://0.0.0.0:12375', '--dns-fallback-timeout', '1m30s', '--', '--not-a-flag',
      ]);
      assert.deepEqual(
        [flags.port, flags.nickname, flags['dns-domain'], flags['no-discovery'], flags.resume, flags['conn-limit'], flags.H, flags['dns-fallback-timeout'], peers],
        [7815, 'a b', 'x.', true, false, 8, ['unix:///a.sock', 'tcp://0.0.0.0:12375'], '1m30s', ['--not-a-flag']],
      );
    });

    it("takes every unit of Go's durations, micro as µs (micro sign) and μs (Greek mu)", () => {
      for (const [value, ms] of [['1500µs', 1.5], ['1500μs', 1.5], ['1h2m3s4ms5us6ns', 3_723_004.005006], ['-2.5s', -2500]] as const) {
        assert.equal(parseRouterArgv(['--dns-fallback-timeout', value]).flags['dns-fallback-timeout'], value);
        assert.ok(Math.abs(goDurationMs(value) - ms) < 1e-9, `${value}: ${goDurationMs(value)} ms, not ${ms}`);
      }
    });

    it('refuses an unknown flag, a missing value, a value for a boolean, and a non-integer', () => {
      const cases: [string[], RegExp][] = [
        [['--bogus'], /^Nonexistent flag: --bogus\nSee more help with weave router --help$/],
        [['-h'], /^Nonexistent flag: -h\n/],
        [['--port'], /^--port needs a value\n/],
        [['--resume=yes'], /^invalid boolean value "yes" for --resume: expected true or false/],
        [['--mtu', '1500x'], /^Parsing --mtu: expected an integer but received: 1500x\n/],
        [['--dns-fallback-timeout', '5'], /^Parsing --dns-fallback-timeout: expected a duration such as 5s or 1m30s but received: 5\n/],
      ];
      for (const [argv, message] of cases) {
        assert.throws(() => parseRouterArgv(argv), (error: Error) => error instanceof RouterUsageError && message.test(error.message), argv.join(' '));
      }
    });
  });

  describe('bin/weave.js router', () => {
    it('a bad flag value: its message on stderr and exit 1, before touching anything', () => {
      for (const [args, message] of [
        [['--mtu', '1'], 'invalid --mtu 1: expected a whole number from 576 to 65535, or 0 to pick it from the network\n'],
        [['--resume', 'host2'], 'You must not specify an initial peer list in conjunction with --resume\n'],
      ] as const) {
        const run = runWeave(['router', ...args]);
        assert.deepEqual([run.exitCode, run.stdout, run.stderr], [1, '', message], args.join(' '));
      }
    });

    it('an unknown flag or a non-integer: named on stderr, exit 2', () => {
      for (const [args, first] of [
        [['--bogus', 'host2'], 'Nonexistent flag: --bogus'],
        [['--port', 'abc'], 'Parsing --port: expected an integer but received: abc'],
      ] as const) {
        const run = runWeave(['router', ...args]);
        assert.equal(run.exitCode, 2, args.join(' '));
        assert.equal(run.stderr, `${first}\nSee more help with weave router --help\n`);
        assertPlain(run.stderr);
      }
    });

    it('--help prints every flag of the table with its description, exit 0', () => {
      const run = runWeave(['router', '--port', '7000', '--help']);
      assert.equal(run.exitCode, 0, run.stderr);
      const text = run.stdout.replaceAll(/\s+/g, ' ');
      assert.match(text, /USAGE \$ weave router \[PEERS\.\.\.\]/);
      for (const [name, spec] of Object.entries(ROUTER_FLAGS)) {
        assert.ok(text.includes(`--${name}`), `--help lacks --${name}`);
        assert.ok(text.includes(spec.description.replaceAll(/\s+/g, ' ')), `--help lacks the description of --${name}`);
      }
    });
  });
});
