import {createHash} from 'node:crypto';
import {EventEmitter, once} from 'node:events';
import {extname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import type {Worker, WorkerOptions} from 'node:worker_threads';
import {PACKAGE_ROOT} from '../../../package.js';
import type {Logger} from '../../log.js';
import {checkKeys, type SessionKeys} from './keys.js';
import type {Branch, ControlMessage, Route, RxInit, RxStats, TxInit, TxStats, WorkerReply} from './messages.js';
import {loadTap, type TapAddon} from './native.js';
import {SleeveError} from './errors.js';
import {openTap, type Tap} from './tap.js';

export {SleeveError} from './errors.js';
export type {SessionKeys} from './keys.js';

/** The original's sleeve port: UDP on the mesh's port number. */
export const SLEEVE_PORT = 6783;

export interface SleeveOptions {
  /** The weave bridge the TAP joins. */
  bridge: string;
  /** The bridge's MTU (the pods'), given to the TAP. */
  mtu: number;
  /** UDP port to receive on, and the default port of peers. */
  port?: number;
  /** Local address to receive on; every address when absent. */
  address?: string;
  /** Name of the TAP device; `sleeve-<port>` by default. */
  tapName?: string;
  /** Counters below the highest seen that are still accepted once (2048 by default). */
  replayWindow?: number;
  /**
   * Take TCP super-frames of up to 64 KB from the TAP, cut them into MTU-sized datagrams and
   * join them back on the far side (the default, several times faster). Off: the kernel cuts
   * them before the TAP and each frame goes to the pod alone. Either way no datagram is larger
   * than the pods' MTU plus SLEEVE_OVERHEAD: nothing is IP-fragmented.
   */
  offloads?: boolean;
  log?: Logger;
}

export interface SleevePeerStats {
  name: string;
  address: string;
  sentFrames: number;
  sentBytes: number;
  receivedFrames: number;
  receivedBytes: number;
  /** Broadcasts and unknown unicast sent to the peer: ours, and others' passed on down their trees. */
  floodedFrames: number;
}

export interface SleeveStats {
  tap: string;
  offloads: boolean;
  peers: SleevePeerStats[];
  /** Frames from one peer passed on to another (this peer a relay between them). */
  relayed: number;
  /** Frames and datagrams dropped, by reason (see TxStats and RxStats). */
  dropped: Omit<TxStats, 'peers'> & Omit<RxStats, 'peers' | 'relayed'>;
}

export interface SleeveEvents {
  /** A worker died: the sleeve carries nothing more; stop it and start another. */
  failed: [error: Error];
}

/** How long stop() lets a worker finish before terminating it. */
const STOP_GRACE_MS = 2000;

/** One worker and its replies. */
class Channel<S> {
  private nextId = 0;
  private readonly waiting = new Map<number, (stats: S) => void>();

  constructor(readonly worker: Worker) {
    worker.on('message', (reply: WorkerReply<S>) => {
      if (reply.type !== 'stats') return;
      this.waiting.get(reply.id)?.(reply.stats);
      this.waiting.delete(reply.id);
    });
  }

  post(message: ControlMessage): void {
    this.worker.postMessage(message);
  }

  stats(): Promise<S> {
    const id = this.nextId++;
    return new Promise(resolve => {
      this.waiting.set(id, resolve);
      this.post({type: 'stats', id});
    });
  }
}

/** Resolves once the worker says it is ready; rejects with why it could not start. */
async function ready(worker: Worker, name: string): Promise<void> {
  let reply: WorkerReply<unknown>;
  try {
    const exited = once(worker, 'exit').then(([code]) => [{type: 'failed', message: `exited with code ${code}`}]);
    [reply] = (await Promise.race([once(worker, 'message'), exited])) as [WorkerReply<unknown>];
  } catch (error) {
    reply = {type: 'failed', message: (error as Error).message};
  }
  if (reply.type !== 'ready') throw new SleeveError(`the sleeve's ${name} worker failed to start: ${reply.type === 'failed' ? reply.message : 'unexpected message'}`);
}

/**
 * Starts one of the workers: built, its compiled .js under dist/lib (this module may be running
 * from the router's bundle, elsewhere); from sources under tsx, the .ts beside this file.
 */
async function startWorker(name: string, options: WorkerOptions): Promise<Worker> {
  // Imported here: only a router with a password starts workers, and loading it cost every start ~5 ms of CPU.
  const {Worker} = await import('node:worker_threads');
  if (extname(fileURLToPath(import.meta.url)) !== '.ts') return new Worker(join(PACKAGE_ROOT, 'dist', 'lib', 'router', 'dataplane', 'sleeve', `${name}.js`), options);
  const url = new URL(`./${name}.ts`, import.meta.url);
  // tsx's hooks do not reach worker threads in Node 20: the worker registers them first.
  const tsx = import.meta.resolve('tsx/esm/api');
  return new Worker(`import(${JSON.stringify(tsx)}).then(api => { api.register(); return import(${JSON.stringify(url.href)}); })`, {...options, eval: true});
}

function fingerprint(key: Buffer): string {
  return createHash('sha256').update(key).digest('base64');
}

/**
 * The encrypted data path ("sleeve"): pod frames between the weave bridge and peers, sealed with
 * AES-256-GCM over UDP. A TAP on the bridge hands frames to a sending worker, which reads them in
 * batches and sends each to the peer owning its destination MAC (broadcasts and unknown
 * addresses down our spanning tree: each peer gets one copy); a receiving worker opens what peers send and writes it to the TAP.
 * A TAP rather than a TUN: as a bridge port like the VXLAN device, it carries ARP, broadcasts
 * and any protocol as VXLAN does, forwarding by MAC with no routes to keep. With offloads, the
 * kernel hands over TCP super-frames of up to 64 KB: the sending worker cuts each into
 * MTU-sized datagrams (as GSO would) and sends them in one batch, the receiving one joins them
 * back (as GRO would), so each kernel handles one frame where the wire carries dozens, and the
 * network never sees an IP fragment (the sockets set Don't Fragment). The per-packet work is in
 * the addon (native/): that is what outruns OpenVPN (bench/encrypted).
 *
 * Keys come from the caller, one pair per peer, fresh from an authenticated ephemeral exchange
 * (the mesh handshake): addPeer() again with new keys rekeys. Keys are never accepted twice, so
 * a counter restarting at 0 can never reuse a nonce.
 */
export class Sleeve extends EventEmitter<SleeveEvents> {
  private readonly peers = new Map<string, string>();
  private readonly usedKeys = new Set<string>();
  private stopping?: Promise<void>;

  private constructor(
    private readonly addon: TapAddon,
    private readonly tapDevice: Tap,
    readonly port: number,
    private readonly tx: Channel<TxStats>,
    private readonly rx: Channel<RxStats>,
  ) {
    super();
    for (const [name, worker] of [['sending', tx.worker], ['receiving', rx.worker]] as const) {
      worker.on('error', error => this.fail(new SleeveError(`the sleeve's ${name} worker failed: ${error.message}`)));
      worker.on('message', (reply: WorkerReply<unknown>) => {
        if (reply.type === 'failed') this.fail(new SleeveError(`the sleeve's ${name} worker failed: ${reply.message}`));
      });
      worker.on('exit', code => {
        if (!this.stopping) this.fail(new SleeveError(`the sleeve's ${name} worker exited (code ${code})`));
      });
    }
  }

  static async start(options: SleeveOptions): Promise<Sleeve> {
    const port = options.port ?? SLEEVE_PORT;
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new SleeveError(`sleeve port must be 1-65535, not ${port}`);
    const addon = loadTap();
    const tap = await openTap(addon, options.tapName ?? `sleeve-${port}`, options.bridge, options.mtu, options.offloads ?? true);
    const {port1, port2} = new MessageChannel();
    const rxInit: RxInit = {fd: tap.fd, port, coalesce: tap.offloads, ...(options.address ? {address: options.address} : {}), ...(options.replayWindow ? {replayWindow: options.replayWindow} : {})};
    const txInit: TxInit = {fd: tap.fd};
    const rx = await startWorker('rx-worker', {workerData: {...rxInit, learn: port1}, transferList: [port1]});
    const tx = await startWorker('tx-worker', {workerData: {...txInit, learn: port2}, transferList: [port2]});
    try {
      await Promise.all([ready(rx, 'receiving'), ready(tx, 'sending')]);
    } catch (error) {
      await Promise.all([rx.terminate(), tx.terminate()]);
      addon.close(tap.fd);
      throw error;
    }
    options.log?.info('sleeve ready', {tap: tap.name, port, offloads: tap.offloads});
    return new Sleeve(addon, tap, port, new Channel(tx), new Channel(rx));
  }

  /** The TAP device's name. */
  get tap(): string {
    return this.tapDevice.name;
  }

  /** Adds a peer, or gives a known one new keys (and address). */
  addPeer(name: string, address: string, keys: SessionKeys, port = this.port): void {
    checkKeys(keys);
    const prints = [fingerprint(keys.send), fingerprint(keys.receive)];
    if (prints.some(p => this.usedKeys.has(p))) throw new SleeveError(`sleeve keys for ${name} were used before: derive new ones from a new handshake (reusing them would reuse nonces)`);
    for (const p of prints) this.usedKeys.add(p);
    this.peers.set(name, address);
    const peer = {type: 'peer', name, address, port} as const;
    this.tx.post({...peer, secret: keys.send});
    this.rx.post({...peer, secret: keys.receive, sendSecret: keys.send});
  }

  /**
   * Where frames for peers we have no connection to go (`us` and each route's `id` from
   * peerId()), and broadcasts: to `branching` as tree frames (our neighbours that pass them on),
   * and other peers' on from us along `branches`.
   */
  setRoutes(us: number, routes: Route[], branching: string[], branches: Branch[]): void {
    const message = {type: 'routes', us, routes, branching, branches} as const;
    this.tx.post(message);
    this.rx.post(message);
  }

  removePeer(name: string): void {
    this.peers.delete(name);
    this.tx.post({type: 'remove', name});
    this.rx.post({type: 'remove', name});
  }

  async stats(): Promise<SleeveStats> {
    const [tx, rx] = await Promise.all([this.tx.stats(), this.rx.stats()]);
    const {peers: sent, ...txDropped} = tx;
    const {peers: received, relayed, ...rxDropped} = rx;
    return {
      tap: this.tap,
      offloads: this.tapDevice.offloads,
      peers: [...this.peers].map(([name, address]) => ({
        name,
        address,
        sentFrames: sent[name]?.frames ?? 0,
        sentBytes: sent[name]?.bytes ?? 0,
        receivedFrames: received[name]?.frames ?? 0,
        receivedBytes: received[name]?.bytes ?? 0,
        floodedFrames: (sent[name]?.flooded ?? 0) + (received[name]?.flooded ?? 0),
      })),
      relayed,
      dropped: {...txDropped, ...rxDropped},
    };
  }

  /** Stops both workers and closes the TAP, which removes it from the bridge. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await Promise.all(
        [this.tx, this.rx].map(async ({worker}) => {
          if (worker.threadId === -1) return;
          const exited = once(worker, 'exit');
          worker.postMessage({type: 'stop'} satisfies ControlMessage);
          const timer = setTimeout(() => void worker.terminate(), STOP_GRACE_MS);
          await exited;
          clearTimeout(timer);
        }),
      );
      this.addon.close(this.tapDevice.fd);
    })();
    return this.stopping;
  }

  private fail(error: Error): void {
    if (this.stopping) return;
    this.emit('failed', error);
  }
}
