import type {Server} from 'node:http';
import {type AddressInfo, createServer} from 'node:net';
import {createApiServer} from '../../src/lib/router/http/server.js';
import {RouteTable} from '../../src/lib/router/http/routes.js';
import type {RouterState} from '../../src/lib/router/state.js';
import {registerStatusRoutes} from '../../src/lib/router/status/http.js';

/**
 * A real HTTP server on 127.0.0.1 with the router's status routes over a state the test sets,
 * plus any routes the test adds: for exact pages without a whole router.
 */
export class StatusServer {
  private constructor(
    private readonly server: Server,
    readonly table: RouteTable,
    readonly addr: string,
    public state: RouterState,
  ) {}

  static async start(state: RouterState): Promise<StatusServer> {
    const table = new RouteTable();
    const server = createApiServer(table, () => {});
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    const {port} = server.address() as AddressInfo;
    const holder = new StatusServer(server, table, `127.0.0.1:${port}`, state);
    registerStatusRoutes(table, () => holder.state);
    return holder;
  }

  get url(): string {
    return `http://${this.addr}`;
  }

  close(): Promise<void> {
    return new Promise(resolve => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

/** An address on 127.0.0.1 where nothing listens (taken, then released). */
export async function closedAddress(): Promise<string> {
  const server = createServer();
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const {port} = server.address() as AddressInfo;
  await new Promise(resolve => server.close(resolve));
  return `127.0.0.1:${port}`;
}
