import {createRequire} from 'node:module';
import {join} from 'node:path';
import {PACKAGE_ROOT} from './package.js';

/**
 * The router's N-API addon, built from native/ by `npm ci` (native/install.cjs): the encrypted
 * data path's TAP device (router/dataplane/sleeve/native.ts) and netlink sockets inside a network
 * namespace (net/netlink/), which the warm CNI path and `weave ps` use (ps falls back to `ip`
 * without it: it is optional at install). No other command, nor the cold CNI plugin, loads it.
 */
export const ADDON_PATH = join(PACKAGE_ROOT, 'native', 'build', 'Release', 'weave_tap.node');

/** Loads the addon; throws Node's error when it is missing or built for another Node. */
export function requireAddon(): unknown {
  return createRequire(import.meta.url)(ADDON_PATH);
}
