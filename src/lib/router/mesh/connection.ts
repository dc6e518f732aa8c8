import type {Socket} from 'node:net';
import type {DataPlaneKeys} from './crypto.js';
import {drainedOrClosed, type FrameChannel, type FrameReader} from './framing.js';
import {Outbox} from './gossip.js';
import type {HandshakeResult, Intro} from './handshake.js';
import {Tag} from './protocol.js';

export interface ConnectionHandlers {
  /** A frame body; the next is read only once this settles. Throwing closes the connection. */
  frame(conn: MeshConnection, body: Buffer): void | Promise<void>;
  closed(conn: MeshConnection, reason: Error): void;
}

export interface ConnectionParams {
  socket: Socket;
  reader: FrameReader;
  handshake: HandshakeResult;
  outbound: boolean;
  /** The peer's address as this end sees it: what was dialled, or the source of an accepted connection. */
  address: string;
  ourName: string;
  /** Our random half of the connection's id. */
  connId: bigint;
  /** Whether the peer's address is inside our --trusted-subnets. */
  trustRemote: boolean;
  heartbeatMs: number;
  /** How far apart gossip is written at least (see Outbox). */
  writeGapMs: () => number;
  handlers: ConnectionHandlers;
}

/**
 * A connection to a peer after a successful handshake: frames in and out (sealed when there is
 * a password), heartbeats both ways, and the gossip waiting for it. Established once both ends
 * have added it (each sends Ready).
 */
export class MeshConnection {
  readonly socket: Socket;
  readonly outbound: boolean;
  readonly address: string;
  readonly remote: Intro;
  readonly version: number;
  /** The control traffic is encrypted and authenticated (the router has a password). */
  readonly encrypted: boolean;
  /** With a password: the sleeve's keys to this peer, fresh from this connection's handshake. */
  readonly dataPlaneKeys?: DataPlaneKeys;
  readonly trustRemote: boolean;
  /** Both ends XOR their halves: the same id on both, which orders duplicates the same way. */
  readonly uid: bigint;
  readonly outbox: Outbox;
  established = false;
  closed = false;
  private readonly reader: FrameReader;
  private readonly channel: FrameChannel;
  private readonly handlers: ConnectionHandlers;
  private readonly heartbeatMs: number;
  private lastHeard = Date.now();
  /** Writes are being gathered until the current operation ends (see send()). */
  private corked = false;
  private heartbeat?: NodeJS.Timeout;

  constructor(p: ConnectionParams) {
    this.socket = p.socket;
    this.reader = p.reader;
    this.channel = p.handshake.channel;
    this.outbound = p.outbound;
    this.address = p.address;
    this.remote = p.handshake.remote;
    this.version = p.handshake.version;
    this.encrypted = p.handshake.encrypted;
    this.dataPlaneKeys = p.handshake.dataPlaneKeys;
    this.trustRemote = p.trustRemote;
    this.uid = p.connId ^ p.handshake.remote.connId;
    this.handlers = p.handlers;
    this.heartbeatMs = p.heartbeatMs;
    this.outbox = new Outbox(p.ourName, this, p.writeGapMs);
    this.socket.on('close', () => this.shutdown(new Error('connection closed')));
  }

  /**
   * Both ends trust each other's address: pod traffic between them may go unencrypted. False
   * whenever either end has the peer outside its --trusted-subnets.
   */
  get trusted(): boolean {
    return this.trustRemote && this.remote.trusted;
  }

  /** Starts heartbeats and reading (frames that came early waited in the reader), and says Ready. */
  start(): void {
    this.heartbeat = setInterval(() => this.beat(), this.heartbeatMs);
    this.send(Buffer.of(Tag.Ready));
    void this.receive();
  }

  private beat(): void {
    if (Date.now() - this.lastHeard > 2 * this.heartbeatMs) {
      this.shutdown(new Error(`no message from the peer for ${(2 * this.heartbeatMs) / 1000}s`));
      return;
    }
    this.send(Buffer.of(Tag.Heartbeat));
  }

  private async receive(): Promise<void> {
    try {
      while (!this.closed) {
        const raw = await this.reader.readFrame();
        this.lastHeard = Date.now();
        const body = this.channel.read(raw);
        if (body.length > 0) await this.handlers.frame(this, body);
      }
    } catch (error) {
      this.shutdown(error as Error);
    }
  }

  /**
   * Queues a frame; false when the socket's buffer is full (wait for writable()). The frames
   * written in one go leave together: without Nagle each write is a TCP segment of its own, which
   * the kernel carries through the veths and into the peer's stack on our CPU time.
   */
  send(body: Buffer): boolean {
    if (this.closed) return false;
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    return this.socket.write(this.channel.frame(body));
  }

  sendBody(body: Buffer): void {
    this.send(body);
  }

  async writable(): Promise<void> {
    if (!this.closed) await drainedOrClosed(this.socket);
  }

  /** Closes the connection once; the reason is what status shows. */
  shutdown(reason: Error): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    this.socket.end(() => this.socket.destroy());
    this.handlers.closed(this, reason);
  }
}
