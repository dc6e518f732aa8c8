import assert from 'node:assert/strict';
import {decodeSpan, decodeState, encodeSpan, encodeState, type GossipState, IpamMessageError} from '../../../../src/lib/router/ipam/messages.js';

const A = 'aa:00:00:00:00:01';

describe('router/ipam/messages', () => {
  it('round-trips gossip state and spans', () => {
    const state: GossipState = {
      nicknames: {[A]: 'host1'},
      ring: {start: 10, end: 266, seeds: [A], tokens: [{start: 10, peer: A, version: 3, free: 250}]},
      paxos: [{node: {name: A, uid: '18446744073709551615'}, claims: {promise: {round: 1, proposer: {name: A, uid: '7'}}, accepted: {round: 0, proposer: {name: '', uid: '0'}}, value: [], origin: {round: 0, proposer: {name: '', uid: '0'}}}}],
    };
    assert.deepEqual(decodeState(encodeState(state)), state);
    assert.deepEqual(decodeSpan(encodeSpan({start: 1, end: 2})), {start: 1, end: 2});
  });

  it('refuses what IPAM never sends, naming the fault', () => {
    const refused = (text: string, fault: string) => assert.throws(() => decodeState(Buffer.from(text)), (e: Error) => e instanceof IpamMessageError && e.message === `malformed IPAM message: ${fault}`);
    refused('{', 'not JSON');
    refused('[]', 'state is not an object');
    refused('{"nicknames":{"host":"x"}}', 'nickname key is not a peer name');
    refused(`{"nicknames":{},"ring":{"start":0,"end":16,"seeds":[],"tokens":[[0,"${A}",-1,16]]}}`, 'version is not a count');
    refused(`{"nicknames":{},"ring":{"start":0,"end":16,"seeds":[],"tokens":[[0.5,"${A}",1,16]]}}`, 'token is not an address or count');
    refused('{"nicknames":{},"paxos":[{"node":{"name":"x","uid":"1"}}]}', 'node name is not a peer name');
    assert.throws(() => decodeSpan(Buffer.from('[5,5]')), {message: 'malformed IPAM message: empty span'});
  });
});
