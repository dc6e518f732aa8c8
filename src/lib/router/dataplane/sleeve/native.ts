import {join} from 'node:path';
import {ADDON_PATH, requireAddon} from '../../../addon.js';
import {PACKAGE_ROOT} from '../../../package.js';

/** The TAP addon built from native/tap.c by `npm ci` (node-gyp); see that file for its contract. */
export interface TapAddon {
  /** `offloads`: ask for TCP super-frames; the result says whether the kernel agreed. */
  open(name: string, offloads: boolean): {fd: number; name: string; offloads: boolean};
  /** Blocks the calling thread up to `timeoutMs`; true when a frame is waiting, or an error that read() then throws. */
  wait(fd: number, timeoutMs: number): boolean;
  /** Reads frames into consecutive `slotSize`-byte slots of `buffer`; their count, 0 when none waits. */
  read(fd: number, buffer: Buffer, slotSize: number, lengths: Int32Array): number;
  /** Writes the first `count` frames; how many the kernel took. */
  write(fd: number, frames: readonly Uint8Array[], count: number): number;
  close(fd: number): void;
}

export class TapAddonError extends Error {
  constructor(cause: unknown) {
    super(
      `cannot load the TAP addon ${ADDON_PATH} (${(cause as Error).message.split('\n')[0]}): the encrypted data path needs it; ` +
        `build it with \`node ${join(PACKAGE_ROOT, 'native', 'install.cjs')} --required\` (needs build-essential, python3 and Node's headers)`,
    );
    this.name = 'TapAddonError';
  }
}

export function loadTap(): TapAddon {
  try {
    return requireAddon() as TapAddon;
  } catch (error) {
    throw new TapAddonError(error);
  }
}
