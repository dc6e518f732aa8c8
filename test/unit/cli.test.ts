import assert from 'node:assert/strict';
import {type Command, Config} from '@oclif/core';
import {PACKAGE_ROOT} from '../../src/lib/package.js';
import {runWeave} from '../helpers/setup-cli.js';

const REMOVED = ['run', 'start', 'restart', 'launch-plugin', 'stop-plugin', 'launch-proxy', 'stop-proxy', 'launch-router', 'stop-router'];

/** Help text with oclif's wrapping undone, so a description can be found whole. */
const flat = (text: string): string => text.replaceAll(/\s+/g, ' ');

/** No stack trace, no oclif "Error:" banner for what the original reported in its own words. */
function assertNoTrace(stderr: string): void {
  assert.doesNotMatch(stderr, /^\s+at /m, `stderr holds a stack trace:\n${stderr}`);
}

describe('weave (top-level behaviour of bin/weave.js)', () => {
  let visible: Command.Loadable[];
  let ours: Command.Loadable[];
  before(async () => {
    const config = await Config.load(PACKAGE_ROOT);
    visible = config.commands.filter((c) => !c.hidden);
    ours = visible.filter((c) => c.pluginName === config.name);
    assert.ok(ours.some((c) => c.id === 'version'));
  });

  it('with no arguments prints the usage to stderr and exits 1', () => {
    const run = runWeave([]);
    assert.equal(run.exitCode, 1);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /USAGE\s+\$ weave \[COMMAND\]/);
    for (const command of visible) assert.ok(run.stderr.includes(command.id), `the usage should list ${command.id}`);
    assertNoTrace(run.stderr);
  });

  for (const args of [['--help'], ['help']]) {
    it(`weave ${args.join(' ')} lists each command with its one-line description and exits 0`, () => {
      const run = runWeave(args);
      assert.equal(run.exitCode, 0, run.stderr);
      const text = flat(run.stdout);
      for (const command of visible) {
        const description = flat(command.summary ?? command.description ?? '').replace('<%= config.bin %>', 'weave');
        assert.ok(text.includes(` ${command.id} ${description}`), `help should list "${command.id} ${description}":\n${run.stdout}`);
      }
      for (const hidden of ['weave-net', 'weave-ipam']) assert.ok(!text.includes(` ${hidden} `), `help lists hidden ${hidden}`);
    });
  }

  it('shows the examples in the help of each of its commands', () => {
    // `weave help --help` is oclif's root help, as with @oclif/plugin-help.
    for (const command of ours.filter(c => c.id !== 'help')) {
      const run = runWeave([...command.id.split(':'), '--help']);
      assert.equal(run.exitCode, 0, run.stderr);
      assert.match(run.stdout, /^USAGE$/m, `${command.id} --help has no USAGE`);
      assert.match(run.stdout, /^EXAMPLES$/m, `${command.id} --help has no EXAMPLES`);
      assert.ok(run.stdout.includes(`$ weave ${command.id.replaceAll(':', ' ')}`), `${command.id} --help shows no example of itself`);
    }
  });

  it("names an unknown command, prints the usage to stderr and exits 1", () => {
    for (const args of [['frobnicate'], ['frobnicate', 'more', '--flag']]) {
      const run = runWeave(args);
      assert.equal(run.exitCode, 1);
      assert.equal(run.stdout, '');
      assert.ok(run.stderr.startsWith("Unknown weave command 'frobnicate'\n"), run.stderr);
      assert.match(run.stderr, /USAGE\s+\$ weave \[COMMAND\]/);
      assertNoTrace(run.stderr);
    }
  });

  for (const removed of REMOVED) {
    it(`says that weave ${removed} was removed in 2.0 and exits 1`, () => {
      const run = runWeave([removed, ...(removed === 'launch-router' ? ['--password', 'x', 'peer1'] : [])]);
      assert.equal(run.exitCode, 1);
      assert.equal(run.stdout, '');
      assert.equal(
        run.stderr,
        `The 'weave ${removed}' command has been removed as of Weave Net version 2.0\nPlease see release notes for further information\n`,
      );
    });
  }

  it('reports a stray argument of a known command as such, exit 1 (a usage error, as the original), with no stack trace', () => {
    const run = runWeave(['version', 'extra']);
    assert.equal(run.exitCode, 1);
    assert.match(run.stderr, /Unexpected argument: extra/);
    assertNoTrace(run.stderr);
  });

  for (const [typo, meant] of [
    [['stauts'], 'weave status'],
    [['verison', '--json'], 'weave version --json'],
    [['lauch', 'host2'], 'weave launch host2'],
    [['rmper', 'host3'], 'weave rmpeer host3'],
    [['sp'], 'weave ps'],
  ] as const) {
    it(`weave ${typo.join(' ')}: one line naming \`${meant}\`, exit 1`, () => {
      const run = runWeave([...typo]);
      assert.equal(run.exitCode, 1);
      assert.equal(run.stdout, '');
      assert.equal(run.stderr, `Unknown weave command '${typo[0]}': did you mean \`${meant}\`?\n`);
    });
  }

  it('weave status <typo of a page> names the page meant; any other page, the pages there are', () => {
    const typo = runWeave(['status', 'peerz']);
    assert.equal(typo.exitCode, 1);
    assert.equal(typo.stderr, "Invalid 'weave status' sub-command: peerz\ndid you mean `weave status peers`?\n");
    const other = runWeave(['status', 'proxy']);
    assert.equal(other.exitCode, 1);
    assert.equal(other.stderr, "Invalid 'weave status' sub-command: proxy\nthe pages are targets, connections, peers, dns, ipam\n");
  });
});
