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

  clear(): void {
    this.bounds = [];
  }
}

/**
 * The addresses of the spans this peer owns, split into free and in use: the original's
 * space.Space. Addresses outside the owned spans are none of its business.
 */
export class Space {
  private readonly free = new AddressSet();
  private readonly used = new AddressSet();

  /** Takes on more spans, free; parts already owned are left as they are. */
  addSpans(spans: readonly Span[]): void {
    for (const span of spans) {
      const fresh = new AddressSet();
      fresh.add(span);
      for (const owned of [...this.free.spans(), ...this.used.spans()]) fresh.remove(owned);
      for (const part of fresh.spans()) this.free.add(part);
    }
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

  /** Returns an address in use to the free pool; false when it was not in use here. */
  release(addr: number): boolean {
    if (!this.used.has(addr)) return false;
    this.used.remove({start: addr, end: addr + 1});
    this.free.add({start: addr, end: addr + 1});
    return true;
  }

  isFree(addr: number): boolean {
    return this.free.has(addr);
  }

  numFree(): number {
    return this.free.size();
  }

  numUsed(): number {
    return this.used.size();
  }

  clear(): void {
    this.free.clear();
    this.used.clear();
  }
}
