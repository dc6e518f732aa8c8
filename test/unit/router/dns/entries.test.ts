import assert from 'node:assert/strict';
import {DnsEntries} from '../../../../src/lib/router/dns/entries.js';
import {decodeEntries, DnsGossipData, DnsGossiper} from '../../../../src/lib/router/dns/gossip.js';

const A = 'aa:00:00:00:00:01';
const B = 'aa:00:00:00:00:02';

describe('router/dns: entries and their gossip', () => {
  it('adds, looks up any case, reverses, and tombstones only our own entries', () => {
    const ours = new DnsEntries(A);
    assert.ok(ours.add('Web.weave.local.', 'c1', '10.32.0.5'));
    assert.equal(ours.add('Web.weave.local.', 'c1', '10.32.0.5'), undefined, 'already live: nothing to gossip');
    ours.merge([{hostname: 'web.weave.local.', origin: B, containerId: 'c2', address: '10.32.0.6', version: 0, tombstone: 0}]);
    assert.deepEqual(ours.lookup('WEB.WEAVE.LOCAL.').map(e => e.address).sort(), ['10.32.0.5', '10.32.0.6']);
    assert.deepEqual(ours.reverse('10.32.0.6').map(e => e.containerId), ['c2']);
    const deleted = ours.delete({hostname: 'web.weave.local.'});
    assert.deepEqual(deleted.map(e => [e.containerId, e.version, e.tombstone > 0]), [['c1', 1, true]], "a peer's entry is its to delete");
    assert.deepEqual(ours.lookup('web.weave.local.').map(e => e.address), ['10.32.0.6']);
    assert.equal(ours.liveCount, 1);
    const revived = ours.add('Web.weave.local.', 'c1', '10.32.0.5');
    assert.deepEqual([revived?.version, revived?.tombstone], [2, 0]);
  });

  it('merges by version, so that a deletion spreads as an addition does', () => {
    const a = new DnsEntries(A);
    const b = new DnsEntries(B);
    b.merge(a.all().concat([a.add('db.weave.local.', 'c1', '10.32.0.7')!]));
    assert.equal(b.lookup('db.weave.local.').length, 1);
    const [gone] = a.delete({containerId: 'c1'});
    assert.deepEqual(b.merge([gone!]).length, 1);
    assert.deepEqual(b.merge([gone!]), [], 'the same version again is not news');
    assert.equal(b.lookup('db.weave.local.').length, 0);
    assert.equal(b.all().length, 1, 'the tombstone is kept for peers that have not heard yet');
  });

  it('forgets every entry of a removed peer', () => {
    const a = new DnsEntries(A);
    a.merge([
      {hostname: 'x.weave.local.', origin: B, containerId: 'c', address: '10.32.0.8', version: 0, tombstone: 0},
      {hostname: 'y.weave.local.', origin: B, containerId: 'd', address: '10.32.0.9', version: 0, tombstone: 0},
    ]);
    a.add('z.weave.local.', 'e', '10.32.0.10');
    assert.equal(a.removeOrigin(B), 2);
    assert.deepEqual(a.all().map(e => e.hostname), ['z.weave.local.']);
    assert.deepEqual(a.reverse('10.32.0.8'), []);
  });

  it('gossips what is new only, and merges queued gossip keeping the highest version', () => {
    const a = new DnsEntries(A);
    const b = new DnsEntries(B);
    const gossiper = new DnsGossiper(b);
    const entry = a.add('web.weave.local.', 'c1', '10.32.0.5')!;
    const [message] = new DnsGossipData([entry]).encode();
    assert.ok(gossiper.onGossip(message!));
    assert.equal(gossiper.onGossip(message!), undefined);
    const [tomb] = a.delete({});
    const merged = new DnsGossipData([entry]).merge(new DnsGossipData([tomb!])) as DnsGossipData;
    assert.deepEqual(merged.entries.map(e => e.version), [1]);
    assert.throws(() => decodeEntries(Buffer.from('{"not":"a list"}')), /expected a list of entries/);
  });
});
