import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import {BoltError, openBolt} from '../../../../src/lib/router/legacy/bolt.js';
import {decodeGob} from '../../../../src/lib/router/legacy/gob.js';
import {legacyFixture} from '../../../helpers/legacy.js';

const PAGE = 4096;

describe('router/legacy/bolt (BoltDB files, read-only)', () => {
  const fixture = () => Buffer.from(readFileSync(legacyFixture('weavedata.db')));
  const ringVersion = (file: Buffer) => (decodeGob(openBolt(file).bucket('top')!.get('ring')!) as {Entries: {Version: bigint}[]}).Entries[0]!.Version;

  it("reads weave 2.8.1's file: the top bucket (inline in the root page) and its keys", () => {
    const root = openBolt(fixture());
    assert.deepEqual(root.keys(), ['top']);
    const top = root.bucket('top')!;
    assert.deepEqual(top.keys(), ['directPeers', 'ownedAddresses', 'peername', 'ring', 'version']);
    assert.deepEqual([...top.get('version')!], [1, 0]);
    assert.equal(top.get('top'), undefined);
    assert.equal(root.get('top'), undefined, 'a bucket is not a value');
    assert.equal(root.bucket('nothing'), undefined);
  });

  it('reads the newest committed transaction, and the older one when the newer meta page is damaged', () => {
    // Meta page 1 (txid 0x17) names root page 2, meta page 0 (txid 0x16) root page 4: the ring before the last change.
    assert.equal(ringVersion(fixture()), 5n);
    const torn = fixture();
    torn[PAGE + 16 + 48] ^= 0xff;
    assert.equal(ringVersion(torn), 4n, 'a meta page that fails its checksum is skipped, as bolt does');
  });

  it('refuses a file that is not BoltDB, or damaged, saying what is wrong', () => {
    const refuses = (file: Buffer, reason: RegExp) => assert.throws(() => openBolt(file), (e: Error) => e instanceof BoltError && reason.test(e.message));
    refuses(Buffer.from('{"not": "bolt"}'), /too short/);
    refuses(Buffer.alloc(2 * PAGE, 0x41), /no meta page/);
    const noMagic = fixture();
    noMagic.writeUInt32LE(0x12345678, 16);
    noMagic.writeUInt32LE(0x12345678, PAGE + 16);
    refuses(noMagic, /not a BoltDB file \(no magic number\)/);
    const bothTorn = fixture();
    bothTorn[16 + 48] ^= 1;
    bothTorn[PAGE + 16 + 48] ^= 1;
    refuses(bothTorn, /fails its checksum/);
    refuses(fixture().subarray(0, 2 * PAGE), /page 2, outside the file/);
    const moved = fixture();
    moved.writeBigUInt64LE(7n, 2 * PAGE);
    refuses(moved, /page 2 says it is page 7/);
    const crowded = fixture();
    crowded.writeUInt16LE(300, 2 * PAGE + 10);
    refuses(crowded, /300 elements runs past its end/);
    const looping = fixture();
    looping.writeUInt16LE(0x01, 2 * PAGE + 8);
    looping.writeBigUInt64LE(2n, 2 * PAGE + 16 + 8);
    refuses(looping, /too deep/);
  });
});
