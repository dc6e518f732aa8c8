import {randomBytes} from 'node:crypto';
import {connect, createServer, type Server, type Socket} from 'node:net';
import type {Logger} from '../log.js';
import {hostPort, ipOf, isTrusted} from './address.js';
import {type ConnectionHandlers, MeshConnection} from './connection.js';
import {FrameReader} from './framing.js';
import {handshake, type HandshakeResult, type Intro, ioTimeout} from './handshake.js';
import type {VersionRange} from './protocol.js';

/** The mesh cannot start: the message says why (a bad peer, the port in use). */
export class MeshError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MeshError';
  }
}

export const randomU64 = (): bigint => randomBytes(8).readBigUInt64BE();

function dialError(address: string, error: NodeJS.ErrnoException): Error {
  const reasons: Record<string, string> = {
    ECONNREFUSED: 'connect: connection refused',
    EHOSTUNREACH: 'connect: no route to host',
    ENETUNREACH: 'connect: network is unreachable',
    ETIMEDOUT: 'i/o timeout',
  };
  return new Error(`dial tcp4 ${address}: ${reasons[error.code ?? ''] ?? error.message}`);
}

export interface ConnectorOptions {
  port: number;
  host?: string;
  passwordKey?: Buffer;
  trustedSubnets: string[];
  /** The protocol versions offered and accepted (--min-protocol-version raises the lowest). */
  versions: VersionRange;
  heartbeatMs: number;
  /** How far apart gossip is written to one peer at least. */
  writeGapMs: () => number;
  handshakeTimeoutMs: number;
  log: Logger;
  /** Who we are, for each introduction. */
  intro(): Omit<Intro, 'connId' | 'trusted'>;
}

export interface ConnectorEvents extends ConnectionHandlers {
  /** A connection passed its handshake; `acceptNewPeer` false means only a peer already known may be added. */
  handshaken(conn: MeshConnection, acceptNewPeer: boolean): void;
  /** A dial that never connected. */
  aborted(address: string, reason: Error): void;
  /** A connection that failed its handshake. */
  failed(address: string, outbound: boolean, reason: Error): void;
}

/**
 * TCP for the mesh: the listener, the dials, and the handshake that turns a socket into a
 * MeshConnection. What to do with connections is the mesh's business (the events).
 */
export class Connector {
  private server?: Server;
  private readonly handshaking = new Set<Socket>();
  /**
   * Accepted before open() and handshaken, by peer, with what adds it: the handshake is answered
   * at once, so that the peer need not time out and dial again while the router starts, but the
   * connection waits for the mesh to be ready. A peer that did dial again left the older one.
   */
  private held?: Map<string, {socket: Socket; add: () => void}> = new Map();
  private closing = false;

  constructor(
    private readonly opts: ConnectorOptions,
    private readonly events: ConnectorEvents,
  ) {}

  /**
   * Binds the port: from now on a peer that dials us waits for open() rather than being refused
   * (and backing off for seconds) while the rest of the router starts.
   */
  listen(): Promise<void> {
    const {host, port} = this.opts;
    const server = createServer(socket => this.accept(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) => {
        const why = error.code === 'EADDRINUSE' ? 'the port is in use (is another router running?)' : error.message;
        reject(new MeshError(`cannot listen on ${host || '0.0.0.0'}:${port} for the mesh: ${why}`));
      });
      server.listen({port, host: host || '0.0.0.0'}, () => {
        server.removeAllListeners('error');
        server.on('error', error => this.opts.log.error('mesh listener failed', {error: error.message}));
        resolve();
      });
    });
  }

  /** Adds the connections handshaken while the mesh was not ready, and those to come as they come. */
  open(): void {
    const held = this.held ?? new Map<string, {socket: Socket; add: () => void}>();
    this.held = undefined;
    for (const {socket, add} of held.values()) if (!socket.destroyed && !socket.readableEnded) add();
  }

  /** Stops listening and drops connections still in their handshake. */
  async close(): Promise<void> {
    this.closing = true;
    const closed = new Promise<void>(resolve => (this.server ? this.server.close(() => resolve()) : resolve()));
    for (const socket of [...this.handshaking, ...[...(this.held?.values() ?? [])].map(h => h.socket)]) socket.destroy();
    await closed;
  }

  private accept(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    const address = hostPort(socket.remoteAddress ?? '', socket.remotePort ?? 0);
    this.opts.log.debug('connection accepted', {address});
    void this.run(socket, false, address, true);
  }

  dial(address: string, acceptNewPeer: boolean): void {
    this.opts.log.debug('attempting connection', {address});
    const port = Number(address.slice(address.lastIndexOf(':') + 1));
    const socket = connect({host: ipOf(address), port, ...(this.opts.host ? {localAddress: this.opts.host} : {})});
    this.handshaking.add(socket);
    const timer = ioTimeout(() => {
      if (socket.connecting) socket.destroy(Object.assign(new Error('i/o timeout'), {code: 'ETIMEDOUT'}));
    }, this.opts.handshakeTimeoutMs);
    const failed = (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      this.handshaking.delete(socket);
      socket.destroy();
      if (this.closing) return;
      const reason = dialError(address, error);
      this.opts.log.info('error during connection attempt', {address, error: reason.message});
      this.events.aborted(address, reason);
    };
    socket.once('error', failed);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', failed);
      void this.run(socket, true, address, acceptNewPeer);
    });
  }

  private async run(socket: Socket, outbound: boolean, address: string, acceptNewPeer: boolean): Promise<void> {
    this.handshaking.add(socket);
    socket.setNoDelay(true);
    const reader = new FrameReader(socket);
    const connId = randomU64();
    const trustRemote = isTrusted(this.opts.trustedSubnets, ipOf(address));
    let result: HandshakeResult;
    try {
      result = await handshake({
        socket,
        reader,
        role: outbound ? 'initiator' : 'responder',
        versions: this.opts.versions,
        ...(this.opts.passwordKey ? {passwordKey: this.opts.passwordKey} : {}),
        intro: {...this.opts.intro(), connId, trusted: trustRemote},
        timeoutMs: this.opts.handshakeTimeoutMs,
      });
    } catch (error) {
      // Ended, not destroyed: a refusal frame the handshake wrote still reaches the peer.
      socket.end(() => socket.destroy());
      if (this.closing) return;
      this.opts.log.info('connection failed during handshake', {address, outbound, error: (error as Error).message});
      this.events.failed(address, outbound, error as Error);
      return;
    } finally {
      this.handshaking.delete(socket);
    }
    // A peer that gave up meanwhile closed after what it sent: its end is read a turn after its data.
    await new Promise(resolve => setImmediate(resolve));
    if (this.closing) {
      socket.destroy();
      return;
    }
    if (socket.readableEnded || socket.destroyed) {
      // The peer gave up meanwhile (its own timeout): adding the connection would only undo it again.
      socket.destroy();
      this.events.failed(address, outbound, new Error('connection closed by the peer during the handshake'));
      return;
    }
    const add = () => {
      const {frame, closed} = this.events;
      const ourName = this.opts.intro().name;
      const conn = new MeshConnection({socket, reader, handshake: result, outbound, address, ourName, connId, trustRemote, heartbeatMs: this.opts.heartbeatMs, writeGapMs: this.opts.writeGapMs, handlers: {frame, closed}});
      try {
        this.events.handshaken(conn, acceptNewPeer);
      } catch (error) {
        conn.shutdown(error as Error);
      }
    };
    const {held} = this;
    if (!held) return add();
    // What the peer sends meanwhile waits in the reader; a peer that gives up is forgotten.
    const {name} = result.remote;
    const forget = () => {
      if (held.get(name)?.socket === socket) held.delete(name);
    };
    socket.once('close', forget);
    held.get(name)?.socket.destroy();
    held.set(name, {
      socket,
      add: () => {
        socket.off('close', forget);
        add();
      },
    });
  }
}
