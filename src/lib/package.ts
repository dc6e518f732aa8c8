import {readFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';

/** The installed package's root: two levels above dist/lib/. */
export const PACKAGE_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The package version, which names the plugin launcher and (later) the router image. */
export const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {version: string}).version;

/** The cold CNI plugin's entry file, run by the launcher that `weave setup` installs. */
export const CNI_ENTRY = fileURLToPath(new URL('./cni/main.js', import.meta.url));
