import {chmod, mkdir, rm} from 'node:fs/promises';
import {createServer, type Server, type Socket} from 'node:net';
import type {OwnBridge} from '../../cni/invocation.js';
import type {Ipam} from '../../cni/ipam/ipam.js';
import type {PluginName} from '../../cni/skel.js';
import type {Logger} from '../log.js';
import {COLD, formatReply, parseRequest} from './protocol.js';
import {cniSocketPath} from './socket-path.js';

const PLUGINS: readonly string[] = ['weave-net', 'weave-ipam'] satisfies PluginName[];

/** Empty values are sent as such by the shim; the plugin reads them as unset. */
const CNI_VARS = ['CNI_COMMAND', 'CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_ARGS', 'CNI_PATH'];

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

/**
 * The warm CNI path: the plugin code runs inside the router for calls the shim forwards over
 * a unix socket only root can open (a 0700 directory, a 0600 socket).
 */
export class CniSocketServer {
  private server?: Server;
  private path?: string;
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly dir: string,
    private readonly weaveIpam: Ipam,
    private readonly log: Logger,
    private readonly ownBridge?: OwnBridge,
  ) {}

  private serve(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => {
      const request = parseRequest(Buffer.concat(chunks).toString());
      if (!request || !PLUGINS.includes(request.plugin)) {
        socket.destroy();
        return;
      }
      const env: Record<string, string | undefined> = {PATH: process.env.PATH};
      for (const name of CNI_VARS) if (request.env[name]) env[name] = request.env[name];
      const began = performance.now();
      void delegateOutOfReach(request.stdin, env.CNI_PATH).then(async away => {
        if (away) {
          socket.end(COLD);
          return;
        }
        // Loaded on the first call, not at start: a third of the modules a router would load.
        const {runPlugin} = await import('../../cni/skel.js');
        const reply = await runPlugin(request.plugin as PluginName, env, request.stdin, {weaveIpam: this.weaveIpam, ...(this.ownBridge ? {ownBridge: this.ownBridge} : {})});
        const ms = Math.round(performance.now() - began);
        this.log.debug('cni call', {plugin: request.plugin, command: env.CNI_COMMAND, container: env.CNI_CONTAINERID, exit: reply.exitCode, ms});
        socket.end(formatReply(reply.exitCode, reply.stdout));
      });
    });
  }

  async start(): Promise<string> {
    await mkdir(this.dir, {recursive: true, mode: 0o700});
    await chmod(this.dir, 0o700);
    const path = await cniSocketPath(this.dir);
    // A socket left by a killed router would make listen() fail with EADDRINUSE.
    await rm(path, {force: true});
    const server = createServer({allowHalfOpen: true}, socket => this.serve(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
    await chmod(path, 0o600);
    this.server = server;
    this.path = path;
    this.log.info('warm CNI path listening', {socket: path});
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
