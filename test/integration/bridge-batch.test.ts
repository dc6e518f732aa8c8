import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import {after, afterEach, before, describe, it} from 'mocha';
import {BridgeBatch, BridgeBatchError} from '../../src/lib/net/bridge-batch.js';
import {applyFdb, FdbError, FLOOD_MAC} from '../../src/lib/net/fdb.js';
import {Netns} from '../helpers/netns.js';
import {requireRoot} from '../helpers/root.js';

const DEV = 'vxbb';

/** The pids of our `bridge` children (nsenter execs bridge in place). */
function bridgeChildren(): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(process.pid), '-x', 'bridge'], {encoding: 'utf8'}).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

describe('a kept-running bridge -batch process (the overlay forwarding entries)', () => {
  requireRoot();
  let ns: Netns;
  let batch: BridgeBatch;

  const flood = () =>
    (JSON.parse(ns.exec('bridge', ['-j', 'fdb', 'show', 'dev', DEV]) || '[]') as {mac: string; dst?: string}[])
      .filter(e => e.mac === FLOOD_MAC)
      .map(e => e.dst)
      .sort();

  before(() => {
    ns = Netns.create('wtbb');
    ns.exec('ip', ['link', 'add', DEV, 'type', 'vxlan', 'id', '42', 'dstport', '4789', 'learning']);
  });
  afterEach(async () => {
    await batch?.close();
    ns.exec('bridge', ['fdb', 'flush', 'dev', DEV]);
  });
  after(() => ns?.delete());

  it('runs request after request in one process, and reports which line failed and why while the others apply', async () => {
    batch = new BridgeBatch(ns.path);
    await applyFdb(batch, DEV, [{op: 'append', mac: FLOOD_MAC, remote: {dst: '10.1.0.1'}}]);
    const [pid] = bridgeChildren();
    assert.ok(pid, 'a bridge process runs');
    await applyFdb(batch, DEV, [
      {op: 'append', mac: FLOOD_MAC, remote: {dst: '10.1.0.2'}},
      {op: 'del', mac: FLOOD_MAC, remote: {dst: '10.1.0.1'}},
      // Already gone: deleting it again is no failure.
      {op: 'del', mac: FLOOD_MAC, remote: {dst: '10.1.0.9'}},
    ]);
    assert.deepEqual(flood(), ['10.1.0.2']);
    const failures = await batch.run([
      ['fdb', 'append', FLOOD_MAC, 'dev', DEV, 'dst', '10.1.0.3'],
      ['fdb', 'append', FLOOD_MAC, 'dev', 'nosuchdev', 'dst', '10.1.0.4'],
      ['fdb', 'append', FLOOD_MAC, 'dev', DEV, 'dst', '10.1.0.5'],
    ]);
    assert.deepEqual([...failures], [[1, 'Cannot find device "nosuchdev"']]);
    assert.deepEqual(flood(), ['10.1.0.2', '10.1.0.3', '10.1.0.5']);
    assert.deepEqual(bridgeChildren(), [pid], 'the same process all along');
    await assert.rejects(applyFdb(batch, 'nosuchdev', [{op: 'append', mac: FLOOD_MAC, remote: {dst: '10.1.0.6'}}]), (error: FdbError) => {
      assert.ok(error instanceof FdbError && error.deviceMissing, String(error));
      return true;
    });
  });

  it('starts a new process when the last one died, and ends it on close', async () => {
    batch = new BridgeBatch(ns.path);
    await applyFdb(batch, DEV, [{op: 'append', mac: FLOOD_MAC, remote: {dst: '10.2.0.1'}}]);
    const [first] = bridgeChildren();
    process.kill(first!, 'SIGKILL');
    await new Promise(resolve => setTimeout(resolve, 100));
    await applyFdb(batch, DEV, [{op: 'append', mac: FLOOD_MAC, remote: {dst: '10.2.0.2'}}]);
    assert.deepEqual(flood(), ['10.2.0.1', '10.2.0.2']);
    const [second] = bridgeChildren();
    assert.ok(second && second !== first);
    await batch.close();
    assert.deepEqual(bridgeChildren(), []);
  });

  it('refuses a word that would split a line, running nothing', async () => {
    batch = new BridgeBatch(ns.path);
    await assert.rejects(batch.run([['fdb', 'append', FLOOD_MAC, 'dev', DEV, 'dst', '10.3.0.1 self']]), BridgeBatchError);
    assert.deepEqual(flood(), []);
    assert.deepEqual(bridgeChildren(), [], 'not even started');
  });
});
