import {mkdir, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {bashCompletion} from './bash.js';
import {type CompletionTree} from './command-tree.js';
import {COMPLETIONS_DIR, SHELLS} from '../../src/lib/cli/completion-files.js';
import {fishCompletion} from './fish.js';
import {zshCompletion} from './zsh.js';

export interface CompletionScript {
  shell: keyof typeof SHELLS;
  /** The name the shell expects (SHELLS). */
  file: string;
  text: string;
}

export function completionScripts(tree: CompletionTree): CompletionScript[] {
  return [
    {shell: 'bash', file: SHELLS.bash(tree.bin), text: bashCompletion(tree)},
    {shell: 'zsh', file: SHELLS.zsh(tree.bin), text: zshCompletion(tree)},
    {shell: 'fish', file: SHELLS.fish(tree.bin), text: fishCompletion(tree)},
  ];
}

/** Writes the three scripts into dir and returns their paths. */
export async function writeCompletions(tree: CompletionTree, dir: string = COMPLETIONS_DIR): Promise<string[]> {
  await mkdir(dir, {recursive: true});
  return Promise.all(
    completionScripts(tree).map(async ({file, text}) => {
      await writeFile(join(dir, file), text);
      return join(dir, file);
    }),
  );
}
