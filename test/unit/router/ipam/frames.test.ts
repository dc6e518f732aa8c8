import assert from 'node:assert/strict';
import {decodeFrames, encodeFrame} from '../../../../src/lib/router/ipam/frames.js';

describe('router/ipam/frames', () => {
  const records = [{t: 'add', id: 'a'}, {t: 'delete', id: 'é €'}, {n: 1}];
  const whole = Buffer.concat(records.map(encodeFrame));

  it('reads back what was written, stopping at the zeros of preallocated space', () => {
    const file = Buffer.concat([whole, Buffer.alloc(200_000)]);
    assert.deepEqual(decodeFrames(file), {values: records, end: whole.length, torn: false});
    assert.deepEqual(decodeFrames(Buffer.alloc(0)), {values: [], end: 0, torn: false});
  });

  it('stops before a record cut short, and says something was left behind', () => {
    for (let cut = whole.length - 1; cut > whole.length - encodeFrame(records[2]).length; cut--) {
      const decoded = decodeFrames(Buffer.concat([whole.subarray(0, cut), Buffer.alloc(100)]));
      assert.deepEqual(decoded.values, records.slice(0, 2), `cut at ${cut}`);
      assert.equal(decoded.torn, true, `cut at ${cut}`);
    }
  });

  it('stops at a record whose payload was damaged, even when what follows is whole', () => {
    const damaged = Buffer.from(whole);
    const second = encodeFrame(records[0]).length;
    damaged[second + 10] ^= 1;
    const decoded = decodeFrames(damaged);
    assert.deepEqual(decoded.values, records.slice(0, 1));
    assert.equal(decoded.end, second);
    assert.equal(decoded.torn, true);
  });
});
