/**
 * Which counters of a session have been received, over the last `size` below the highest (as
 * RFC 6479): a bitmap in 32-bit blocks used as a ring, so sliding forward only clears blocks.
 * Older counters are refused. Check before decrypting; mark only once the tag is verified, so
 * a forged packet cannot move the window.
 */
export class ReplayWindow {
  private readonly blocks: Uint32Array;
  private top = -1;

  constructor(readonly size = 2048) {
    if (size <= 0 || size % 32 !== 0) throw new RangeError(`replay window size must be a positive multiple of 32, not ${size}`);
    // One block more than the window, so the window is whole whatever the top's place in its block.
    this.blocks = new Uint32Array(size / 32 + 1);
  }

  /** The highest counter marked; -1 before any. */
  get highest(): number {
    return this.top;
  }

  /** Whether `counter` may be new: above the top, or inside the window and not yet marked. */
  check(counter: number): boolean {
    if (counter > this.top) return true;
    if (this.top - counter >= this.size) return false;
    return (this.blocks[this.blockOf(counter)] & this.bitOf(counter)) === 0;
  }

  /** Records an authenticated counter; false if it was already marked or too old. */
  mark(counter: number): boolean {
    if (!this.check(counter)) return false;
    if (counter > this.top) {
      const from = Math.floor(this.top / 32) + 1;
      const to = Math.floor(counter / 32);
      const clear = Math.min(to - from + 1, this.blocks.length);
      for (let i = 0; i < clear; i++) this.blocks[(from + i) % this.blocks.length] = 0;
      this.top = counter;
    }
    this.blocks[this.blockOf(counter)] |= this.bitOf(counter);
    return true;
  }

  private blockOf(counter: number): number {
    return Math.floor(counter / 32) % this.blocks.length;
  }

  private bitOf(counter: number): number {
    return 1 << counter % 32;
  }
}
