import assert from 'node:assert/strict';
import {createCipheriv, randomBytes} from 'node:crypto';
import {epochKey, relaySecret, sessionId} from '../../../../src/lib/router/dataplane/sleeve/keys.js';
import {HEADER_BYTES, malformed, readCounter, readDestination, readHops, readOrigin, readSessionId, readType, TYPE_FRAME, TYPE_RELAYED, TYPE_TREE, writeHeader} from '../../../../src/lib/router/dataplane/sleeve/packet.js';
import {datagramFor, ReceiveSession, SendSession} from '../../../../src/lib/router/dataplane/sleeve/session.js';

/** A frame as read from the TAP: a virtio-net header, then an Ethernet frame. */
const frame = (text: string) => Buffer.concat([Buffer.alloc(10), Buffer.from('ffffffffffff020000000001' + '0800', 'hex'), Buffer.from(text)]);

/** What the sending worker sends for `plain`: sealed in place. */
function sealed(send: SendSession, plain: Buffer): Buffer {
  const datagram = datagramFor(plain);
  send.seal(datagram);
  return datagram;
}

/** Seals by hand, from the wire format alone: a known-answer check of what SendSession does. */
function sealByHand(secret: Buffer, counter: number, plain: Buffer): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  writeHeader(header, sessionId(secret), counter);
  const cipher = createCipheriv('aes-256-gcm', epochKey(secret, Math.floor(counter / 2 ** 20)), header.subarray(4));
  cipher.setAAD(header);
  return Buffer.concat([header, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
}

describe('sleeve sessions', () => {
  it('seal a frame the other end opens, under a header naming the session and counter', () => {
    const secret = randomBytes(32);
    const send = new SendSession(secret);
    const receive = new ReceiveSession(secret);
    const packet = sealed(send, frame('hello'));
    assert.ok(!malformed(packet));
    assert.equal(readSessionId(packet), receive.id);
    assert.equal(readCounter(packet), 0);
    assert.ok(!packet.includes('hello'), 'the frame is encrypted');
    assert.deepEqual(receive.open(packet), frame('hello'));
  });

  it('number packets from 0 without a gap: each nonce is used once', () => {
    const send = new SendSession(randomBytes(32));
    const counters = Array.from({length: 100}, () => readCounter(sealed(send, frame('x'))));
    assert.deepEqual(counters, Array.from({length: 100}, (_, i) => i));
    assert.equal(send.sent, 100);
  });

  it('match the wire format sealed by hand, in the first epoch and the next', () => {
    const secret = randomBytes(32);
    const sent = sealed(new SendSession(secret), frame('known'));
    assert.deepEqual(sent, sealByHand(secret, 0, frame('known')));
    const receive = new ReceiveSession(secret);
    assert.deepEqual(receive.open(sealByHand(secret, 2 ** 20 - 1, frame('last of epoch 0'))), frame('last of epoch 0'));
    assert.deepEqual(receive.open(sealByHand(secret, 2 ** 20, frame('first of epoch 1'))), frame('first of epoch 1'));
    // The next epoch's packets need the next epoch's key.
    const wrongEpoch = sealByHand(secret, 2 ** 20 + 1, frame('x'));
    const rekeyed = Buffer.from(wrongEpoch);
    const under0 = createCipheriv('aes-256-gcm', epochKey(secret, 0), rekeyed.subarray(4, HEADER_BYTES));
    under0.setAAD(rekeyed.subarray(0, HEADER_BYTES));
    const forged = Buffer.concat([rekeyed.subarray(0, HEADER_BYTES), under0.update(frame('x')), under0.final(), under0.getAuthTag()]);
    assert.equal(receive.open(forged), 'unauthenticated');
    assert.deepEqual(receive.open(wrongEpoch), frame('x'));
  });

  it('refuse a replay, and counters too far in the future to have a key yet', () => {
    const secret = randomBytes(32);
    const send = new SendSession(secret);
    const receive = new ReceiveSession(secret);
    const packets = [0, 1, 2].map(() => sealed(send, frame('p')));
    assert.ok(Buffer.isBuffer(receive.open(packets[2]!)));
    assert.ok(Buffer.isBuffer(receive.open(packets[0]!)), 'reordered is fine');
    assert.equal(receive.open(packets[2]!), 'replayed');
    assert.equal(receive.open(packets[0]!), 'replayed');
    assert.equal(receive.open(sealByHand(secret, 5 * 2 ** 20, frame('p'))), 'unauthenticated');
  });

  it('refuse altered packets without spending their counter', () => {
    const secret = randomBytes(32);
    const receive = new ReceiveSession(secret);
    const packet = sealed(new SendSession(secret), frame('payload'));
    for (const at of [1, 8, HEADER_BYTES + 3, packet.length - 1]) {
      const altered = Buffer.from(packet);
      altered[at] ^= 0x40;
      const result = receive.open(altered);
      assert.ok(result === 'unauthenticated' || (at === 1 && malformed(altered)), `byte ${at}: ${String(result)}`);
    }
    assert.deepEqual(receive.open(packet), frame('payload'), 'the genuine packet still opens');
  });

  it('do not open packets sealed with another key', () => {
    const send = new SendSession(randomBytes(32));
    const other = new ReceiveSession(randomBytes(32));
    assert.equal(other.open(sealed(send, frame('x'))), 'unauthenticated');
  });

  it('carry a relayed frame hop by hop: each hop opens it and seals it again in place for the next, origin and destination kept', () => {
    const [first, second] = [randomBytes(32), randomBytes(32)];
    const packet = datagramFor(frame('relayed'));
    new SendSession(first).seal(packet, TYPE_RELAYED, 3, 0x1234, 0xabcd);
    assert.ok(!malformed(packet));
    assert.deepEqual([readHops(packet), readOrigin(packet), readDestination(packet)], [3, 0x1234, 0xabcd]);
    assert.deepEqual(new ReceiveSession(first).open(packet), frame('relayed'));
    // The relay's own session for the next hop: a secret of its own, so its counters are its own.
    const relay = relaySecret(second);
    assert.notDeepEqual(relay, second);
    new SendSession(relay).seal(packet, TYPE_RELAYED, readHops(packet) - 1, readOrigin(packet), readDestination(packet));
    assert.ok(!packet.includes('relayed'), 'sealed again');
    assert.deepEqual([readHops(packet), readOrigin(packet), readDestination(packet)], [2, 0x1234, 0xabcd]);
    assert.equal(new ReceiveSession(second).open(Buffer.from(packet)), 'unauthenticated');
    assert.deepEqual(new ReceiveSession(relay).open(packet), frame('relayed'));
  });

  it('refuse a relayed or tree frame out of hops, a frame for the receiver or down a tree naming a destination, and unknown types', () => {
    const packet = datagramFor(frame('x'));
    writeHeader(packet, 1, 0, TYPE_RELAYED, 1, 2, 3);
    assert.ok(!malformed(packet));
    packet[1] = 0;
    assert.ok(malformed(packet));
    writeHeader(packet, 1, 0, TYPE_FRAME, 0, 0, 3);
    assert.ok(malformed(packet));
    writeHeader(packet, 1, 0, TYPE_TREE, 2, 7);
    assert.ok(!malformed(packet));
    packet[1] = 0;
    assert.ok(malformed(packet), 'a tree frame out of hops');
    writeHeader(packet, 1, 0, TYPE_TREE, 2, 7, 3);
    assert.ok(malformed(packet), 'a tree frame naming a destination');
    writeHeader(packet, 1, 0, 4, 2, 7);
    assert.ok(malformed(packet), 'type 4');
  });

  it('carry a broadcast down a tree: each hop opens it and seals a copy per child, the origin kept; a header changed on the way fails', () => {
    const [first, second, third] = [randomBytes(32), randomBytes(32), randomBytes(32)];
    const packet = datagramFor(frame('broadcast'));
    new SendSession(first).seal(packet, TYPE_TREE, 4, 0x1234);
    assert.deepEqual([readType(packet), readHops(packet), readOrigin(packet), readDestination(packet)], [TYPE_TREE, 4, 0x1234, 0]);
    const tampered = Buffer.from(packet);
    tampered[0] = TYPE_RELAYED;
    assert.equal(new ReceiveSession(first).open(tampered), 'unauthenticated', 'the type is authenticated');
    assert.deepEqual(new ReceiveSession(first).open(packet), frame('broadcast'));
    // One copy per child, each under that child's session; the frame opened stays for the TAP.
    const copies = [second, third].map(secret => {
      const copy = Buffer.from(packet);
      new SendSession(secret).seal(copy, TYPE_TREE, readHops(packet) - 1, readOrigin(packet));
      return copy;
    });
    assert.ok(packet.includes('broadcast'));
    for (const [i, secret] of [second, third].entries()) {
      assert.deepEqual([readHops(copies[i]!), readOrigin(copies[i]!)], [3, 0x1234]);
      assert.deepEqual(new ReceiveSession(secret).open(copies[i]!), frame('broadcast'));
    }
  });
});
