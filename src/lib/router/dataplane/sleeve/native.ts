import {join} from 'node:path';
import {ADDON_PATH, requireAddon} from '../../../addon.js';
import {PACKAGE_ROOT} from '../../../package.js';

/** An AES-256-GCM key ready in OpenSSL (an opaque handle, freed with it). */
export type GcmContext = {readonly __brand: 'GcmContext'};

/** The addon built from native/*.c by `npm ci` (node-gyp); see native/tap.c for its contract. */
export interface TapAddon {
  /** `offloads`: ask for TCP super-frames; the result says whether the kernel agreed. */
  openTap(name: string, offloads: boolean): {fd: number; name: string; offloads: boolean};
  /** Blocks the calling thread up to `timeoutMs`; true when the fd (TAP or socket) is readable, or an error that the next read throws. */
  wait(fd: number, timeoutMs: number): boolean;
  /** Reads frames into consecutive `slotSize`-byte slots of `buffer`; their count, 0 when none waits. */
  read(fd: number, buffer: Buffer, slotSize: number, lengths: Int32Array): number;
  /** Writes frames buffer[offsets[i], +lengths[i]) to the TAP, TCP segments of a stream joined back first with `coalesce`; how many frames the kernel took. */
  write(fd: number, buffer: Buffer, offsets: Int32Array, lengths: Int32Array, count: number, coalesce: boolean): number;
  /** Cuts a frame read from the TAP into datagrams-to-be in `out` (room for the header before, the tag after); their count, -1 for a kind it cannot cut, -2 when `out` is too small. */
  segment(frame: Uint8Array, out: Buffer, offsets: Int32Array, lengths: Int32Array): number;
  key(key: Uint8Array, encrypt: boolean): GcmContext;
  /** Seals buffer[offset, +length) in place: its header (written) is the associated data, the tag goes in its last 16 bytes. */
  seal(context: GcmContext, buffer: Buffer, offset: number, length: number): void;
  /** Opens a datagram in place; false when its tag does not verify. */
  open(context: GcmContext, buffer: Buffer, offset: number, length: number): boolean;
  /** A non-blocking IPv4 UDP socket with Don't Fragment set, bound and connected when asked. */
  udpOpen(address: string | null, port: number, bufferBytes: number, peerAddress: string | null, peerPort: number): number;
  /** Sends datagrams buffer[offsets[i], +lengths[i]) to the connected peer in batches; how many left. */
  send(fd: number, buffer: Buffer, offsets: Int32Array, lengths: Int32Array, count: number): number;
  /** Receives datagrams into consecutive slots; their count; a length of -1 marks one cut short. */
  receive(fd: number, buffer: Buffer, slotSize: number, lengths: Int32Array): number;
  /** Closes a TAP or a socket. */
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
