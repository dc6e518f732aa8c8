import {isIPv4} from 'node:net';

/** A message from a peer that does not decode: the connection carrying it is closed. */
export class DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecodeError';
  }
}

/** A peer name on the wire. */
export const NAME_BYTES = 6;

const NAME = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
/** A mesh has few peers and codes their names over and over: both ways are cached, within bounds. */
const CACHE_LIMIT = 4096;
const nameBytes = new Map<string, Buffer>();
const bytesNames = new Map<number, string>();

/** `8a:3e:3e:3e:3e:3e` as its six octets. */
export function nameToBytes(name: string): Buffer {
  let bytes = nameBytes.get(name);
  if (!bytes) {
    if (!NAME.test(name)) throw new DecodeError(`invalid peer name "${name}"`);
    if (nameBytes.size >= CACHE_LIMIT) nameBytes.clear();
    bytes = Buffer.from(name.replaceAll(':', ''), 'hex');
    nameBytes.set(name, bytes);
  }
  return bytes;
}

export function bytesToName(bytes: Buffer): string {
  // Six octets fit a double exactly.
  const key = bytes.readUIntBE(0, NAME_BYTES);
  let name = bytesNames.get(key);
  if (name === undefined) {
    if (bytesNames.size >= CACHE_LIMIT) bytesNames.clear();
    name = bytes.toString('hex').replace(/..(?!$)/g, '$&:');
    bytesNames.set(key, name);
  }
  return name;
}

/** Big-endian fields appended in order to one growing buffer; strings and byte strings carry their length. */
export class Writer {
  private buf: Buffer;
  private at = 0;

  /** `capacity`: the bytes expected, so that a large message is not copied as it grows. */
  constructor(capacity = 256) {
    this.buf = Buffer.allocUnsafe(capacity);
  }

  /** Room for `n` more bytes; returns where they go (read `buf` only after: it may be replaced). */
  private reserve(n: number): number {
    if (this.at + n > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(2 * this.buf.length, this.at + n));
      this.buf.copy(bigger, 0, 0, this.at);
      this.buf = bigger;
    }
    const at = this.at;
    this.at += n;
    return at;
  }

  u8(n: number): this {
    const at = this.reserve(1);
    this.buf[at] = n;
    return this;
  }

  u16(n: number): this {
    const at = this.reserve(2);
    this.buf.writeUInt16BE(n, at);
    return this;
  }

  u64(n: bigint): this {
    const at = this.reserve(8);
    this.buf.writeBigUInt64BE(n, at);
    return this;
  }

  bool(v: boolean): this {
    return this.u8(v ? 1 : 0);
  }

  str(s: string): this {
    const length = Buffer.byteLength(s, 'utf8');
    if (length > 0xffff) throw new RangeError('string too long for the wire');
    this.u16(length);
    const at = this.reserve(length);
    this.buf.write(s, at, length, 'utf8');
    return this;
  }

  name(name: string): this {
    return this.raw(nameToBytes(name));
  }

  /** `a.b.c.d:port` in 7 bytes; any other address as a string. */
  address(address: string): this {
    const cut = address.lastIndexOf(':');
    const ip = address.slice(0, cut);
    const port = address.slice(cut + 1);
    if (!isIPv4(ip) || !/^\d{1,5}$/.test(port) || Number(port) > 0xffff) return this.u8(0).str(address);
    this.u8(4);
    for (const octet of ip.split('.')) this.u8(Number(octet));
    return this.u16(Number(port));
  }

  raw(b: Buffer): this {
    const at = this.reserve(b.length);
    b.copy(this.buf, at);
    return this;
  }

  /** The bytes written, in a buffer of their own. */
  finish(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.at));
  }
}

/** Reads what a Writer wrote; running past the end is a DecodeError, never a crash. */
export class Reader {
  private at = 0;

  constructor(private readonly buf: Buffer) {}

  /** Consumes `n` bytes; returns where they start. */
  private skip(n: number): number {
    if (this.at + n > this.buf.length) throw new DecodeError('message truncated');
    const at = this.at;
    this.at += n;
    return at;
  }

  private take(n: number): Buffer {
    const at = this.skip(n);
    return this.buf.subarray(at, at + n);
  }

  u8(): number {
    return this.buf[this.skip(1)]!;
  }

  u16(): number {
    return this.buf.readUInt16BE(this.skip(2));
  }

  u64(): bigint {
    return this.buf.readBigUInt64BE(this.skip(8));
  }

  bool(): boolean {
    return this.u8() !== 0;
  }

  str(): string {
    const length = this.u16();
    const at = this.skip(length);
    return this.buf.toString('utf8', at, at + length);
  }

  name(): string {
    return bytesToName(this.take(NAME_BYTES));
  }

  address(): string {
    if (this.u8() !== 4) return this.str();
    const at = this.skip(6);
    const b = this.buf;
    return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}:${b.readUInt16BE(at + 4)}`;
  }

  /** Passes over an address without making its string. */
  skipAddress(): void {
    if (this.u8() === 4) this.skip(6);
    else this.skip(this.u16());
  }

  /** Where the next read starts. */
  get offset(): number {
    return this.at;
  }

  /** Passes over `n` bytes. */
  pass(n: number): void {
    this.skip(n);
  }

  fixed(n: number): Buffer {
    return this.take(n);
  }

  /** Everything not read yet. */
  rest(): Buffer {
    return this.take(this.buf.length - this.at);
  }

  get done(): boolean {
    return this.at === this.buf.length;
  }
}
