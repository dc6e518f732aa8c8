import {isIPv4} from 'node:net';

/** A message from a peer that does not decode: the connection carrying it is closed. */
export class DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecodeError';
  }
}

const NAME_BYTES = 6;

const NAME = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
/** Names seen so far: a mesh has few peers and encodes their names over and over. */
const nameBytes = new Map<string, Buffer>();

/** `8a:3e:3e:3e:3e:3e` as its six octets. */
export function nameToBytes(name: string): Buffer {
  let bytes = nameBytes.get(name);
  if (!bytes) {
    if (!NAME.test(name)) throw new DecodeError(`invalid peer name "${name}"`);
    if (nameBytes.size >= 4096) nameBytes.clear();
    bytes = Buffer.from(name.replaceAll(':', ''), 'hex');
    nameBytes.set(name, bytes);
  }
  return bytes;
}

export function bytesToName(bytes: Buffer): string {
  return bytes.toString('hex').replace(/..(?!$)/g, '$&:');
}

/** Big-endian fields appended in order; strings and byte strings carry their length. */
export class Writer {
  private readonly parts: Buffer[] = [];

  u8(n: number): this {
    this.parts.push(Buffer.of(n));
    return this;
  }

  u16(n: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(n);
    this.parts.push(b);
    return this;
  }

  u64(n: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(n);
    this.parts.push(b);
    return this;
  }

  bool(v: boolean): this {
    return this.u8(v ? 1 : 0);
  }

  str(s: string): this {
    const b = Buffer.from(s, 'utf8');
    if (b.length > 0xffff) throw new RangeError('string too long for the wire');
    this.u16(b.length);
    this.parts.push(b);
    return this;
  }

  name(name: string): this {
    this.parts.push(nameToBytes(name));
    return this;
  }

  /** `a.b.c.d:port` in 7 bytes; any other address as a string. */
  address(address: string): this {
    const cut = address.lastIndexOf(':');
    const ip = address.slice(0, cut);
    const port = address.slice(cut + 1);
    if (!isIPv4(ip) || !/^\d{1,5}$/.test(port) || Number(port) > 0xffff) return this.u8(0).str(address);
    return this.u8(4).raw(Buffer.from(ip.split('.').map(Number))).u16(Number(port));
  }

  raw(b: Buffer): this {
    this.parts.push(b);
    return this;
  }

  finish(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** Reads what a Writer wrote; running past the end is a DecodeError, never a crash. */
export class Reader {
  private at = 0;

  constructor(private readonly buf: Buffer) {}

  private take(n: number): Buffer {
    if (this.at + n > this.buf.length) throw new DecodeError('message truncated');
    const b = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return b;
  }

  u8(): number {
    return this.take(1).readUInt8();
  }

  u16(): number {
    return this.take(2).readUInt16BE();
  }

  u64(): bigint {
    return this.take(8).readBigUInt64BE();
  }

  bool(): boolean {
    return this.u8() !== 0;
  }

  str(): string {
    return this.take(this.u16()).toString('utf8');
  }

  name(): string {
    return bytesToName(this.take(NAME_BYTES));
  }

  address(): string {
    if (this.u8() !== 4) return this.str();
    return `${[...this.take(4)].join('.')}:${this.u16()}`;
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
