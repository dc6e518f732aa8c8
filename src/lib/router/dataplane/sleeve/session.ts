import {createCipheriv, createDecipheriv} from 'node:crypto';
import {epochKey, epochOf, sessionId} from './keys.js';
import {HEADER_BYTES, MAX_COUNTER, NONCE_OFFSET, readCounter, TAG_BYTES, writeHeader} from './packet.js';
import {ReplayWindow} from './replay.js';

const CIPHER = 'aes-256-gcm';

/** One direction's epoch keys, derived on first use; only the newest few are kept. */
class EpochKeys {
  private readonly keys = new Map<number, Buffer>();

  constructor(private readonly secret: Buffer) {}

  get(epoch: number): Buffer {
    let key = this.keys.get(epoch);
    if (!key) {
      key = epochKey(this.secret, epoch);
      this.keys.set(epoch, key);
      // Keep the epoch before the newest for packets reordered across a key change.
      for (const old of this.keys.keys()) if (old < epoch - 1) this.keys.delete(old);
    }
    return key;
  }
}

/** The sending half of a session: numbers packets from 0 and seals each with its epoch's key. */
export class SendSession {
  readonly id: number;
  private counter = 0;
  private readonly keys: EpochKeys;

  constructor(secret: Buffer) {
    this.id = sessionId(secret);
    this.keys = new EpochKeys(secret);
  }

  /** Packets sealed so far: the next counter. */
  get sent(): number {
    return this.counter;
  }

  /** Seals `plain` into the datagram [header, ciphertext, tag]; `header` is a fresh 16-byte buffer. */
  seal(header: Buffer, plain: Uint8Array): [Buffer, Buffer, Buffer] {
    if (this.counter >= MAX_COUNTER) throw new Error('sleeve session exhausted its counters: it needs new keys');
    const counter = this.counter++;
    writeHeader(header, this.id, counter);
    const cipher = createCipheriv(CIPHER, this.keys.get(epochOf(counter)), header.subarray(NONCE_OFFSET, HEADER_BYTES));
    cipher.setAAD(header);
    const body = cipher.update(plain);
    cipher.final();
    return [header, body, cipher.getAuthTag()];
  }
}

export type OpenResult = Buffer | 'replayed' | 'unauthenticated';

/** The receiving half: refuses counters already seen or too old, then checks the tag. */
export class ReceiveSession {
  readonly id: number;
  private readonly window: ReplayWindow;
  private readonly keys: EpochKeys;

  constructor(secret: Buffer, windowSize?: number) {
    this.id = sessionId(secret);
    this.keys = new EpochKeys(secret);
    this.window = new ReplayWindow(windowSize);
  }

  /** The plaintext of a datagram filed under this session's id (the caller checked its shape). */
  open(packet: Buffer): OpenResult {
    const counter = readCounter(packet);
    if (!this.window.check(counter)) return 'replayed';
    const epoch = epochOf(counter);
    // Only keys next to the newest verified epoch: a forged counter must not cost key derivations.
    const current = epochOf(Math.max(this.window.highest, 0));
    if (epoch < current - 1 || epoch > current + 1) return 'unauthenticated';
    const header = packet.subarray(0, HEADER_BYTES);
    const decipher = createDecipheriv(CIPHER, this.keys.get(epoch), packet.subarray(NONCE_OFFSET, HEADER_BYTES));
    decipher.setAAD(header);
    decipher.setAuthTag(packet.subarray(packet.length - TAG_BYTES));
    const plain = decipher.update(packet.subarray(HEADER_BYTES, packet.length - TAG_BYTES));
    try {
      decipher.final();
    } catch {
      return 'unauthenticated';
    }
    this.window.mark(counter);
    return plain;
  }
}
