import assert from 'node:assert/strict';
import {deriveSession, ephemeralKeyPair, passwordKey, type Session} from '../../../../src/lib/router/mesh/crypto.js';

/** Both ends of one session, as two routers would derive it. */
async function sessions(passwordA = 'secret', passwordB = passwordA): Promise<{initiator: Session; responder: Session}> {
  const a = ephemeralKeyPair();
  const b = ephemeralKeyPair();
  const transcript = Buffer.from('headers and hellos, initiator first');
  return {
    initiator: deriveSession({ours: a, theirPublicKey: b.publicKey, passwordKey: await passwordKey(passwordA), transcript, role: 'initiator'}),
    responder: deriveSession({ours: b, theirPublicKey: a.publicKey, passwordKey: await passwordKey(passwordB), transcript, role: 'responder'}),
  };
}

/** The body of a sealed frame, as the reader hands it over (after the length prefix). */
const body = (frame: Buffer) => frame.subarray(4);

describe('mesh crypto', () => {
  it('stretches a password the same way everywhere, and differently for another password', async () => {
    assert.deepEqual(await passwordKey('secret'), await passwordKey('secret'));
    assert.notDeepEqual(await passwordKey('secret'), await passwordKey('Secret'));
    assert.equal((await passwordKey('')).length, 32);
  });

  it('gives both ends proofs the other accepts when the passwords match', async () => {
    const {initiator, responder} = await sessions();
    assert.ok(responder.verify('initiator', initiator.proof('initiator')));
    assert.ok(initiator.verify('responder', responder.proof('responder')));
    // A proof is bound to its role: one end's proof reflected back proves nothing.
    assert.ok(!initiator.verify('responder', initiator.proof('initiator')));
  });

  it('rejects the proof of a peer with another password', async () => {
    const {initiator, responder} = await sessions('secret', 'other');
    assert.ok(!responder.verify('initiator', initiator.proof('initiator')));
    assert.ok(!initiator.verify('responder', responder.proof('responder')));
    assert.ok(!responder.verify('initiator', Buffer.alloc(3)));
  });

  it('binds the keys to the transcript: a tampered handshake yields proofs that fail', async () => {
    const a = ephemeralKeyPair();
    const b = ephemeralKeyPair();
    const key = await passwordKey('secret');
    const initiator = deriveSession({ours: a, theirPublicKey: b.publicKey, passwordKey: key, transcript: Buffer.from('weave\x01\x02'), role: 'initiator'});
    const responder = deriveSession({ours: b, theirPublicKey: a.publicKey, passwordKey: key, transcript: Buffer.from('weave\x01\x01'), role: 'responder'});
    assert.ok(!responder.verify('initiator', initiator.proof('initiator')));
  });

  it('seals frames the other end opens, in order, in both directions', async () => {
    const {initiator, responder} = await sessions();
    for (const text of ['first', '', 'x'.repeat(100_000)]) {
      assert.equal(responder.opener.open(body(initiator.sealer.seal(Buffer.from(text)))).toString(), text);
      assert.equal(initiator.opener.open(body(responder.sealer.seal(Buffer.from(text)))).toString(), text);
    }
  });

  it('hides the plaintext', async () => {
    const {initiator} = await sessions();
    const frame = initiator.sealer.seal(Buffer.from('aa:90:00:00:00:01(host1) 10.32.0.0/12'));
    assert.ok(!frame.includes('host1'));
    assert.ok(!frame.includes('10.32.0.0'));
  });

  it('rejects a frame altered anywhere: ciphertext, tag or length', async () => {
    const {initiator, responder} = await sessions();
    const frame = body(initiator.sealer.seal(Buffer.from('topology update')));
    for (const at of [0, 5, frame.length - 1]) {
      const tampered = Buffer.from(frame);
      tampered[at]! ^= 0x01;
      assert.throws(() => responder.opener.open(tampered), /fails authentication/);
    }
    assert.throws(() => responder.opener.open(frame.subarray(0, frame.length - 1)), /fails authentication/);
    assert.throws(() => responder.opener.open(Buffer.alloc(5)), /too short/);
  });

  it('rejects a replayed frame, and frames out of order', async () => {
    const {initiator, responder} = await sessions();
    const first = body(initiator.sealer.seal(Buffer.from('one')));
    const second = body(initiator.sealer.seal(Buffer.from('two')));
    const third = body(initiator.sealer.seal(Buffer.from('three')));
    assert.equal(responder.opener.open(first).toString(), 'one');
    assert.throws(() => responder.opener.open(first), /fails authentication/);
    assert.throws(() => responder.opener.open(third), /fails authentication/);
    assert.equal(responder.opener.open(second).toString(), 'two');
  });

  it('rejects a frame sent back to its sender (each direction has its own key)', async () => {
    const {initiator} = await sessions();
    assert.throws(() => initiator.opener.open(body(initiator.sealer.seal(Buffer.from('echo')))), /fails authentication/);
  });

  it('refuses a degenerate public key that would make the secret guessable', async () => {
    const key = await passwordKey('secret');
    assert.throws(
      () => deriveSession({ours: ephemeralKeyPair(), theirPublicKey: Buffer.alloc(32), passwordKey: key, transcript: Buffer.alloc(0), role: 'initiator'}),
      /degenerate public key/,
    );
    assert.throws(() => deriveSession({ours: ephemeralKeyPair(), theirPublicKey: Buffer.alloc(31), passwordKey: key, transcript: Buffer.alloc(0), role: 'initiator'}), /malformed public key/);
  });
});
