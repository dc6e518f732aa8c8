import {stat} from 'node:fs/promises';
import {resolve} from 'node:path';
import {fsFailure, SetupError} from './errors.js';
import {shellWord} from './shell-quote.js';

/** Where container runtimes look for CNI plugins and network configs unless told otherwise. */
export const DEFAULT_CNI_BIN_DIR = '/opt/cni/bin';
export const DEFAULT_CNI_CONF_DIR = '/etc/cni/net.d';

export interface CniDirs {
  binDir: string;
  confDir: string;
}

export interface CniDirOptions {
  binDir?: string;
  confDir?: string;
}

/** Flag beats environment beats default; WEAVE_CNI_PLUGIN_DIR is the original weave's name for the bin dir. */
export function resolveCniDirs(options: CniDirOptions, env: Record<string, string | undefined>): CniDirs {
  return {
    binDir: resolve(options.binDir || env.WEAVE_CNI_PLUGIN_DIR || DEFAULT_CNI_BIN_DIR),
    confDir: resolve(options.confDir || env.WEAVE_CNI_CONF_DIR || DEFAULT_CNI_CONF_DIR),
  };
}

/**
 * The directories that do not exist. They are never created: a runtime that does not look there
 * would never see the plugin, so creating them is the operator's informed choice.
 */
export async function missingDirs(dirs: CniDirs): Promise<string[]> {
  const missing: string[] = [];
  for (const dir of new Set([dirs.binDir, dirs.confDir])) {
    let isDirectory: boolean;
    try {
      isDirectory = (await stat(dir)).isDirectory();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw fsFailure(error, dir, 'examine');
      missing.push(dir);
      continue;
    }
    if (!isDirectory) throw new SetupError(`${dir} is not a directory: remove it, or choose another with --cni-bin-dir / --cni-conf-dir`);
  }
  return missing;
}

/** The command that creates the missing directories, ready to paste. */
export function mkdirCommand(missing: readonly string[]): string {
  return ['mkdir', '-p', ...missing.map(shellWord)].join(' ');
}
