import {crc32} from 'node:zlib';

/**
 * Records on disk: a little-endian u32 length, a u32 CRC-32 of the payload, then the payload
 * (JSON). A record cut short by a crash, or overwritten by stray bytes, fails the length or the
 * checksum, and reading stops there.
 */
const HEADER = 8;

export function encodeFrame(value: unknown): Buffer {
  const payload = Buffer.from(JSON.stringify(value));
  const frame = Buffer.allocUnsafe(HEADER + payload.length);
  frame.writeUInt32LE(payload.length, 0);
  frame.writeUInt32LE(crc32(payload), 4);
  payload.copy(frame, HEADER);
  return frame;
}

export interface Decoded {
  values: unknown[];
  /** Offset just past the last whole record. */
  end: number;
  /** Whether anything but zeros follows `end`: the remains of a write that never completed. */
  torn: boolean;
}

/** Reads records from the start of `buf` until zeros (preallocated space) or a damaged record. */
export function decodeFrames(buf: Buffer): Decoded {
  const values: unknown[] = [];
  let offset = 0;
  while (offset + HEADER <= buf.length) {
    const length = buf.readUInt32LE(offset);
    if (length === 0 || offset + HEADER + length > buf.length) break;
    const payload = buf.subarray(offset + HEADER, offset + HEADER + length);
    if (crc32(payload) !== buf.readUInt32LE(offset + 4)) break;
    try {
      values.push(JSON.parse(payload.toString()));
    } catch {
      break;
    }
    offset += HEADER + length;
  }
  return {values, end: offset, torn: !allZero(buf.subarray(offset))};
}

const ZEROS = Buffer.alloc(64 << 10);

/** Compared a chunk at a time: a preallocated log is megabytes of zeros. */
function allZero(buf: Buffer): boolean {
  for (let at = 0; at < buf.length; at += ZEROS.length) {
    const chunk = buf.subarray(at, at + ZEROS.length);
    if (!chunk.equals(ZEROS.subarray(0, chunk.length))) return false;
  }
  return true;
}
