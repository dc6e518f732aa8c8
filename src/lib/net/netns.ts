import {closeSync, constants, fstatSync, openSync} from 'node:fs';
import {stat, statfs} from 'node:fs/promises';

/** statfs(2)'s f_type of namespace files (linux/magic.h NSFS_MAGIC). */
const NSFS_MAGIC = 0x6e736673;

/**
 * Whether `path` leads to a namespace file, found without opening it (opening a FIFO would
 * block). Throws, with the errno in `code`, when the path cannot be followed.
 */
export async function isNamespaceFile(path: string): Promise<boolean> {
  return (await statfs(path)).type === NSFS_MAGIC;
}

/** `dev:inode` of a file: how two processes tell they see the same namespace. */
export const fileId = (st: {dev: number; ino: number}): string => `${st.dev}:${st.ino}`;

/**
 * Whether `path` is the network namespace this process runs in. Compared by nsfs inode,
 * never through pid 1, whose namespace link may not be readable.
 */
export async function isOwnNetns(path: string): Promise<boolean> {
  const [theirs, ours] = await Promise.all([stat(path), stat('/proc/self/ns/net')]);
  return fileId(theirs) === fileId(ours);
}

/**
 * How a CNI call holds the container's namespace for its whole length: whoever took the call
 * (the cold plugin process, or the launcher's client for the router) opened CNI_NETNS once, and
 * every step enters that open file, so the path cannot change under the call and any path the
 * host can open works, in whatever mount namespace the work is done.
 */
export interface NetnsHandle {
  /** What to enter: /proc/<pid>/fd/<n> of the open namespace. */
  path?: string;
  /** `dev:inode` as the opener saw it (fileId). */
  id?: string;
  /** `<errno> <text>` when the opener could not open CNI_NETNS. */
  error?: string;
}

/**
 * Opens `path` for the rest of this process's life, as the launcher's client does.
 * O_NONBLOCK: a FIFO given as a namespace opens at once instead of waiting for a writer.
 */
export function holdNetns(path: string): NetnsHandle {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    const {errno, message} = error as NodeJS.ErrnoException;
    return {error: `${-(errno ?? 0)} ${message}`};
  }
  try {
    return {path: `/proc/${process.pid}/fd/${fd}`, id: fileId(fstatSync(fd))};
  } catch (error) {
    closeSync(fd);
    return {error: `0 ${(error as Error).message}`};
  }
}
