/**
 * A decoder of Go's encoding/gob streams, for what weave 2.8.1 wrote with it: its state file's
 * records and its mesh handshake. Read-only, from the format's documentation
 * (https://pkg.go.dev/encoding/gob): type definitions, then values. Interface values are not
 * supported (nothing of weave's that we read holds one).
 *
 * Values come out as: integers as bigint, floats as number, strings, Buffers ([]byte and types
 * with their own binary encoding), arrays (slices and arrays), Maps, and structs as plain
 * objects holding the fields that were sent (gob leaves out zero fields).
 */

export type GobValue = bigint | number | boolean | string | Buffer | GobValue[] | Map<GobValue, GobValue> | GobStruct;
export interface GobStruct {
  [field: string]: GobValue;
}

/** Bytes that are not a gob stream, or one of a shape this decoder does not read. */
export class GobError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GobError';
  }
}

type WireType =
  | {kind: 'struct'; name: string; fields: {name: string; id: number}[]}
  | {kind: 'slice'; name: string; elem: number}
  | {kind: 'array'; name: string; elem: number; len: number}
  | {kind: 'map'; name: string; key: number; elem: number}
  /** GobEncoder, BinaryMarshaler, TextMarshaler: the value is a byte string. */
  | {kind: 'bytes'; name: string};

const BOOL = 1;
const INT = 2;
const UINT = 3;
const FLOAT = 4;
const BYTES = 5;
const STRING = 6;
const COMPLEX = 7;
const INTERFACE = 8;
const WIRE_TYPE = 16;
const FIRST_USER_ID = 64;
const MAX_DEPTH = 64;

const struct = (name: string, fields: [string, number][]): WireType => ({kind: 'struct', name, fields: fields.map(([n, id]) => ({name: n, id}))});

/** The types gob itself uses to describe types, with their fixed ids. */
const BOOTSTRAP = new Map<number, WireType>([
  [WIRE_TYPE, struct('wireType', [['ArrayT', 17], ['SliceT', 19], ['StructT', 20], ['MapT', 23], ['GobEncoderT', 24], ['BinaryMarshalerT', 24], ['TextMarshalerT', 24]])],
  [17, struct('arrayType', [['CommonType', 18], ['Elem', INT], ['Len', INT]])],
  [18, struct('CommonType', [['Name', STRING], ['Id', INT]])],
  [19, struct('sliceType', [['CommonType', 18], ['Elem', INT]])],
  [20, struct('structType', [['CommonType', 18], ['Field', 22]])],
  [21, struct('fieldType', [['Name', STRING], ['Id', INT]])],
  [22, {kind: 'slice', name: '[]*gob.fieldType', elem: 21}],
  [23, struct('mapType', [['CommonType', 18], ['Key', INT], ['Elem', INT]])],
  [24, struct('gobEncoderType', [['CommonType', 18]])],
]);

/** Reads within `end`, never past it. */
class Cursor {
  constructor(
    private readonly buf: Buffer,
    public at: number,
    readonly end: number,
  ) {}

  get left(): number {
    return this.end - this.at;
  }

  byte(): number {
    if (this.at >= this.end) throw new GobError('unexpected end of data');
    return this.buf[this.at++]!;
  }

  bytes(n: number): Buffer {
    if (n > this.left) throw new GobError(`a length of ${n} runs past the end of the data`);
    const out = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  /** Below 128 one byte; else the negated byte count, then that many big-endian bytes. */
  uint(): bigint {
    const first = this.byte();
    if (first < 0x80) return BigInt(first);
    const n = 256 - first;
    if (n > 8) throw new GobError(`an unsigned integer of ${n} bytes`);
    let value = 0n;
    for (const b of this.bytes(n)) value = (value << 8n) | BigInt(b);
    return value;
  }

  /** The sign in the lowest bit, the magnitude (complemented when negative) above it. */
  int(): bigint {
    const u = this.uint();
    return u & 1n ? ~(u >> 1n) : u >> 1n;
  }

  /** A count or length: small enough to be real, which also bounds what a damaged stream allocates. */
  count(): number {
    const n = this.uint();
    if (n > BigInt(this.left)) throw new GobError(`a count of ${n} with ${this.left} bytes left`);
    return Number(n);
  }

  smallInt(): number {
    const n = this.int();
    if (n < -0x80000000n || n > 0x7fffffffn) throw new GobError(`a type id out of range: ${n}`);
    return Number(n);
  }
}

function float(bits: bigint): number {
  // Sent byte-reversed, so that small exponents make short numbers.
  const buf = Buffer.alloc(8);
  buf.writeBigUInt64LE(bits);
  return buf.readDoubleBE();
}

/**
 * One gob stream: as Go's gob.Decoder, it keeps the types defined so far, so successive values
 * of one stream share them.
 */
export class GobDecoder {
  private readonly types = new Map<number, WireType>(BOOTSTRAP);
  private at = 0;

  constructor(private readonly buf: Buffer) {}

  /** Whether the stream has more bytes. */
  get more(): boolean {
    return this.at < this.buf.length;
  }

  /** The next value, after the type definitions that precede it. */
  next(): GobValue {
    for (;;) {
      const header = new Cursor(this.buf, this.at, this.buf.length);
      const length = header.count();
      const message = new Cursor(this.buf, header.at, header.at + length);
      this.at = header.at + length;
      const id = message.smallInt();
      if (id < 0) {
        this.define(-id, message);
        continue;
      }
      const type = this.type(id);
      // A value that is not a struct is sent as a struct's only field: delta 0 comes first.
      if (type?.kind !== 'struct' && message.uint() !== 0n) throw new GobError('a value that is not a struct, without its leading zero');
      const value = this.value(id, message, 0);
      if (message.left !== 0) throw new GobError(`${message.left} bytes left over after a value of type ${this.nameOf(id)}`);
      return value;
    }
  }

  private type(id: number): WireType | undefined {
    if (id >= BOOL && id <= INTERFACE) return undefined;
    const type = this.types.get(id);
    if (!type) throw new GobError(`type id ${id} used before it was defined`);
    return type;
  }

  private nameOf(id: number): string {
    return this.types.get(id)?.name ?? ['', 'bool', 'int', 'uint', 'float', '[]byte', 'string', 'complex', 'interface'][id] ?? String(id);
  }

  private define(id: number, message: Cursor): void {
    if (id < FIRST_USER_ID) throw new GobError(`a definition of the reserved type id ${id}`);
    const wire = this.value(WIRE_TYPE, message, 0) as GobStruct;
    const common = (t: GobValue | undefined) => {
      const c = ((t as GobStruct | undefined)?.CommonType ?? {}) as GobStruct;
      return {name: String(c.Name ?? ''), id: Number((c.Id as bigint | undefined) ?? 0n)};
    };
    const typeId = (v: GobValue | undefined) => Number((v as bigint | undefined) ?? 0n);
    let type: WireType;
    if (wire.StructT) {
      const fields = ((wire.StructT as GobStruct).Field ?? []) as GobStruct[];
      type = {kind: 'struct', name: common(wire.StructT).name, fields: fields.map(f => ({name: String(f.Name ?? ''), id: typeId(f.Id)}))};
    } else if (wire.SliceT) {
      type = {kind: 'slice', name: common(wire.SliceT).name, elem: typeId((wire.SliceT as GobStruct).Elem)};
    } else if (wire.ArrayT) {
      type = {kind: 'array', name: common(wire.ArrayT).name, elem: typeId((wire.ArrayT as GobStruct).Elem), len: typeId((wire.ArrayT as GobStruct).Len)};
    } else if (wire.MapT) {
      const m = wire.MapT as GobStruct;
      type = {kind: 'map', name: common(m).name, key: typeId(m.Key), elem: typeId(m.Elem)};
    } else {
      const encoder = wire.GobEncoderT ?? wire.BinaryMarshalerT ?? wire.TextMarshalerT;
      if (!encoder) throw new GobError(`an empty definition of type id ${id}`);
      type = {kind: 'bytes', name: common(encoder).name};
    }
    if (message.left !== 0) throw new GobError(`${message.left} bytes left over after the definition of type id ${id}`);
    this.types.set(id, type);
  }

  private value(id: number, c: Cursor, depth: number): GobValue {
    if (depth > MAX_DEPTH) throw new GobError('values nested too deeply');
    switch (id) {
      case BOOL:
        return c.uint() !== 0n;
      case INT:
        return c.int();
      case UINT:
        return c.uint();
      case FLOAT:
        return float(c.uint());
      case BYTES:
        return Buffer.from(c.bytes(c.count()));
      case STRING:
        return c.bytes(c.count()).toString('utf8');
      case COMPLEX:
        return [float(c.uint()), float(c.uint())];
      case INTERFACE:
        throw new GobError('interface values are not supported');
    }
    const type = this.type(id)!;
    switch (type.kind) {
      case 'struct': {
        const out: GobStruct = {};
        for (let field = -1; ; ) {
          const delta = c.uint();
          if (delta === 0n) return out;
          if (delta >= BigInt(type.fields.length - field)) throw new GobError(`a field past the ${type.fields.length} of ${type.name}`);
          field += Number(delta);
          const def = type.fields[field]!;
          out[def.name] = this.value(def.id, c, depth + 1);
        }
      }
      case 'slice':
      case 'array': {
        const n = c.count();
        if (type.kind === 'array' && n !== type.len) throw new GobError(`${n} elements for ${type.name}`);
        const out: GobValue[] = [];
        for (let i = 0; i < n; i++) out.push(this.value(type.elem, c, depth + 1));
        return out;
      }
      case 'map': {
        const n = c.count();
        const out = new Map<GobValue, GobValue>();
        for (let i = 0; i < n; i++) out.set(this.value(type.key, c, depth + 1), this.value(type.elem, c, depth + 1));
        return out;
      }
      case 'bytes':
        return Buffer.from(c.bytes(c.count()));
    }
  }
}

/** The one value of a byte string that holds a whole gob stream (a Save of weave's db, a handshake). */
export function decodeGob(buf: Buffer): GobValue {
  const decoder = new GobDecoder(buf);
  const value = decoder.next();
  if (decoder.more) throw new GobError('bytes left over after the value');
  return value;
}
