import assert from 'node:assert/strict';
import {describe, it} from 'mocha';
import type {RouteMtu} from '../../../src/lib/net/mtu.js';
import {RouteMtuCache} from '../../../src/lib/router/dataplane/route-mtu-cache.js';

/** A lookup over a table of links the test changes, recording what each call asked for. */
function fakeLookup(table: Map<string, RouteMtu>) {
  const asked: string[][] = [];
  let failing = false;
  const lookup = (dsts: readonly string[]) => {
    asked.push([...dsts]);
    if (failing) return Promise.reject(new Error('EBUSY'));
    return Promise.resolve(new Map(dsts.flatMap(dst => (table.has(dst) ? [[dst, table.get(dst)!] as const] : []))));
  };
  return {asked, lookup, fail: (on: boolean) => (failing = on)};
}

const eth0 = (mtu: number): RouteMtu => ({dev: 'eth0', mtu});

describe('route MTU cache', () => {
  it('looks up only peers new or read longer ago than the interval, and answers for all', async () => {
    const table = new Map([['10.0.0.2', eth0(1500)], ['10.0.0.3', eth0(1500)], ['10.0.0.4', eth0(9000)]]);
    const {asked, lookup} = fakeLookup(table);
    let now = 1000;
    const cache = new RouteMtuCache(lookup, 30_000, () => now);
    assert.deepEqual(await cache.links(['10.0.0.2', '10.0.0.3']), new Map([['10.0.0.2', eth0(1500)], ['10.0.0.3', eth0(1500)]]));
    now += 1000;
    // A second connection to the same peer asks once.
    assert.deepEqual(await cache.links(['10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.4']), new Map([['10.0.0.2', eth0(1500)], ['10.0.0.3', eth0(1500)], ['10.0.0.4', eth0(9000)]]));
    assert.deepEqual(asked, [['10.0.0.2', '10.0.0.3'], ['10.0.0.4']]);
    // Nothing is due: no lookup at all.
    now += 28_999;
    await cache.links(['10.0.0.2', '10.0.0.3', '10.0.0.4']);
    assert.equal(asked.length, 2);
    // The operator lowers the underlay's MTU: followed once the first two are 30 s old.
    table.set('10.0.0.2', eth0(1400));
    now += 1;
    assert.deepEqual(await cache.links(['10.0.0.2', '10.0.0.3', '10.0.0.4']), new Map([['10.0.0.2', eth0(1400)], ['10.0.0.3', eth0(1500)], ['10.0.0.4', eth0(9000)]]));
    assert.deepEqual(asked.at(-1), ['10.0.0.2', '10.0.0.3']);
  });

  it('forgets peers gone, so one that comes back is read again', async () => {
    const {asked, lookup} = fakeLookup(new Map([['10.0.0.2', eth0(1500)], ['10.0.0.3', eth0(1500)]]));
    const cache = new RouteMtuCache(lookup, 30_000, () => 0);
    await cache.links(['10.0.0.2', '10.0.0.3']);
    assert.deepEqual(await cache.links(['10.0.0.3']), new Map([['10.0.0.3', eth0(1500)]]));
    await cache.links(['10.0.0.2', '10.0.0.3']);
    assert.deepEqual(asked, [['10.0.0.2', '10.0.0.3'], ['10.0.0.2']]);
  });

  it('keeps no peer without a route, and a failed lookup changes nothing', async () => {
    const table = new Map([['10.0.0.2', eth0(1500)]]);
    const {asked, lookup, fail} = fakeLookup(table);
    let now = 0;
    const cache = new RouteMtuCache(lookup, 30_000, () => now);
    assert.deepEqual(await cache.links(['10.0.0.2', '10.0.0.9']), new Map([['10.0.0.2', eth0(1500)]]));
    // Its route appears: the next call finds it.
    table.set('10.0.0.9', eth0(1450));
    assert.deepEqual(await cache.links(['10.0.0.2', '10.0.0.9']), new Map([['10.0.0.2', eth0(1500)], ['10.0.0.9', eth0(1450)]]));
    assert.deepEqual(asked, [['10.0.0.2', '10.0.0.9'], ['10.0.0.9']]);
    now = 30_000;
    fail(true);
    await assert.rejects(cache.links(['10.0.0.2', '10.0.0.9']), /EBUSY/);
    // Still due after the failure: asked again, and read.
    fail(false);
    table.set('10.0.0.2', eth0(1400));
    assert.deepEqual(await cache.links(['10.0.0.2', '10.0.0.9']), new Map([['10.0.0.2', eth0(1400)], ['10.0.0.9', eth0(1450)]]));
    assert.deepEqual(asked.slice(2), [['10.0.0.2', '10.0.0.9'], ['10.0.0.2', '10.0.0.9']]);
  });
});
