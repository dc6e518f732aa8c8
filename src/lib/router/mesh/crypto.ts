import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  type KeyObject,
  scrypt,
  timingSafeEqual,
} from 'node:crypto';
import {lengthPrefix} from './framing.js';

/**
 * Password authentication and encryption of the control connections, from OpenSSL's primitives
 * only: X25519 for an ephemeral key exchange, scrypt and HKDF-SHA256 for keys, HMAC-SHA256 for
 * the proofs of the password, AES-256-GCM for the frames.
 *
 * Each end proves it knows the password by an HMAC over the handshake transcript, keyed from the
 * password and the exchanged secret, so an eavesdropper learns nothing it could test passwords
 * against. Each direction has its own key and numbers its frames: the counter is the nonce, so a
 * frame replayed, reordered, dropped or altered fails its authentication tag.
 */

export class CryptoError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CryptoError';
  }
}

const KEY_BYTES = 32;
export const PUBLIC_KEY_BYTES = 32;
const TAG_BYTES = 16;
/** Fixed salt: the password key must be the same on every host, and scrypt makes guessing slow. */
const PASSWORD_SALT = 'weave mesh password key v2';
const SESSION_INFO = 'weave mesh session keys v2';
/** Its own label: the data plane's keys say nothing about the control connection's. */
const DATA_PLANE_INFO = 'weave sleeve keys v1';

/** The password stretched once at start-up (about 0.2 s): the long-term secret of every handshake. */
export function passwordKey(password: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, PASSWORD_SALT, KEY_BYTES, {N: 1 << 14, r: 8, p: 1}, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

export interface KeyPair {
  /** Raw 32 bytes, as sent on the wire. */
  publicKey: Buffer;
  privateKey: KeyObject;
}

export function ephemeralKeyPair(): KeyPair {
  const {publicKey, privateKey} = generateKeyPairSync('x25519');
  const {x} = publicKey.export({format: 'jwk'});
  return {publicKey: Buffer.from(x!, 'base64url'), privateKey};
}

function sharedSecret(ours: KeyPair, theirs: Buffer): Buffer {
  if (theirs.length !== PUBLIC_KEY_BYTES) throw new CryptoError('peer sent a malformed public key');
  try {
    const publicKey = createPublicKey({key: {kty: 'OKP', crv: 'X25519', x: theirs.toString('base64url')}, format: 'jwk'});
    return diffieHellman({privateKey: ours.privateKey, publicKey});
  } catch {
    // OpenSSL refuses a low-order key, whose all-zero secret anyone could compute.
    throw new CryptoError('peer sent a degenerate public key');
  }
}

export type Role = 'initiator' | 'responder';

/** Seals frames for one direction: AES-256-GCM, the frame's counter as nonce, its length as associated data. */
export class FrameSealer {
  private counter = 0n;

  constructor(private readonly key: Buffer) {}

  /** The whole frame: length prefix, ciphertext, tag. */
  seal(plain: Buffer): Buffer {
    const prefix = lengthPrefix(plain.length + TAG_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce(this.counter++));
    cipher.setAAD(prefix);
    return Buffer.concat([prefix, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
  }
}

/** Opens the frames of the other direction, in order; any frame out of place fails. */
export class FrameOpener {
  private counter = 0n;

  constructor(private readonly key: Buffer) {}

  /** `body` is the frame after its length prefix. */
  open(body: Buffer): Buffer {
    if (body.length < TAG_BYTES) throw new CryptoError('encrypted frame too short');
    const decipher = createDecipheriv('aes-256-gcm', this.key, nonce(this.counter));
    decipher.setAAD(lengthPrefix(body.length));
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new CryptoError('received a frame that fails authentication (altered, replayed or out of order)');
    }
    this.counter++;
    return plain;
  }
}

function nonce(counter: bigint): Buffer {
  const n = Buffer.alloc(12);
  n.writeBigUInt64BE(counter, 4);
  return n;
}

export interface Session {
  /** What `role` sends to prove it knows the password. */
  proof(role: Role): Buffer;
  verify(role: Role, proof: Buffer): boolean;
  sealer: FrameSealer;
  opener: FrameOpener;
  /** Secrets of the encrypted data plane (the sleeve) between the two peers, one per direction. */
  dataPlaneKeys: DataPlaneKeys;
}

export interface DataPlaneKeys {
  send: Buffer;
  receive: Buffer;
}

export interface SessionParams {
  ours: KeyPair;
  theirPublicKey: Buffer;
  passwordKey: Buffer;
  /** Every byte both ends sent before the keys exist, initiator's first: binds the keys to them. */
  transcript: Buffer;
  role: Role;
}

export function deriveSession(params: SessionParams): Session {
  const ikm = Buffer.concat([sharedSecret(params.ours, params.theirPublicKey), params.passwordKey]);
  const salt = createHash('sha256').update(params.transcript).digest();
  const okm = Buffer.from(hkdfSync('sha256', ikm, salt, SESSION_INFO, 3 * KEY_BYTES));
  const toResponder = okm.subarray(0, KEY_BYTES);
  const toInitiator = okm.subarray(KEY_BYTES, 2 * KEY_BYTES);
  const authKey = okm.subarray(2 * KEY_BYTES);
  const proof = (role: Role) => createHmac('sha256', authKey).update(role).digest();
  const initiator = params.role === 'initiator';
  const data = Buffer.from(hkdfSync('sha256', ikm, salt, DATA_PLANE_INFO, 2 * KEY_BYTES));
  const [fromInitiator, fromResponder] = [data.subarray(0, KEY_BYTES), data.subarray(KEY_BYTES)];
  return {
    proof,
    verify: (role, received) => {
      const expected = proof(role);
      return received.length === expected.length && timingSafeEqual(received, expected);
    },
    sealer: new FrameSealer(initiator ? toResponder : toInitiator),
    opener: new FrameOpener(initiator ? toInitiator : toResponder),
    dataPlaneKeys: initiator ? {send: fromInitiator, receive: fromResponder} : {send: fromResponder, receive: fromInitiator},
  };
}
