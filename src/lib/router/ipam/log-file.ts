import {close, write} from 'node:fs';
import {open as openFile, rename, rm, statfs} from 'node:fs/promises';
import {dirname} from 'node:path';
import {promisify} from 'node:util';
import {ZEROS} from './frames.js';

/** File operations of the IPAM store, each durable when it returns. */

const writeAsync = promisify(write);
export const closeFd = promisify(close);

export async function writeAt(fd: number, buf: Buffer, position: number): Promise<void> {
  for (let done = 0; done < buf.length; ) {
    done += (await writeAsync(fd, buf, done, buf.length - done, position + done)).bytesWritten;
  }
}

async function writeZeros(fd: number, from: number, to: number): Promise<void> {
  for (let at = from; at < to; at += ZEROS.length) await writeAt(fd, ZEROS.subarray(0, Math.min(ZEROS.length, to - at)), at);
}

/**
 * Overwrites [from, to) of `path` with zeros and syncs: blocks already allocated need no new
 * space. Through a descriptor of its own, without O_DSYNC: one sync for megabytes, not one a chunk.
 */
export async function zeroRange(path: string, from: number, to: number): Promise<void> {
  const file = await openFile(path, 'r+');
  try {
    await writeZeros(file.fd, from, to);
    await file.datasync();
  } finally {
    await file.close();
  }
}

/** Grows `path` from `size` to `to` with zeros; on failure (no space) it is cut back, and the error thrown. */
export async function extendWithZeros(path: string, size: number, to: number): Promise<void> {
  const file = await openFile(path, 'r+');
  try {
    await writeZeros(file.fd, size, to);
    await file.datasync();
  } catch (error) {
    await file.truncate(size).catch(() => undefined);
    throw error;
  } finally {
    await file.close();
  }
}

export async function syncDir(dir: string): Promise<void> {
  const handle = await openFile(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes `path` so that after a crash it holds either its old or its whole new content: `head`
 * then `zeros` zero bytes, into a temporary file that replaces it once synced. A failure (no
 * space) removes the temporary file, so it holds no space.
 */
export async function replaceDurably(path: string, head: Buffer, zeroBytes = 0): Promise<void> {
  const tmp = `${path}.tmp`;
  try {
    const file = await openFile(tmp, 'w');
    try {
      await writeAt(file.fd, head, 0);
      await writeZeros(file.fd, head.length, head.length + zeroBytes);
      await file.sync();
    } finally {
      await file.close();
    }
  } catch (error) {
    await rm(tmp, {force: true});
    throw error;
  }
  await rename(tmp, path);
  await syncDir(dirname(path));
}

/** Bytes an unprivileged writer may still use in `dir`'s file system. */
export async function freeBytes(dir: string): Promise<number> {
  const fs = await statfs(dir);
  return fs.bavail * fs.bsize;
}

/** Renames a damaged file out of the way, never deleting it; returns where it is now. */
export async function moveAside(path: string): Promise<string> {
  const aside = `${path}.damaged-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  await rename(path, aside);
  await syncDir(dirname(path));
  return aside;
}
