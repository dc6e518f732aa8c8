import assert from 'node:assert/strict';
import {describe, it} from 'mocha';
import {parseInterval} from '../../../src/lib/cli/duration.js';

describe('--interval durations', () => {
  it('reads milliseconds, seconds (the unit of a bare number) and minutes', () => {
    assert.equal(parseInterval('500ms'), 500);
    assert.equal(parseInterval('2s'), 2000);
    assert.equal(parseInterval('1.5s'), 1500);
    assert.equal(parseInterval('3'), 3000);
    assert.equal(parseInterval('1m'), 60_000);
  });

  it('refuses what it cannot read, and anything under 100ms, naming the accepted forms', () => {
    for (const text of ['', 'fast', '2 s', '-1s', '1h', '10ms', '0']) {
      assert.throws(() => parseInterval(text), {message: `--interval "${text}" is not a duration of 100ms or more: give one such as 2s, 500ms, 1.5s or 1m`}, text);
    }
  });
});
