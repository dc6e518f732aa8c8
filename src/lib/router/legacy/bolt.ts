/**
 * A read-only reader of BoltDB files (github.com/boltdb/bolt, the store weave 2.8.1 kept its
 * state in), from the file format: two meta pages, the newer valid one naming the root bucket;
 * buckets are B+trees of branch and leaf pages, or inline in their parent's leaf when small.
 * Only what a committed file holds is read; the freelist is not needed for that.
 */

/** A file that is not a BoltDB file, or a damaged one; the message says what is wrong. */
export class BoltError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BoltError';
  }
}

const MAGIC = 0xed0cdaed;
const VERSION = 2;
const PAGE_HEADER = 16;
const ELEMENT = 16;
const BUCKET_HEADER = 16;
const BRANCH_PAGE = 0x01;
const LEAF_PAGE = 0x02;
const META_PAGE = 0x04;
const BUCKET_LEAF = 0x01;
/** Far more than a real tree of a few pages has: a loop in a damaged file ends here. */
const MAX_DEPTH = 32;

interface Meta {
  pageSize: number;
  root: bigint;
  txid: bigint;
}

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const U64 = (1n << 64n) - 1n;

/** FNV-1a, 64 bits: bolt's checksum of a meta page. */
function fnv1a64(bytes: Buffer): bigint {
  let hash = FNV_OFFSET;
  for (const b of bytes) hash = ((hash ^ BigInt(b)) * FNV_PRIME) & U64;
  return hash;
}

/** The meta page at `offset`, or why it is not one. */
function readMeta(file: Buffer, offset: number): Meta | string {
  if (offset + PAGE_HEADER + 64 > file.length) return 'the file is too short';
  if (!(file.readUInt16LE(offset + 8) & META_PAGE)) return 'no meta page where one belongs';
  const m = offset + PAGE_HEADER;
  if (file.readUInt32LE(m) !== MAGIC) return 'not a BoltDB file (no magic number)';
  if (file.readUInt32LE(m + 4) !== VERSION) return `BoltDB format version ${file.readUInt32LE(m + 4)}, not ${VERSION}`;
  if (fnv1a64(file.subarray(m, m + 56)) !== file.readBigUInt64LE(m + 56)) return 'a meta page fails its checksum';
  const pageSize = file.readUInt32LE(m + 8);
  if (pageSize < 512 || pageSize > 1 << 20 || (pageSize & (pageSize - 1)) !== 0) return `a page size of ${pageSize}`;
  return {pageSize, root: file.readBigUInt64LE(m + 16), txid: file.readBigUInt64LE(m + 48)};
}

/** Both meta pages as bolt reads them: the page size from the first, else the usual 4096. */
function currentMeta(file: Buffer): Meta {
  const first = readMeta(file, 0);
  const second = readMeta(file, typeof first === 'string' ? 4096 : first.pageSize);
  if (typeof first === 'string' && typeof second === 'string') throw new BoltError(first);
  if (typeof first === 'string') return second as Meta;
  if (typeof second === 'string') return first;
  return second.txid > first.txid ? second : first;
}

/** One key of a bucket: a value, or a nested bucket. */
interface Entry {
  value: Buffer;
  bucket: boolean;
}

/** A bucket read whole: weave's state is a few kilobytes. */
export class BoltBucket {
  constructor(
    private readonly entries: Map<string, Entry>,
    private readonly open: (header: Buffer, depth: number) => BoltBucket,
    private readonly depth: number,
  ) {}

  keys(): string[] {
    return [...this.entries.keys()];
  }

  get(key: string): Buffer | undefined {
    const e = this.entries.get(key);
    return e && !e.bucket ? e.value : undefined;
  }

  bucket(name: string): BoltBucket | undefined {
    const e = this.entries.get(name);
    return e?.bucket ? this.open(e.value, this.depth + 1) : undefined;
  }
}

/** The root bucket of a BoltDB file's newest committed transaction. */
export function openBolt(file: Buffer): BoltBucket {
  const meta = currentMeta(file);
  const {pageSize} = meta;

  /** Page `id` with its overflow pages, checked against the file. */
  const page = (id: bigint): Buffer => {
    const start = Number(id) * pageSize;
    if (id < 2n || start + PAGE_HEADER > file.length) throw new BoltError(`a reference to page ${id}, outside the file`);
    if (file.readBigUInt64LE(start) !== id) throw new BoltError(`page ${id} says it is page ${file.readBigUInt64LE(start)}`);
    const end = start + (file.readUInt32LE(start + 12) + 1) * pageSize;
    if (end > file.length) throw new BoltError(`page ${id} runs past the end of the file`);
    return file.subarray(start, end);
  };

  /** Adds every key under the node in `p` (a page, or an inline bucket's page) to `into`. */
  const walk = (p: Buffer, into: Map<string, Entry>, depth: number): void => {
    if (depth > MAX_DEPTH) throw new BoltError('the tree is too deep: a page refers back to itself');
    const flags = p.readUInt16LE(8);
    const count = p.readUInt16LE(10);
    if (PAGE_HEADER + count * ELEMENT > p.length) throw new BoltError(`a page of ${count} elements runs past its end`);
    const slice = (at: number, length: number) => {
      if (at + length > p.length) throw new BoltError('an element runs past the end of its page');
      return p.subarray(at, at + length);
    };
    for (let i = 0; i < count; i++) {
      const e = PAGE_HEADER + i * ELEMENT;
      if (flags & BRANCH_PAGE) {
        walk(page(p.readBigUInt64LE(e + 8)), into, depth + 1);
      } else if (flags & LEAF_PAGE) {
        const pos = e + p.readUInt32LE(e + 4);
        const ksize = p.readUInt32LE(e + 8);
        const key = slice(pos, ksize).toString('latin1');
        into.set(key, {value: slice(pos + ksize, p.readUInt32LE(e + 12)), bucket: (p.readUInt32LE(e) & BUCKET_LEAF) !== 0});
      } else {
        throw new BoltError(`a page of type ${flags} inside a tree`);
      }
    }
  };

  const bucketAt = (root: Buffer, depth: number): BoltBucket => {
    const entries = new Map<string, Entry>();
    walk(root, entries, depth);
    return new BoltBucket(entries, open, depth);
  };

  /** A nested bucket from its header in the parent's leaf: a root page, or 0 and the page inline. */
  const open = (header: Buffer, depth: number): BoltBucket => {
    if (header.length < BUCKET_HEADER) throw new BoltError('a bucket header is cut short');
    const root = header.readBigUInt64LE(0);
    if (root !== 0n) return bucketAt(page(root), depth);
    const inline = header.subarray(BUCKET_HEADER);
    if (inline.length < PAGE_HEADER) throw new BoltError('an inline bucket is cut short');
    return bucketAt(inline, depth);
  };

  return bucketAt(page(meta.root), 0);
}
