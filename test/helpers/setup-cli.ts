import {spawnSync} from 'node:child_process';
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';

/** The built CLI entry (npm test builds first). */
export const WEAVE_BIN = fileURLToPath(new URL('../../bin/weave.js', import.meta.url));

export interface CliRun {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** Variables that steer `weave setup`; dropped from the inherited environment so the host's never leak in. */
const SETUP_VARS = ['WEAVE_CNI_PLUGIN_DIR', 'WEAVE_CNI_CONF_DIR', 'HAIRPIN_MODE'];

/** Runs `weave <args>` as a user would, with `env` laid over a clean copy of ours. */
export function runWeave(args: string[], env: Record<string, string> = {}): CliRun {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !SETUP_VARS.includes(k)));
  const out = spawnSync(process.execPath, [WEAVE_BIN, ...args], {env: {...base, ...env}, encoding: 'utf8'});
  if (out.error) throw out.error;
  return {stdout: out.stdout, stderr: out.stderr, exitCode: out.status ?? -1};
}

/** oclif wraps error text and prefixes each line with ›; joined back, a message can be matched whole. */
export function unwrapOclif(text: string): string {
  return text.replace(/\s*\n\s*›\s*/g, ' ').replace(/^\s*›\s*/, '').trim();
}

/** A scratch root with bin/ and conf/ paths under it (not created). */
export class CniScratch {
  readonly root = mkdtempSync(join(tmpdir(), 'weave-setup-'));
  readonly binDir = join(this.root, 'bin');
  readonly confDir = join(this.root, 'conf');

  /** The flags naming this scratch's directories. */
  get flags(): string[] {
    return ['--cni-bin-dir', this.binDir, '--cni-conf-dir', this.confDir];
  }

  remove(): void {
    rmSync(this.root, {recursive: true, force: true});
  }
}
