import {randomBytes} from 'node:crypto';
import {link, lstat, open, readFile, readlink, rename, rm, symlink, unlink} from 'node:fs/promises';
import {basename, dirname, join} from 'node:path';
import {SetupError} from './errors.js';

/**
 * Whole-file replacement for directories that runtimes read while we write: a reader sees the
 * old file or the new one, never half of either. Temporary names end in .tmp, an extension no
 * CNI runtime loads.
 */

function tempPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

async function writeTemp(path: string, content: string, mode: number): Promise<string> {
  const temp = tempPath(path);
  const file = await open(temp, 'wx', mode);
  try {
    await file.writeFile(content);
    // The umask may have narrowed the mode given to open().
    await file.chmod(mode);
    await file.sync();
  } catch (error) {
    await file.close();
    await rm(temp, {force: true});
    throw error;
  }
  await file.close();
  return temp;
}

async function lstatOrUndefined(path: string) {
  try {
    return await lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Writes `content` with `mode` unless the file already holds exactly that; says what it did. */
export async function writeFileIfChanged(path: string, content: string, mode: number): Promise<'created' | 'updated' | 'unchanged'> {
  const existing = await lstatOrUndefined(path);
  if (existing?.isFile() && (existing.mode & 0o7777) === mode && (await readFile(path, 'utf8')) === content) return 'unchanged';
  const temp = await writeTemp(path, content, mode);
  try {
    await rename(temp, path);
  } catch (error) {
    await rm(temp, {force: true});
    throw error;
  }
  return existing ? 'updated' : 'created';
}

/** Creates the file only if nothing stands at `path`: link(2) of a complete temp file never overwrites. */
export async function createExclusive(path: string, content: string, mode: number): Promise<boolean> {
  // Checked first so a run with nothing to do leaves the directory, which runtimes watch, untouched.
  if (await lstatOrUndefined(path)) return false;
  const temp = await writeTemp(path, content, mode);
  try {
    await link(temp, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await rm(temp, {force: true});
  }
}

/** What stood where a link was made: nothing, a regular file, or a link to another target. */
export type Replaced = {kind: 'none'} | {kind: 'file'} | {kind: 'link'; target: string};

/**
 * Points `path` at `target` (a relative link) through `<path>.tmp` and a rename, so the name
 * always resolves; leaves a link that is already right alone. Returns undefined when unchanged.
 */
export async function linkAtomically(path: string, target: string): Promise<Replaced | undefined> {
  const existing = await lstatOrUndefined(path);
  let replaced: Replaced = {kind: 'none'};
  if (existing?.isSymbolicLink()) {
    const current = await readlink(path);
    if (current === target) return undefined;
    replaced = {kind: 'link', target: current};
  } else if (existing?.isDirectory()) {
    throw new SetupError(`${path} is a directory where the link to ${target} belongs: remove it and run again`);
  } else if (existing) {
    replaced = {kind: 'file'};
  }
  const temp = `${path}.tmp`;
  await rm(temp, {force: true});
  await symlink(target, temp);
  try {
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => {});
    throw error;
  }
  return replaced;
}
