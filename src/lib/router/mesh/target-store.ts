import {createHash} from 'node:crypto';
import {mkdir, readFile, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {dirname, join, resolve} from 'node:path';
import {writeFileIfChanged} from '../../setup/atomic.js';
import type {Logger} from '../log.js';

/** What the router connects to, kept across restarts. */
export interface SavedTargets {
  /** As the operator gave them (launch arguments, `connect`, `forget`). */
  targets: string[];
  /** Addresses learnt from other peers, dialled again by `--resume`. */
  discovered: string[];
}

/**
 * How long discovered peers wait to be saved: they churn while a mesh forms, and each save syncs
 * the disk (20 simulated hosts share one, where the IPAM ring is being written at the same time).
 */
const SAVE_SOON_MS = 10_000;

function isSavedTargets(value: unknown): value is SavedTargets {
  const v = value as SavedTargets;
  const strings = (a: unknown) => Array.isArray(a) && a.every(s => typeof s === 'string');
  return typeof v === 'object' && v !== null && strings(v.targets) && strings(v.discovered);
}

/**
 * `<db-prefix>peers.json`, replaced atomically on every change (written whole, synced, renamed),
 * so a crash leaves the old list or the new one. Saves run one at a time, in order.
 */
export class TargetStore {
  readonly path: string;
  private chain: Promise<void> = Promise.resolve();
  private soon?: NodeJS.Timeout;

  constructor(
    readonly dbPrefix: string,
    private readonly log: Logger,
  ) {
    this.path = `${dbPrefix}peers.json`;
  }

  async load(): Promise<SavedTargets | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new Error(`cannot read the saved peer list ${this.path}: ${(error as Error).message}`);
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
    if (!isSavedTargets(value)) {
      this.log.warning('ignoring a saved peer list that does not parse', {path: this.path});
      return undefined;
    }
    return value;
  }

  /** Resolves once this list (or a later one) is on disk. */
  save(saved: SavedTargets): Promise<void> {
    clearTimeout(this.soon);
    this.soon = undefined;
    const content = `${JSON.stringify(saved)}\n`;
    this.chain = this.chain.then(async () => {
      try {
        await mkdir(dirname(this.path), {recursive: true});
        await writeFileIfChanged(this.path, content, 0o600);
      } catch (error) {
        this.log.error('cannot save the peer list', {path: this.path, error: (error as Error).message});
      }
    });
    return this.chain;
  }

  /** Saves `current()` in a while: discovered peers churn as a mesh forms, and need not be saved at every step. */
  saveSoon(current: () => SavedTargets): void {
    this.soon ??= setTimeout(() => void this.save(current()), SAVE_SOON_MS);
  }

  /** On the way out: a save still waiting is done now, and every save is on disk. */
  async flush(current: SavedTargets): Promise<void> {
    if (this.soon) await this.save(current);
    await this.chain;
  }

  /**
   * Marks this router as started, as the original's restart.sentinel in the container: a start
   * that finds it is a restart (crash, `docker restart`) and keeps the saved targets; a new
   * container (a fresh `weave launch`) starts without it and takes its arguments. Kept in the
   * temp directory, which a container does not share, under a name derived from the db prefix.
   */
  get sentinel(): string {
    return join(tmpdir(), `weave-restart-${createHash('sha256').update(resolve(this.dbPrefix)).digest('hex').slice(0, 16)}`);
  }

  async isRestart(): Promise<boolean> {
    try {
      await readFile(this.sentinel);
      return true;
    } catch {
      return false;
    }
  }

  markStarted(): Promise<void> {
    return writeFile(this.sentinel, '');
  }
}

/** The targets to start with: the saved ones on a restart or with --resume, else the arguments. */
export async function initialTargets(store: TargetStore, resume: boolean, peers: string[], log: Logger): Promise<SavedTargets> {
  if (resume || (await store.isRestart())) {
    const saved = await store.load();
    if (saved) {
      log.info('restart/resume detected: using the saved peer list', {targets: saved.targets, discovered: saved.discovered});
      return saved;
    }
  }
  log.info('launch detected: using the peers given', {targets: peers});
  return {targets: peers, discovered: []};
}
