import {hkdfSync} from 'node:crypto';

/**
 * Keys of one peer pair, as both ends derive them from the mesh handshake (an ephemeral X25519
 * exchange authenticated by the password): one 32-byte secret per direction. The peer's
 * `receive` is our `send`. A new handshake (a reconnection, a restarted router) gives new ones.
 */
export interface SessionKeys {
  send: Buffer;
  receive: Buffer;
}

export const SECRET_BYTES = 32;

/**
 * Packets per AES-GCM key. A packet is at most 4096 blocks, so a key seals at most 2^32 blocks:
 * an attacker's advantage stays below 2^-64 (the bound is blocks² / 2^128). Rekeying is
 * implicit: a packet's key is the one of its counter's epoch, so both ends switch together.
 */
export const EPOCH_BITS = 20;
const EPOCH_SIZE = 2 ** EPOCH_BITS;

export function epochOf(counter: number): number {
  return Math.floor(counter / EPOCH_SIZE);
}

/** The id the receiver files this direction under, carried in clear: derived, so nothing is negotiated. */
export function sessionId(secret: Buffer): number {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'weave sleeve session id', 4)).readUInt32BE(0);
}

/** The AES-256-GCM key of one epoch of one direction. */
export function epochKey(secret: Buffer, epoch: number): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), `weave sleeve epoch ${epoch}`, 32));
}

/**
 * The secret of a direction's second session, which the receiving worker seals relayed frames
 * with (the sending worker keeps the first): each thread numbers its own packets, nothing shared.
 */
export function relaySecret(secret: Uint8Array): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'weave sleeve relay', SECRET_BYTES));
}

/** A peer's 16-bit id in relayed frames' headers: from its name, so every peer works out the same. */
export function peerId(name: string): number {
  return Buffer.from(hkdfSync('sha256', Buffer.from(name), Buffer.alloc(0), 'weave sleeve peer id', 2)).readUInt16BE(0);
}

export function checkKeys(keys: SessionKeys): void {
  for (const [which, key] of Object.entries(keys)) {
    if (!Buffer.isBuffer(key) && !(key instanceof Uint8Array)) throw new TypeError(`sleeve session key "${which}" must be a Buffer`);
    if (key.length !== SECRET_BYTES) throw new RangeError(`sleeve session key "${which}" must be ${SECRET_BYTES} bytes, not ${key.length}`);
  }
  if (Buffer.compare(keys.send, keys.receive) === 0) throw new RangeError('sleeve session keys must differ per direction');
}
