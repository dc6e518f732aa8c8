import {readFile, rm} from 'node:fs/promises';
import type {Logger} from '../log.js';
import {decodeFrames} from './frames.js';
import {moveAside} from './log-file.js';
import type {Mutation, PersistedState} from './records.js';
import {IpamStoreDamageError, IpamStoreError} from './store-errors.js';

export interface StoreIdentity {
  peer: string;
  range: string;
}

/** The first record of the log, and the snapshot's fields besides the state. */
export interface Header extends StoreIdentity {
  v: 1;
  gen: number;
  /** The log's size when it was started (absent before issue 12): a shorter file was cut. */
  size?: number;
}

export type SnapshotRecord = Header & PersistedState;

/** Every log is made a whole number of these bytes long. */
export const LOG_ALIGN = 4096;

export function storePaths(prefix: string): {snapshot: string; log: string} {
  return {snapshot: `${prefix}data.snap`, log: `${prefix}data.log`};
}

/** The log file found at start, and how the store goes on with it. */
export type LogOnDisk =
  /** Ours and whole: appends go at `end`, once a torn record in [end, used) is cleared. */
  | {kind: 'append'; end: number; used: number; size: number}
  /** A file to clear ([0, used)) and start again in place: of an older generation, or with no record yet. */
  | {kind: 'reuse'; used: number; size: number}
  | {kind: 'none'};

/** What was found on disk: the newest generation, its state and the mutations logged after it. */
export interface DiskState {
  gen: number;
  state?: PersistedState;
  mutations: Mutation[];
  log: LogOnDisk;
  /** A new generation must be written before anything is logged: a first run, another peer's data, a recovery. */
  fresh: boolean;
}

export interface ReadOptions {
  logger: Logger;
  /** --ipam-recover: on damage, keep what precedes it and move the damaged files aside. */
  recover?: boolean;
}

async function readIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new IpamStoreError(`cannot read IPAM data ${path}: ${(error as Error).message}`);
  }
}

function isHeader(value: unknown): value is Header {
  const h = value as Header | undefined;
  return h?.v === 1 && Number.isInteger(h.gen) && typeof h.peer === 'string' && typeof h.range === 'string';
}

function isSnapshot(value: unknown): value is SnapshotRecord {
  const s = value as SnapshotRecord;
  return isHeader(value) && Array.isArray(s.owned) && Array.isArray(s.ring);
}

/**
 * The peer name the persisted data belongs to, or undefined when there is none to read (damage is
 * readStore's to report): the router keeps that name whatever its bridge says.
 */
export async function persistedPeer(prefix: string): Promise<string | undefined> {
  const bytes = await readIfExists(storePaths(prefix).snapshot);
  const snapshot = bytes && decodeFrames(bytes).values[0];
  return isHeader(snapshot) ? snapshot.peer : undefined;
}

interface Damage {
  file: string;
  offset: number;
  reason: string;
  /** What recovery keeps, in words. */
  kept: string;
  /** The files recovery moves aside. */
  aside: string[];
  /** The state recovery starts from. */
  keep: Pick<DiskState, 'gen' | 'state' | 'mutations'>;
}

/**
 * Damage stops the start, naming the file, the offset and the way out; with --ipam-recover the
 * router starts from what precedes it (reclaim then claims back the addresses of running pods)
 * and the damaged files are kept under another name.
 */
async function damaged(d: Damage, {logger, recover}: ReadOptions): Promise<DiskState> {
  const where = `IPAM data ${d.file} is damaged at byte ${d.offset}: ${d.reason}`;
  if (!recover) {
    throw new IpamStoreDamageError(
      `${where}. The router does not start over it: what was recorded after that point would be lost and its addresses handed out again. ` +
        `To start with ${d.kept}, start the router once with --ipam-recover: it moves ${d.aside.join(' and ')} aside (kept, never deleted), ` +
        'and the addresses of pods still running are claimed back when the router starts.',
    );
  }
  const moved: string[] = [];
  for (const file of d.aside) {
    try {
      moved.push(await moveAside(file));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new IpamStoreError(`cannot move damaged IPAM data ${file} aside: ${(error as Error).message}`);
    }
  }
  logger.warning(`Recovering from damaged IPAM data: ${where}; starting with ${d.kept}; the damaged data is kept as ${moved.join(' and ')}`, {component: 'ipam'});
  return {...d.keep, log: {kind: 'none'}, fresh: true};
}

/**
 * Loads the newest generation. Data of another peer or range is discarded with a log line, as
 * the original; a torn last record (a write never acknowledged) is dropped with a log line; any
 * other damage stops the start (see damaged()).
 */
export async function readStore(prefix: string, identity: StoreIdentity, options: ReadOptions): Promise<DiskState> {
  const {logger} = options;
  const paths = storePaths(prefix);
  // Left by a crash while a new file was written: never needed, and it holds space.
  await Promise.all([rm(`${paths.snapshot}.tmp`, {force: true}), rm(`${paths.log}.tmp`, {force: true})]);
  const snapshotBytes = await readIfExists(paths.snapshot);
  const logBytes = await readIfExists(paths.log);
  const reuse = (bytes: Buffer | undefined, used: number): LogOnDisk => (bytes ? {kind: 'reuse', used, size: bytes.length} : {kind: 'none'});
  const log = logBytes ? decodeFrames(logBytes) : undefined;
  // A new generation must be newer than any log still on disk.
  const logGen = isHeader(log?.values[0]) ? log.values[0].gen : 0;
  const empty = {gen: 0, mutations: []};

  if (!snapshotBytes) {
    if (log && (log.values.length > 1 || log.tail !== 'clean')) {
      return damaged({file: paths.log, offset: 0, reason: `its snapshot ${paths.snapshot} is missing`, kept: 'no allocations', aside: [paths.log], keep: empty}, options);
    }
    logger.info('No valid persisted data', {component: 'ipam'});
    return {gen: logGen, mutations: [], log: reuse(logBytes, log?.used ?? 0), fresh: true};
  }
  const snap = decodeFrames(snapshotBytes);
  const snapshot = snap.values[0];
  if (!isSnapshot(snapshot) || snap.values.length !== 1 || snap.end !== snapshotBytes.length) {
    const reason = snap.reason ?? (snap.values.length === 0 ? 'no whole record' : 'not one IPAM snapshot');
    return damaged({file: paths.snapshot, offset: snap.end, reason, kept: 'no allocations', aside: [paths.snapshot, paths.log], keep: empty}, options);
  }
  if (snapshot.peer !== identity.peer || snapshot.range !== identity.range) {
    logger.info(
      snapshot.peer !== identity.peer ? `Deleting persisted data for peername ${snapshot.peer}` : `Deleting persisted data for IPAM range ${snapshot.range}; our range is ${identity.range}`,
      {component: 'ipam'},
    );
    return {gen: Math.max(snapshot.gen, logGen), mutations: [], log: reuse(logBytes, log?.used ?? 0), fresh: true};
  }
  const state: PersistedState = {ring: snapshot.ring, ...(snapshot.seeds ? {seeds: snapshot.seeds} : {}), owned: snapshot.owned};
  const fromSnapshot = {gen: snapshot.gen, state, mutations: []};
  const loaded = (mutations: Mutation[], onDisk: LogOnDisk): DiskState => {
    logger.info('Initialising with persisted data', {component: 'ipam', allocations: snapshot.owned.length, logged: mutations.length});
    return {...fromSnapshot, mutations, log: onDisk, fresh: false};
  };
  if (!logBytes || !log) return loaded([], {kind: 'none'});

  const header = log.values[0];
  if (!isHeader(header)) {
    // Zeros, or a header cut short: a crash while the log was started again, before any record
    // (unless the file was cut, which could have taken the records with the header).
    if (log.values.length === 0 && log.tail !== 'damaged' && logBytes.length % LOG_ALIGN === 0) return loaded([], reuse(logBytes, log.used));
    const reason =
      log.values.length > 0 ? 'its header is not an IPAM log header' : log.tail === 'damaged' ? `its header cannot be read (${log.reason})` : `its header is cut short, and the file (${logBytes.length} bytes) with it`;
    return damaged({file: paths.log, offset: 0, reason, kept: 'the snapshot alone', aside: [paths.log], keep: fromSnapshot}, options);
  }
  // A crash while compacting, after the snapshot: it holds everything this log does.
  if (header.gen < snapshot.gen) return loaded([], reuse(logBytes, log.used));
  if (header.gen !== snapshot.gen || header.peer !== snapshot.peer || header.range !== snapshot.range) {
    const reason = `its header names generation ${header.gen} of peer ${header.peer} and range ${header.range}, the snapshot ${snapshot.gen} of ${snapshot.peer} and ${snapshot.range}`;
    return damaged({file: paths.log, offset: 0, reason, kept: 'the snapshot alone', aside: [paths.log], keep: fromSnapshot}, options);
  }
  const mutations = log.values.slice(1) as Mutation[];
  const kept = `the snapshot and the ${mutations.length} records before byte ${log.end}`;
  if (header.size !== undefined && logBytes.length < header.size) {
    const reason = `the file ends at byte ${logBytes.length}, short of the ${header.size} bytes it was made with`;
    return damaged({file: paths.log, offset: log.end, reason, kept, aside: [paths.log], keep: {...fromSnapshot, mutations}}, options);
  }
  if (log.tail === 'damaged') {
    return damaged({file: paths.log, offset: log.end, reason: log.reason!, kept, aside: [paths.log], keep: {...fromSnapshot, mutations}}, options);
  }
  if (log.tail === 'torn') {
    logger.warning(`Dropped an unfinished record at the end of ${paths.log} (bytes ${log.end} to ${log.used}): its write never completed, so it was never acknowledged`, {component: 'ipam'});
  }
  return loaded(mutations, {kind: 'append', end: log.end, used: log.used, size: logBytes.length});
}
