import {existsSync, readFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';

const WHERE = join('shared', 'fixtures', 'weave-2.8.1');

/**
 * A file weave 2.8.1 itself produced (its README there says how), from the `shared/` folder
 * beside the checkout (or beside a folder above it, for a worktree); fails when none is found.
 */
export function originalFixture(name: string): string {
  let dir = dirname(fileURLToPath(new URL('../..', import.meta.url)));
  for (;;) {
    const path = join(dir, WHERE, name);
    if (existsSync(path)) return readFileSync(path, 'utf8');
    if (dirname(dir) === dir) throw new Error(`${join(WHERE, name)} not found beside the checkout or above it: the recorded answers of weave 2.8.1 belong there`);
    dir = dirname(dir);
  }
}
