import type {Span} from './range.js';

/**
 * A set of addresses as sorted, coalesced spans, kept as one flat array of boundaries:
 * even positions start a span, odd positions end it (exclusive). Memory grows with the number of
 * holes, not of addresses, so a /12 with 10,000 allocations in a row is two numbers.
 */
export class AddressSet {
  private bounds: number[] = [];

  /** Index of the first boundary greater than `addr` (odd: addr is inside a span). */
  private firstGreater(addr: number, from = 0): number {
    let lo = from;
    let hi = this.bounds.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.bounds[mid]! > addr) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  private firstGreaterOrEqual(addr: number): number {
    return this.firstGreater(addr - 1);
  }

  has(addr: number): boolean {
    return (this.firstGreater(addr) & 1) === 1;
  }

  add(span: Span): void {
    this.update(span, 0);
  }

  remove(span: Span): void {
    this.update(span, 1);
  }

  /** Union (sense 0) or difference (sense 1) with `[start, end)`, as the original's addSub. */
  private update({start, end}: Span, sense: 0 | 1): void {
    if (start >= end) return;
    const startPos = this.firstGreaterOrEqual(start);
    const endPos = this.firstGreater(end, startPos);
    const middle: number[] = [];
    if ((startPos & 1) === sense) middle.push(start);
    if ((endPos & 1) === sense) middle.push(end);
    this.bounds.splice(startPos, endPos - startPos, ...middle);
  }

  /** The lowest member inside `span`, if any. */
  lowestIn(span: Span): number | undefined {
    if (span.start >= span.end) return undefined;
    const pos = this.firstGreater(span.start);
    if (pos & 1) return span.start;
    const next = this.bounds[pos];
    return next !== undefined && next < span.end ? next : undefined;
  }

  size(): number {
    let n = 0;
    for (let i = 0; i < this.bounds.length; i += 2) n += this.bounds[i + 1]! - this.bounds[i]!;
    return n;
  }

  spans(): Span[] {
    const out: Span[] = [];
    for (let i = 0; i < this.bounds.length; i += 2) out.push({start: this.bounds[i]!, end: this.bounds[i + 1]!});
    return out;
  }
}

/**
 * The addresses of the spans this peer owns, split into free and in use: the original's
 * space.Space. Addresses outside the owned spans are none of its business.
 */
export class Space {
  private owned = new AddressSet();
  private free = new AddressSet();
  private readonly used = new AddressSet();

  /** Follows the ring: what we own now; addresses in use stay in use, the rest is free. */
  setOwned(spans: readonly Span[]): void {
    this.owned = new AddressSet();
    for (const span of spans) this.owned.add(span);
    this.free = new AddressSet();
    for (const span of this.owned.spans()) this.free.add(span);
    for (const span of this.used.spans()) this.free.remove(span);
  }

  /** The lowest free address inside `span`, left free: the caller records its use through claim(). */
  lowestFree(span: Span): number | undefined {
    return this.free.lowestIn(span);
  }

  /** Marks a free address as in use; false when it is not ours or already in use. */
  claim(addr: number): boolean {
    if (!this.free.has(addr)) return false;
    this.free.remove({start: addr, end: addr + 1});
    this.used.add({start: addr, end: addr + 1});
    return true;
  }

  /** Returns an address in use to the free pool (if still ours); false when it was not in use here. */
  release(addr: number): boolean {
    if (!this.used.has(addr)) return false;
    this.used.remove({start: addr, end: addr + 1});
    if (this.owned.has(addr)) this.free.add({start: addr, end: addr + 1});
    return true;
  }

  isFree(addr: number): boolean {
    return this.free.has(addr);
  }

  /** Whether any address inside `span` is in use. */
  usedIn(span: Span): boolean {
    return this.used.lowestIn(span) !== undefined;
  }

  /** Free addresses inside `span`. */
  numFreeIn(span: Span): number {
    let n = 0;
    for (const part of this.free.spans()) n += Math.max(0, Math.min(part.end, span.end) - Math.max(part.start, span.start));
    return n;
  }

  /**
   * What to give a peer asking for space in `span`, as the original: the upper half (rounded
   * up, so never empty) of the biggest free stretch there; undefined when nothing there is free.
   */
  donation(span: Span): Span | undefined {
    let biggest: Span | undefined;
    for (const part of this.free.spans()) {
      const start = Math.max(part.start, span.start);
      const end = Math.min(part.end, span.end);
      if (end > start && (!biggest || end - start >= biggest.end - biggest.start)) biggest = {start, end};
    }
    if (!biggest) return undefined;
    return {start: biggest.start + Math.floor((biggest.end - biggest.start) / 2), end: biggest.end};
  }

  numFree(): number {
    return this.free.size();
  }

  numUsed(): number {
    return this.used.size();
  }
}
