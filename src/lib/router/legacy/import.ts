import {open, readFile, rename, stat} from 'node:fs/promises';
import {dirname} from 'node:path';
import {formatSpan, type Span} from '../ipam/range.js';
import type {PersistedState} from '../ipam/records.js';
import {Ring, RingMergeError} from '../ipam/ring.js';
import type {Logger} from '../log.js';
import {BoltError} from './bolt.js';
import {LegacyFormatError, type LegacyState, readLegacyState} from './state.js';

/**
 * Taking over weave 2.8.1's state at start: `<db-prefix>data.db`, the file the original kept
 * under the same `--db-prefix`, is read once into our store and then moved aside, so that it is
 * never imported twice and never silently ignored:
 *
 * 1. `data.db` is read and checked whole (a file we cannot carry over safely stops the start,
 *    untouched, with a message naming it and what to do);
 * 2. it is renamed `data.db.importing`;
 * 3. the caller writes the state through its store's normal path (a new generation, durable);
 * 4. `data.db.importing` is renamed `data.db.imported`.
 *
 * A crash between 2 and 3 leaves `.importing` and no store of ours: the next start imports it.
 * A crash between 3 and 4 leaves both: the next start only finishes step 4. `data.db` beside a
 * store of ours means the original ran again over the same prefix: we refuse to guess which
 * state is the right one.
 */

export function legacyPaths(prefix: string): {db: string; importing: string; imported: string} {
  const db = `${prefix}data.db`;
  return {db, importing: `${db}.importing`, imported: `${db}.imported`};
}

/** Weave 2.8.1's state cannot be carried over as it is: the message names the file and the steps. */
export class LegacyStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LegacyStateError';
  }
}

export interface LegacyImportOptions {
  prefix: string;
  /** Our IPAM range; undefined when IPAM is off (`--ipalloc-range ""`). */
  universe?: Span;
  ourPeer: string;
  /** A store of ours exists under the prefix (whatever peer or range it is for). */
  haveOwnState: boolean;
  logger: Logger;
}

export interface LegacyImport {
  /** The state to start from; undefined when the file held no ring (the original then starts afresh too). */
  state?: PersistedState;
  /** Moves the file aside; call once the state is durable in our store. */
  done(): Promise<void>;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new LegacyStateError(`cannot look at ${path}: ${(error as Error).message}`);
  }
}

/** A rename that survives a crash once this returns: the directory is synced. */
async function renameDurably(from: string, to: string): Promise<void> {
  await rename(from, to);
  const dir = await open(dirname(to), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

const aside = (path: string, suffix: string) => `mv ${path} ${path}.${suffix}`;

function decode(path: string, bytes: Buffer): LegacyState {
  try {
    return readLegacyState(bytes);
  } catch (error) {
    if (!(error instanceof BoltError || error instanceof LegacyFormatError)) throw error;
    throw new LegacyStateError(
      `cannot read ${path}, weave 2.8.1's state file: ${error.message}. ` +
        `To start without it, move it aside (${aside(path, 'unreadable')}): its allocations and its share of the IP range are then not carried over`,
    );
  }
}

/** Our persisted state from theirs, checked against our name and range; throws LegacyStateError. */
function convert(path: string, legacy: LegacyState, o: LegacyImportOptions): PersistedState | undefined {
  const {ring} = legacy;
  if (!ring) return undefined;
  const allocations = `its ${legacy.owned.length} allocations and its share of the IP range`;
  const startWithout = `or move it aside (${aside(path, 'unused')}) to start without them`;
  if (!o.universe) {
    throw new LegacyStateError(
      `${path}, weave 2.8.1's state, holds an IPAM ring but IPAM is off here (--ipalloc-range ""): start the router with --ipalloc-range ${formatSpan(ring.span)} to carry ${allocations} over, ${startWithout}`,
    );
  }
  if (ring.span.start !== o.universe.start || ring.span.end !== o.universe.end) {
    throw new LegacyStateError(
      `${path}, weave 2.8.1's state, is for the IPAM range ${formatSpan(ring.span)}, but this router's is ${formatSpan(o.universe)}: start it with --ipalloc-range ${formatSpan(ring.span)} to carry ${allocations} over, ${startWithout}`,
    );
  }
  if (legacy.peer !== o.ourPeer) {
    throw new LegacyStateError(
      `${path}, weave 2.8.1's state, belongs to peer ${legacy.peer}, but this router is ${o.ourPeer}: start it with --name ${legacy.peer} ` +
        `(weave 2.8.1 gave that name to the weave bridge's MAC, so keeping its bridge keeps the name) to carry ${allocations} over, ${startWithout}`,
    );
  }
  // Checked as the original checks a ring it receives (sorted, in range, free counts that fit).
  const checked = new Ring(o.universe);
  try {
    checked.merge({...o.universe, tokens: ring.tokens, seeds: ring.seeds}, o.ourPeer, () => false);
  } catch (error) {
    if (!(error instanceof RingMergeError)) throw error;
    throw new LegacyStateError(`cannot carry over ${path}, weave 2.8.1's state: its ring is inconsistent (${error.message}). To start without it, move it aside (${aside(path, 'unreadable')})`);
  }
  const {tokens, seeds} = checked.toRecord();
  return {ring: tokens, seeds, owned: legacy.owned};
}

/**
 * Finds weave 2.8.1's state under the prefix and reads it (steps 1 and 2 above); undefined when
 * there is none. Throws LegacyStateError when it cannot be carried over safely.
 */
export async function importLegacyState(o: LegacyImportOptions): Promise<LegacyImport | undefined> {
  const paths = legacyPaths(o.prefix);
  const finish = async () => {
    await renameDurably(paths.importing, paths.imported);
    o.logger.info(`weave 2.8.1's state file moved aside: ${paths.imported}`, {component: 'ipam'});
  };
  let source: string;
  if (await exists(paths.importing)) {
    if (o.haveOwnState) {
      o.logger.info(`finishing the import of weave 2.8.1's state that a stop interrupted`, {component: 'ipam', file: paths.importing});
      return {done: finish};
    }
    source = paths.importing;
  } else if (await exists(paths.db)) {
    if (o.haveOwnState) {
      throw new LegacyStateError(
        `both ${paths.db} (weave 2.8.1's state) and this router's own state (${o.prefix}data.snap, ${o.prefix}data.log) exist under --db-prefix ${o.prefix}: ` +
          `if ${paths.db} was imported before, move it aside (mv ${paths.db} ${paths.imported}); to import it instead, move ${o.prefix}data.snap and ${o.prefix}data.log aside`,
      );
    }
    source = paths.db;
  } else {
    return undefined;
  }
  let bytes: Buffer;
  try {
    bytes = await readFile(source);
  } catch (error) {
    throw new LegacyStateError(`cannot read ${source}, weave 2.8.1's state file: ${(error as Error).message}`);
  }
  const legacy = decode(source, bytes);
  const state = convert(source, legacy, o);
  if (source === paths.db) {
    try {
      await renameDurably(paths.db, paths.importing);
    } catch (error) {
      throw new LegacyStateError(`cannot move ${paths.db} (weave 2.8.1's state) aside while importing it: ${(error as Error).message}; its directory must be writable`);
    }
  }
  const fields = {component: 'ipam', file: paths.db, peer: legacy.peer, allocations: state?.owned.length ?? 0, tokens: state?.ring.length ?? 0};
  if (state) o.logger.info(`importing weave 2.8.1's state`, fields);
  else o.logger.info(`weave 2.8.1's state holds no IPAM ring: nothing to carry over (the original would start afresh too)`, fields);
  if (legacy.directPeers.length > 0) {
    o.logger.info(`weave 2.8.1's saved peer list is not carried over: the peers given to weave launch are used, as on any launch`, {component: 'ipam', peers: legacy.directPeers});
  }
  return {...(state ? {state} : {}), done: finish};
}
