import {execFileSync, spawn} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';

/*
 * Real completion in real shells: each helper loads a generated script into bash, zsh or fish
 * and asks the shell what it would offer for a command line. Only the words come back.
 */

/** What bash offers: COMP_WORDS and COMP_CWORD set as readline would, then the script's function. */
export function bashComplete(script: string, fn: string, words: string[]): string[] {
  const body = 'source "$1"; fn=$2; shift 2; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); "$fn"; printf "%s\\n" "${COMPREPLY[@]}"';
  const out = execFileSync('bash', ['--norc', '--noprofile', '-c', body, 'bash', script, fn, ...words], {encoding: 'utf8'});
  return out.split('\n').filter(Boolean);
}

/** What fish offers for `line` (the cursor at its end), without the descriptions. */
export function fishComplete(script: string, line: string): string[] {
  const out = execFileSync('fish', ['--no-config', '-c', 'source $argv[1]; complete -C $argv[2]', script, line], {encoding: 'utf8'});
  return out.split('\n').filter(Boolean).map((entry) => entry.split('\t')[0]);
}

/** Drives an interactive zsh in a pseudo-terminal: see the script's own comment. */
const ZSH_DRIVER = fileURLToPath(new URL('zsh-complete.zsh', import.meta.url));

/** What zsh offers for each line (the cursor at its end), with the completion functions of `dir` on $fpath. */
export async function zshComplete(dir: string, lines: string[]): Promise<string[][]> {
  const scratch = mkdtempSync(join(tmpdir(), 'weave-zsh-'));
  try {
    const out = join(scratch, 'matches');
    writeFileSync(out, '');
    await new Promise<void>((resolve, reject) => {
      const child = spawn('zsh', ['-f', ZSH_DRIVER, dir, out, ...lines], {stdio: 'ignore'});
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`the zsh completion driver exited ${code}`))));
    });
    const answers = readFileSync(out, 'utf8').split('__done__\n');
    if (answers.length - 1 < lines.length) throw new Error(`zsh did not finish completing '${lines[answers.length - 1]}' within 10 s`);
    return answers.slice(0, lines.length).map((answer) => answer.split('\n').filter(Boolean));
  } finally {
    rmSync(scratch, {recursive: true, force: true});
  }
}
