import assert from 'node:assert/strict';
import {randomBytes} from 'node:crypto';
import {closeSync, mkdtempSync, openSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {loadTap} from '../../../../src/lib/router/dataplane/sleeve/native.js';
import {HEADER_BYTES, TAG_BYTES, VNET_HDR_BYTES} from '../../../../src/lib/router/dataplane/sleeve/packet.js';

const addon = loadTap();
const MSS = 1000;
const TCP_HEADER = 32; // with the timestamp option, as Linux sends
const HEADERS = 14 + 20 + TCP_HEADER;
const ACK = 0x10;
const PSH = 0x08;

function sum16(bytes: Uint8Array, sum = 0): number {
  for (let i = 0; i + 1 < bytes.length; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  if (bytes.length % 2) sum += bytes[bytes.length - 1]! << 8;
  return sum;
}

function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/** The pseudo-header sum a partial TCP checksum (NEEDS_CSUM) holds. */
function pseudo(ip: Buffer, tcpLength: number): number {
  return fold(sum16(ip.subarray(12, 20)) + 6 + tcpLength);
}

/**
 * A TCP super-frame as the TAP hands it over with offloads: the virtio-net header (NEEDS_CSUM,
 * GSO TCPV4, gso_size MSS), Ethernet, IPv4 (DF, a valid checksum), TCP with a timestamp and a
 * partial checksum.
 */
function superFrame(payload: Buffer, seq: number, flags: number): Buffer {
  const frame = Buffer.alloc(VNET_HDR_BYTES + HEADERS + payload.length);
  frame.writeUInt8(1, 0); // NEEDS_CSUM
  frame.writeUInt8(1, 1); // GSO_TCPV4
  frame.writeUInt16LE(HEADERS, 2);
  frame.writeUInt16LE(MSS, 4);
  frame.writeUInt16LE(34, 6);
  frame.writeUInt16LE(16, 8);
  const eth = frame.subarray(VNET_HDR_BYTES);
  Buffer.from('0200000000020200000000010800', 'hex').copy(eth);
  const ip = eth.subarray(14);
  Buffer.from('450000000000400040060000', 'hex').copy(ip);
  ip.writeUInt16BE(20 + TCP_HEADER + payload.length, 2);
  ip.writeUInt16BE(0xfffe, 4); // the ids wrap too
  Buffer.from([10, 44, 0, 1, 10, 44, 0, 2]).copy(ip, 12);
  ip.writeUInt16BE(~fold(sum16(ip.subarray(0, 20))) & 0xffff, 10);
  const tcp = ip.subarray(20);
  tcp.writeUInt16BE(40000, 0);
  tcp.writeUInt16BE(5001, 2);
  tcp.writeUInt32BE(seq, 4);
  tcp.writeUInt32BE(0x01020304, 8);
  tcp.writeUInt8((TCP_HEADER / 4) << 4, 12);
  tcp.writeUInt8(flags, 13);
  tcp.writeUInt16BE(502, 14);
  Buffer.from('0101080a0000000100000002', 'hex').copy(tcp, 20);
  tcp.writeUInt16BE(pseudo(ip, TCP_HEADER + payload.length), 16);
  payload.copy(tcp, TCP_HEADER);
  return frame;
}

/** segment(): the pieces' plaintexts (between the room for header and tag). */
function cut(frame: Buffer): Buffer[] {
  const out = Buffer.alloc(256 * 1024);
  const offsets = new Int32Array(256);
  const lengths = new Int32Array(256);
  const count = addon.segment(frame, out, offsets, lengths);
  assert.ok(count > 0, `segment() cut it (${count})`);
  return Array.from({length: count}, (_, i) => out.subarray(offsets[i]! + HEADER_BYTES, offsets[i]! + lengths[i]! - TAG_BYTES));
}

/** write() with coalescing into a file: the frames written, split by their IP lengths. */
function written(frames: Buffer[], dir: string): Buffer[] {
  const file = join(dir, `tap-${randomBytes(4).toString('hex')}`);
  const fd = openSync(file, 'w');
  const buffer = Buffer.concat(frames);
  const offsets = Int32Array.from(frames.map((_, i) => frames.slice(0, i).reduce((n, f) => n + f.length, 0)));
  const lengths = Int32Array.from(frames.map(f => f.length));
  try {
    assert.equal(addon.write(fd, buffer, offsets, lengths, frames.length, true), frames.length, 'the "TAP" took every frame');
  } finally {
    closeSync(fd);
  }
  const bytes = readFileSync(file);
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; ) {
    const length = VNET_HDR_BYTES + 14 + bytes.readUInt16BE(at + VNET_HDR_BYTES + 16);
    out.push(bytes.subarray(at, at + length));
    at += length;
  }
  return out;
}

describe('sleeve segmentation (the addon, as GSO and GRO)', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'weave-gso-'))));
  after(() => rmSync(dir, {recursive: true, force: true}));

  it('cuts a TCP super-frame by gso_size, each piece with its own IP id, length, checksum, sequence number and flags', () => {
    const payload = randomBytes(3 * MSS + 500);
    const seq = 2 ** 32 - 1500; // the sequence numbers wrap inside the super-frame
    const pieces = cut(superFrame(payload, seq, ACK | PSH));
    assert.equal(pieces.length, 4);
    for (const [i, piece] of pieces.entries()) {
      const size = i < 3 ? MSS : 500;
      assert.equal(piece.length, VNET_HDR_BYTES + HEADERS + size);
      assert.deepEqual([piece[0], piece[1], piece.readUInt16LE(6), piece.readUInt16LE(8)], [1, 0, 34, 16], 'NEEDS_CSUM, no GSO, the checksum at TCP + 16');
      const ip = piece.subarray(VNET_HDR_BYTES + 14);
      const tcp = ip.subarray(20);
      assert.equal(ip.readUInt16BE(2), 20 + TCP_HEADER + size, 'IP length');
      assert.equal(ip.readUInt16BE(4), (0xfffe + i) & 0xffff, 'IP id');
      assert.equal(fold(sum16(ip.subarray(0, 20))), 0xffff, 'IP checksum');
      assert.equal(tcp.readUInt32BE(4), (seq + i * MSS) % 2 ** 32, 'sequence number');
      assert.equal(tcp[13], i === 3 ? ACK | PSH : ACK, 'PSH on the last piece only');
      assert.equal(tcp.readUInt16BE(16), pseudo(ip, TCP_HEADER + size), 'the pseudo-header sum, for the receiving kernel to finish');
      assert.deepEqual(tcp.subarray(TCP_HEADER), payload.subarray(i * MSS, i * MSS + size));
    }
  });

  it('cuts a UDP super-frame (USO) into datagrams of gso_size, each with its own UDP and IP lengths', () => {
    const payload = randomBytes(2 * MSS + 10);
    const frame = superFrame(Buffer.alloc(0), 0, 0).subarray(0, VNET_HDR_BYTES + 34);
    const udp = Buffer.concat([frame, Buffer.alloc(8), payload]);
    udp[1] = 5; // GSO_UDP_L4
    udp.writeUInt16LE(34 + 8, 2);
    udp.writeUInt16LE(6, 8); // the checksum at UDP + 6
    const ip = udp.subarray(VNET_HDR_BYTES + 14);
    ip[9] = 17;
    ip.writeUInt16BE(20 + 8 + payload.length, 2);
    ip.writeUInt16BE(40000, 20);
    ip.writeUInt16BE(443, 22);
    const pieces = cut(udp);
    assert.equal(pieces.length, 3);
    for (const [i, piece] of pieces.entries()) {
      const size = i < 2 ? MSS : 10;
      const pieceIp = piece.subarray(VNET_HDR_BYTES + 14);
      assert.deepEqual([piece[1], piece.readUInt16LE(8)], [0, 6], 'no GSO, the checksum at UDP + 6');
      assert.equal(pieceIp.readUInt16BE(2), 20 + 8 + size, 'IP length');
      assert.equal(fold(sum16(pieceIp.subarray(0, 20))), 0xffff, 'IP checksum');
      assert.equal(pieceIp.readUInt16BE(20 + 4), 8 + size, 'UDP length');
      assert.equal(pieceIp.readUInt16BE(20 + 6), fold(sum16(pieceIp.subarray(12, 20)) + 17 + 8 + size), 'the pseudo-header sum');
      assert.deepEqual(pieceIp.subarray(28), payload.subarray(i * MSS, i * MSS + size));
    }
  });

  it('passes a frame that is not a super-frame whole, and refuses a kind of super-frame it cannot cut', () => {
    const plain = superFrame(randomBytes(100), 1, ACK);
    plain[0] = 0;
    plain[1] = 0; // GSO_NONE
    assert.deepEqual(cut(plain), [plain]);
    const udp = superFrame(randomBytes(3000), 1, ACK);
    udp[1] = 3; // GSO_UDP (UFO, IP fragments): never asked of the TAP
    assert.equal(addon.segment(udp, Buffer.alloc(65536), new Int32Array(64), new Int32Array(64)), -1);
    assert.equal(addon.segment(superFrame(randomBytes(3000), 1, ACK), Buffer.alloc(1000), new Int32Array(64), new Int32Array(64)), -2, 'no room');
  });

  it('joins the pieces back into the very super-frame they came from', () => {
    const frame = superFrame(randomBytes(40 * MSS + 123), 12345, ACK | PSH);
    assert.deepEqual(written(cut(frame), dir), [frame]);
  });

  it('joins only what follows on: a gap in the sequence, another stream or a pushed piece ends a super-frame', () => {
    const [a0, a1, a2, a3] = cut(superFrame(randomBytes(4 * MSS), 1000, ACK | PSH));
    const other = cut(superFrame(randomBytes(2 * MSS), 1000, ACK)).map(p => {
      const moved = Buffer.from(p);
      moved.writeUInt16BE(40001, VNET_HDR_BYTES + 34); // another source port
      return moved;
    });
    const frames = written([a0!, a1!, other[0]!, other[1]!, a3!, a2!], dir);
    const shape = frames.map(f => ({gso: f[1], payload: f.readUInt16BE(VNET_HDR_BYTES + 16) - 20 - TCP_HEADER, port: f.readUInt16BE(VNET_HDR_BYTES + 34)}));
    assert.deepEqual(shape, [
      {gso: 1, payload: 2 * MSS, port: 40000},
      {gso: 1, payload: 2 * MSS, port: 40001},
      {gso: 0, payload: MSS, port: 40000},
      {gso: 0, payload: MSS, port: 40000},
    ]);
    assert.equal(frames[0]!.readUInt16LE(4), MSS, 'gso_size');
  });
});
