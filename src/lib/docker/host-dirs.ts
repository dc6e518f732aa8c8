import {chmod, mkdir} from 'node:fs/promises';

/** The warm CNI socket directory, root-only as the router keeps it, before Docker binds it. */
export async function prepareSocketDir(dir: string): Promise<void> {
  await mkdir(dir, {recursive: true, mode: 0o700});
  await chmod(dir, 0o700);
}
