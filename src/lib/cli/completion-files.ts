import {join} from 'node:path';
import {PACKAGE_ROOT} from '../package.js';

/** Where the generated scripts are committed and shipped (package.json "files"). */
export const COMPLETIONS_DIR = join(PACKAGE_ROOT, 'completions');

/** The file each shell expects for a command `bin`: bin.bash, _bin (zsh's #compdef convention), bin.fish. */
export const SHELLS = {
  bash: (bin: string) => `${bin}.bash`,
  zsh: (bin: string) => `_${bin}`,
  fish: (bin: string) => `${bin}.fish`,
} as const;
