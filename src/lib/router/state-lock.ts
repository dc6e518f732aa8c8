import {close, constants, open, readlinkSync, write} from 'node:fs';
import {mkdir, readFile} from 'node:fs/promises';
import {dirname} from 'node:path';
import {promisify} from 'node:util';
import {requireAddon} from '../addon.js';
import {CommandError, run} from '../net/exec.js';

const openAsync = promisify(open);
const closeAsync = promisify(close);
const writeAsync = promisify(write);

/** The exit code `flock` is told to give when another process holds the lock. */
const HELD = 75;
/** The holder's line is padded to this size, covering the last holder's (the first line is read). */
const HOLDER_BYTES = 256;

/** flock(2) on `fd`, without waiting: true once taken, false when another open file holds it. */
export type Flock = (fd: number) => Promise<boolean>;

/** util-linux `flock`, run once on our open file (its fd 3): a process, where the addon is missing. */
export const flockByCommand: Flock = async fd => {
  try {
    await run('flock', ['--exclusive', '--nonblock', '--conflict-exit-code', String(HELD), '3'], {fd3: fd});
    return true;
  } catch (error) {
    if (error instanceof CommandError && error.exitCode === HELD) return false;
    throw error;
  }
};

/** The addon's flock (native/lock.c), which spares each start a process (~10 ms of CPU); else the command. */
export function flockOf(): Flock {
  let addon: {flock?: (fd: number) => boolean};
  try {
    addon = requireAddon() as typeof addon;
  } catch {
    return flockByCommand;
  }
  const {flock} = addon;
  return typeof flock === 'function' ? async fd => flock(fd) : flockByCommand;
}

/** Who holds the lock, as the holder wrote it in the lock file. */
interface Holder {
  pid: number;
  nickname: string;
  started: string;
  /** The holder's pid namespace (`pid:[4026531836]`): its pid means nothing in another one. */
  pidNamespace?: string;
}

function ownPidNamespace(): string | undefined {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return undefined;
  }
}

/** A second router over the same --db-prefix: refused, naming the one that holds it. */
export class StateLockedError extends Error {
  constructor(prefix: string, path: string, holder: Holder | undefined) {
    const who = holder
      ? `pid ${holder.pid}${holder.pidNamespace && holder.pidNamespace !== ownPidNamespace() ? ` (in another pid namespace, ${holder.pidNamespace})` : ''}, nickname ${holder.nickname}, running since ${holder.started}`
      : 'a router that is starting';
    super(
      `another router uses the state under --db-prefix ${prefix}: ${path} is locked by ${who}. ` +
        'Two routers over the same data would hand out the same addresses: stop that one first, or give this one another --db-prefix.',
    );
    this.name = 'StateLockedError';
  }
}

async function readHolder(path: string): Promise<Holder | undefined> {
  try {
    const holder = JSON.parse((await readFile(path, 'utf8')).split('\n')[0]!) as Holder;
    return Number.isInteger(holder.pid) ? holder : undefined;
  } catch {
    return undefined;
  }
}

/**
 * An exclusive lock on the router's state, `<db-prefix>router.lock`, so that a second router over
 * the same files refuses to start. Node has no flock(2): the router's addon takes it, or util-linux
 * `flock` run once on our open file. The lock belongs to that open file, which only this
 * process keeps, so the kernel drops it when the router ends, even by SIGKILL: a stale lock never
 * blocks a restart. A file system lock holds across network and pid namespaces (routers in
 * containers sharing a volume), where an abstract socket or a pid file would not.
 */
export class StateLock {
  // A plain descriptor, not a FileHandle: garbage collection would close that, and drop the lock.
  private constructor(private readonly fd: number) {}

  static async acquire(prefix: string, nickname: string, flock: Flock = flockOf()): Promise<StateLock> {
    const path = `${prefix}router.lock`;
    await mkdir(dirname(path), {recursive: true});
    const fd = await openAsync(path, constants.O_RDWR | constants.O_CREAT, 0o600);
    let taken: boolean;
    try {
      taken = await flock(fd);
    } catch (error) {
      await closeAsync(fd);
      throw new Error(`cannot lock the router's state ${path}: ${(error as Error).message}`);
    }
    if (!taken) {
      await closeAsync(fd);
      throw new StateLockedError(prefix, path, await readHolder(path));
    }
    // Who holds it, for the refusal: written over the last holder's in place, so that a full
    // disk (the page is kept) cannot stop a restart; the lock itself is what matters.
    const holder: Holder = {pid: process.pid, nickname, started: new Date().toISOString(), pidNamespace: ownPidNamespace()};
    await writeAsync(fd, `${JSON.stringify(holder)}\n`.padEnd(HOLDER_BYTES), 0).catch(() => undefined);
    return new StateLock(fd);
  }

  async release(): Promise<void> {
    await closeAsync(this.fd);
  }
}
