import {close, read, readSync, write, writeSync} from 'node:fs';
import {constants} from 'node:os';
import {getSystemErrorMap} from 'node:util';
import {type IpCommand, IpError} from '../ip.js';
import {type Attr, isError, message, NLM_F, parseError, type Reply, replies} from './message.js';

const {EAGAIN, EIO} = constants.errno;

/** What the router's addon (native/netlink.c) gives: a NETLINK_ROUTE socket in a namespace. */
export interface NetlinkAddon {
  /** `nsFd`: an open namespace file, or -1 for this process's namespace. */
  netlinkOpen(nsFd: number): number;
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
   * Sends one request and waits for its ack; returns what came before the ack (a GET's answer).
   * `as` is the `ip` command doing the same, for errors.
   */
  async request(as: IpCommand, type: number, flags: number, fixed: Buffer, attrs: readonly Attr[] = []): Promise<Reply[]> {
    const seq = ++this.seq;
    const answers: Reply[] = [];
    try {
      await this.send(message(type, flags | NLM_F.ACK, seq, fixed, attrs));
      for (;;) {
        const n = await this.receive();
        for (const reply of replies(this.buffer.subarray(0, n))) {
          if (reply.seq !== seq) continue;
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
