import assert from 'node:assert/strict';
import {AddressSet, Space} from '../../../../src/lib/router/ipam/space.js';

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

describe('router/ipam/space', () => {
  it('AddressSet agrees with a plain set over 2,000 random adds and removes', () => {
    const rnd = random(7);
    const set = new AddressSet();
    const model = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const start = Math.floor(rnd() * 200);
      const end = start + 1 + Math.floor(rnd() * 8);
      const add = rnd() < 0.5;
      if (add) set.add({start, end});
      else set.remove({start, end});
      for (let a = start; a < end; a++) {
        if (add) model.add(a);
        else model.delete(a);
      }
      const from = Math.floor(rnd() * 210);
      const to = from + Math.floor(rnd() * 20);
      const expected = [...model].filter(a => a >= from && a < to).sort((a, b) => a - b)[0];
      assert.equal(set.lowestIn({start: from, end: to}), expected);
    }
    assert.equal(set.size(), model.size);
    for (let a = 0; a < 220; a++) assert.equal(set.has(a), model.has(a), `address ${a}`);
    // Spans stay coalesced: no two touch.
    const spans = set.spans();
    for (let i = 1; i < spans.length; i++) assert.ok(spans[i]!.start > spans[i - 1]!.end);
  });

  it('Space claims free addresses only, and releases only addresses in use', () => {
    const space = new Space();
    space.setOwned([{start: 100, end: 110}]);
    assert.equal(space.lowestFree({start: 0, end: 1000}), 100);
    assert.ok(space.claim(100));
    assert.ok(!space.claim(100), 'already in use');
    assert.ok(!space.claim(5), 'not ours');
    assert.equal(space.lowestFree({start: 0, end: 1000}), 101);
    assert.equal(space.lowestFree({start: 105, end: 107}), 105);
    assert.ok(!space.release(101), 'not in use');
    assert.ok(space.release(100));
    assert.deepEqual([space.numFree(), space.numUsed()], [10, 0]);
    space.setOwned([{start: 100, end: 120}]);
    assert.equal(space.numFree(), 20, 'a wider span adds its new part as free');
  });
});
