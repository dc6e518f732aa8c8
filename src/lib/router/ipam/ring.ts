import {formatAddress} from '../../net/cidr.js';
import {type Span} from './range.js';

/** One token of the ring: from `start` up to the next token, owned by `peer`. */
export interface RingToken {
  start: number;
  peer: string;
  /** Raised by the token's owner at each change; the higher version wins a merge. */
  version: number;
  /** Free addresses the owner last reported in the token's span: where to ask for space. */
  free: number;
}

/** What is persisted and gossiped of a ring; `seeds` are the peers it was first split between. */
export interface RingRecord {
  tokens: RingToken[];
  seeds: string[];
}

/** A ring from another peer, with the range it covers. */
export interface ForeignRing extends RingRecord {
  start: number;
  end: number;
}

/** Why a ring from another peer cannot be merged into ours: such a peer is refused. */
export class RingMergeError extends Error {
  constructor(
    readonly kind: 'seeds' | 'range' | 'conflict' | 'invalid',
    message: string,
  ) {
    super(message);
    this.name = 'RingMergeError';
  }
}

const sameSeeds = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((s, i) => s === b[i]);

/** Sorted, without duplicates: every peer that sees the same consensus builds the same ring. */
function normalizePeers(peers: readonly string[]): string[] {
  return [...new Set(peers)].sort();
}

/**
 * Who owns which part of the range: the original's ring, a CRDT of sorted tokens each owning the
 * addresses up to the next one. It is empty until established (by consensus, seed, or from
 * another peer); then there is always a token at the start of the range, since tokens are only
 * ever added inside it. Only a token's owner changes it (grant, free reports), except rmpeer and
 * shutdown, which move a whole peer's tokens with a large version step so that the move wins.
 */
export class Ring {
  private tokens: RingToken[] = [];
  private seeds: string[] = [];

  constructor(readonly universe: Span) {}

  get empty(): boolean {
    return this.tokens.length === 0;
  }

  copy(): Ring {
    const ring = new Ring(this.universe);
    ring.restore(this.toRecord());
    return ring;
  }

  private endOf(i: number, tokens: readonly {start: number}[] = this.tokens): number {
    return tokens[i + 1]?.start ?? this.universe.end;
  }

  /** Splits the empty range between `peers` in CIDR-aligned halves, as the original's subdivide. */
  claimForPeers(peers: readonly string[]): void {
    const sorted = normalizePeers(peers);
    const tokens: RingToken[] = [];
    const subdivide = (from: number, to: number, among: string[]) => {
      const share = to - from;
      if (share === 0) return;
      if (share === 1 || among.length === 1) {
        tokens.push({start: from, peer: among[0]!, version: 0, free: share});
        return;
      }
      const mid = from + Math.floor(share / 2);
      const half = Math.floor(among.length / 2);
      subdivide(from, mid, among.slice(0, half));
      subdivide(mid + (share % 2), to, among.slice(half));
    };
    subdivide(this.universe.start, this.universe.end, sorted);
    this.tokens = tokens;
    this.seeds = sorted;
  }

  owner(addr: number): string | undefined {
    if (!this.contains(addr)) return undefined;
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

  peers(): Set<string> {
    return new Set(this.tokens.map(t => t.peer));
  }

  /** Gives every token of `from` to `to` (rmpeer, shutdown); returns the spans that moved. */
  transfer(from: string, to: string): Span[] {
    const moved: Span[] = [];
    this.tokens.forEach((t, i) => {
      if (t.peer !== from) return;
      moved.push({start: t.start, end: this.endOf(i)});
      t.peer = to;
      // Well above the owner's own small steps, so the move wins any merge.
      t.version += 100;
    });
    return moved;
  }

  /**
   * Gives `span`, which `ourPeer` owns entirely, to `peer`: up to two new tokens, as the
   * original's GrantRangeToHost. Free counts are estimates until the owners report again.
   */
  grant(span: Span, peer: string, ourPeer: string): void {
    const {start, end} = span;
    if (!(start < end && this.contains(start) && end <= this.universe.end)) throw new Error(`cannot grant ${formatAddress(start)}-${formatAddress(end)}: outside the range`);
    let at = this.tokens.findLastIndex(t => t.start <= start);
    for (let i = at; i < this.tokens.length && (i === at || this.tokens[i]!.start < end); i++) {
      if (this.tokens[i]?.peer !== ourPeer) throw new Error(`cannot grant ${formatAddress(start)}-${formatAddress(end)}: not all ours`);
    }
    const update = (t: RingToken, owner: string, free: number) => Object.assign(t, {peer: owner, free, version: t.version + 1});
    const startFree = Math.min(this.endOf(at), end) - start;
    const preceding = this.tokens[at]!;
    if (preceding.start === start) {
      update(preceding, peer, startFree);
    } else {
      update(preceding, ourPeer, start - preceding.start);
      this.tokens.splice(++at, 0, {start, peer, version: 0, free: startFree});
    }
    let next = at + 1;
    for (; next < this.tokens.length && this.tokens[next]!.start < end; next++) {
      const t = this.tokens[next]!;
      update(t, peer, Math.min(t.free, end - t.start));
    }
    if (end === this.universe.end || this.tokens[next]?.start === end) return;
    this.tokens.splice(next, 0, {start: end, peer: ourPeer, version: 0, free: (this.tokens[next]?.start ?? this.universe.end) - end});
  }

  /** Records the free counts `ourPeer` has per token start; true when any changed. */
  reportFree(ourPeer: string, freeAt: (span: Span) => number): boolean {
    let changed = false;
    this.tokens.forEach((t, i) => {
      if (t.peer !== ourPeer) return;
      const free = freeAt({start: t.start, end: this.endOf(i)});
      if (free === t.free) return;
      t.free = free;
      t.version++;
      changed = true;
    });
    return changed;
  }

  /**
   * The peers to ask for space in `span`, those with the most free space likelier first
   * (weighted random, as the original), never `ourPeer` nor peers with nothing free.
   */
  donorsFor(span: Span, ourPeer: string, random: () => number = Math.random): string[] {
    const freeByPeer = new Map<string, number>();
    this.tokens.forEach((t, i) => {
      if (this.endOf(i) <= span.start || t.start >= span.end || t.free === 0 || t.peer === ourPeer) return;
      freeByPeer.set(t.peer, (freeByPeer.get(t.peer) ?? 0) + t.free);
    });
    return [...freeByPeer]
      .map(([peer, free]) => ({peer, weight: free * random()}))
      .sort((a, b) => b.weight - a.weight)
      .map(w => w.peer);
  }

  /** The first peer after us in the ring that `isValid` accepts. */
  pickPeer(ourPeer: string, isValid: (peer: string) => boolean): string | undefined {
    return this.tokens.find(t => t.peer !== ourPeer && isValid(t.peer))?.peer;
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

  toRecord(): RingRecord {
    return {tokens: this.tokens.map(t => ({...t})), seeds: [...this.seeds]};
  }

  /** Loads a persisted ring (records written before free counts existed count everything as free). */
  restore(record: {tokens: readonly (Omit<RingToken, 'free'> & {free?: number})[]; seeds?: readonly string[]}): void {
    const tokens = record.tokens.map(t => ({...t})).sort((a, b) => a.start - b.start);
    this.tokens = tokens.map((t, i) => ({...t, free: t.free ?? this.endOf(i, tokens) - t.start}));
    this.seeds = [...(record.seeds ?? [])];
  }

  /** Checks tokens as the original's checkEntries; the message names what is wrong. */
  private check(tokens: readonly RingToken[]): string | undefined {
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!;
      if (i > 0 && tokens[i - 1]!.start > t.start) return 'Ring not sorted';
      if (i > 0 && tokens[i - 1]!.start === t.start) return 'Token appears twice in ring';
      if (!this.contains(t.start)) return 'Token is out of range';
      const distance = this.endOf(i, tokens) - t.start;
      if (t.free > distance) return `Entry ${formatAddress(t.start)}-${formatAddress(this.endOf(i, tokens))} reporting too much free space: ${t.free} > ${distance}`;
    }
    return undefined;
  }

  /**
   * Merges a ring from another peer into this one (the original's Ring.Merge): per token the
   * higher version wins, and nothing may take away a span of `ourPeer` that holds allocations.
   * Returns whether this ring changed; throws RingMergeError (nothing changed then).
   */
  merge(other: ForeignRing, ourPeer: string, hasAllocations: (span: Span) => boolean): boolean {
    if (other.start !== this.universe.start || other.end !== this.universe.end) throw new RingMergeError('range', 'Received range differs from ours');
    const invalid = this.check(other.tokens);
    if (invalid) throw new RingMergeError('invalid', invalid);
    if (other.seeds.length > 0 && this.seeds.length > 0 && !sameSeeds(other.seeds, this.seeds)) {
      throw new RingMergeError('seeds', 'Received ring was seeded differently from ours');
    }
    const mine = this.tokens;
    const theirs = other.tokens;
    const result: RingToken[] = [];
    let updated = false;
    // Owner of the token before the next one considered, unless that token came from them.
    let previousOwner: string | undefined;
    const keepMine = (t: RingToken) => {
      result.push({...t});
      previousOwner = t.peer;
    };
    const takeTheirs = (t: RingToken) => {
      result.push({...t});
      updated = true;
      previousOwner = undefined;
    };
    const splitsOurs = (t: RingToken, until: number) => previousOwner === ourPeer && t.peer !== ourPeer && hasAllocations({start: t.start, end: until});
    let i = 0;
    let j = 0;
    while (i < mine.length && j < theirs.length) {
      const m = mine[i]!;
      const t = theirs[j]!;
      if (m.start < t.start) {
        keepMine(m);
        i++;
        continue;
      }
      if (m.start > t.start) {
        if (splitsOurs(t, m.start)) throw new RingMergeError('conflict', `Peer ${t.peer} says it owns the IP range from ${formatAddress(t.start)}, which I think I own`);
        takeTheirs(t);
        j++;
        continue;
      }
      const ourSpan = {start: m.start, end: this.endOf(i)};
      if (m.version > t.version || (m.version === t.version && m.peer === t.peer && m.free === t.free)) {
        keepMine(m);
      } else if (m.version === t.version) {
        if (m.peer === ourPeer && m.peer !== t.peer && hasAllocations(ourSpan)) {
          throw new RingMergeError('conflict', `Inconsistent entries for ${formatAddress(m.start)}: owned by ${m.peer} but incoming message says ${t.peer}`);
        }
        // Same version, different content: the one reporting more free space wins, everywhere alike.
        if (m.free >= t.free) keepMine(m);
        else takeTheirs(t);
      } else if (m.peer !== ourPeer) {
        takeTheirs(t);
      } else if (t.peer === ourPeer) {
        // Our own token as an earlier life of ours left it: ours stands, above theirs.
        keepMine({...m, version: t.version + 1});
        updated = true;
      } else if (!hasAllocations(ourSpan)) {
        // Someone moved our token away (rmpeer, or a grant we lost in a crash): nothing here to keep.
        takeTheirs(t);
      } else {
        throw new RingMergeError('conflict', `Received update for IP range I own at ${formatAddress(m.start)} v${m.version}: incoming message says owner ${t.peer} v${t.version}`);
      }
      i++;
      j++;
    }
    for (; i < mine.length; i++) keepMine(mine[i]!);
    for (; j < theirs.length; j++) {
      const t = theirs[j]!;
      if (splitsOurs(t, this.universe.end)) throw new RingMergeError('conflict', `Peer ${t.peer} says it owns the IP range from ${formatAddress(t.start)}, which I think I own`);
      takeTheirs(t);
    }
    // A span of ours split by others while we had nothing in it may report too much free space.
    result.forEach((t, k) => {
      if (t.peer === ourPeer) t.free = Math.min(t.free, this.endOf(k, result) - t.start);
    });
    const broken = this.check(result);
    if (broken) throw new RingMergeError('invalid', `Merge of incoming data causes: ${broken}`);
    this.tokens = result;
    if (this.seeds.length === 0 && other.seeds.length > 0) {
      this.seeds = [...other.seeds];
      updated = true;
    }
    return updated;
  }
}
