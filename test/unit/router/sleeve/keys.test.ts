import assert from 'node:assert/strict';
import {randomBytes} from 'node:crypto';
import {checkKeys, EPOCH_BITS, epochKey, epochOf, sessionId} from '../../../../src/lib/router/dataplane/sleeve/keys.js';
import {deriveSession, ephemeralKeyPair, FrameOpener, passwordKey} from '../../../../src/lib/router/mesh/crypto.js';

/** Both ends' data-plane keys, as the mesh handshake derives them. */
async function pair(passwordA = 'secret', passwordB = passwordA) {
  const [a, b] = [ephemeralKeyPair(), ephemeralKeyPair()];
  const transcript = Buffer.from('headers and hellos, initiator first');
  const initiator = deriveSession({ours: a, theirPublicKey: b.publicKey, passwordKey: await passwordKey(passwordA), transcript, role: 'initiator'});
  const responder = deriveSession({ours: b, theirPublicKey: a.publicKey, passwordKey: await passwordKey(passwordB), transcript, role: 'responder'});
  return {initiator, responder};
}

describe('sleeve keys', () => {
  it('come from the mesh handshake: what one end sends with, the other receives with', async () => {
    const {initiator, responder} = await pair();
    assert.deepEqual(initiator.dataPlaneKeys.send, responder.dataPlaneKeys.receive);
    assert.deepEqual(initiator.dataPlaneKeys.receive, responder.dataPlaneKeys.send);
    assert.notDeepEqual(initiator.dataPlaneKeys.send, initiator.dataPlaneKeys.receive);
    checkKeys(initiator.dataPlaneKeys);
  });

  it('are fresh for every handshake, and differ with another password', async () => {
    const [one, two] = [await pair(), await pair()];
    assert.notDeepEqual(one.initiator.dataPlaneKeys.send, two.initiator.dataPlaneKeys.send);
    const {initiator, responder} = await pair('secret', 'other');
    assert.notDeepEqual(initiator.dataPlaneKeys.send, responder.dataPlaneKeys.receive);
  });

  it('are not the control connection’s: a frame sealed for the mesh does not open with them', async () => {
    const {initiator} = await pair();
    const body = initiator.sealer.seal(Buffer.from('control')).subarray(4);
    for (const key of [initiator.dataPlaneKeys.send, initiator.dataPlaneKeys.receive]) assert.throws(() => new FrameOpener(key).open(body), /fails authentication/);
  });

  it('derive one session id per direction secret, the same on both ends', () => {
    const secret = randomBytes(32);
    assert.equal(sessionId(secret), sessionId(Buffer.from(secret)));
    assert.notEqual(sessionId(secret), sessionId(randomBytes(32)));
    assert.ok(Number.isInteger(sessionId(secret)) && sessionId(secret) >= 0 && sessionId(secret) < 2 ** 32);
  });

  it('derive a new AES key every 2^20 packets', () => {
    const secret = randomBytes(32);
    assert.equal(EPOCH_BITS, 20);
    assert.deepEqual([epochOf(0), epochOf(2 ** 20 - 1), epochOf(2 ** 20), epochOf(2 ** 45)], [0, 0, 1, 2 ** 25]);
    const keys = [0, 1, 2].map(e => epochKey(secret, e).toString('hex'));
    assert.equal(new Set(keys).size, 3);
    assert.deepEqual(epochKey(secret, 1), epochKey(Buffer.from(secret), 1));
    assert.notDeepEqual(epochKey(secret, 0), epochKey(randomBytes(32), 0));
    assert.equal(epochKey(secret, 0).length, 32);
  });

  it('are checked before use', () => {
    const send = randomBytes(32);
    assert.throws(() => checkKeys({send, receive: randomBytes(16)}), /"receive" must be 32 bytes, not 16/);
    assert.throws(() => checkKeys({send, receive: Buffer.from(send)}), /differ per direction/);
    assert.throws(() => checkKeys({send: 'x' as unknown as Buffer, receive: send}), /must be a Buffer/);
  });
});
