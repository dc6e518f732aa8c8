import assert from 'node:assert/strict';
import {decodeFrames, encodeFrame, usedLength} from '../../../../src/lib/router/ipam/frames.js';

describe('router/ipam/frames', () => {
  const records = [{t: 'add', id: 'a'}, {t: 'delete', id: 'é €'}, {n: 1}];
  const whole = Buffer.concat(records.map(encodeFrame));
  const second = encodeFrame(records[0]).length;
  const third = second + encodeFrame(records[1]).length;
  /** `whole` in a preallocated file, with `change` applied to the copy. */
  const file = (change: (buf: Buffer) => void = () => undefined) => {
    const buf = Buffer.concat([whole, Buffer.alloc(200_000)]);
    change(buf);
    return buf;
  };

  it('reads back what was written, stopping at the zeros of preallocated space', () => {
    assert.deepEqual(decodeFrames(file()), {values: records, end: whole.length, used: whole.length, tail: 'clean'});
    assert.deepEqual(decodeFrames(Buffer.alloc(0)), {values: [], end: 0, used: 0, tail: 'clean'});
    assert.deepEqual(decodeFrames(Buffer.alloc(100)), {values: [], end: 0, used: 0, tail: 'clean'});
  });

  it('finds the last byte that is not zero, in a megabyte of zeros or in none', () => {
    const buf = Buffer.alloc(3 << 20);
    assert.equal(usedLength(buf), 0);
    buf[70_000] = 1;
    assert.equal(usedLength(buf), 70_001);
    assert.equal(usedLength(Buffer.from([1, 2, 0])), 2);
  });

  it('calls a last record whose end is still zeros torn: a write cut short, never acknowledged', () => {
    for (let cut = third + 1; cut < whole.length; cut++) {
      const decoded = decodeFrames(Buffer.concat([whole.subarray(0, cut), Buffer.alloc(100)]));
      assert.deepEqual(decoded.values, records.slice(0, 2), `cut at ${cut}`);
      assert.equal(decoded.end, third, `cut at ${cut}`);
      assert.equal(decoded.tail, 'torn', `cut at ${cut}`);
    }
  });

  it('calls damage a record that fails its checksum with whole records after it', () => {
    const decoded = decodeFrames(file(buf => (buf[second + 10] ^= 1)));
    assert.deepEqual(decoded.values, records.slice(0, 1));
    assert.equal(decoded.end, second);
    assert.equal(decoded.tail, 'damaged');
    assert.match(decoded.reason!, /checksum/);
  });

  it('calls damage a whole last record that fails its checksum: it was acknowledged', () => {
    const decoded = decodeFrames(file(buf => (buf[whole.length - 3] ^= 1)));
    assert.equal(decoded.end, third);
    assert.equal(decoded.tail, 'damaged');
  });

  it('calls damage a length that would hide the records after it, or that runs past the end', () => {
    // The second record's length grown to cover the third: its end would be zeros, as a torn write's.
    const hidden = decodeFrames(file(buf => buf.writeUInt32LE(whole.length - second + 40, second)));
    assert.equal(hidden.tail, 'damaged');
    assert.equal(hidden.reason, 'whole records follow a cut-short one');
    const past = decodeFrames(file(buf => (buf[second + 3] = 0x7f)));
    assert.equal(past.tail, 'damaged');
    assert.match(past.reason!, /past the end of the file/);
  });

  it('calls damage bytes in the zeros after the last record', () => {
    const decoded = decodeFrames(file(buf => (buf[whole.length + 5000] = 9)));
    assert.deepEqual(decoded.values, records);
    assert.equal(decoded.tail, 'damaged');
    assert.match(decoded.reason!, /not zero after the last record/);
  });

  it('calls damage random bytes where the first record should be', () => {
    const random = Buffer.from(Array.from({length: 4096}, (_, i) => (i * 7919 + 13) % 251));
    const decoded = decodeFrames(Buffer.concat([random, Buffer.alloc(4096)]));
    assert.deepEqual(decoded.values, []);
    assert.equal(decoded.tail, 'damaged');
  });
});
