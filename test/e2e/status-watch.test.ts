import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {after, before, describe, it} from 'mocha';
import {Netns} from '../helpers/netns.js';
import {runInPty} from '../helpers/pty.js';
import {requireRoot, requireTool} from '../helpers/root.js';
import {RouterProcess} from '../helpers/router.js';
import {WEAVE_BIN} from '../helpers/setup-cli.js';
import {closedAddress} from '../helpers/status-server.js';

interface PipedRun {
  stdout: string;
  stderr: string;
  exitCode: number | null;
}

interface PipedStep {
  /** Run once stdout so far matches `when`. */
  when: RegExp;
  act: (child: ReturnType<typeof spawn>) => void;
}

/** Runs a program with its output on pipes (no terminal), acting on it as its stdout grows. */
function runPiped(argv: readonly string[], env: Record<string, string>, steps: readonly PipedStep[], timeoutMs = 30_000): Promise<PipedRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), {env, stdio: ['ignore', 'pipe', 'pipe']});
    let stdout = '';
    let stderr = '';
    let next = 0;
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', d => {
      stdout += d;
      while (next < steps.length && steps[next]!.when.test(stdout)) steps[next++]!.act(child);
    });
    child.stderr.on('data', d => (stderr += d));
    child.on('error', reject);
    child.on('close', code => {
      clearTimeout(timer);
      resolve({stdout, stderr, exitCode: code});
    });
  });
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('weave status --watch against a real router', function () {
  requireRoot();
  requireTool('python3', 'python3');
  requireTool('curl', 'curl');
  this.timeout(120_000);

  let ns: Netns;
  let router: RouterProcess;
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'WEAVE_HTTP_ADDR')) as Record<string, string>;
  const weave = (args: string[]) => ['nsenter', `--net=${ns.path}`, process.execPath, WEAVE_BIN, ...args];
  /** A target for the router to try (nothing listens there): it changes the targets page. */
  const addTarget = (peer: string) => assert.equal(router.api('POST', '/connect', `peer=${peer}`)[0], 200);

  before(async () => {
    ns = Netns.create('h3w');
    router = await RouterProcess.start(ns);
  });

  after(async () => {
    await router?.destroy();
    ns?.delete();
  });

  it('on a terminal redraws in place, shows a change, and ends on Ctrl-C with exit 0', async () => {
    const target = '127.0.0.2:7001';
    const run = await runInPty(weave(['status', 'targets', '--watch', '--interval', '200ms']), env, [
      {
        when: /Every 0\.2s: weave status targets {2}\d\d:\d\d:\d\d/,
        send: () => {
          addTarget(target);
          return '';
        },
      },
      {when: new RegExp(escape(target)), send: '\x03'},
    ]);
    assert.equal(run.exitCode, 0, run.output);
    const first = run.output.indexOf('Every 0.2s');
    const shown = run.output.indexOf(target);
    assert.ok(first >= 0 && shown > first, run.output);
    // log-update erases the lines of the frame before (ESC[2K erase line, ESC[1A up) and writes the next.
    assert.match(run.output.slice(first, shown), /\x1b\[2K\x1b\[1A/, 'the frame with the target replaces the one before in place');
    assert.match(run.output.slice(0, first), /\x1b\[\?25l/, 'the cursor is hidden while watching');
    assert.match(run.output.slice(shown), /\x1b\[\?25h/, 'and shown again at the end');
    assert.doesNotMatch(run.output, /^\s+at /m);
  });

  it('off a terminal prints each refresh after the previous, and ends on SIGINT with exit 0', async () => {
    const target = '127.0.0.2:7002';
    const run = await runPiped(weave(['status', 'targets', '--watch', '--interval', '200ms']), env, [
      {when: /Every 0\.2s: weave status targets/, act: () => addTarget(target)},
      {when: new RegExp(escape(target)), act: child => child.kill('SIGINT')},
    ]);
    assert.equal(run.exitCode, 0, run.stderr);
    assert.equal(run.stderr, '');
    assert.doesNotMatch(run.stdout, /\x1b/, 'no terminal control off a terminal');
    const frames = run.stdout.split(/^(?=Every )/m);
    assert.ok(frames.length >= 2, run.stdout);
    for (const frame of frames) {
      assert.match(frame, /^Every 0\.2s: weave status targets {2}\d\d:\d\d:\d\d\n/);
      assert.ok(frame.endsWith('\n\n'), `a blank line after each refresh: ${JSON.stringify(frame)}`);
    }
    assert.ok(!frames[0]!.includes(target), 'the first refresh is from before the change');
    assert.match(frames.at(-1)!, new RegExp(`^${escape(target)}$`, 'm'));
  });

  it('with --json prints one JSON document per refresh', async () => {
    const run = await runPiped(weave(['status', '--json', '--watch', '--interval', '200ms']), env, [{when: /^\}\n[^]*^\}\n/m, act: child => child.kill('SIGINT')}]);
    assert.equal(run.exitCode, 0, run.stderr);
    const documents = run.stdout.split(/^(?=\{)/m);
    assert.ok(documents.length >= 2, run.stdout);
    for (const document of documents) assert.equal((JSON.parse(document) as {Router: {NickName: string}}).Router.NickName, ns.name);
  });

  it('keeps watching a router that does not answer, saying so in each refresh', async () => {
    const addr = await closedAddress();
    const run = await runPiped(weave(['status', '--watch', '--interval', '200ms']), {...env, WEAVE_HTTP_ADDR: addr}, [
      {when: /(?:Every[^]*){2}/, act: child => child.kill('SIGINT')},
    ]);
    assert.equal(run.exitCode, 0, run.stderr);
    const frames = run.stdout.split(/^(?=Every )/m);
    assert.ok(frames.length >= 2, run.stdout);
    for (const frame of frames) assert.match(frame, new RegExp(`the weave router is not running at ${escape(addr)} \\(.+\\): start it with \`weave launch\``));
  });

  it('refuses an unknown page, an interval it cannot read, and --interval without --watch: exit 1', async () => {
    const page = await runPiped(weave(['status', 'bogus', '--watch']), env, []);
    assert.equal(page.exitCode, 1);
    assert.equal(page.stdout, '');
    assert.equal(page.stderr, "Invalid 'weave status' sub-command: bogus\nthe pages are targets, connections, peers, dns, ipam\n");
    for (const interval of ['5x', '10ms', '-1s']) {
      const bad = await runPiped(weave(['status', '--watch', '--interval', interval]), env, []);
      assert.equal(bad.exitCode, 1, interval);
      assert.match(bad.stderr.replace(/\s+/g, ' '), /is not a duration of 100ms or more: give one such as 2s, 500ms, 1\.5s or 1m/, bad.stderr);
    }
    const alone = await runPiped(weave(['status', '--interval', '2s']), env, []);
    assert.equal(alone.exitCode, 1);
    assert.match(alone.stderr, /--watch/);
  });
});
