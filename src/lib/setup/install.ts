import {readFile, unlink} from 'node:fs/promises';
import {join} from 'node:path';
import {CNI_ENTRY, VERSION} from '../package.js';
import {createExclusive, linkAtomically, writeFileIfChanged} from './atomic.js';
import {CONFLIST_NAME, hairpinModeFromEnv, LEGACY_CONF_NAME, renderConflist, validateCniVersion} from './conflist.js';
import {missingDirs, resolveCniDirs, type CniDirOptions} from './dirs.js';
import {fsFailure, SetupError} from './errors.js';
import {DEFAULTS} from '../defaults.js';
import {launcherName, launcherScript, PLUGIN_NAMES} from './launcher.js';
import {prerequisiteWarnings} from './prerequisites.js';

export interface SetupOptions extends CniDirOptions {
  /** Write this cniVersion alone instead of the default version list. */
  cniVersion?: string;
  /** Read for WEAVE_CNI_PLUGIN_DIR, WEAVE_CNI_CONF_DIR, HAIRPIN_MODE and PATH. */
  env?: Record<string, string | undefined>;
}

export interface SetupReport {
  binDir: string;
  confDir: string;
  /** Directories that do not exist; when any does, nothing was installed. */
  missing: string[];
  /** One line per change made; empty when everything was already in place. */
  changes: string[];
  /** Host prerequisites missing, each with its fix. */
  warnings: string[];
}

/** Runs one file-system step, turning its failure into a message that names the path. */
async function step<T>(path: string, action: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw error instanceof SetupError ? error : fsFailure(error, path, action);
  }
}

async function removeIfPresent(path: string): Promise<boolean> {
  try {
    await unlink(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/** An existing conflist is never overwritten, so an explicit --cni-version may not take effect. */
async function keptVersionWarning(path: string, wanted: string): Promise<string | undefined> {
  let current: unknown;
  try {
    current = (JSON.parse(await readFile(path, 'utf8')) as {cniVersion?: unknown}).cniVersion;
  } catch {
    current = undefined;
  }
  if (current === wanted) return undefined;
  return `--cni-version ${wanted} not applied: ${path} exists and is never overwritten; edit its "cniVersion", or remove it and run setup again`;
}

/**
 * Installs the weave CNI plugin (setup_cni of the original): the launcher, the weave-net and
 * weave-ipam links, and the conflist when absent. Idempotent: a second run changes nothing.
 */
export async function installCni(options: SetupOptions = {}): Promise<SetupReport> {
  const env = options.env ?? process.env;
  const {binDir, confDir} = resolveCniDirs(options, env);
  // Validate everything before the first change.
  const cniVersion = options.cniVersion === undefined ? undefined : validateCniVersion(options.cniVersion);
  const hairpinMode = hairpinModeFromEnv(env.HAIRPIN_MODE);
  const report: SetupReport = {binDir, confDir, missing: await missingDirs({binDir, confDir}), changes: [], warnings: []};
  if (report.missing.length > 0) return report;

  const name = launcherName(VERSION);
  const launcher = join(binDir, name);
  const script = launcherScript({version: VERSION, node: process.execPath, entry: CNI_ENTRY, socketDir: DEFAULTS.cniSocketDir});
  const written = await step(launcher, 'write', () => writeFileIfChanged(launcher, script, 0o755));
  if (written !== 'unchanged') report.changes.push(`${written === 'created' ? 'installed' : 'updated'} launcher ${launcher}`);

  for (const plugin of PLUGIN_NAMES) {
    const path = join(binDir, plugin);
    const replaced = await step(path, 'link', () => linkAtomically(path, name));
    if (!replaced) continue;
    const was = replaced.kind === 'file' ? ' (replaced a legacy copy)' : replaced.kind === 'link' ? ` (was -> ${replaced.target})` : '';
    report.changes.push(`linked ${path} -> ${name}${was}`);
  }

  const legacy = join(confDir, LEGACY_CONF_NAME);
  if (await step(legacy, 'remove', () => removeIfPresent(legacy))) report.changes.push(`removed legacy ${legacy}`);

  const conflist = join(confDir, CONFLIST_NAME);
  const content = renderConflist(cniVersion === undefined ? {hairpinMode} : {cniVersion, hairpinMode});
  if (await step(conflist, 'write', () => createExclusive(conflist, content, 0o644))) {
    report.changes.push(`wrote ${conflist}`);
  } else if (cniVersion !== undefined) {
    const warning = await keptVersionWarning(conflist, cniVersion);
    if (warning) report.warnings.push(warning);
  }

  report.warnings.push(...(await prerequisiteWarnings(binDir, env)));
  return report;
}
