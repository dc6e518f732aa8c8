import assert from 'node:assert/strict';
import {Backoff, INITIAL_INTERVAL_MS, MAX_INTERVAL_MS, RESET_AFTER_MS} from '../../../../src/lib/router/mesh/backoff.js';

/** A backoff on a clock and a random source the test sets. */
function fixture(random = 0.5) {
  const clock = {now: 1_000_000, random};
  const backoff = new Backoff(
    () => clock.now,
    () => clock.random,
  );
  return {clock, backoff};
}

describe('mesh reconnection backoff', () => {
  it('tries a new address at once', () => {
    const {clock, backoff} = fixture();
    assert.equal(backoff.tryAfter, clock.now);
  });

  it('waits a random delay in [i/2, 3i/2) after a failure, i starting at 2 s', () => {
    const low = fixture(0);
    low.backoff.tryLater();
    assert.equal(low.backoff.tryAfter! - low.clock.now, INITIAL_INTERVAL_MS / 2);
    const high = fixture(0.9999);
    high.backoff.tryLater();
    const delay = high.backoff.tryAfter! - high.clock.now;
    assert.ok(delay < (3 * INITIAL_INTERVAL_MS) / 2 && delay >= INITIAL_INTERVAL_MS * 1.49, String(delay));
  });

  it('grows the interval by half at each failure and caps it at 6 minutes', () => {
    const {clock, backoff} = fixture(0.5);
    const delays: number[] = [];
    for (let i = 0; i < 20; i++) {
      backoff.tryLater();
      delays.push(backoff.tryAfter! - clock.now);
    }
    // With the random draw in the middle the delay is the interval itself.
    assert.deepEqual(delays.slice(0, 4), [2000, 3000, 4500, 6750]);
    assert.equal(delays.at(-1), MAX_INTERVAL_MS);
    assert.ok(delays.every((d, i) => i === 0 || d >= delays[i - 1]!));
  });

  it('spreads peers that fail together (jitter)', () => {
    const draws = [0.1, 0.5, 0.9].map(r => {
      const {clock, backoff} = fixture(r);
      backoff.tryLater();
      return backoff.tryAfter! - clock.now;
    });
    assert.equal(new Set(draws).size, 3);
  });

  it('starts over when told to try now', () => {
    const {clock, backoff} = fixture(0.5);
    for (let i = 0; i < 5; i++) backoff.tryLater();
    backoff.tryNow();
    assert.equal(backoff.tryAfter, clock.now);
    backoff.tryLater();
    assert.equal(backoff.tryAfter! - clock.now, INITIAL_INTERVAL_MS);
  });

  it('never tries again after tryNever', () => {
    const {backoff} = fixture();
    backoff.tryNever();
    assert.equal(backoff.tryAfter, undefined);
  });

  it('reconnects at once after a connection that lasted, else backs off', () => {
    const {clock, backoff} = fixture(0.5);
    clock.now += RESET_AFTER_MS + 1;
    backoff.afterDisconnect();
    assert.equal(backoff.tryAfter, clock.now);
    backoff.afterDisconnect();
    assert.equal(backoff.tryAfter! - clock.now, INITIAL_INTERVAL_MS);
  });
});
