import assert from 'node:assert/strict';
import {describe, it} from 'mocha';
import {MtuGossiper} from '../../../src/lib/router/dataplane/auto-mtu.js';
import {ProtocolError} from '../../../src/lib/router/mesh/protocol.js';

const message = (rows: unknown[]): Buffer => Buffer.from(JSON.stringify(rows));

describe('MTU gossip', () => {
  it('keeps the latest figure of each peer and passes on only what was news', () => {
    let changes = 0;
    const gossiper = new MtuGossiper(() => changes++);
    const news = gossiper.onGossip(message([['aa:00:00:00:00:01', 8950, 5], ['aa:00:00:00:00:02', 1450, 7]]));
    assert.equal(news?.encode()[0]?.toString(), JSON.stringify([['aa:00:00:00:00:01', 8950, 5], ['aa:00:00:00:00:02', 1450, 7]]));
    // An older figure of one, a newer of the other: only the newer is news.
    const again = gossiper.onGossip(message([['aa:00:00:00:00:01', 1376, 4], ['aa:00:00:00:00:02', 8950, 8]]));
    assert.equal(again?.encode()[0]?.toString(), JSON.stringify([['aa:00:00:00:00:02', 8950, 8]]));
    assert.equal(gossiper.onGossip(message([['aa:00:00:00:00:02', 8950, 8]])), undefined);
    assert.deepEqual([...gossiper.entries].map(([peer, e]) => [peer, e.mtu]), [['aa:00:00:00:00:01', 8950], ['aa:00:00:00:00:02', 8950]]);
    assert.equal(changes, 2);
  });

  it('our own figure gets a version above any seen for us, and merges with what is queued', () => {
    const gossiper = new MtuGossiper(() => {});
    gossiper.onGossip(message([['us', 1450, Number.MAX_SAFE_INTEGER - 1]]));
    const ours = gossiper.set('us', 8950);
    assert.equal(gossiper.entries.get('us')?.version, Number.MAX_SAFE_INTEGER);
    const merged = ours.merge(gossiper.gossip()!);
    assert.deepEqual(JSON.parse(merged.encode()[0]!.toString()), [['us', 8950, Number.MAX_SAFE_INTEGER]]);
  });

  it('refuses a malformed message or an MTU out of range (the connection it came on is closed)', () => {
    const gossiper = new MtuGossiper(() => {});
    for (const bad of [Buffer.from('{'), message([['p', 100, 1]]), message([['p', 1500.5, 1]]), message([[1, 1500, 1]]), Buffer.from('{"a":1}')]) {
      assert.throws(() => gossiper.onGossip(bad), ProtocolError);
    }
  });
});
