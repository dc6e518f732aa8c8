import {crc32} from 'node:zlib';

/**
 * Records on disk: a little-endian u32 length, a u32 CRC-32 of the payload, then the payload
 * (JSON, which never holds a zero byte). Every record is checked; reading stops at the first
 * one that is not whole, and what follows it says whether a crash or damage left it there.
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

/**
 * What follows the last whole record:
 * - `clean`: only zeros (preallocated space) or nothing;
 * - `torn`: the start of one record whose last bytes are still zeros, and nothing after it: a
 *   write that never completed, so never acknowledged;
 * - `damaged`: anything else (a record that is whole in length but fails its checksum, a length
 *   past the end, bytes after the zeros, a record that tears and whole records after it).
 */
export type Tail = 'clean' | 'torn' | 'damaged';

export interface Decoded {
  values: unknown[];
  /** Offset just past the last whole record: where reading stopped. */
  end: number;
  /** Offset just past the last byte that is not zero. */
  used: number;
  tail: Tail;
  /** Why the bytes at `end` are damage (only when `tail` is `damaged`). */
  reason?: string;
}

/** The record at `offset` when it is whole: its value and length on disk. */
function readRecord(buf: Buffer, offset: number): {value: unknown; size: number} | undefined {
  if (offset + HEADER > buf.length) return undefined;
  const length = buf.readUInt32LE(offset);
  if (length === 0 || offset + HEADER + length > buf.length) return undefined;
  const payload = buf.subarray(offset + HEADER, offset + HEADER + length);
  if (crc32(payload) !== buf.readUInt32LE(offset + 4)) return undefined;
  try {
    return {value: JSON.parse(payload.toString()), size: HEADER + length};
  } catch {
    return undefined;
  }
}

/** A chunk of zeros to compare and write a preallocated log with. */
export const ZEROS = Buffer.alloc(64 << 10);

/** Offset just past the last byte of `buf` that is not zero (0 when all are). */
export function usedLength(buf: Buffer): number {
  let at = buf.length;
  // A chunk at a time from the end: a preallocated log is megabytes of zeros.
  for (let from = Math.max(0, at - ZEROS.length); at > 0 && buf.subarray(from, at).equals(ZEROS.subarray(0, at - from)); from = Math.max(0, from - ZEROS.length)) at = from;
  while (at > 0 && buf[at - 1] === 0) at--;
  return at;
}

/** Whether a whole record starts anywhere in (from, to): a damaged length must not hide the records after it. */
function recordStartsWithin(buf: Buffer, from: number, to: number): boolean {
  const brace = '{'.charCodeAt(0);
  for (let at = from + 1; at + HEADER < to; at++) {
    // Every payload is a JSON object: a cheap filter before the checksum.
    if (buf[at + HEADER] === brace && readRecord(buf, at)) return true;
  }
  return false;
}

/** Why the bytes at `end` (not clean) cannot be a torn last write. */
function damageAt(buf: Buffer, end: number, used: number): string | undefined {
  // Only part of a record header: too short to hide anything after it.
  if (end + HEADER > used) return undefined;
  const length = buf.readUInt32LE(end);
  if (length === 0) return `bytes that are not zero after the last record, up to byte ${used}`;
  if (end + HEADER + length > buf.length) return `a record length (${length} bytes) past the end of the file`;
  // A write cut short leaves the record's last bytes zero; a whole one ends in its JSON's `}`.
  if (used >= end + HEADER + length) return 'a whole record that fails its checksum';
  return recordStartsWithin(buf, end, used) ? 'whole records follow a cut-short one' : undefined;
}

/** Reads records from the start of `buf` and says what follows the last whole one. */
export function decodeFrames(buf: Buffer): Decoded {
  const values: unknown[] = [];
  let offset = 0;
  for (let record = readRecord(buf, offset); record; record = readRecord(buf, offset)) {
    values.push(record.value);
    offset += record.size;
  }
  const used = usedLength(buf);
  if (used <= offset) return {values, end: offset, used, tail: 'clean'};
  const reason = damageAt(buf, offset, used);
  return reason ? {values, end: offset, used, tail: 'damaged', reason} : {values, end: offset, used, tail: 'torn'};
}
