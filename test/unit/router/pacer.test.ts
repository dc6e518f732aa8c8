import assert from 'node:assert/strict';
import {describe, it} from 'mocha';
import {Pacer} from '../../../src/lib/router/pacer.js';

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

describe('Pacer (a job paced over bursts of changes)', () => {
  it('runs once per burst, soon after its first ask, then keeps the gap unless urgent', async () => {
    const runs: number[] = [];
    const start = Date.now();
    const pacer = new Pacer(() => runs.push(Date.now() - start), 20, 200);
    pacer.ask();
    pacer.ask();
    await sleep(60);
    assert.equal(runs.length, 1, 'one run for the burst');
    pacer.ask();
    await sleep(60);
    assert.equal(runs.length, 1, 'held back by the gap');
    await sleep(200);
    assert.equal(runs.length, 2);
    assert.ok(runs[1]! - runs[0]! >= 190, `runs ${runs.join(', ')} ms apart by the gap`);
    pacer.ask(true);
    await sleep(60);
    assert.equal(runs.length, 3, 'urgent: no gap');
    pacer.cancel();
  });

  it('keeps the gap an ask gives, in place of its own', async () => {
    let runs = 0;
    const pacer = new Pacer(() => runs++, 20);
    pacer.ask(false, 300);
    await sleep(60);
    assert.equal(runs, 1);
    pacer.ask(false, 300);
    await sleep(100);
    assert.equal(runs, 1, 'held back by the gap asked for');
    pacer.ask();
    await sleep(60);
    assert.equal(runs, 2, 'no gap asked for: soon');
    pacer.cancel();
  });

  it('brings a pending run forward, never back, and runs nothing once cancelled', async () => {
    let runs = 0;
    const pacer = new Pacer(() => runs++, 20, 0);
    pacer.runWithin(500);
    pacer.runWithin(10);
    pacer.runWithin(400);
    await sleep(60);
    assert.equal(runs, 1);
    pacer.ask();
    pacer.cancel();
    await sleep(60);
    assert.equal(runs, 1);
  });

  it('settles: runs once the changes stop for the quiet period, or at the longest wait while they go on', async () => {
    let runs = 0;
    const pacer = new Pacer(() => runs++);
    for (let i = 0; i < 4; i++) {
      pacer.settle(200, 10_000);
      await sleep(30);
    }
    assert.equal(runs, 0, 'each change pushes the run back');
    await sleep(300);
    assert.equal(runs, 1, 'once quiet');
    for (let i = 0; i < 6; i++) {
      pacer.settle(1000, 150);
      await sleep(40);
    }
    assert.equal(runs, 2, 'no later than the longest wait, changes going on');
    pacer.cancel();
  });
});
