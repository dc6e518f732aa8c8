import {formatAddress, type Span} from './range.js';

/** One token of the ring: from `start` up to the next token, owned by `peer`. */
export interface RingToken {
  start: number;
  peer: string;
  version: number;
}

/**
 * Who owns which part of the range: the original's ring, a sorted list of tokens each owning the
 * addresses up to the next one. It is empty until it is established (on one host: on the first
 * allocation, claim or prime); with many hosts (issue 4) tokens move between peers and gossip.
 */
export class Ring {
  private tokens: RingToken[] = [];

  constructor(readonly universe: Span) {}

  get empty(): boolean {
    return this.tokens.length === 0;
  }

  /** Splits the range into equal consecutive parts, one per peer in name order. */
  claimForPeers(peers: readonly string[]): void {
    const sorted = [...new Set(peers)].sort();
    const size = this.universe.end - this.universe.start;
    this.tokens = sorted.map((peer, i) => ({start: this.universe.start + Math.floor((size * i) / sorted.length), peer, version: 0}));
  }

  private endOf(i: number): number {
    return this.tokens[i + 1]?.start ?? this.universe.end;
  }

  owner(addr: number): string | undefined {
    if (addr < this.universe.start || addr >= this.universe.end) return undefined;
    let owner: string | undefined;
    for (const token of this.tokens) {
      if (token.start > addr) break;
      owner = token.peer;
    }
    return owner;
  }

  contains(addr: number): boolean {
    return addr >= this.universe.start && addr < this.universe.end;
  }

  ownedSpans(peer: string): Span[] {
    return this.tokens.flatMap((t, i) => (t.peer === peer ? [{start: t.start, end: this.endOf(i)}] : []));
  }

  /** Gives every token of `from` to `to`; returns the spans that moved. */
  transfer(from: string, to: string): Span[] {
    const moved: Span[] = [];
    this.tokens.forEach((t, i) => {
      if (t.peer !== from) return;
      moved.push({start: t.start, end: this.endOf(i)});
      t.peer = to;
      t.version++;
    });
    return moved;
  }

  /** Addresses owned per peer. */
  sizes(): Map<string, number> {
    const sizes = new Map<string, number>();
    this.tokens.forEach((t, i) => sizes.set(t.peer, (sizes.get(t.peer) ?? 0) + this.endOf(i) - t.start));
    return sizes;
  }

  entries(): {token: string; size: number; peer: string; version: number}[] {
    return this.tokens.map((t, i) => ({token: formatAddress(t.start), size: this.endOf(i) - t.start, peer: t.peer, version: t.version}));
  }

  toRecord(): RingToken[] {
    return this.tokens.map(t => ({...t}));
  }

  restore(tokens: readonly RingToken[]): void {
    this.tokens = tokens.map(t => ({...t})).sort((a, b) => a.start - b.start);
  }
}
