import {epochKey, epochOf, sessionId} from './keys.js';
import {type GcmContext, loadTap, type TapAddon} from './native.js';
import {HEADER_BYTES, MAX_COUNTER, readCounter, TAG_BYTES, TYPE_FRAME, writeHeader} from './packet.js';
import {ReplayWindow} from './replay.js';

let addon: TapAddon | undefined;
const native = (): TapAddon => (addon ??= loadTap());

/** One direction's epoch keys (AES-256-GCM, in the addon), derived on first use; only the newest few are kept. */
class EpochKeys {
  private readonly keys = new Map<number, GcmContext>();

  constructor(
    private readonly secret: Buffer,
    private readonly encrypt: boolean,
  ) {}

  get(epoch: number): GcmContext {
    let key = this.keys.get(epoch);
    if (!key) {
      key = native().key(epochKey(this.secret, epoch), this.encrypt);
      this.keys.set(epoch, key);
      // Keep the epoch before the newest for packets reordered across a key change.
      for (const old of this.keys.keys()) if (old < epoch - 1) this.keys.delete(old);
    }
    return key;
  }
}

/** A datagram-to-be for `plain`: room for the header before it and the tag after it (what the addon's segment() writes). */
export function datagramFor(plain: Uint8Array): Buffer {
  const datagram = Buffer.alloc(HEADER_BYTES + plain.length + TAG_BYTES);
  datagram.set(plain, HEADER_BYTES);
  return datagram;
}

/** The sending half of a session: numbers packets from 0 and seals each with its epoch's key. */
export class SendSession {
  readonly id: number;
  private counter = 0;
  private readonly keys: EpochKeys;

  constructor(secret: Buffer) {
    this.id = sessionId(secret);
    this.keys = new EpochKeys(secret, true);
  }

  /** Packets sealed so far: the next counter. */
  get sent(): number {
    return this.counter;
  }

  /**
   * Seals, in place, [16 bytes for the header | plaintext | 16 bytes for the tag] into the
   * datagram [header, ciphertext, tag]: a frame for the receiver, or a relayed or tree one (see writeHeader).
   */
  seal(datagram: Buffer, type = TYPE_FRAME, hops = 0, origin = 0, destination = 0): void {
    if (this.counter >= MAX_COUNTER) throw new Error('sleeve session exhausted its counters: it needs new keys');
    const counter = this.counter++;
    writeHeader(datagram, this.id, counter, type, hops, origin, destination);
    native().seal(this.keys.get(epochOf(counter)), datagram, 0, datagram.length);
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
    this.keys = new EpochKeys(secret, false);
    this.window = new ReplayWindow(windowSize);
  }

  /**
   * Opens a datagram filed under this session's id (the caller checked its shape) in place: its
   * plaintext, a view into `packet`. A refused datagram is left garbled.
   */
  open(packet: Buffer): OpenResult {
    const counter = readCounter(packet);
    if (!this.window.check(counter)) return 'replayed';
    const epoch = epochOf(counter);
    // Only keys next to the newest verified epoch: a forged counter must not cost key derivations.
    const current = epochOf(Math.max(this.window.highest, 0));
    if (epoch < current - 1 || epoch > current + 1) return 'unauthenticated';
    if (!native().open(this.keys.get(epoch), packet, 0, packet.length)) return 'unauthenticated';
    this.window.mark(counter);
    return packet.subarray(HEADER_BYTES, packet.length - TAG_BYTES);
  }
}
