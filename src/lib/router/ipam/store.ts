import {constants, open} from 'node:fs';
import {mkdir} from 'node:fs/promises';
import {dirname} from 'node:path';
import {promisify} from 'node:util';
import type {Logger} from '../log.js';
import {encodeFrame} from './frames.js';
import {closeFd, extendWithZeros, freeBytes, replaceDurably, writeAt, zeroRange} from './log-file.js';
import type {IpamStore, Mutation, PersistedState, WhileFull} from './records.js';
import {SaveWaiters} from './save-waiters.js';
import {formatBytes, IpamStoreError, IpamStoreFullError, isNoSpace} from './store-errors.js';
import {type DiskState, type Header, LOG_ALIGN, type LogOnDisk, type SnapshotRecord, type StoreIdentity, storePaths} from './store-load.js';

const openAsync = promisify(open);

/**
 * Durable IPAM state under `--db-prefix`: `<prefix>data.snap` holds the whole state of one
 * generation, `<prefix>data.log` the mutations since, in a file filled with zeros beforehand so
 * that appending overwrites allocated blocks (no new space, and a sync need not update the size).
 *
 * - Every answer waits for durable(): the log is opened O_DSYNC, so a write returns once it is on
 *   stable storage. Mutations queued while a write is in flight go out together in the next one
 *   (group commit): concurrent requests share a sync.
 * - A start goes on appending to the log it finds (a torn last record cleared first): it needs
 *   no free space. When the log is three-quarters full, a new generation is written: the snapshot
 *   to a temporary file, synced and renamed over the old one; then the same log file is cleared
 *   in place and given the new generation's header. A log of an older generation than the
 *   snapshot is ignored, so a crash between the steps is safe. Free space needed: one snapshot
 *   (the new one is written beside the old); a log is only made anew on a first run or after a
 *   recovery, smaller than 4 MB when space is short.
 * - With no space for that, the router goes on: the log's last quarter takes changes until only
 *   a reserve for ring changes is left; then changes clients ask for are refused
 *   (IpamStoreFullError), reads are answered, and the write is retried with backoff until space
 *   returns. Nothing queued is dropped.
 */

/** Size of a log made with enough space; at ~90 bytes a record, tens of thousands of mutations between generations. */
export const MIN_LOG_BYTES = 4 << 20;
/** A log made smaller for lack of space is at least this big (and never smaller than two HEADs). */
const SMALLEST_LOG = 64 << 10;
/** The first sector: the header and its zero padding go in one write, so a crash leaves the old header or the new. */
const HEAD = 512;
/** Room kept in a log that cannot be replaced for lack of space: for ring changes from peers, after clients are refused. */
const RESERVE = 16 << 10;
/** Retries after a lack of space start this soon and double up to MAX_RETRY_MS. */
const RETRY_MS = 250;
const MAX_RETRY_MS = 5000;

/** Log sizes are whole pages (LOG_ALIGN in store-load.ts): a log of another size was cut. */
function alignUp(bytes: number): number {
  return Math.ceil(bytes / LOG_ALIGN) * LOG_ALIGN;
}

interface OpenLog {
  fd: number;
  size: number;
  /** Where the next record goes. */
  offset: number;
}

export interface FileStoreOptions {
  logger: Logger;
  /** Size of a fresh log (tests make it small to exercise compaction). */
  minLogBytes?: number;
}

export class FileStore implements IpamStore {
  private readonly paths: {snapshot: string; log: string};
  private readonly dir: string;
  private log?: OpenLog;
  /** A log file of an older generation, or with no header yet: cleared and started again in place. */
  private reusable?: {fd: number; size: number; used: number};
  private queue: Buffer[] = [];
  private queuedBytes = 0;
  /** Mutations appended, and those of them on disk. */
  private appended = 0;
  private saved = 0;
  private readonly waiters = new SaveWaiters();
  /** Writes begun (log batches and snapshots): changes queued between two share a waiter. */
  private writesStarted = 0;
  private wantGeneration: boolean;
  private snapshotBytes = 0;
  /** The write being tried, for the message when there is no space for it. */
  private attempt = {file: '', bytes: 0};
  private noSpace?: IpamStoreFullError;
  private retryTimer?: NodeJS.Timeout;
  private retryMs = RETRY_MS;
  private scheduled = false;
  private loop?: Promise<void>;
  private failure?: IpamStoreError;
  private closed = false;
  private warnedGrowth = false;
  /** Log writes (each one sync) and new generations so far: how well commits are grouped. */
  readonly stats = {writes: 0, compactions: 0};

  private constructor(
    prefix: string,
    private readonly identity: StoreIdentity,
    private gen: number,
    private readonly source: () => PersistedState,
    private readonly options: FileStoreOptions,
    fresh: boolean,
  ) {
    this.paths = storePaths(prefix);
    this.dir = dirname(this.paths.snapshot);
    this.wantGeneration = fresh;
  }

  /**
   * Goes on from what readStore() found, with `source` giving the state loaded (and later the
   * live one). A first run writes its files before returning; without the space for them the
   * store starts anyway and refuses changes until the space comes.
   */
  static async open(prefix: string, identity: StoreIdentity, disk: DiskState, source: () => PersistedState, options: FileStoreOptions): Promise<FileStore> {
    const store = new FileStore(prefix, identity, disk.gen, source, options, disk.fresh);
    await mkdir(store.dir, {recursive: true});
    await store.adopt(disk.log);
    store.kick();
    await store.loop;
    if (store.failure) throw store.failure;
    return store;
  }

  private async adopt(found: LogOnDisk): Promise<void> {
    if (found.kind === 'none') return;
    let fd: number;
    try {
      fd = await openAsync(this.paths.log, constants.O_RDWR | constants.O_DSYNC);
    } catch (error) {
      throw new IpamStoreError(`cannot open IPAM data ${this.paths.log}: ${(error as Error).message}`);
    }
    if (found.kind === 'reuse') {
      this.reusable = {fd, size: found.size, used: found.used};
      return;
    }
    try {
      // The rest of a torn record would follow the next ones and read as damage.
      if (found.used > found.end) await zeroRange(this.paths.log, found.end, found.used);
      this.log = {fd, size: found.size, offset: found.end};
    } catch (error) {
      if (!isNoSpace(error)) throw new IpamStoreError(`cannot write IPAM data ${this.paths.log}: ${(error as Error).message}`);
      // A new generation holds all that the log does, and clears the file.
      this.reusable = {fd, size: found.size, used: found.used};
      this.wantGeneration = true;
    }
  }

  append(mutation: Mutation): void {
    if (this.failure || this.closed) return;
    const frame = encodeFrame(mutation);
    this.queue.push(frame);
    this.queuedBytes += frame.length;
    this.appended++;
    this.schedule();
  }

  private schedule(): void {
    if (this.loop || this.scheduled) return;
    this.scheduled = true;
    // Once the current operation ends (what it changed goes in one write), not after every
    // socket of a busy I/O phase; what comes while a write is in flight goes in the next one.
    process.nextTick(() => {
      this.scheduled = false;
      this.kick();
    });
  }

  private kick(): void {
    if (this.loop || this.closed) return;
    this.loop = this.run().finally(() => {
      this.loop = undefined;
      // Appends made as the loop ended found it running.
      if (this.queue.length > 0 && !this.failure && (!this.retryTimer || (this.log && this.framesThatFit(this.log).count > 0))) this.schedule();
    });
  }

  durable(whileFull: WhileFull = 'wait'): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const upTo = this.appended;
    if (upTo <= this.saved) return Promise.resolve();
    if (this.noSpace && upTo > this.savable()) {
      if (whileFull === 'refuse') return Promise.reject(this.noSpace);
      if (whileFull === 'read') return Promise.resolve();
    }
    // Without space, changes may be saved apart: each waits for its own.
    return this.waiters.wait(upTo, whileFull, this.noSpace ? NaN : this.writesStarted);
  }

  roomError(): Error | undefined {
    if (this.failure) return this.failure;
    if (!this.noSpace) return undefined;
    const log = this.log;
    return !log || log.size - log.offset - this.queuedBytes < Math.min(RESERVE, log.size / 8) ? this.noSpace : undefined;
  }

  /** Mutations that will be on disk without any new space: those saved, and the queued ones that fit in the log. */
  private savable(): number {
    return this.saved + (this.log ? this.framesThatFit(this.log).count : 0);
  }

  private framesThatFit(log: OpenLog): {count: number; bytes: number} {
    let count = 0;
    let bytes = 0;
    while (count < this.queue.length && log.offset + bytes + this.queue[count]!.length <= log.size) bytes += this.queue[count++]!.length;
    return {count, bytes};
  }

  private async run(): Promise<void> {
    try {
      while (!this.failure && (await this.step())) {
        if (this.noSpace && this.log && !this.wantGeneration) this.leaveNoSpace();
      }
    } catch (error) {
      if (isNoSpace(error)) await this.enterNoSpace();
      else this.fail(error as Error);
    }
  }

  /** One step of the work due; false when none is left (or it waits for a retry). */
  private async step(): Promise<boolean> {
    const log = this.log;
    // Checked at every step: under a steady stream of changes the queue is never empty.
    if (log && log.size - log.offset < log.size / 4) this.wantGeneration = true;
    const backingOff = this.retryTimer !== undefined || this.closed;
    const compact = this.wantGeneration && !backingOff;
    // A new generation covers what is queued; while there was no space for one, what fits goes in the log first.
    if (compact && !this.noSpace) {
      await this.writeSnapshot();
      return true;
    }
    const fit = log ? this.framesThatFit(log) : {count: 0, bytes: 0};
    if (log && fit.count > 0) {
      await this.writeFrames(log, fit.count, fit.bytes);
      return true;
    }
    if (compact) {
      await this.writeSnapshot();
      return true;
    }
    if (backingOff) return false;
    if (!log) {
      await this.prepareLog();
      return true;
    }
    if (this.queue.length > 0) {
      this.wantGeneration = true;
      return true;
    }
    return false;
  }

  private async writeFrames(log: OpenLog, count: number, bytes: number): Promise<void> {
    const batch = count === 1 ? this.queue[0]! : Buffer.concat(this.queue.slice(0, count), bytes);
    this.attempt = {file: this.paths.log, bytes};
    this.writesStarted++;
    await writeAt(log.fd, batch, log.offset);
    // Appends made during the write are behind these in the queue.
    this.queue.splice(0, count);
    this.queuedBytes -= bytes;
    log.offset += bytes;
    this.saved += count;
    this.stats.writes++;
    this.waiters.saved(this.saved);
  }

  /** A new generation: the snapshot covers everything applied so far, queued mutations included. */
  private async writeSnapshot(): Promise<void> {
    const state = this.source();
    const covered = {count: this.queue.length, bytes: this.queuedBytes, upTo: this.appended};
    this.writesStarted++;
    const gen = this.gen + 1;
    const snapshot = encodeFrame({v: 1, gen, ...this.identity, ...state} satisfies SnapshotRecord);
    this.snapshotBytes = snapshot.length;
    this.attempt = {file: this.paths.snapshot, bytes: snapshot.length};
    await replaceDurably(this.paths.snapshot, snapshot);
    this.gen = gen;
    this.wantGeneration = false;
    this.stats.compactions++;
    this.queue.splice(0, covered.count);
    this.queuedBytes -= covered.bytes;
    this.saved = covered.upTo;
    this.waiters.saved(this.saved);
    if (this.log) {
      this.reusable = {fd: this.log.fd, size: this.log.size, used: this.log.offset};
      this.log = undefined;
    }
    this.options.logger.debug('IPAM data compacted', {component: 'ipam', gen, snapshotBytes: snapshot.length});
  }

  /** The log of the current generation: the old file cleared in place, else a new one. */
  private async prepareLog(): Promise<void> {
    const wanted = alignUp(Math.max(this.options.minLogBytes ?? MIN_LOG_BYTES, 2 * this.snapshotBytes, 2 * HEAD));
    const header = (size: number) => encodeFrame({v: 1, gen: this.gen, ...this.identity, size} satisfies Header);
    const old = this.reusable;
    this.attempt = {file: this.paths.log, bytes: wanted};
    if (old) {
      // Whole pages, also for a file a crash left partly grown.
      const size = await this.grow(old.size, Math.max(wanted, alignUp(old.size)));
      // The old records first: until the header changes, the file is of an older generation than the snapshot.
      if (old.used > HEAD) await zeroRange(this.paths.log, HEAD, old.used);
      const head = Buffer.alloc(HEAD);
      header(size).copy(head);
      await writeAt(old.fd, head, 0);
      this.log = {fd: old.fd, size, offset: header(size).length};
      this.reusable = undefined;
      return;
    }
    const size = await this.sizeForNewLog(wanted);
    const first = header(size);
    this.attempt.bytes = size;
    await replaceDurably(this.paths.log, first, size - first.length);
    const fd = await openAsync(this.paths.log, constants.O_RDWR | constants.O_DSYNC);
    this.log = {fd, size, offset: first.length};
  }

  /** The log's size after growing it towards `wanted`, as far as space allows. */
  private async grow(size: number, wanted: number): Promise<number> {
    if (size >= wanted) return size;
    try {
      await extendWithZeros(this.paths.log, size, wanted);
      return wanted;
    } catch (error) {
      if (!isNoSpace(error)) throw error;
      if (!this.warnedGrowth) this.options.logger.warning(`No space to grow ${this.paths.log} from ${formatBytes(size)} to ${formatBytes(wanted)}: it stays as it is, and is compacted more often`, {component: 'ipam'});
      this.warnedGrowth = true;
      return size;
    }
  }

  /** `wanted`, or less when space is short: the next snapshot must still fit beside the current one. */
  private async sizeForNewLog(wanted: number): Promise<number> {
    const free = await freeBytes(this.dir).catch(() => Infinity);
    const spare = free - 2 * this.snapshotBytes;
    if (spare >= wanted) return wanted;
    const size = Math.max(Math.min(SMALLEST_LOG, wanted), Math.floor(spare / 2 / LOG_ALIGN) * LOG_ALIGN);
    if (size < wanted) {
      this.options.logger.warning(`Only ${formatBytes(free)} free in ${this.dir}: ${this.paths.log} is made ${formatBytes(size)} instead of ${formatBytes(wanted)}, and grows when space allows`, {component: 'ipam'});
    }
    return size;
  }

  private async enterNoSpace(): Promise<void> {
    const free = await freeBytes(this.dir).catch(() => undefined);
    const first = !this.noSpace;
    this.noSpace = new IpamStoreFullError(
      `IPAM data cannot be saved: no space for ${this.attempt.file} (${formatBytes(this.attempt.bytes)} needed in ${this.dir}` +
        `${free === undefined ? '' : `, ${formatBytes(free)} free`}); changes are refused until space is freed there, and the router saves by itself then`,
    );
    if (first) this.options.logger.error(this.noSpace.message, {component: 'ipam'});
    this.waiters.noSpace(this.savable(), this.noSpace);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.kick();
    }, this.retryMs);
    this.retryTimer.unref();
    this.retryMs = Math.min(2 * this.retryMs, MAX_RETRY_MS);
  }

  private leaveNoSpace(): void {
    this.noSpace = undefined;
    this.retryMs = RETRY_MS;
    this.options.logger.info(`IPAM data saved again in ${this.dir}: space was freed`, {component: 'ipam'});
  }

  private fail(error: Error): void {
    this.failure = new IpamStoreError(`IPAM data could not be saved under ${this.attempt.file || this.paths.log}: ${error.message}; restart the router`);
    this.options.logger.error(this.failure.message, {component: 'ipam'});
    this.waiters.fail(this.failure);
    this.queue = [];
    this.queuedBytes = 0;
  }

  async close(): Promise<void> {
    await this.durable('read').catch(() => undefined);
    this.closed = true;
    clearTimeout(this.retryTimer);
    while (this.loop || this.scheduled) await (this.loop ?? new Promise(resolve => setImmediate(resolve)));
    const unsaved = this.appended - this.saved;
    if (unsaved > 0 && !this.failure) this.options.logger.warning(`${unsaved} IPAM changes were not saved: ${this.noSpace?.message ?? 'closed first'}`, {component: 'ipam'});
    for (const fd of [this.log?.fd, this.reusable?.fd]) if (fd !== undefined) await closeFd(fd);
    this.log = undefined;
    this.reusable = undefined;
  }
}
