import {existsSync, readFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';

/**
 * The directory above `from` that holds package.json. This module runs from src/lib (tests),
 * dist/lib (compiled) and inside the bundles (dist/cli/..., dist/lib/weave-router.mjs): each
 * at its own depth below the package root.
 */
function packageRoot(from: string): string {
  for (let dir = dirname(from); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}: the weave package is incomplete; reinstall it`);
  }
}

/** The installed package's root, where package.json, bin/, dist/ and native/ are. */
export const PACKAGE_ROOT = packageRoot(fileURLToPath(import.meta.url));

const packageJson = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as {version: string; oclif: {bin: string}};

/** The package version, which names the plugin launcher and the router image. */
export const VERSION = packageJson.version;

/** The command's name, as oclif calls it (`config.bin`). */
export const BIN = packageJson.oclif.bin;

/**
 * The cold CNI plugin, run by the launcher that `weave setup` installs: src/lib/cni/main.ts
 * bundled into one file by `npm run build`, since resolving ~30 ES modules costs ~50 ms a pod.
 */
export const CNI_ENTRY = join(PACKAGE_ROOT, 'dist', 'weave-cni.cjs');
