import assert from 'node:assert/strict';
import type {Socket} from 'node:net';
import {MAX_INTERVAL_MS} from '../../../../src/lib/router/mesh/backoff.js';
import {passwordKey} from '../../../../src/lib/router/mesh/crypto.js';
import {FrameReader} from '../../../../src/lib/router/mesh/framing.js';
import {handshake, type Intro} from '../../../../src/lib/router/mesh/handshake.js';
import {legacyHandshakeFields, LegacyPeerError, LegacyPeers, REMEMBERED_FOR_MS} from '../../../../src/lib/router/mesh/legacy-peer.js';
import {OUR_VERSIONS} from '../../../../src/lib/router/mesh/protocol.js';
import {ConnectionMaker} from '../../../../src/lib/router/mesh/targets.js';
import {resolvePeer} from '../../../../src/lib/router/mesh/address.js';
import {recordingLogger} from '../../../helpers/ipam.js';
import {capturedHandshakes} from '../../../helpers/legacy.js';
import {socketPair} from '../../../helpers/socket-pair.js';

const US: Intro = {name: 'aa:00:00:00:00:01', nickName: 'ours', uid: 11n, shortId: 1, connId: 101n, port: 6783, trusted: false};
const MIXED = 'mixed clusters with weave 2.8.1 are not supported yet (move every host over: see "Moving a 2.8.1 cluster" in the README)';

/** Our handshake on one end of a TCP connection, the original's captured bytes replayed from the other. */
async function againstReplay(replayed: Buffer, ourRole: 'initiator' | 'responder', password?: string): Promise<Error> {
  const pair = await socketPair();
  const [ours, theirs]: Socket[] = ourRole === 'initiator' ? [pair.client, pair.server] : [pair.server, pair.client];
  theirs.on('data', () => {});
  theirs.write(replayed);
  try {
    await handshake({
      socket: ours,
      reader: new FrameReader(ours),
      role: ourRole,
      versions: OUR_VERSIONS,
      ...(password ? {passwordKey: await passwordKey(password)} : {}),
      intro: US,
      timeoutMs: 5000,
    });
  } catch (error) {
    return error as Error;
  } finally {
    pair.close();
  }
  assert.fail('the handshake with a replay of weave 2.8.1 succeeded');
}

describe('mesh: a weave 2.8.1 peer is named, not misread', () => {
  const plain = capturedHandshakes('mesh-nopassword.pcap');
  const sealed = capturedHandshakes('mesh-password-fixture-secret.pcap');

  it('names a peer by its unencrypted handshake, whether it dialled us or we dialled it', async () => {
    const dialledUs = await againstReplay(plain.dialer, 'responder');
    assert.ok(dialledUs instanceof LegacyPeerError);
    assert.equal(dialledUs.message, `peer 0e:00:00:00:00:0b(fxb) speaks weave 2.8.1's protocol: ${MIXED}`);
    const weDialled = await againstReplay(plain.listener, 'initiator');
    assert.equal(weDialled.message, `peer 0e:00:00:00:00:0a(fxa) speaks weave 2.8.1's protocol: ${MIXED}`);
  });

  it('with a password, recognises its sealed handshake instead of blaming the password, both ways', async () => {
    for (const [replayed, role] of [[sealed.dialer, 'responder'], [sealed.listener, 'initiator']] as const) {
      const error = await againstReplay(replayed, role, 'fixture-secret');
      assert.ok(error instanceof LegacyPeerError, `${role}: ${error.message}`);
      assert.doesNotMatch(error.message, /password/i);
      assert.equal(error.message, `the peer speaks weave 2.8.1's protocol (its first message after the key exchange is sealed the original way, not a proof of ours): ${MIXED}`);
    }
  });

  it('reads only the shape of its handshake fields: other gob values and our own introductions are not taken for it', () => {
    assert.equal(legacyHandshakeFields(plain.listener.subarray(12))?.get('UID'), '521980622097327777');
    assert.equal(legacyHandshakeFields(Buffer.from([0x03, 0x0c, 0x00, 0x00])), undefined, 'an empty string');
    assert.equal(legacyHandshakeFields(Buffer.from('aa0000000001046f757273', 'hex')), undefined);
    assert.equal(legacyHandshakeFields(Buffer.alloc(0)), undefined);
  });

  it('warns once per address (both ways), lists peers that dialled us in status for a while, and forgets one that is replaced', () => {
    const {logger, lines} = recordingLogger();
    const clock = {now: 1_000_000};
    const peers = new LegacyPeers(logger, () => clock.now);
    const error = new LegacyPeerError(legacyHandshakeFields(plain.dialer.subarray(12)));
    peers.failed('192.168.91.2:43439', false, error);
    peers.failed('192.168.91.2:6783', true, error);
    peers.failed('192.168.91.2:43440', false, error);
    peers.failed('192.168.91.3:6783', true, new LegacyPeerError());
    peers.failed('192.168.91.4:6783', true, new Error('connect: connection refused'));
    assert.deepEqual(
      lines().filter(l => l.level === 'warning').map(l => l.msg),
      [error.message, `the peer speaks weave 2.8.1's protocol (its first message after the key exchange is sealed the original way, not a proof of ours): ${MIXED}`],
    );
    assert.deepEqual(peers.status(), [{address: '192.168.91.2:43440', outbound: false, state: 'failed', info: error.message, attrs: {}}], 'targets we dial show as failed targets already');
    peers.connected('192.168.91.2:6783');
    assert.deepEqual(peers.status(), []);
    peers.failed('192.168.91.2:43441', false, error);
    clock.now += REMEMBERED_FOR_MS + 1;
    assert.deepEqual(peers.status(), []);
  });

  it('retries a weave 2.8.1 target only at the longest interval', async () => {
    const now = 1_000_000;
    const maker = new ConnectionMaker({ourName: US.name, port: 6783, discovery: false, connections: () => [], peers: () => [], attempt: () => {}, discoveredChanged: () => {}, now: () => now, random: () => 0.5});
    try {
      maker.initiate([await resolvePeer('192.168.91.1')], false);
      await new Promise(resolve => setImmediate(resolve));
      maker.connectionTerminated('192.168.91.1:6783', true, new LegacyPeerError());
      const [failed] = maker.status();
      assert.equal(failed!.state, 'failed');
      assert.ok(failed!.info.includes(`, retry: ${new Date(now + MAX_INTERVAL_MS).toISOString().replace('T', ' ').slice(0, 23)} +0000 UTC`), failed!.info);
    } finally {
      maker.stop();
    }
  });
});
