import {request as httpRequest} from 'node:http';
import type {Socket} from 'node:net';
import {type ListenAddr, parseListenAddr} from '../net/listen-addr.js';
import {RouterTimeoutError, RouterUnreachableError} from './errors.js';

/** Where the `weave` script looked for the router's API. */

/** As the script's `curl --connect-timeout 3`: only connecting is bounded; allocations may block. */
export const CONNECT_TIMEOUT_MS = 3000;

export interface Answer {
  status: number;
  body: string;
}

export interface Call {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** Longest wait for the answer once connected; unbounded by default, as allocations may block. */
  timeoutMs?: number;
}

/** The router's API at `host:port`, `:port` or a unix socket path, as --http-addr takes it. */
export class Endpoint {
  private readonly target: ListenAddr;

  constructor(
    readonly addr: string,
    private readonly connectTimeoutMs = CONNECT_TIMEOUT_MS,
  ) {
    this.target = parseListenAddr('--http-addr (WEAVE_HTTP_ADDR)', addr);
  }

  /** One request on a fresh connection (no keep-alive: a CLI must not linger on an idle socket). */
  send(call: Call): Promise<Answer> {
    const where =
      'socket' in this.target
        ? {socketPath: this.target.socket}
        : // `:6784` reads as 0.0.0.0 (where a router listens); a client dials loopback for it.
          {host: this.target.host === '0.0.0.0' ? '127.0.0.1' : this.target.host, port: this.target.port};
    return new Promise((resolve, reject) => {
      let answered = false;
      const req = httpRequest({...where, method: call.method, path: call.path, headers: call.headers, agent: false}, res => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString()}));
        res.on('error', reject);
      });
      req.on('socket', (socket: Socket) => {
        if (!socket.connecting) return;
        const timer = setTimeout(() => req.destroy(new Error(`no connection within ${this.connectTimeoutMs / 1000} s`)), this.connectTimeoutMs);
        socket.once('connect', () => clearTimeout(timer));
        socket.once('close', () => clearTimeout(timer));
      });
      if (call.timeoutMs) {
        const {timeoutMs} = call;
        req.setTimeout(timeoutMs, () => req.destroy(new RouterTimeoutError(this.addr, `${call.method} ${call.path}`, timeoutMs)));
      }
      req.on('error', error => {
        if (answered || error instanceof RouterTimeoutError) return reject(error);
        reject(new RouterUnreachableError(this.addr, describe(error)));
      });
      req.end(call.body);
    });
  }
}

function describe(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOENT':
      return 'no such socket';
    case 'ECONNRESET':
      return 'connection closed by the other side';
    default:
      return error.message;
  }
}
