import assert from 'node:assert/strict';
import {Routes} from '../../../../src/lib/router/mesh/routes.js';
import {decodeUpdate, Topology} from '../../../../src/lib/router/mesh/topology.js';
import {link, own, peer, view as viewOf} from '../../../helpers/topologies.js';

const A = 'aa:00:00:00:00:0a';
const B = 'aa:00:00:00:00:0b';
const C = 'aa:00:00:00:00:0c';
const D = 'aa:00:00:00:00:0d';

describe('mesh topology', () => {
  it('encodes and decodes records exactly', () => {
    const b = link(peer(B), A, C);
    const [record] = decodeUpdate(own(b));
    assert.equal(record!.name, B);
    assert.equal(record!.nickName, 'nick-b');
    assert.equal(record!.uid, 11n);
    assert.equal(record!.version, 2);
    assert.deepEqual([...record!.connections], [
      [A, {address: '192.168.90.10:6783', outbound: true, established: true}],
      [C, {address: '192.168.90.12:6783', outbound: true, established: true}],
    ]);
  });

  it('passes a record on as it came: the same bytes, until it changes', () => {
    const b = link(peer(B), A, C);
    const a = link(peer(A), B);
    a.applyUpdate(own(b));
    assert.deepEqual(Buffer.concat(a.encode([B])), own(b));
    link(b, D);
    a.applyUpdate(own(b));
    assert.deepEqual(Buffer.concat(a.encode([B])), own(b));
    assert.deepEqual([...a.get(B)!.connections.keys()], [A, C, D]);
  });

  it('encodes each record as it is now, whichever records changed since the last encoding', () => {
    const a = link(peer(A), B);
    const b = link(peer(B), A);
    const all = () => decodeUpdate(Buffer.concat(a.encode([A, B, C])));
    a.applyUpdate(own(b));
    const before = all();
    assert.deepEqual(before.map(r => [r.name, r.version]), [[A, 1], [B, 1]]);
    // Its connections replaced by an update: the new ones, and a placeholder for C.
    a.applyUpdate(own(link(b, C)));
    const after = all();
    assert.deepEqual(after.map(r => [r.name, r.version, r.uid]), [[A, 1, 10n], [B, 2, 11n], [C, 0, 0n]]);
    assert.deepEqual([...after[1]!.connections.keys()], [A, C]);
    // Ours changed in place (a new version), then the placeholder described by a connection.
    link(a, C);
    a.meet({name: C, nickName: 'nick-c', uid: 12n, shortId: 3, port: 6783});
    const last = all();
    assert.deepEqual(last.map(r => [r.name, r.version, r.uid, r.nickName]), [[A, 2, 10n, 'nick-a'], [B, 2, 11n, 'nick-b'], [C, 0, 12n, 'nick-c']]);
    assert.deepEqual([...last[0]!.connections.keys()], [B, C]);
  });

  it('learns peers and connections from an update, with a placeholder for a peer only named', () => {
    const a = link(peer(A), B);
    const result = a.applyUpdate(own(link(peer(B), A, C)));
    assert.deepEqual([...result.received], [B]);
    assert.deepEqual([...result.improved], [B]);
    // A had only its own connection to B, no record of it.
    assert.deepEqual(result.added.map(p => p.name), [B, C]);
    assert.deepEqual([...a.names()].sort(), [A, B, C]);
    assert.equal(a.get(C)!.uid, 0n);
    assert.equal(a.get(B)!.nickName, 'nick-b');
  });

  it('keeps the newest version of a record and ignores older ones', () => {
    const a = link(peer(A), B);
    const b = link(peer(B), A);
    const old = own(b);
    link(b, C);
    a.applyUpdate(own(b));
    const stale = a.applyUpdate(old);
    assert.equal(stale.improved.size, 0);
    assert.ok(a.get(B)!.connections.has(C));
  });

  it('at equal versions, lets the higher uid win (a restarted peer is told apart)', () => {
    const a = link(peer(A), B);
    a.applyUpdate(own(link(peer(B, 5n), A)));
    assert.equal(a.applyUpdate(own(link(peer(B, 9n), A))).improved.size, 1);
    assert.equal(a.get(B)!.uid, 9n);
    assert.equal(a.applyUpdate(own(link(peer(B, 7n), A))).improved.size, 0);
  });

  it('outranks news of an earlier incarnation of ourselves', () => {
    const a = link(peer(A, 100n), B);
    const former = link(peer(A, 50n), B, C, D);
    for (let i = 0; i < 5; i++) former.setLocalConnection(B, {address: 'x:1', outbound: true, established: true});
    const result = a.applyUpdate(own(former));
    assert.ok(result.ourselfBumped);
    assert.equal(a.ourself.version, former.ourself.version + 1);
    assert.equal(a.ourself.uid, 100n);
  });

  it('drops peers nothing leads to any more', () => {
    const a = link(peer(A), B);
    a.applyUpdate(own(link(peer(B), A, C)));
    a.applyUpdate(own(link(peer(C), B, D)));
    assert.equal(a.names().size, 4);
    // B loses C: C and D are now unreachable from A.
    const b = link(peer(B), A, C);
    b.deleteLocalConnection(C);
    b.ourself.version = 10;
    assert.ok(a.applyUpdate(own(b)).mayStrand);
    // Until the mesh collects them, which it does a moment later (several updates, one look).
    assert.equal(a.names().size, 4);
    assert.deepEqual(a.garbageCollect().map(p => p.name).sort(), [C, D]);
    assert.deepEqual([...a.names()].sort(), [A, B]);
    assert.deepEqual(a.garbageCollect(), []);
    a.deleteLocalConnection(B);
    assert.deepEqual(a.garbageCollect().map(p => p.name), [B]);
  });

  it('says where a peer is: our connection to it, else the address others use', () => {
    const a = link(peer(A), B);
    const b = peer(B);
    b.setLocalConnection(C, {address: '192.168.90.33:41234', outbound: false, established: true});
    a.applyUpdate(own(b));
    assert.equal(a.addressOf(B), '192.168.90.11');
    assert.equal(a.addressOf(C), '192.168.90.33');
    assert.equal(a.addressOf(D), undefined);
  });

  it('refuses a malformed update', () => {
    assert.throws(() => peer(A).applyUpdate(Buffer.from([1, 2, 3])), /message truncated/);
  });

  it('splits a large topology into several messages, none splitting a peer', () => {
    const hex = (n: number) => `${(n >> 8).toString(16).padStart(2, '0')}:${(n & 255).toString(16).padStart(2, '0')}`;
    const big = peer(A);
    const names: string[] = [A];
    for (let i = 0; i < 100; i++) {
      const other = new Topology({name: `aa:00:00:00:${hex(i)}`, nickName: 'n', uid: 1n, shortId: 0, hasShortId: true, port: 6783});
      for (let j = 0; j < 1000; j++) other.setLocalConnection(`ab:00:00:00:${hex(j)}`, {address: '192.168.90.1:6783', outbound: true, established: true});
      big.setLocalConnection(other.ourself.name, {address: '192.168.90.1:6783', outbound: true, established: true});
      big.applyUpdate(own(other));
      names.push(other.ourself.name);
    }
    const messages = big.encode(names);
    assert.ok(messages.length > 1);
    assert.equal(messages.flatMap(m => decodeUpdate(m)).length, names.length);
  });

  it('carries IPv4 addresses compactly and any other address as written', () => {
    const a = peer(A);
    a.setLocalConnection(B, {address: '192.168.90.11:6783', outbound: true, established: true});
    a.setLocalConnection(C, {address: '[fd00::1]:6783', outbound: false, established: false});
    a.setLocalConnection(D, {address: '300.1.1.1:1', outbound: true, established: false});
    assert.deepEqual(
      [...decodeUpdate(own(a))[0]!.connections.values()].map(c => c.address),
      ['192.168.90.11:6783', '[fd00::1]:6783', '300.1.1.1:1'],
    );
  });
});

describe('mesh routes', () => {
  const view = (records: Record<string, string[]>) => viewOf(A, records);

  it('routes to each peer through the neighbour that leads there', () => {
    const routes = new Routes(view({[A]: [B], [B]: [A, C], [C]: [B, D], [D]: [C]}));
    assert.equal(routes.unicastAll(B), B);
    assert.equal(routes.unicastAll(C), B);
    assert.equal(routes.unicastAll(D), B);
    assert.equal(routes.unicastAll('aa:00:00:00:00:ff'), undefined);
    assert.equal(routes.unicastAll(A), undefined);
  });

  it('searches level by level in name order: the same data gives the same tree everywhere', () => {
    assert.equal(new Routes(view({[A]: [B, C], [B]: [A, D], [C]: [A, D], [D]: [B, C]})).unicastAll(D), B);
  });

  it('in a full mesh, broadcasts go straight to everyone and nobody relays them', () => {
    const routes = new Routes(view({[A]: [B, C, D], [B]: [A, C, D], [C]: [A, B, D], [D]: [A, B, C]}));
    assert.deepEqual(routes.broadcastAll(A).sort(), [B, C, D]);
    assert.deepEqual(routes.broadcastAll(B), []);
  });

  it('in a star, the centre relays a leaf broadcast to the other leaves', () => {
    const routes = new Routes(view({[A]: [B, C, D], [B]: [A], [C]: [A], [D]: [A]}));
    assert.deepEqual(routes.broadcastAll(B).sort(), [C, D]);
    assert.deepEqual(routes.broadcastAll('aa:00:00:00:00:ff'), []);
  });

  it('gossips to about log2(peers) distinct neighbours, never the one excluded', () => {
    const routes = new Routes(view({[A]: [B, C, D], [B]: [A], [C]: [A], [D]: [A]}));
    for (let i = 0; i < 20; i++) {
      const chosen = routes.randomNeighbours(B);
      assert.equal(chosen.length, 2);
      assert.ok(!chosen.includes(B));
      assert.equal(new Set(chosen).size, 2);
    }
    assert.deepEqual(new Routes(view({[A]: [B], [B]: [A]})).randomNeighbours(A), [B]);
  });
});
