import {close, constants, open, write} from 'node:fs';
import {mkdir, open as openFile, readFile, rename} from 'node:fs/promises';
import {dirname} from 'node:path';
import {promisify} from 'node:util';
import type {Logger} from '../log.js';
import {decodeFrames, encodeFrame} from './frames.js';
import type {IpamStore, Mutation, PersistedState} from './records.js';

const writeAsync = promisify(write);
const openAsync = promisify(open);
const closeAsync = promisify(close);

/**
 * Durable IPAM state under `--db-prefix`: `<prefix>data.snap` holds the whole state of one
 * generation, `<prefix>data.log` the mutations since, in a file filled with zeros beforehand so
 * that appending overwrites allocated blocks and a sync need not update the file's size.
 *
 * - Every answer waits for durable(): the log is opened O_DSYNC, so a write returns once it is on
 *   stable storage. Mutations queued while a write is in flight go out together in the next one
 *   (group commit): concurrent requests share a sync.
 * - When the log is full, and at every start, a new generation is written: snapshot to a
 *   temporary file, fsync, rename, fsync of the directory, then a fresh log the same way. A log
 *   of an older generation than the snapshot is ignored, so a crash between the two steps is safe.
 * - A crash in the middle of a write leaves a record that fails its checksum: it was never
 *   acknowledged, and is dropped when loading.
 */

export interface StoreIdentity {
  peer: string;
  range: string;
}

interface Header extends StoreIdentity {
  v: 1;
  gen: number;
}

type SnapshotRecord = Header & PersistedState;

/** What was found on disk: the newest generation, its state and the mutations logged after it. */
export interface DiskState {
  gen: number;
  state?: PersistedState;
  mutations: Mutation[];
}

/** Persisted data that cannot be read: the router must not start over it blindly. */
export class IpamStoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IpamStoreError';
  }
}

export function storePaths(prefix: string): {snapshot: string; log: string} {
  return {snapshot: `${prefix}data.snap`, log: `${prefix}data.log`};
}

/** Smallest log; at 90 bytes a record, tens of thousands of mutations between compactions. */
export const MIN_LOG_BYTES = 4 << 20;
const ZEROS = Buffer.alloc(64 << 10);

async function readIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new IpamStoreError(`cannot read IPAM data ${path}: ${(error as Error).message}`);
  }
}

/** The peer name the persisted data belongs to, or undefined when there is none to read. */
export async function persistedPeer(prefix: string): Promise<string | undefined> {
  const bytes = await readIfExists(storePaths(prefix).snapshot);
  const peer = bytes && (decodeFrames(bytes).values[0] as Partial<SnapshotRecord> | undefined)?.peer;
  return typeof peer === 'string' ? peer : undefined;
}

/** Loads the newest generation, discarding it (with a log line, as the original) if it belongs to another peer or range. */
export async function readStore(prefix: string, identity: StoreIdentity, logger: Logger): Promise<DiskState> {
  const paths = storePaths(prefix);
  const snapshotBytes = await readIfExists(paths.snapshot);
  if (!snapshotBytes) {
    logger.info('No valid persisted data', {component: 'ipam'});
    return {gen: 0, mutations: []};
  }
  const snapshot = decodeFrames(snapshotBytes).values[0] as SnapshotRecord | undefined;
  if (snapshot?.v !== 1 || !Array.isArray(snapshot.owned) || !Array.isArray(snapshot.ring)) {
    throw new IpamStoreError(
      `IPAM data ${paths.snapshot} is damaged: move ${paths.snapshot} and ${paths.log} away to start with no allocations (addresses still in use may then be handed out again)`,
    );
  }
  if (snapshot.peer !== identity.peer) {
    logger.info(`Deleting persisted data for peername ${snapshot.peer}`, {component: 'ipam'});
    return {gen: snapshot.gen, mutations: []};
  }
  if (snapshot.range !== identity.range) {
    logger.info(`Deleting persisted data for IPAM range ${snapshot.range}; our range is ${identity.range}`, {component: 'ipam'});
    return {gen: snapshot.gen, mutations: []};
  }
  let mutations: Mutation[] = [];
  const logBytes = await readIfExists(paths.log);
  if (logBytes) {
    const log = decodeFrames(logBytes);
    if ((log.values[0] as Header | undefined)?.gen === snapshot.gen) {
      mutations = log.values.slice(1) as Mutation[];
      if (log.torn) logger.warning(`Dropped an unfinished record at the end of ${paths.log}: it was never acknowledged`, {component: 'ipam'});
    }
  }
  logger.info('Initialising with persisted data', {component: 'ipam', allocations: snapshot.owned.length, logged: mutations.length});
  return {gen: snapshot.gen, state: {ring: snapshot.ring, ...(snapshot.seeds ? {seeds: snapshot.seeds} : {}), owned: snapshot.owned}, mutations};
}

/** Writes `path` so that after a crash it holds either its old or its whole new content. */
async function replaceDurably(path: string, head: Buffer, zeros = 0): Promise<void> {
  const tmp = `${path}.tmp`;
  const file = await openFile(tmp, 'w');
  try {
    await file.write(head);
    for (let left = zeros; left > 0; left -= ZEROS.length) await file.write(ZEROS, 0, Math.min(left, ZEROS.length));
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(tmp, path);
  const dir = await openFile(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(error: Error): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Nobody may be waiting on a batch when it fails; the failure is reported by durable().
  promise.catch(() => undefined);
  return {promise, resolve, reject};
}

export interface FileStoreOptions {
  logger: Logger;
  /** Size of a fresh log (tests make it small to exercise compaction). */
  minLogBytes?: number;
}

export class FileStore implements IpamStore {
  private readonly paths: {snapshot: string; log: string};
  private fd = -1;
  private offset = 0;
  private capacity = 0;
  private queue: Buffer[] = [];
  private queuedBytes = 0;
  /** Settles when the queued mutations are durable. */
  private waiting?: Deferred;
  /** Settles when the batch being written is durable. */
  private inflight?: Promise<void>;
  private scheduled = false;
  private running = false;
  private failure?: Error;
  /** Log writes (each one sync) and new generations so far: how well commits are grouped. */
  readonly stats = {writes: 0, compactions: 0};

  private constructor(
    prefix: string,
    private readonly identity: StoreIdentity,
    private gen: number,
    private readonly source: () => PersistedState,
    private readonly options: FileStoreOptions,
  ) {
    this.paths = storePaths(prefix);
  }

  /** Starts generation `gen` from the state `source` gives (the loaded one), and opens its log. */
  static async create(prefix: string, identity: StoreIdentity, gen: number, source: () => PersistedState, options: FileStoreOptions): Promise<FileStore> {
    const store = new FileStore(prefix, identity, gen - 1, source, options);
    await mkdir(dirname(store.paths.snapshot), {recursive: true});
    await store.compact();
    return store;
  }

  append(mutation: Mutation): void {
    if (this.failure) return;
    const frame = encodeFrame(mutation);
    this.queue.push(frame);
    this.queuedBytes += frame.length;
    this.waiting ??= deferred();
    if (!this.running && !this.scheduled) {
      this.scheduled = true;
      // Once the current operation ends (what it changed goes in one write), not after every
      // socket of a busy I/O phase; what comes while a write is in flight goes in the next one.
      process.nextTick(() => {
        this.scheduled = false;
        void this.run();
      });
    }
  }

  durable(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return this.waiting?.promise ?? this.inflight ?? Promise.resolve();
  }

  private async run(): Promise<void> {
    this.running = true;
    while (this.queue.length > 0 && !this.failure) {
      const done = this.waiting!;
      this.waiting = undefined;
      this.inflight = done.promise;
      try {
        if (this.offset + this.queuedBytes > this.capacity) {
          await this.compact();
        } else {
          const batch = this.queue.length === 1 ? this.queue[0]! : Buffer.concat(this.queue, this.queuedBytes);
          this.queue = [];
          this.queuedBytes = 0;
          await this.writeAt(batch, this.offset);
          this.offset += batch.length;
          this.stats.writes++;
        }
        done.resolve();
      } catch (error) {
        this.fail(error as Error, done);
      }
    }
    this.inflight = undefined;
    this.running = false;
  }

  private async writeAt(buf: Buffer, position: number): Promise<void> {
    for (let done = 0; done < buf.length; ) {
      done += (await writeAsync(this.fd, buf, done, buf.length - done, position + done)).bytesWritten;
    }
  }

  /** A new generation: the snapshot covers everything applied so far, queued mutations included. */
  private async compact(): Promise<void> {
    const state = this.source();
    this.queue = [];
    this.queuedBytes = 0;
    const gen = this.gen + 1;
    const snapshot = encodeFrame({v: 1, gen, ...this.identity, ...state} satisfies SnapshotRecord);
    await replaceDurably(this.paths.snapshot, snapshot);
    const header = encodeFrame({v: 1, gen, ...this.identity} satisfies Header);
    const capacity = Math.max(this.options.minLogBytes ?? MIN_LOG_BYTES, 2 * snapshot.length);
    await replaceDurably(this.paths.log, header, capacity - header.length);
    const fd = await openAsync(this.paths.log, constants.O_RDWR | constants.O_DSYNC);
    if (this.fd >= 0) await closeAsync(this.fd);
    this.fd = fd;
    this.gen = gen;
    this.offset = header.length;
    this.capacity = capacity;
    this.stats.compactions++;
    this.options.logger.debug('IPAM data compacted', {component: 'ipam', gen, snapshotBytes: snapshot.length});
  }

  private fail(error: Error, batch: Deferred): void {
    this.failure = new IpamStoreError(`IPAM data could not be saved under ${this.paths.log}: ${error.message}; restart the router`);
    this.options.logger.error(this.failure.message, {component: 'ipam'});
    batch.reject(this.failure);
    this.waiting?.reject(this.failure);
    this.waiting = undefined;
    this.queue = [];
    this.queuedBytes = 0;
  }

  async close(): Promise<void> {
    await this.durable().catch(() => undefined);
    while (this.running || this.scheduled) await new Promise(resolve => setImmediate(resolve));
    if (this.fd >= 0) {
      await closeAsync(this.fd);
      this.fd = -1;
    }
  }
}
