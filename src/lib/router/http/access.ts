import type {Socket} from 'node:net';
import {type SocketOwner, SocketOwners, type TcpEnds} from './socket-owner.js';

/** Users who may change the network: root, and the user the router runs as (root in its container). */
function defaultUids(): ReadonlySet<number> {
  return new Set([0, process.getuid?.() ?? 0]);
}

/** The 403's text for a client that may not change anything; undefined when it may. */
function refusalOf(owner: SocketOwner, allowed: ReadonlySet<number>, remote: string): string | undefined {
  switch (owner.kind) {
    case 'local':
      return allowed.has(owner.uid)
        ? undefined
        : `permission denied: only root may change the weave network through the router's API (this request came from uid ${owner.uid}, which may read status, report and metrics); run weave as root`;
    case 'elsewhere':
      return `permission denied: the router accepts changes only from root on its own host, and ${remote} is another host or container; run weave on the router's host, as root`;
    case 'closed':
      return 'permission denied: the client closed its connection before the router could tell which user sent the request';
  }
}

/**
 * Who may change the network through the HTTP API. Reads (status, report, metrics) are open to
 * every client; a change is allowed only from root on this host: the kernel's socket table says
 * which user holds the client's end of a TCP connection. The verdict is kept per connection
 * (its owner cannot change), so a keep-alive client pays for the lookup once. TCP only: a unix
 * socket --http-addr is root-only by its file mode (0600).
 */
export class ChangeGuard {
  private readonly verdicts = new WeakMap<Socket, Promise<string | undefined>>();

  constructor(
    private readonly allowed: ReadonlySet<number> = defaultUids(),
    private readonly owners: {lookup(ends: TcpEnds): Promise<SocketOwner>} = new SocketOwners(),
  ) {}

  /** Why this connection's client may not change anything, or undefined when it may. */
  refusal(socket: Socket): Promise<string | undefined> {
    let verdict = this.verdicts.get(socket);
    if (!verdict) {
      verdict = this.judge(socket);
      this.verdicts.set(socket, verdict);
    }
    return verdict;
  }

  private async judge(socket: Socket): Promise<string | undefined> {
    const {remoteAddress, remotePort, localAddress, localPort} = socket;
    // No addresses: the connection is gone already.
    if (remoteAddress === undefined || remotePort === undefined || localAddress === undefined || localPort === undefined) {
      return refusalOf({kind: 'closed'}, this.allowed, '');
    }
    const owner = await this.owners.lookup({remoteAddress, remotePort, localAddress, localPort});
    return refusalOf(owner, this.allowed, remoteAddress);
  }
}
