import {createSocket} from 'node:dgram';
import {readFileSync} from 'node:fs';
import {connect, isIP} from 'node:net';

/** The host's resolvers, from its resolv.conf (`--resolv-conf`): where names outside our domain go. */
export function readNameservers(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const servers: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    // A zone index (fe80::1%eth0) is not usable from the router's sockets: skipped.
    if (m && isIP(m[1]!) !== 0) servers.push(m[1]!);
  }
  return servers;
}

/** One query to one server over UDP; undefined when no answer comes in `timeoutMs`. */
function askUdp(server: string, query: Buffer, timeoutMs: number): Promise<Buffer | undefined> {
  return new Promise(resolve => {
    const socket = createSocket(isIP(server) === 6 ? 'udp6' : 'udp4');
    const id = query.readUInt16BE(0);
    const done = (answer: Buffer | undefined) => {
      clearTimeout(timer);
      socket.close();
      resolve(answer);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    socket.on('error', () => done(undefined));
    socket.on('message', msg => {
      if (msg.length >= 2 && msg.readUInt16BE(0) === id) done(msg);
    });
    socket.send(query, 53, server);
  });
}

/** One query to one server over TCP (two-byte length prefix, RFC 1035 4.2.2). */
function askTcp(server: string, query: Buffer, timeoutMs: number): Promise<Buffer | undefined> {
  return new Promise(resolve => {
    const socket = connect({host: server, port: 53});
    let received = Buffer.alloc(0);
    const done = (answer: Buffer | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    socket.on('error', () => done(undefined));
    socket.on('connect', () => {
      const length = Buffer.alloc(2);
      length.writeUInt16BE(query.length);
      socket.write(Buffer.concat([length, query]));
    });
    socket.on('data', chunk => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 2 && received.length >= 2 + received.readUInt16BE(0)) done(received.subarray(2, 2 + received.readUInt16BE(0)));
    });
  });
}

/**
 * Passes a query on to the resolvers in turn, each given `timeoutMs` (the original's
 * --dns-fallback-timeout), and returns the first answer; undefined if none answered.
 */
export async function forward(servers: readonly string[], query: Buffer, tcp: boolean, timeoutMs: number): Promise<Buffer | undefined> {
  for (const server of servers) {
    const answer = await (tcp ? askTcp : askUdp)(server, query, timeoutMs);
    if (answer) return answer;
  }
  return undefined;
}
