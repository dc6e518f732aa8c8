import assert from 'node:assert/strict';
import {EventEmitter} from 'node:events';
import {describe, it} from 'mocha';
import type {RouteMtu} from '../../../src/lib/net/mtu.js';
import {AutoMtu, MtuGossiper, type MtuMesh} from '../../../src/lib/router/dataplane/auto-mtu.js';
import {createLogger} from '../../../src/lib/router/log.js';
import type {MeshEvents} from '../../../src/lib/router/mesh/mesh.js';
import {ProtocolError} from '../../../src/lib/router/mesh/protocol.js';
import type {ConnectionFacts} from '../../../src/lib/router/mesh/status.js';

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

  it('periodic gossip carries our own entry alone; a new neighbour gets them all', () => {
    const gossiper = new MtuGossiper(() => {});
    gossiper.onGossip(message([['aa:00:00:00:00:01', 8950, 5], ['aa:00:00:00:00:02', 1450, 7]]));
    assert.equal(gossiper.periodic(), undefined);
    gossiper.set('us', 1450);
    assert.deepEqual(JSON.parse(gossiper.periodic()!.encode()[0]!.toString()).map((row: unknown[]) => row[0]), ['us']);
    assert.deepEqual(JSON.parse(gossiper.gossip()!.encode()[0]!.toString()).map((row: unknown[]) => row[0]), ['aa:00:00:00:00:01', 'aa:00:00:00:00:02', 'us']);
  });

  it('refuses a malformed message or an MTU out of range (the connection it came on is closed)', () => {
    const gossiper = new MtuGossiper(() => {});
    for (const bad of [Buffer.from('{'), message([['p', 100, 1]]), message([['p', 1500.5, 1]]), message([[1, 1500, 1]]), Buffer.from('{"a":1}')]) {
      assert.throws(() => gossiper.onGossip(bad), ProtocolError);
    }
  });
});

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

const connection = (ip: string): ConnectionFacts => ({peer: `peer-${ip}`, nickName: ip, address: `${ip}:6783`, ip, port: 6783, outbound: true, established: true, encrypted: false, trusted: false});

/** A mesh of the connections the test gives, whose gossip goes nowhere. */
function fakeMesh(connections: ConnectionFacts[]): MtuMesh {
  const noGossip = {gossipUnicast: () => {}, gossipBroadcast: () => {}, gossipNeighbourSubset: () => {}};
  return Object.assign(new EventEmitter<MeshEvents>(), {ourName: 'us', connections: () => connections, isKnownPeer: () => true, newGossip: () => noGossip});
}

describe('AutoMtu: the links it looks up', () => {
  it('one measurement at a time: a change during a slow lookup makes one more, of the peers not read yet', async () => {
    const connections = [connection('10.0.0.2')];
    const mesh = fakeMesh(connections);
    const asked: string[][] = [];
    const answers: ((found: Map<string, RouteMtu>) => void)[] = [];
    const applied: number[] = [];
    const auto = new AutoMtu(mesh, {
      initial: 1376,
      sleeved: () => false,
      apply: mtu => Promise.resolve(void applied.push(mtu)),
      log: createLogger('error'),
      routeMtus: dsts => {
        asked.push([...dsts]);
        return new Promise(resolve => answers.push(resolve));
      },
    });
    auto.start();
    mesh.emit('connectionEstablished', connections[0]!);
    await sleep(300);
    assert.deepEqual(asked, [['10.0.0.2']]);
    // A second peer while the first lookup hangs, past the pacing's gap: nothing is looked up twice.
    connections.push(connection('10.0.0.3'));
    mesh.emit('connectionEstablished', connections[1]!);
    await sleep(1300);
    assert.deepEqual(asked, [['10.0.0.2']]);
    // The second measurement, within the gap after the pacing's last run.
    answers[0]!(new Map([['10.0.0.2', {dev: 'eth0', mtu: 9000}]]));
    await sleep(1100);
    assert.deepEqual(asked, [['10.0.0.2'], ['10.0.0.3']]);
    answers[1]!(new Map([['10.0.0.3', {dev: 'eth0', mtu: 1500}]]));
    await sleep(50);
    assert.equal(auto.mtu, 1450);
    assert.deepEqual(applied, [8950, 1450]);
    await auto.stop();
  });
});
