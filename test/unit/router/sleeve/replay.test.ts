import assert from 'node:assert/strict';
import {ReplayWindow} from '../../../../src/lib/router/dataplane/sleeve/replay.js';

describe('sleeve replay window', () => {
  it('accepts each counter once, in any order inside the window', () => {
    const w = new ReplayWindow(64);
    for (const c of [0, 5, 3, 4, 1, 2]) assert.ok(w.mark(c), `first ${c}`);
    for (const c of [0, 1, 2, 3, 4, 5]) assert.ok(!w.mark(c), `again ${c}`);
    assert.equal(w.highest, 5);
  });

  it('checks without marking: only a verified packet moves the window', () => {
    const w = new ReplayWindow(64);
    assert.ok(w.check(1000));
    assert.equal(w.highest, -1);
    assert.ok(w.mark(7));
    assert.ok(w.check(6) && w.check(8) && !w.check(7));
  });

  it('refuses counters as old as the window, and no newer ones', () => {
    const w = new ReplayWindow(2048);
    assert.ok(w.mark(5000));
    assert.ok(w.check(5000 - 2047), 'the oldest counter still inside');
    assert.ok(!w.check(5000 - 2048), 'the first one outside');
    assert.ok(w.mark(5000 - 2047));
    assert.ok(!w.mark(5000 - 2047));
  });

  it('forgets what slid out: a jump clears the reused blocks', () => {
    const w = new ReplayWindow(64);
    for (let c = 0; c < 64; c++) assert.ok(w.mark(c));
    assert.ok(w.mark(1_000_000));
    // Counters just below the new top map onto blocks that held 0-63: they must read as unseen.
    for (let c = 1_000_000 - 63; c < 1_000_000; c++) assert.ok(w.check(c), `unseen ${c}`);
    assert.ok(!w.check(63));
  });

  it('slides block by block without losing marks still inside', () => {
    const w = new ReplayWindow(64);
    const marked: number[] = [];
    for (let c = 0; c < 500; c += 3) {
      assert.ok(w.mark(c));
      marked.push(c);
      for (const m of marked) if (c - m < 64) assert.ok(!w.check(m), `${m} still marked at top ${c}`);
    }
  });

  it('works with counters beyond 32 bits', () => {
    const w = new ReplayWindow(64);
    const base = 2 ** 40 + 31;
    assert.ok(w.mark(base));
    assert.ok(w.mark(base + 1));
    assert.ok(!w.mark(base));
    assert.ok(w.mark(base - 1));
    assert.ok(!w.check(base - 64));
  });

  it('wants a positive multiple of 32', () => {
    assert.throws(() => new ReplayWindow(100), /multiple of 32/);
    assert.throws(() => new ReplayWindow(0), /multiple of 32/);
  });
});
