import {mkdir, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {PACKAGE_ROOT} from '../../package.js';
import {bashCompletion} from './bash.js';
import {type CompletionTree} from './command-tree.js';
import {fishCompletion} from './fish.js';
import {zshCompletion} from './zsh.js';

/** Where the generated scripts are committed and shipped (package.json "files"). */
export const COMPLETIONS_DIR = join(PACKAGE_ROOT, 'completions');

export interface CompletionScript {
  shell: 'bash' | 'zsh' | 'fish';
  /** The name each shell expects: weave.bash, _weave (zsh's #compdef convention), weave.fish. */
  file: string;
  text: string;
}

export function completionScripts(tree: CompletionTree): CompletionScript[] {
  return [
    {shell: 'bash', file: `${tree.bin}.bash`, text: bashCompletion(tree)},
    {shell: 'zsh', file: `_${tree.bin}`, text: zshCompletion(tree)},
    {shell: 'fish', file: `${tree.bin}.fish`, text: fishCompletion(tree)},
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
