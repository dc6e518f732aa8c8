import {close, closeSync, constants as fsConstants, openSync, read, readSync, write, writeSync} from 'node:fs';
import {constants} from 'node:os';
import {getSystemErrorMap} from 'node:util';
import {type IpCommand, IpError} from '../ip-error.js';
import {requireAddon} from '../../addon.js';
import {type Attr, isDone, isError, message, NLM_F, parseError, readI32, type Reply, replies} from './message.js';

const {EAGAIN, EIO} = constants.errno;

/** What the router's addon (native/netlink.c) gives: a NETLINK_ROUTE socket in a namespace. */
export interface NetlinkAddon {
  /** `nsFd`: an open namespace file, or -1 for this process's namespace. */
  netlinkOpen(nsFd: number): number;
}

/**
 * The addon when it loads and has netlink (a build of older sources does not); otherwise why
 * not, and the caller keeps `ip` (the addon is optional at install).
 */
export function loadNetlinkAddon(): NetlinkAddon | string {
  let addon: Partial<NetlinkAddon>;
  try {
    addon = requireAddon() as Partial<NetlinkAddon>;
  } catch (error) {
    return (error as Error).message.split('\n')[0]!;
  }
  if (typeof addon.netlinkOpen !== 'function') return 'the addon was built from older sources: rebuild it with `npm run build:native`';
  return addon as NetlinkAddon;
}

/**
 * A request the kernel refused, as an IpError (so callers tell "exists" and "not found" apart as
 * they do for `ip`): `command` is the `ip` command that would have done the same.
 */
export class NetlinkError extends IpError {
  constructor(command: IpCommand, errno: number, said?: string) {
    const [name, text] = getSystemErrorMap().get(-errno) ?? [`errno ${errno}`, 'unknown error'];
    super(command, `${said ?? text} (${name})`, errno);
    this.name = 'NetlinkError';
    this.message = `rtnetlink, as \`ip ${command.join(' ')}\`: ${this.reason}`;
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

/** One NETLINK_ROUTE socket, used for one request at a time. */
export class RouteSocket {
  private seq = 0;
  private readonly buffer = Buffer.alloc(64 * 1024);

  private constructor(
    private readonly fd: number,
    private readonly io: SocketIo,
  ) {}

  static open(addon: NetlinkAddon, io: SocketIo, nsFd = -1): RouteSocket {
    return new RouteSocket(addon.netlinkOpen(nsFd), io);
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
   * the `ip` command doing the same, for errors.
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
            if (errno !== 0) throw new NetlinkError(as, errno);
            return answers;
          }
          if (!isError(reply)) {
            answers.push({...reply, payload: Buffer.from(reply.payload)});
            continue;
          }
          const {errno, said} = parseError(reply);
          if (errno !== 0) throw new NetlinkError(as, errno, said);
          return answers;
        }
      }
    } catch (error) {
      if (error instanceof NetlinkError) throw error;
      // The socket itself failed: no answer within the addon's 10 s, or a full buffer.
      const errno = Math.abs((error as NodeJS.ErrnoException).errno ?? EIO);
      throw new NetlinkError(as, errno, errno === EAGAIN ? 'no answer from the kernel within 10 s' : undefined);
    }
  }

  close(): void {
    close(this.fd, () => undefined);
  }
}

/** Opens a namespace file for netlink; a failure is the IpError `ip` would have given (ENOENT: not found). */
export function openNetns(path: string, as: IpCommand): number {
  try {
    // O_NONBLOCK: whatever the path is, the open does not wait (Node adds O_CLOEXEC itself).
    return openSync(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  } catch (error) {
    throw new NetlinkError(as, Math.abs((error as NodeJS.ErrnoException).errno ?? 0), `cannot open the network namespace ${path}: ${(error as Error).message}`);
  }
}

/** Runs `body` with a socket in `netns` (a path; undefined: this process's namespace), closed after. */
export async function withRouteSocket<T>(addon: NetlinkAddon, netns: string | undefined, as: IpCommand, body: (socket: RouteSocket) => Promise<T>, io: SocketIo = 'inline'): Promise<T> {
  let socket: RouteSocket;
  if (netns === undefined) {
    socket = RouteSocket.open(addon, io);
  } else {
    const nsFd = openNetns(netns, as);
    try {
      socket = RouteSocket.open(addon, io, nsFd);
    } catch (error) {
      throw new NetlinkError(as, Math.abs((error as NodeJS.ErrnoException).errno ?? 0), `cannot enter the network namespace ${netns}: ${(error as Error).message}`);
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
