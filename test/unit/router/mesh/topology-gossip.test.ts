import assert from 'node:assert/strict';
import type {GossipData} from '../../../../src/lib/router/mesh/gossip.js';
import {TopologyData, TopologyGossiper} from '../../../../src/lib/router/mesh/topology-gossip.js';
import {Topology} from '../../../../src/lib/router/mesh/topology.js';

/** Peer names aa:00:00:00:xx:yy for i = 0, 1, ... */
const nameOf = (i: number) => `aa:00:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;

/** What one peer sent another: unicasts, and records as gossip. */
interface Sent {
  from: string;
  to: string;
  kind: 'unicast' | 'records';
  bytes: number;
}

/**
 * Peers 0..n-1 of a full mesh, each holding every record; two of them wired to each other
 * through their gossipers, everything sent between them logged.
 */
function fullMesh(n: number): {topologies: Topology[]; gossipers: Map<string, TopologyGossiper>; sent: Sent[]} {
  const topologies = Array.from({length: n}, (_, i) => new Topology({name: nameOf(i), nickName: `p${i}`, uid: BigInt(i + 1), shortId: i, hasShortId: true, port: 6783}));
  for (const t of topologies) {
    for (const other of topologies) if (other !== t) t.setLocalConnection(other.ourself.name, {address: '192.168.90.1:6783', outbound: true, established: true});
  }
  for (const t of topologies) for (const other of topologies) if (other !== t) t.applyUpdate(Buffer.concat(other.encode([other.ourself.name])));
  const sent: Sent[] = [];
  const gossipers = new Map<string, TopologyGossiper>();
  for (const t of topologies.slice(0, 2)) {
    const from = t.ourself.name;
    gossipers.set(
      from,
      new TopologyGossiper(t, () => {}, {
        unicast: (to, message) => {
          sent.push({from, to, kind: 'unicast', bytes: message.length});
          gossipers.get(to)!.onGossipUnicast(from, message);
        },
        send: (to, data: GossipData) => {
          for (const message of data.encode()) {
            sent.push({from, to, kind: 'records', bytes: message.length});
            gossipers.get(to)!.onGossip(message);
          }
        },
      }),
    );
  }
  return {topologies, gossipers, sent};
}

describe('topology gossip', () => {
  it('periodic gossip between peers that agree is one 17-byte digest, whatever the mesh size', () => {
    for (const n of [3, 100]) {
      const {gossipers, sent} = fullMesh(n);
      gossipers.get(nameOf(0))!.sendDigests([nameOf(1)]);
      assert.deepEqual(sent, [{from: nameOf(0), to: nameOf(1), kind: 'unicast', bytes: 17}]);
    }
  });

  it('peers that differ exchange ranks, then only the records each lacks, both ways', () => {
    const {topologies, gossipers, sent} = fullMesh(100);
    const [p0, p1] = topologies as [Topology, Topology];
    // Each misses a change of the other's: p0 dropped a connection, p1 met a new peer.
    p0.deleteLocalConnection(nameOf(50));
    p1.setLocalConnection(nameOf(50), {address: '192.168.90.51:6783', outbound: false, established: true});
    gossipers.get(nameOf(0))!.sendDigests([nameOf(1)]);
    assert.deepEqual(
      sent.map(s => `${s.from.slice(-1)}>${s.to.slice(-1)} ${s.kind}`),
      ['0>1 unicast', '1>0 unicast', '0>1 records', '0>1 unicast', '1>0 records'],
    );
    assert.deepEqual(p0.get(nameOf(1))!.version, p1.ourself.version);
    assert.deepEqual(p1.get(nameOf(0))!.version, p0.ourself.version);
    assert.ok(p0.digest().equals(p1.digest()));
    // The records sent are one peer's each (its ~99 connections), not the topology's 100.
    for (const s of sent.filter(s => s.kind === 'records')) assert.ok(s.bytes < 2_000, `${s.bytes} bytes`);
    sent.length = 0;
    gossipers.get(nameOf(1))!.sendDigests([nameOf(0)]);
    assert.equal(sent.length, 1);
  });

  it('passes records from a neighbour on only when they name peers it did not know', () => {
    const {topologies, gossipers} = fullMesh(3);
    const [p0, p1] = topologies as [Topology, Topology];
    // A newer version of a known record: applied, not passed on (its owner broadcasts it).
    p1.setLocalConnection(nameOf(2), {address: '192.168.90.3:6783', outbound: false, established: true});
    assert.equal(gossipers.get(nameOf(0))!.onGossip(Buffer.concat(p1.encode([nameOf(1)]))), undefined);
    assert.equal(p0.get(nameOf(1))!.version, p1.ourself.version);
    // A record naming a peer not known yet (another mesh joining): passed on.
    p1.setLocalConnection(nameOf(7), {address: '192.168.90.8:6783', outbound: false, established: true});
    const passed = gossipers.get(nameOf(0))!.onGossip(Buffer.concat(p1.encode([nameOf(1)])));
    assert.deepEqual([...(passed as TopologyData).names], [nameOf(1)]);
  });

  it('refuses a unicast it does not know', () => {
    const {gossipers} = fullMesh(2);
    assert.throws(() => gossipers.get(nameOf(0))!.onGossipUnicast(nameOf(1), Buffer.of(9)), /unexpected topology gossip unicast/);
  });
});
