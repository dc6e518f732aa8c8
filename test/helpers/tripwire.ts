import {type AddressInfo, createServer, type Server} from 'node:net';

/**
 * A TCP listener on 127.0.0.1 that counts the connections made to it and drops each at once:
 * given as a Docker or router address, it proves whether a command contacted it.
 */
export class Tripwire {
  connections = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(): Promise<Tripwire> {
    const server = createServer();
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    const wire = new Tripwire(server, (server.address() as AddressInfo).port);
    server.on('connection', socket => {
      wire.connections++;
      socket.destroy();
    });
    return wire;
  }

  get addr(): string {
    return `127.0.0.1:${this.port}`;
  }

  close(): Promise<void> {
    return new Promise(resolve => this.server.close(() => resolve()));
  }
}
