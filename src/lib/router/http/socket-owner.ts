import {open} from 'node:fs/promises';
import {isIPv4} from 'node:net';
import {endianness} from 'node:os';

/** The two ends of a TCP connection as the server sees them. */
export interface TcpEnds {
  remoteAddress: string;
  remotePort: number;
  localAddress: string;
  localPort: number;
}

/**
 * Who holds the client's end of a connection: a local user (its socket is in this network
 * namespace's table), nobody any more (the socket is closed or lingers in TIME_WAIT, where the
 * kernel shows uid 0 for any user), or no one here (another host, or another namespace).
 */
export type SocketOwner = {kind: 'local'; uid: number} | {kind: 'closed'} | {kind: 'elsewhere'};

const LITTLE_ENDIAN = endianness() === 'LE';

/** An address as /proc/net/tcp prints it: each 32-bit word in host byte order, in hex. */
function procHex(bytes: Buffer): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 4) {
    const word = LITTLE_ENDIAN ? bytes.readUInt32LE(i) : bytes.readUInt32BE(i);
    out += word.toString(16).toUpperCase().padStart(8, '0');
  }
  return out;
}

function v4Bytes(ip: string): Buffer {
  return Buffer.from(ip.split('.').map(Number));
}

/** The 16 bytes of an IPv6 address (with `::` and an IPv4 tail as Node writes them). */
function v6Bytes(ip: string): Buffer {
  const out = Buffer.alloc(16);
  const [head = '', tail] = ip.replace(/%.*$/, '').split('::') as [string, string | undefined];
  const words = (part: string): number[] => {
    if (part === '') return [];
    const groups = part.split(':');
    const last = groups.at(-1)!;
    if (!isIPv4(last)) return groups.map(g => parseInt(g, 16));
    const b = v4Bytes(last);
    return [...groups.slice(0, -1).map(g => parseInt(g, 16)), b.readUInt16BE(0), b.readUInt16BE(2)];
  };
  const before = words(head);
  const after = tail === undefined ? [] : words(tail);
  before.forEach((w, i) => out.writeUInt16BE(w, i * 2));
  after.forEach((w, i) => out.writeUInt16BE(w, 16 - (after.length - i) * 2));
  return out;
}

const V4_MAPPED = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/** `ADDR:PORT` of one end in the table of the given family (IPv4 ends map into tcp6 as ::ffff:a.b.c.d). */
function endText(ip: string, port: number, family: 4 | 6): string {
  const plain = V4_MAPPED.exec(ip)?.[1] ?? ip;
  const bytes = isIPv4(plain) ? (family === 4 ? v4Bytes(plain) : Buffer.concat([Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]), v4Bytes(plain)])) : v6Bytes(plain);
  return `${procHex(bytes)}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Whether the client's end can be an IPv4 socket (an IPv6 one may also reach an IPv4 address, mapped). */
function isV4End(ip: string): boolean {
  return isIPv4(ip) || V4_MAPPED.test(ip);
}

/** What the client's row in the table of `family` starts with: its local end is the connection's remote end, and its remote end ours. */
export function rowKey(ends: TcpEnds, family: 4 | 6): string {
  return ` ${endText(ends.remoteAddress, ends.remotePort, family)} ${endText(ends.localAddress, ends.localPort, family)} `;
}

/**
 * Finds the client's socket in one table (the text of /proc/net/tcp or tcp6) by its rowKey().
 * Columns: sl, local, remote, state, queues, timer, retransmits, uid, timeout, inode.
 */
export function ownerInTable(table: string, key: string): SocketOwner {
  const at = table.indexOf(key);
  if (at < 0) return {kind: 'elsewhere'};
  const end = table.indexOf('\n', at);
  const columns = table.slice(at, end < 0 ? undefined : end).trim().split(/\s+/);
  const uid = Number(columns[6]);
  const inode = columns[8];
  // Inode 0: no process holds the socket (closed, orphaned, TIME_WAIT), and its uid means nothing.
  if (inode === undefined || inode === '0' || !Number.isInteger(uid)) return {kind: 'closed'};
  return {kind: 'local', uid};
}

interface Lookup {
  ends: TcpEnds;
  /** rowKey() in the table being read. */
  key?: string;
  resolve: (owner: SocketOwner) => void;
}

/** Bytes read from a table at a time; a row is ~150. */
const CHUNK = 64 << 10;

/**
 * The owners of the client ends of TCP connections, from the kernel's socket tables of the
 * network namespace this process runs in (the one the connections live in). A row exists as
 * long as the client holds its socket open, so each lookup reads the tables after it was asked.
 * Reading costs time in proportion to the sockets on the host (bench/api-access.ts), so one
 * read at a time serves every lookup queued before it began: a flood of requests costs one
 * reader, never a thread pool full of them. (Netlink's sock_diag finds one socket without a
 * walk, but Node has no netlink sockets.)
 */
export class SocketOwners {
  private queue: Lookup[] = [];
  private reading = false;
  /** One read at a time: the same buffer for all (a fresh one per read was garbage outside the heap). */
  private chunk?: Buffer;

  constructor(private readonly procNet = '/proc/net') {}

  lookup(ends: TcpEnds): Promise<SocketOwner> {
    return new Promise(resolve => {
      this.queue.push({ends, resolve});
      // After this turn of the event loop: the connections a burst opened share the first read too.
      if (this.queue.length === 1 && !this.reading) setImmediate(() => void this.pump());
    });
  }

  private async pump(): Promise<void> {
    if (this.reading || this.queue.length === 0) return;
    this.reading = true;
    const batch = this.queue;
    this.queue = [];
    try {
      let left = batch;
      for (const family of [4, 6] as const) {
        const asked = left.filter(l => family === 6 || isV4End(l.ends.remoteAddress));
        if (asked.length > 0) left = left.filter(l => !asked.includes(l)).concat(await this.scan(`${this.procNet}/${family === 4 ? 'tcp' : 'tcp6'}`, family, asked));
      }
      for (const l of left) l.resolve({kind: 'elsewhere'});
    } finally {
      this.reading = false;
      void this.pump();
    }
  }

  /**
   * Reads one table until every lookup has its row, resolving each as found; returns those not in
   * it. The kernel writes the table as it is read, so stopping early saves half of it on average.
   */
  private async scan(path: string, family: 4 | 6, lookups: Lookup[]): Promise<Lookup[]> {
    let left = lookups;
    const file = await open(path).catch(() => undefined);
    if (!file) return left;
    for (const l of left) l.key = rowKey(l.ends, family);
    try {
      const chunk = (this.chunk ??= Buffer.allocUnsafe(CHUNK));
      let carry = '';
      while (left.length > 0) {
        const {bytesRead} = await file.read(chunk, 0, chunk.length, null);
        if (bytesRead === 0) break;
        const text = carry + chunk.toString('latin1', 0, bytesRead);
        // Whole rows only: a row cut by the chunk's end is read again with the next one.
        const end = text.lastIndexOf('\n') + 1;
        const rows = text.slice(0, end);
        carry = text.slice(end);
        left = left.filter(l => {
          const owner = ownerInTable(rows, l.key!);
          if (owner.kind === 'elsewhere') return true;
          l.resolve(owner);
          return false;
        });
      }
    } finally {
      await file.close();
    }
    return left;
  }
}
