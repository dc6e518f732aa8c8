import {createServer} from 'node:net';
import {run} from '../net/exec.js';
import {OperatorError} from '../errors.js';

export interface TcpEndpoint {
  host: string;
  port: number;
  /** What the router uses it for, for the message. */
  use: string;
}

/** Whether something already listens on host:port (our own listen fails with EADDRINUSE). */
function taken(endpoint: TcpEndpoint): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => (error.code === 'EADDRINUSE' ? resolve(true) : reject(error)));
    server.listen({host: endpoint.host, port: endpoint.port, exclusive: true}, () => server.close(() => resolve(false)));
  });
}

/** `name (pid N)` of the process listening on the port, from `ss`; undefined when it cannot tell. */
export function listenerFromSs(output: string): string | undefined {
  const m = /users:\(\("([^"]+)",pid=(\d+)/.exec(output);
  return m ? `${m[1]} (pid ${m[2]})` : undefined;
}

async function listener(port: number): Promise<string | undefined> {
  try {
    const {stdout} = await run('ss', ['-Hltnp', `sport = :${port}`]);
    return listenerFromSs(stdout);
  } catch {
    return undefined;
  }
}

/**
 * The router must be able to listen on its ports; a port in use would only show as a router
 * that dies at start. Fails naming the port, its use and the process holding it.
 */
export async function checkPortsFree(endpoints: readonly TcpEndpoint[]): Promise<void> {
  for (const endpoint of endpoints) {
    let busy: boolean;
    try {
      busy = await taken(endpoint);
    } catch {
      continue; // an address not on this host (EADDRNOTAVAIL): the router will say so itself
    }
    if (!busy) continue;
    const holder = await listener(endpoint.port);
    throw new OperatorError(
      `TCP port ${endpoint.port} (${endpoint.use}) on ${endpoint.host} is taken${holder ? ` by ${holder}` : ''}: ` +
        `stop that process (\`ss -ltnp 'sport = :${endpoint.port}'\` shows it), or launch with another port`,
    );
  }
}
