import {once} from 'node:events';
import {createServer, connect, type Socket} from 'node:net';

/** Two ends of a real TCP connection on loopback: `client` dialled, `server` accepted. */
export async function socketPair(): Promise<{client: Socket; server: Socket; close(): void}> {
  const listener = createServer();
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const {port} = listener.address() as {port: number};
  const accepted = once(listener, 'connection') as Promise<[Socket]>;
  const client = connect(port, '127.0.0.1');
  await once(client, 'connect');
  const [server] = await accepted;
  listener.close();
  return {
    client,
    server,
    close: () => {
      client.destroy();
      server.destroy();
    },
  };
}
