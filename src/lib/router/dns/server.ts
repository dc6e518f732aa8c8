import {createSocket, type Socket} from 'node:dgram';
import {createServer, isIP, type Server, type Socket as NetSocket} from 'node:net';
import type {Logger} from '../log.js';
import type {DnsResolver} from './resolver.js';

/** A TCP client gets this long to send its queries before it is hung up on. */
const TCP_IDLE_MS = 10_000;

function listenUdp(socket: Socket, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
}

function listenTcp(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** weaveDNS's listeners: UDP and TCP on one address, both answered by one resolver. */
export class DnsServer {
  private constructor(
    private readonly udp: Socket,
    private readonly tcp: Server,
    private readonly clients: Set<NetSocket>,
  ) {}

  static async start(host: string, port: number, resolver: DnsResolver, log: Logger): Promise<DnsServer> {
    const udp = createSocket({type: isIP(host) === 6 ? 'udp6' : 'udp4'});
    const tcp = createServer();
    const clients = new Set<NetSocket>();
    let closed = false;
    udp.on('close', () => (closed = true));
    udp.on('message', (message, from) => {
      resolver.answer(message, false).then(
        // An answer from upstream may come after we stopped.
        answer => answer && !closed && udp.send(answer, from.port, from.address),
        (error: unknown) => log.warning('weaveDNS: cannot answer a query', {error: (error as Error).message}),
      );
    });
    tcp.on('connection', socket => {
      let pending = Buffer.alloc(0);
      clients.add(socket);
      socket.on('close', () => clients.delete(socket));
      socket.setTimeout(TCP_IDLE_MS, () => socket.destroy());
      socket.on('error', () => socket.destroy());
      socket.on('data', chunk => {
        pending = Buffer.concat([pending, chunk]);
        while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
          const message = pending.subarray(2, 2 + pending.readUInt16BE(0));
          pending = pending.subarray(2 + message.length);
          resolver.answer(message, true).then(
            answer => {
              if (!answer || socket.destroyed) return;
              const length = Buffer.alloc(2);
              length.writeUInt16BE(answer.length);
              socket.write(Buffer.concat([length, answer]));
            },
            (error: unknown) => log.warning('weaveDNS: cannot answer a query', {error: (error as Error).message}),
          );
        }
      });
    });
    try {
      await listenUdp(udp, host, port);
      await listenTcp(tcp, host, port);
    } catch (error) {
      udp.close();
      tcp.close();
      throw error;
    }
    return new DnsServer(udp, tcp, clients);
  }

  async stop(): Promise<void> {
    await new Promise<void>(resolve => this.udp.close(() => resolve()));
    for (const socket of this.clients) socket.destroy();
    await new Promise<void>(resolve => this.tcp.close(() => resolve()));
  }
}
