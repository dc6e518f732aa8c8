import {constants, readlinkSync} from 'node:fs';
import {type FileHandle, mkdir, open, readFile} from 'node:fs/promises';
import {dirname} from 'node:path';
import {CommandError, run} from '../net/exec.js';

/** The exit code `flock` is told to give when another process holds the lock. */
const HELD = 75;

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
    const holder = JSON.parse(await readFile(path, 'utf8')) as Holder;
    return Number.isInteger(holder.pid) ? holder : undefined;
  } catch {
    return undefined;
  }
}

/**
 * An exclusive lock on the router's state, `<db-prefix>router.lock`, so that a second router over
 * the same files refuses to start. Node has no flock(2): util-linux `flock`, run once on our own
 * open file (its fd 3), takes it and exits. The lock belongs to that open file, which only this
 * process keeps, so the kernel drops it when the router ends, even by SIGKILL: a stale lock never
 * blocks a restart. A file system lock holds across network and pid namespaces (routers in
 * containers sharing a volume), where an abstract socket or a pid file would not.
 */
export class StateLock {
  private constructor(private readonly file: FileHandle) {}

  static async acquire(prefix: string, nickname: string): Promise<StateLock> {
    const path = `${prefix}router.lock`;
    await mkdir(dirname(path), {recursive: true});
    const file = await open(path, constants.O_RDWR | constants.O_CREAT, 0o600);
    try {
      await run('flock', ['--exclusive', '--nonblock', '--conflict-exit-code', String(HELD), '3'], {fd3: file.fd});
    } catch (error) {
      await file.close();
      if (error instanceof CommandError && error.exitCode === HELD) throw new StateLockedError(prefix, path, await readHolder(path));
      throw new Error(`cannot lock the router's state ${path}: ${(error as Error).message}`);
    }
    const holder: Holder = {pid: process.pid, nickname, started: new Date().toISOString(), pidNamespace: ownPidNamespace()};
    await file.truncate(0);
    await file.write(`${JSON.stringify(holder)}\n`, 0);
    return new StateLock(file);
  }

  async release(): Promise<void> {
    await this.file.close();
  }
}
