import {once} from 'node:events';
import type {Socket} from 'node:net';
import {MAX_FRAME_BYTES, ProtocolError} from './protocol.js';

/**
 * Resolves once `socket` takes writes again ('drain'), or is closed (it never will then). The
 * listener of the event that did not come is removed: a connection that often waits for its
 * peer would otherwise gather one per wait.
 */
export async function drainedOrClosed(socket: Socket): Promise<void> {
  if (socket.destroyed || !socket.writableNeedDrain) return;
  const done = new AbortController();
  try {
    await Promise.race([once(socket, 'drain', {signal: done.signal}), once(socket, 'close', {signal: done.signal})]);
  } catch {
    // A socket error ends the wait too: the connection is closing then.
  } finally {
    done.abort();
  }
}

/** The 4-byte big-endian length that precedes every frame body. */
export function lengthPrefix(length: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(length);
  return b;
}

/** Bytes read past this are left in the kernel until the reader catches up. */
const HIGH_WATER = 2 * MAX_FRAME_BYTES;

/**
 * Reads a socket as the mesh protocol does: a few fixed-size fields during the handshake, then
 * length-prefixed frames. Data that arrives before anyone asks is kept, so frames sent right
 * after a handshake wait until the connection is ready to handle them.
 */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);
  private waiter?: {n: number; resolve: (b: Buffer) => void; reject: (e: Error) => void};
  private failure?: Error;

  constructor(private readonly socket: Socket) {
    socket.on('data', (data: Buffer) => this.push(data));
    socket.on('end', () => this.fail(new Error('connection closed by peer')));
    socket.on('close', () => this.fail(new Error('connection closed')));
    socket.on('error', error => this.fail(error));
  }

  private push(data: Buffer): void {
    this.buf = this.buf.length === 0 ? data : Buffer.concat([this.buf, data]);
    if (this.buf.length > HIGH_WATER) this.socket.pause();
    this.serve();
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.serve();
  }

  private serve(): void {
    const w = this.waiter;
    if (!w) return;
    if (this.buf.length >= w.n) {
      this.waiter = undefined;
      const out = this.buf.subarray(0, w.n);
      this.buf = this.buf.subarray(w.n);
      if (this.socket.isPaused() && this.buf.length <= HIGH_WATER) this.socket.resume();
      w.resolve(out);
    } else if (this.failure) {
      this.waiter = undefined;
      w.reject(this.failure);
    }
  }

  readExact(n: number): Promise<Buffer> {
    if (this.waiter) return Promise.reject(new Error('FrameReader: one read at a time'));
    return new Promise((resolve, reject) => {
      this.waiter = {n, resolve, reject};
      this.serve();
    });
  }

  async readFrame(): Promise<Buffer> {
    const length = (await this.readExact(4)).readUInt32BE();
    if (length > MAX_FRAME_BYTES) throw new ProtocolError(`frame of ${length} bytes is larger than the ${MAX_FRAME_BYTES} allowed`);
    return this.readExact(length);
  }
}

/** How frame bodies become bytes on the wire and back: plain, or sealed once a password is set. */
export interface FrameChannel {
  /** The bytes to write for one frame body. */
  frame(body: Buffer): Buffer;
  /** The body of a received frame. */
  read(body: Buffer): Buffer;
}

export const plainChannel: FrameChannel = {
  frame: body => Buffer.concat([lengthPrefix(body.length), body]),
  read: body => body,
};
