import assert from 'node:assert/strict';
import {parseAddress} from '../../../../src/lib/router/ipam/range.js';
import {type ForeignRing, Ring, RingMergeError} from '../../../../src/lib/router/ipam/ring.js';
import {seededRandom} from '../../../helpers/random.js';

const A = 'aa:00:00:00:00:01';
const B = 'aa:00:00:00:00:02';
const C = 'aa:00:00:00:00:03';
const UNIVERSE = {start: parseAddress('10.0.0.0'), end: parseAddress('10.0.1.0')};
const at = (last: number) => UNIVERSE.start + last;

function ring(peers: string[] = [A, B, C]): Ring {
  const r = new Ring(UNIVERSE);
  r.claimForPeers(peers);
  return r;
}

/** The ring as another peer sends it. */
function foreign(r: Ring): ForeignRing {
  return {...r.toRecord(), ...UNIVERSE};
}

const owners = (r: Ring) => r.entries().map(e => [e.token, e.size, e.peer]);
const nothingUsed = () => false;
const everythingUsed = () => true;

describe('router/ipam/ring', () => {
  it('splits the range between sorted peers in CIDR-aligned halves, as the original', () => {
    const r = ring([C, A, B, A]);
    assert.deepEqual(owners(r), [
      ['10.0.0.0', 128, A],
      ['10.0.0.128', 64, B],
      ['10.0.0.192', 64, C],
    ]);
    assert.deepEqual(r.toRecord().seeds, [A, B, C]);
    assert.equal(r.owner(at(127)), A);
    assert.equal(r.owner(at(128)), B);
    assert.equal(r.owner(at(255)), C);
    assert.equal(r.owner(at(256)), undefined, 'outside the range');
    assert.deepEqual([...r.sizes()], [
      [A, 128],
      [B, 64],
      [C, 64],
    ]);
  });

  it('grants a span inside a token with up to two new tokens, and the whole of a token in place', () => {
    const r = ring();
    r.grant({start: at(32), end: at(64)}, C, A);
    assert.deepEqual(owners(r), [
      ['10.0.0.0', 32, A],
      ['10.0.0.32', 32, C],
      ['10.0.0.64', 64, A],
      ['10.0.0.128', 64, B],
      ['10.0.0.192', 64, C],
    ]);
    r.grant({start: at(64), end: at(128)}, B, A);
    assert.deepEqual(owners(r).slice(2, 4), [
      ['10.0.0.64', 64, B],
      ['10.0.0.128', 64, B],
    ]);
    const last = ring();
    last.grant({start: at(224), end: at(256)}, A, C);
    assert.deepEqual(owners(last).slice(2), [
      ['10.0.0.192', 32, C],
      ['10.0.0.224', 32, A],
    ]);
    assert.throws(() => ring().grant({start: at(100), end: at(140)}, C, A), /not all ours/);
  });

  it('moves a peer’s tokens with a large version step, so the move wins merges', () => {
    const r = ring();
    assert.deepEqual(r.transfer(C, A), [{start: at(192), end: at(256)}]);
    assert.equal(r.entries()[2]!.version, 100);
    assert.deepEqual(r.transfer(C, A), []);
  });

  it('merges: the higher version of a token wins, new tokens are taken, and the result is the same both ways', () => {
    const base = ring();
    const atA = base.copy();
    atA.grant({start: at(64), end: at(128)}, C, A);
    const atB = base.copy();
    atB.reportFree(B, () => 10);
    const one = atA.copy();
    assert.equal(one.merge(foreign(atB), A, nothingUsed), true);
    const other = atB.copy();
    assert.equal(other.merge(foreign(atA), B, nothingUsed), true);
    assert.deepEqual(one.toRecord(), other.toRecord());
    assert.equal(one.owner(at(100)), C);
    assert.equal(one.merge(foreign(other), A, nothingUsed), false, 'nothing new');
  });

  it('many peers granting to each other and merging in random order all end with the same ring', () => {
    const rnd = seededRandom(11);
    const peers = [A, B, C];
    const replicas = new Map(peers.map(p => [p, ring()]));
    for (let step = 0; step < 300; step++) {
      const peer = peers[Math.floor(rnd() * 3)]!;
      const mine = replicas.get(peer)!;
      if (rnd() < 0.4) {
        const span = mine.ownedSpans(peer)[0];
        if (span && span.end - span.start > 1) {
          const start = span.start + 1 + Math.floor(rnd() * (span.end - span.start - 1));
          mine.grant({start, end: span.end}, peers[Math.floor(rnd() * 3)]!, peer);
        }
      } else {
        const from = replicas.get(peers[Math.floor(rnd() * 3)]!)!;
        mine.merge(foreign(from), peer, nothingUsed);
      }
      // No address is ever thought its own by two peers, however late each hears of the others.
      for (let addr = 0; addr < 256; addr++) {
        const claimants = peers.filter(p => replicas.get(p)!.owner(at(addr)) === p);
        assert.ok(claimants.length <= 1, `step ${step}: ${addr} owned by ${claimants.join(' and ')}`);
      }
    }
    for (let round = 0; round < 3; round++) for (const p of peers) for (const q of peers) replicas.get(p)!.merge(foreign(replicas.get(q)!), p, nothingUsed);
    const [first, ...rest] = [...replicas.values()].map(r => JSON.stringify(r.toRecord()));
    for (const r of rest) assert.equal(r, first);
  });

  it('refuses another range or other seeds, with kinds the gossip turns into the original messages', () => {
    const r = ring();
    assert.throws(() => r.merge({...foreign(ring()), end: UNIVERSE.end + 256}, A, nothingUsed), (e: RingMergeError) => e.kind === 'range');
    assert.throws(() => r.merge(foreign(ring([A, B])), A, nothingUsed), (e: RingMergeError) => e.kind === 'seeds' && e.message === 'Received ring was seeded differently from ours');
    const unseeded = new Ring(UNIVERSE);
    assert.equal(unseeded.merge(foreign(ring([A, B])), A, nothingUsed), true, 'an empty ring takes any');
    assert.deepEqual(unseeded.toRecord().seeds, [A, B]);
  });

  it('never gives up a span of ours that holds allocations, and says why', () => {
    // Another peer claims our token at the same version.
    const theirs = ring();
    theirs.restore({...theirs.toRecord(), tokens: theirs.toRecord().tokens.map(t => (t.peer === A ? {...t, peer: B} : t))});
    assert.throws(() => ring().merge(foreign(theirs), A, everythingUsed), {
      message: 'Inconsistent entries for 10.0.0.0: owned by aa:00:00:00:00:01 but incoming message says aa:00:00:00:00:02',
    });
    // ... or at a higher version (rmpeer of a peer that is not dead).
    const moved = ring();
    moved.transfer(A, B);
    assert.throws(() => ring().merge(foreign(moved), A, everythingUsed), {
      message: 'Received update for IP range I own at 10.0.0.0 v0: incoming message says owner aa:00:00:00:00:02 v100',
    });
    // ... or a new token inside our span.
    const stale = new Ring(UNIVERSE);
    stale.restore({tokens: [{start: at(0), peer: A, version: 5, free: 128}, ...ring().toRecord().tokens.slice(1)], seeds: [A, B, C]});
    const inserted = ring();
    inserted.restore({tokens: [{start: at(0), peer: A, version: 0, free: 64}, {start: at(64), peer: C, version: 0, free: 64}, ...ring().toRecord().tokens.slice(1)], seeds: [A, B, C]});
    assert.throws(() => stale.merge(foreign(inserted), A, everythingUsed), {message: 'Peer aa:00:00:00:00:03 says it owns the IP range from 10.0.0.64, which I think I own'});
    // Without allocations there, the same updates repair our ring instead.
    const repaired = ring();
    assert.equal(repaired.merge(foreign(moved), A, nothingUsed), true);
    assert.equal(repaired.owner(at(0)), B);
  });

  it('a token of ours as an earlier life of ours left it stands, above the version received', () => {
    const earlier = ring();
    earlier.reportFree(A, () => 3);
    earlier.reportFree(A, () => 2);
    const now = ring();
    assert.equal(now.merge(foreign(earlier), A, nothingUsed), true);
    assert.equal(now.entries()[0]!.version, 3);
    assert.equal(now.owner(at(0)), A);
  });

  it('asks the peers with free space, weighted, never ourselves; picks a live heir', () => {
    const r = ring();
    r.reportFree(B, () => 0);
    assert.deepEqual(r.donorsFor({start: at(1), end: at(255)}, A), [C], 'B reported nothing free');
    assert.deepEqual(r.donorsFor({start: at(1), end: at(100)}, A), [], 'only A owns that part');
    const counts = new Map<string, number>();
    const rnd = seededRandom(3);
    const fresh = ring([A, B, C]);
    fresh.grant({start: at(0), end: at(96)}, B, A);
    for (let i = 0; i < 200; i++) {
      const [top] = fresh.donorsFor(UNIVERSE, C, rnd);
      counts.set(top!, (counts.get(top!) ?? 0) + 1);
    }
    assert.ok(counts.get(B)! > counts.get(A)!, `B owns more and is asked more often: ${JSON.stringify([...counts])}`);
    assert.equal(r.pickPeer(A, p => p !== B), C);
    assert.equal(r.pickPeer(A, () => false), undefined);
  });
});
