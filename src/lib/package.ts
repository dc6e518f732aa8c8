import {readFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';

/** The installed package's root: two levels above dist/lib/, where this module and the router's bundle are. */
export const PACKAGE_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The package version, which names the plugin launcher and (later) the router image. */
export const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {version: string}).version;

/**
 * The cold CNI plugin, run by the launcher that `weave setup` installs: src/lib/cni/main.ts
 * bundled into one file by `npm run build`, since resolving ~30 ES modules costs ~50 ms a pod.
 */
export const CNI_ENTRY = fileURLToPath(new URL('../weave-cni.cjs', import.meta.url));
