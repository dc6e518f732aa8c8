import {chmod, mkdir, rm} from 'node:fs/promises';
import {createServer, type Server, type Socket} from 'node:net';
import type {OwnBridge} from '../../cni/invocation.js';
import {CniError, ErrorCode} from '../../cni/errors.js';
import type {Ipam} from '../../cni/ipam/ipam.js';
import type {PluginName} from '../../cni/skel.js';
import {loadNetlinkPodNet} from '../../net/netlink/pod-net.js';
import type {PodNet} from '../../net/pod-net.js';
import type {Logger} from '../log.js';
import {COLD, type CniRequest, formatReply, GO, ProtocolError, READY, RequestReader} from './protocol.js';
import {cniSocketPath} from './socket-path.js';

const PLUGINS: readonly string[] = ['weave-net', 'weave-ipam'] satisfies PluginName[];

/** Limits of one connection: clients send at once, and runtimes call a handful at a time. */
export const SOCKET_LIMITS = {
  /** Longest silence while a request comes in. */
  idleMs: 5_000,
  /** Longest from connecting to `go`. */
  requestMs: 10_000,
  /** Connections at once; more are closed unanswered, and their clients run the call cold. */
  connections: 64,
};

/**
 * Whether a call names an IPAM plugin this router cannot run: in its container the host's CNI
 * plugin directories are not mounted, so the host's shim must run such a call itself.
 */
async function delegateOutOfReach(stdin: string, cniPath: string | undefined): Promise<boolean> {
  let type: unknown;
  try {
    type = (JSON.parse(stdin) as {ipam?: {type?: unknown}}).ipam?.type;
  } catch {
    return false;
  }
  if (typeof type !== 'string' || type === '' || type.includes('/')) return false;
  const {locatePlugin} = await import('../../cni/ipam/delegate.js');
  return !(await locatePlugin(type, (cniPath ?? '').split(':').filter(Boolean)));
}

/** The exit code and stdout of a call refused before it began, as the plugin prints errors. */
async function refusal(error: CniError): Promise<string> {
  const {LATEST_VERSION} = await import('../../cni/version.js');
  return formatReply(1, JSON.stringify(error.toJSON(LATEST_VERSION)) + '\n');
}

/**
 * The warm CNI path: the plugin code runs inside the router for calls the launcher's client
 * forwards over a unix socket only root can open (a 0700 directory, a 0600 socket).
 */
export class CniSocketServer {
  private server?: Server;
  private path?: string;
  private readonly sockets = new Set<Socket>();
  /** Netlink from this process when the addon has it; `ip` processes (the plugin's default) otherwise. */
  private net?: PodNet;

  constructor(
    private readonly dir: string,
    private readonly weaveIpam: Ipam,
    private readonly log: Logger,
    private readonly ownBridge?: OwnBridge,
  ) {}

  private serve(socket: Socket): void {
    this.sockets.add(socket);
    const deadline = setTimeout(() => socket.destroy(), SOCKET_LIMITS.requestMs);
    let accepting = false;
    let running = false;
    let ended = false;
    socket.on('close', () => {
      this.sockets.delete(socket);
      clearTimeout(deadline);
    });
    socket.on('error', () => socket.destroy());
    // A client gone before `go` has given the call up (it may run it itself). The end may come
    // while the request is being accepted, after the `go` that preceded it: checked then.
    socket.on('end', () => {
      ended = true;
      if (!running && !accepting) socket.destroy();
    });
    socket.setTimeout(SOCKET_LIMITS.idleMs, () => socket.destroy());

    const go = () => {
      running = true;
      clearTimeout(deadline);
      // The call's own steps are bounded; the client waits for its answer.
      socket.setTimeout(0);
    };
    const reader = new RequestReader();
    const onRequest = (chunk: Buffer) => {
      let whole;
      try {
        whole = reader.push(chunk);
      } catch (error) {
        if (!(error instanceof ProtocolError)) throw error;
        socket.off('data', onRequest);
        // What more comes is not read: the connection goes once the answer is out.
        void refusal(new CniError(ErrorCode.DecodeFailure, error.message, 'use the launcher that `weave setup` installs')).then(reply => socket.end(reply, () => socket.destroy()));
        return;
      }
      if (!whole) return;
      const {request, rest} = whole;
      socket.off('data', onRequest);
      // What follows the request (`go`, sent early by the socat client) waits in the socket.
      socket.pause();
      accepting = true;
      void this.accept(socket, request).then(accepted => {
        accepting = false;
        if (!accepted) return;
        socket.write(READY);
        let said = '';
        const onGo = (more: Buffer) => {
          said += more.toString('latin1');
          if (said === GO) {
            socket.off('data', onGo);
            go();
            this.run(socket, request).catch((error: Error) => {
              this.log.error('cni call failed', {error: error.message});
              socket.destroy();
            });
          } else if (!GO.startsWith(said)) {
            socket.destroy();
          }
        };
        socket.on('data', onGo);
        if (rest.length > 0) onGo(rest);
        if (ended && !running) socket.destroy();
        else socket.resume();
      }, () => socket.destroy());
    };
    socket.on('data', onRequest);
  }

  /** Whether the call is for this router; if not, the client has been answered. */
  private async accept(socket: Socket, request: CniRequest): Promise<boolean> {
    if (!PLUGINS.includes(request.plugin)) {
      socket.end(await refusal(new CniError(ErrorCode.InvalidEnv, `unknown plugin "${request.plugin}"`, 'call weave-net or weave-ipam')));
      return false;
    }
    if (await delegateOutOfReach(request.stdin, request.env.CNI_PATH)) {
      socket.end(COLD);
      return false;
    }
    return true;
  }

  private async run(socket: Socket, request: CniRequest): Promise<void> {
    const env: Record<string, string | undefined> = {PATH: process.env.PATH, ...request.env};
    const netns = {
      ...(request.netnsHandle ? {path: request.netnsHandle} : {}),
      ...(request.netnsId ? {id: request.netnsId} : {}),
      ...(request.netnsError ? {error: request.netnsError} : {}),
    };
    const began = performance.now();
    // Loaded on the first call, not at start: a third of the modules a router would load.
    const {runPlugin} = await import('../../cni/skel.js');
    const reply = await runPlugin(request.plugin as PluginName, env, request.stdin, {
      weaveIpam: this.weaveIpam,
      netns,
      ...(this.ownBridge ? {ownBridge: this.ownBridge} : {}),
      ...(this.net ? {net: this.net} : {}),
    });
    const ms = Math.round(performance.now() - began);
    this.log.debug('cni call', {plugin: request.plugin, command: env.CNI_COMMAND, container: env.CNI_CONTAINERID, exit: reply.exitCode, ms});
    socket.end(formatReply(reply.exitCode, reply.stdout));
  }

  async start(): Promise<string> {
    await mkdir(this.dir, {recursive: true, mode: 0o700});
    await chmod(this.dir, 0o700);
    const path = await cniSocketPath(this.dir);
    // A socket left by a killed router would make listen() fail with EADDRINUSE.
    await rm(path, {force: true});
    const server = createServer({allowHalfOpen: true}, socket => this.serve(socket));
    server.maxConnections = SOCKET_LIMITS.connections;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
    await chmod(path, 0o600);
    this.server = server;
    this.path = path;
    const net = loadNetlinkPodNet();
    if (typeof net === 'string') {
      this.log.info('warm CNI path listening; links through ip, as the addon has no netlink', {socket: path, addon: net});
    } else {
      this.net = net;
      this.log.info('warm CNI path listening; links through netlink', {socket: path});
    }
    return path;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    const closed = new Promise<void>(resolve => this.server!.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
    if (this.path) await rm(this.path, {force: true});
  }
}
