import {close, closeSync, constants as fsConstants, openSync, read, readSync, write, writeSync} from 'node:fs';
import {constants} from 'node:os';
import {getSystemErrorMap} from 'node:util';
import {type IpCommand, IpError} from '../ip-error.js';
import {requireAddon} from '../../addon.js';
import {type Attr, isDone, isError, message, NLM_F, parseError, readI32, type Reply, replies} from './message.js';

const {EAGAIN, EIO} = constants.errno;

/** The netlink protocols the addon opens: rtnetlink (links, addresses, routes) and nfnetlink (nftables). */
export type NetlinkProtocol = 'route' | 'netfilter';

/** What the router's addon (native/netlink.c) gives: a netlink socket in a namespace. */
export interface NetlinkAddon {
  /** `nsFd`: an open namespace file, or -1 for this process's namespace; `protocol`: one of netlinkProtocols, NETLINK_ROUTE by default. */
  netlinkOpen(nsFd: number, protocol?: number): number;
  /** The protocols' numbers (linux/netlink.h); builds of older sources lack it and open NETLINK_ROUTE only. */
  netlinkProtocols?: Record<NetlinkProtocol, number>;
}

/**
 * The addon when it loads and opens `protocol` (a build of older sources may not); otherwise why
 * not, and the caller keeps its command-line tool (the addon is optional at install).
 */
export function loadNetlinkAddon(protocol: NetlinkProtocol = 'route'): NetlinkAddon | string {
  let addon: Partial<NetlinkAddon>;
  try {
    addon = requireAddon() as Partial<NetlinkAddon>;
  } catch (error) {
    return (error as Error).message.split('\n')[0]!;
  }
  if (typeof addon.netlinkOpen !== 'function' || (protocol !== 'route' && addon.netlinkProtocols?.[protocol] === undefined)) {
    return 'the addon was built from older sources: rebuild it with `npm run build:native`';
  }
  return addon as NetlinkAddon;
}

/** How errors name a protocol, and the tool whose command does what a request does. */
const SPOKEN: Record<NetlinkProtocol, {name: string; tool: string}> = {route: {name: 'rtnetlink', tool: 'ip'}, netfilter: {name: 'nfnetlink', tool: 'nft'}};

/**
 * A request the kernel refused, as an IpError (so callers tell "exists" and "not found" apart as
 * they do for `ip`): `command` is the command of the protocol's tool (`ip`, `nft`) that would
 * have done the same.
 */
export class NetlinkError extends IpError {
  constructor(command: IpCommand, errno: number, said?: string, protocol: NetlinkProtocol = 'route') {
    const [name, text] = getSystemErrorMap().get(-errno) ?? [`errno ${errno}`, 'unknown error'];
    super(command, `${said ?? text} (${name})`, errno);
    this.name = 'NetlinkError';
    const {name: spoken, tool} = SPOKEN[protocol];
    this.message = `${spoken}, as \`${tool} ${command.join(' ')}\`: ${this.reason}`;
  }
}

const writeAsync = (fd: number, b: Buffer) =>
  new Promise<void>((resolve, reject) => write(fd, b, error => (error ? reject(error) : resolve())));

const readAsync = (fd: number, b: Buffer) =>
  new Promise<number>((resolve, reject) => read(fd, b, 0, b.length, null, (error, n) => (error ? reject(error) : resolve(n))));

/**
 * How a socket's writes and reads run. `pool`: on libuv's thread pool, so Node's thread never
 * waits, whatever the kernel waits for (deleting a link, it answers only after an RCU grace
 * period). `inline`: on Node's thread, for requests the kernel answers within the write (it may
 * first wait for the RTNL lock, as `ip` would): no hop to the pool and back per message, each of
 * which costs two thread wake-ups, most of a request's time on a busy machine.
 */
export type SocketIo = 'pool' | 'inline';

/** One netlink socket, used for one request at a time. */
export class NetlinkSocket {
  private seq = 0;
  private readonly buffer = Buffer.alloc(64 * 1024);

  private constructor(
    private readonly fd: number,
    private readonly io: SocketIo,
    private readonly protocol: NetlinkProtocol,
  ) {}

  static open(addon: NetlinkAddon, io: SocketIo, nsFd = -1, protocol: NetlinkProtocol = 'route'): NetlinkSocket {
    if (protocol === 'route') return new NetlinkSocket(addon.netlinkOpen(nsFd), io, protocol);
    const number = addon.netlinkProtocols?.[protocol];
    if (number === undefined) throw new Error(`the addon cannot open ${SPOKEN[protocol].name} sockets: rebuild it with \`npm run build:native\``);
    return new NetlinkSocket(addon.netlinkOpen(nsFd, number), io, protocol);
  }

  private async send(b: Buffer): Promise<void> {
    if (this.io === 'pool') await writeAsync(this.fd, b);
    else writeSync(this.fd, b);
  }

  private receive(): Promise<number> | number {
    return this.io === 'pool' ? readAsync(this.fd, this.buffer) : readSync(this.fd, this.buffer);
  }

  /**
   * Sends one request and waits for its ack, or for the end of a dump (NLM_F.DUMP, which the
   * kernel does not ack); returns what came before (a GET's answer, a dump's objects). `as` is
   * the command of the protocol's tool doing the same, for errors.
   */
  async request(as: IpCommand, type: number, flags: number, fixed: Buffer, attrs: readonly Attr[] = []): Promise<Reply[]> {
    const seq = ++this.seq;
    const answers: Reply[] = [];
    const dump = (flags & NLM_F.DUMP) === NLM_F.DUMP;
    try {
      await this.send(message(type, dump ? flags : flags | NLM_F.ACK, seq, fixed, attrs));
      for (;;) {
        const n = await this.receive();
        for (const reply of replies(this.buffer.subarray(0, n))) {
          if (reply.seq !== seq) continue;
          if (isDone(reply)) {
            const errno = reply.payload.length >= 4 ? Math.abs(readI32(reply.payload)) : 0;
            if (errno !== 0) throw new NetlinkError(as, errno, undefined, this.protocol);
            return answers;
          }
          if (!isError(reply)) {
            answers.push({...reply, payload: Buffer.from(reply.payload)});
            continue;
          }
          const {errno, said} = parseError(reply);
          if (errno !== 0) throw new NetlinkError(as, errno, said, this.protocol);
          return answers;
        }
      }
    } catch (error) {
      if (error instanceof NetlinkError) throw error;
      // The socket itself failed: no answer within the addon's 10 s, or a full buffer.
      const errno = Math.abs((error as NodeJS.ErrnoException).errno ?? EIO);
      throw new NetlinkError(as, errno, errno === EAGAIN ? 'no answer from the kernel within 10 s' : undefined, this.protocol);
    }
  }

  close(): void {
    close(this.fd, () => undefined);
  }
}

/** An rtnetlink socket: what every caller but the iptables canary opens. */
export type RouteSocket = NetlinkSocket;

/** Opens a namespace file for netlink; a failure is the IpError `ip` would have given (ENOENT: not found). */
export function openNetns(path: string, as: IpCommand, protocol: NetlinkProtocol = 'route'): number {
  try {
    // O_NONBLOCK: whatever the path is, the open does not wait (Node adds O_CLOEXEC itself).
    return openSync(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  } catch (error) {
    throw new NetlinkError(as, Math.abs((error as NodeJS.ErrnoException).errno ?? 0), `cannot open the network namespace ${path}: ${(error as Error).message}`, protocol);
  }
}

/** Runs `body` with a socket of `protocol` in `netns` (a path; undefined: this process's namespace), closed after. */
export async function withNetlinkSocket<T>(
  addon: NetlinkAddon,
  protocol: NetlinkProtocol,
  netns: string | undefined,
  as: IpCommand,
  body: (socket: NetlinkSocket) => Promise<T>,
  io: SocketIo = 'inline',
): Promise<T> {
  let socket: NetlinkSocket;
  if (netns === undefined) {
    socket = NetlinkSocket.open(addon, io, -1, protocol);
  } else {
    const nsFd = openNetns(netns, as, protocol);
    try {
      socket = NetlinkSocket.open(addon, io, nsFd, protocol);
    } catch (error) {
      throw new NetlinkError(as, Math.abs((error as NodeJS.ErrnoException).errno ?? 0), `cannot enter the network namespace ${netns}: ${(error as Error).message}`, protocol);
    } finally {
      closeSync(nsFd);
    }
  }
  try {
    return await body(socket);
  } finally {
    socket.close();
  }
}

/** withNetlinkSocket() with an rtnetlink socket. */
export function withRouteSocket<T>(addon: NetlinkAddon, netns: string | undefined, as: IpCommand, body: (socket: RouteSocket) => Promise<T>, io: SocketIo = 'inline'): Promise<T> {
  return withNetlinkSocket(addon, 'route', netns, as, body, io);
}
