import {stat} from 'node:fs/promises';

/**
 * Whether `path` is the network namespace this process runs in. Compared by nsfs inode,
 * never through pid 1, whose namespace link may not be readable.
 */
export async function isOwnNetns(path: string): Promise<boolean> {
  const [theirs, ours] = await Promise.all([stat(path), stat('/proc/self/ns/net')]);
  return theirs.ino === ours.ino && theirs.dev === ours.dev;
}

export async function netnsExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
