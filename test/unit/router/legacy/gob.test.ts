import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import {openBolt} from '../../../../src/lib/router/legacy/bolt.js';
import {decodeGob, GobDecoder, GobError} from '../../../../src/lib/router/legacy/gob.js';
import {capturedHandshakes, legacyFixture} from '../../../helpers/legacy.js';

/** One message: its length, then the bytes. */
const message = (...bytes: number[]) => Buffer.from([bytes.length, ...bytes]);

describe('router/legacy/gob (Go encoding/gob, as weave 2.8.1 wrote it)', () => {
  const top = () => openBolt(readFileSync(legacyFixture('weavedata.db'))).bucket('top')!;

  it('decodes the basic types: signed and unsigned integers, floats, strings, booleans', () => {
    // Type ids 2 (int), 3 (uint), 4 (float), 6 (string), 1 (bool) are sent doubled (signed), then delta 0.
    assert.equal(decodeGob(message(0x04, 0x00, 0x01)), -1n);
    assert.equal(decodeGob(message(0x04, 0x00, 0xfe, 0x01, 0x00)), 128n);
    assert.equal(decodeGob(message(0x06, 0x00, 0xfa, 0x0e, 0x00, 0x00, 0x00, 0x00, 0x01)), 0x0e0000000001n);
    // 1.5: the float's bytes reversed, so that the exponent comes last and zeros drop.
    assert.equal(decodeGob(message(0x08, 0x00, 0xfe, 0xf8, 0x3f)), 1.5);
    assert.equal(decodeGob(message(0x0c, 0x00, 0x02, 0x68, 0x69)), 'hi');
    assert.equal(decodeGob(message(0x02, 0x00, 0x01)), true);
  });

  it('decodes the struct, slice and map types weave 2.8.1 defined in its state file', () => {
    const ring = decodeGob(top().get('ring')!);
    assert.deepEqual(ring, {
      Start: 0x0a200000n,
      End: 0x0a300000n,
      Peer: 0x0e0000000001n,
      Entries: [{Token: 0x0a200000n, Peer: 0x0e0000000001n, Version: 5n, Free: 1048571n}],
      Seeds: [0x0e0000000001n],
    });
    const owned = decodeGob(top().get('ownedAddresses')!) as Map<string, unknown>;
    assert.deepEqual([...owned.keys()].sort(), ['c1', 'c2', 'c3', 'c4', 'c5']);
    assert.deepEqual(owned.get('c4'), {Cidrs: [{Addr: 0x0a280001n, PrefixLen: 24n}]}, 'IsContainer false: left out, as gob leaves out zero fields');
    assert.deepEqual(decodeGob(top().get('directPeers')!), []);
  });

  it("decodes the handshake fields of both captured original routers (a map[string]string)", () => {
    const {listener, dialer} = capturedHandshakes('mesh-nopassword.pcap');
    // After the 7-byte header, the flag 0 and the 4-byte length.
    const fields = decodeGob(listener.subarray(12)) as Map<string, string>;
    assert.equal(fields.get('Name'), '0e:00:00:00:00:0a');
    assert.equal(fields.get('NickName'), 'fxa');
    assert.equal(fields.get('PeerNameFlavour'), 'mac');
    assert.equal((decodeGob(dialer.subarray(12)) as Map<string, string>).get('NickName'), 'fxb');
  });

  it('keeps the types of a stream for its later values', () => {
    const ring = top().get('ring')!;
    const decoder = new GobDecoder(Buffer.concat([ring, ring.subarray(ring.indexOf(Buffer.from([0x38, 0xff, 0x82])))]));
    const first = decoder.next();
    assert.deepEqual(decoder.next(), first, 'the second value uses the types the first one defined');
    assert.equal(decoder.more, false);
  });

  it('refuses what is not a whole gob stream, saying why', () => {
    const ring = top().get('ring')!;
    const refuses = (bytes: Buffer, reason: RegExp) => assert.throws(() => decodeGob(bytes), (e: Error) => e instanceof GobError && reason.test(e.message));
    refuses(ring.subarray(0, ring.length - 3), /count of \d+ with \d+ bytes left/);
    refuses(Buffer.alloc(0), /unexpected end of data/);
    refuses(message(0xff, 0x82, 0x00), /type id 65 used before it was defined/);
    refuses(message(0x10, 0x00, 0x00), /interface values are not supported/);
    refuses(message(0x04, 0x00, 0xf7, 1, 2, 3, 4, 5, 6, 7, 8, 9), /unsigned integer of 9 bytes/);
    refuses(message(0x04, 0x01, 0x01), /without its leading zero/);
    refuses(Buffer.concat([message(0x04, 0x00, 0x01), Buffer.of(0)]), /bytes left over/);
    refuses(message(0x0c, 0x00, 0x7f, 0x41), /count of 127 with 1 bytes left/);
    const badField = Buffer.from(ring);
    badField[ring.indexOf(Buffer.from([0x38, 0xff, 0x82])) + 3] = 6;
    refuses(badField, /a field past the 5 of Ring/);
  });
});
