import assert from 'node:assert/strict';
import {CandidateIndex} from '../../../../src/lib/router/mesh/candidates.js';
import type {PeerRecord} from '../../../../src/lib/router/mesh/topology.js';

const US = 'aa:00:00:00:00:01';
const B = 'aa:00:00:00:00:02';
const C = 'aa:00:00:00:00:03';
const D = 'aa:00:00:00:00:04';

function record(name: string, connections: [string, string, boolean][]): PeerRecord {
  return {name, nickName: '', uid: 1n, version: 1, shortId: 0, hasShortId: true, port: 6783, connections: new Map(connections.map(([to, address, outbound]) => [to, {address, outbound, established: true}]))};
}

const look = (index: CandidateIndex, peers: PeerRecord[]) => [...index.update(peers, US)].map(({candidate, count}) => `${candidate.other} ${candidate.address ?? candidate.ip} ×${count}`).sort();

describe('mesh discovery candidates', () => {
  it('each peer and address once, counted by the records that report it, following records replaced and gone', () => {
    const index = new CandidateIndex();
    const b = record(B, [[C, '192.168.90.3:6783', true], [D, '192.168.90.4:41000', false]]);
    const c = record(C, [[D, '192.168.90.4:40000', false]]);
    // Our own record is not a source of candidates.
    const us = record(US, [[B, '192.168.90.2:6783', true]]);
    assert.deepEqual(look(index, [us, b, c]), [`${C} 192.168.90.3:6783 ×1`, `${D} 192.168.90.4 ×2`]);
    // Looked at again unchanged: the same counts, not doubled.
    assert.deepEqual(look(index, [us, b, c]), [`${C} 192.168.90.3:6783 ×1`, `${D} 192.168.90.4 ×2`]);
    // C's record replaced by an update; B's gone.
    const c2 = {...c, connections: new Map([[B, {address: '192.168.90.2:6783', outbound: true, established: true}]])};
    assert.deepEqual(look(index, [us, c2]), [`${B} 192.168.90.2:6783 ×1`]);
    assert.deepEqual(look(index, [us]), []);
  });
});
