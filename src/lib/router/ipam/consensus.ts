/**
 * How peers agree on who first splits the range between them: the original's gossip-based Paxos
 * (ipam/paxos). Every elector gossips what it knows of every elector's promise and accepted
 * proposal; these merge like a CRDT, and once a quorum has accepted the same proposal, its value
 * (the peers that took part) seeds the ring on every peer that sees it. Pure: no I/O, no clock.
 */

/** `--ipalloc-init`: how the ring comes to exist. */
export type IpamInit = {mode: 'consensus'; count?: number} | {mode: 'seed'; peers: string[]} | {mode: 'observer'};

/** The original's quorum: half the initial peer count, plus one; without a count, of the targets and us. */
export function quorumOf(init: IpamInit, targets: number): number {
  if (init.mode === 'consensus' && init.count) return Math.floor(init.count / 2) + 1;
  return Math.floor((targets + 1) / 2) + 1;
}

/**
 * A node is a peer in one life: the uid changes at each start, so a restarted peer, which has
 * forgotten its promises, takes part as a new acceptor.
 */
export interface NodeId {
  name: string;
  /** The mesh uid, in decimal. */
  uid: string;
}

/** Round 0 is no proposal at all, and precedes every other. */
export interface ProposalId {
  round: number;
  proposer: NodeId;
}

export interface NodeClaims {
  /** This node accepts no proposal below this one. */
  promise: ProposalId;
  /** The proposal it accepted (round 0: none), with that proposal's value and where it came from. */
  accepted: ProposalId;
  value: string[];
  origin: ProposalId;
}

/** What an elector gossips: the claims of every node it knows of. */
export type PaxosState = {node: NodeId; claims: NodeClaims}[];

const NONE: ProposalId = {round: 0, proposer: {name: '', uid: '0'}};

const key = (id: NodeId) => `${id.name}/${id.uid}`;

export function precedes(a: ProposalId, b: ProposalId): boolean {
  if (a.round !== b.round) return a.round < b.round;
  if (a.proposer.name !== b.proposer.name) return a.proposer.name < b.proposer.name;
  return BigInt(a.proposer.uid) < BigInt(b.proposer.uid);
}

const sameProposal = (a: ProposalId, b: ProposalId) => !precedes(a, b) && !precedes(b, a);

const cloneClaims = (c: NodeClaims): NodeClaims => ({
  promise: {...c.promise, proposer: {...c.promise.proposer}},
  accepted: {...c.accepted, proposer: {...c.accepted.proposer}},
  value: [...c.value],
  origin: {...c.origin, proposer: {...c.origin.proposer}},
});

const sameClaims = (a: NodeClaims, b: NodeClaims) => sameProposal(a.promise, b.promise) && sameProposal(a.accepted, b.accepted) && sameProposal(a.origin, b.origin);

/** One side of the agreement: an elector takes part, an observer only waits for a ring. */
export interface Participant {
  readonly isElector: boolean;
  readonly quorum: number;
  /** Nodes heard of so far (for the status). */
  readonly known: number;
  setQuorum(quorum: number): void;
  /** Starts a round above every round seen. */
  propose(): void;
  /** Merges another peer's state; true when we learnt something. */
  update(from: PaxosState): boolean;
  /** Runs the algorithm over what we know; true when our own claims changed. */
  think(): boolean;
  /** The agreed value once a quorum accepted the same proposal. */
  consensus(): string[] | undefined;
  /** What to gossip; undefined for an observer, which has nothing to say. */
  state(): PaxosState | undefined;
}

export class Elector implements Participant {
  readonly isElector = true;
  quorum = 0;
  private readonly knows = new Map<string, {node: NodeId; claims: NodeClaims}>();

  constructor(private readonly id: NodeId) {}

  get known(): number {
    return this.knows.size;
  }

  setQuorum(quorum: number): void {
    this.quorum = quorum;
  }

  private ours(): NodeClaims {
    return cloneClaims(this.knows.get(key(this.id))?.claims ?? {promise: NONE, accepted: NONE, value: [], origin: NONE});
  }

  state(): PaxosState {
    return [...this.knows.values()].map(({node, claims}) => ({node: {...node}, claims: cloneClaims(claims)}));
  }

  update(from: PaxosState): boolean {
    let changed = false;
    for (const {node, claims} of from) {
      const known = this.knows.get(key(node));
      if (!known) {
        this.knows.set(key(node), {node: {...node}, claims: cloneClaims(claims)});
        changed = true;
        continue;
      }
      if (precedes(known.claims.promise, claims.promise)) {
        known.claims.promise = {...claims.promise, proposer: {...claims.promise.proposer}};
        changed = true;
      }
      if (precedes(known.claims.accepted, claims.accepted)) {
        const fresh = cloneClaims(claims);
        Object.assign(known.claims, {accepted: fresh.accepted, value: fresh.value, origin: fresh.origin});
        changed = true;
      }
    }
    return changed;
  }

  propose(): void {
    if (this.quorum < 1) throw new Error('Paxos propose() called with no quorum set');
    let round = 0;
    for (const {claims} of this.knows.values()) round = Math.max(round, claims.promise.round, claims.accepted.round);
    const ours = this.ours();
    ours.promise = {round: round + 1, proposer: {...this.id}};
    this.knows.set(key(this.id), {node: {...this.id}, claims: ours});
    // Alone in the quorum, our own promise is a majority.
    if (this.quorum === 1) this.think();
  }

  think(): boolean {
    const ours = this.ours();
    // Promise: to the highest proposal known.
    for (const {claims} of this.knows.values()) {
      if (precedes(ours.promise, claims.promise)) ours.promise = {...claims.promise, proposer: {...claims.promise.proposer}};
    }
    // Accept request: our own proposal, once a quorum promised it, carrying the best value accepted
    // among them (or, if none, ours). Only while our promise is still our proposal: once it was
    // superseded, nobody would accept it.
    if (key(ours.promise.proposer) === key(this.id)) {
      let count = 0;
      let best: NodeClaims | undefined;
      for (const {claims} of this.knows.values()) {
        if (!sameProposal(claims.promise, ours.promise)) continue;
        count++;
        if (precedes(best?.accepted ?? NONE, claims.accepted)) best = claims;
      }
      if (count >= this.quorum) {
        const value = best ? [...best.value] : this.pickValue();
        const origin = best ? {...best.origin, proposer: {...best.origin.proposer}} : {...ours.promise, proposer: {...ours.promise.proposer}};
        Object.assign(ours, {accepted: {...ours.promise, proposer: {...ours.promise.proposer}}, value, origin});
      }
    }
    // Accepted: the proposal we promised, once its proposer accepted it.
    for (const {claims} of this.knows.values()) {
      if (claims.accepted.round > 0 && sameProposal(claims.accepted, ours.promise)) {
        const fresh = cloneClaims(claims);
        Object.assign(ours, {accepted: fresh.accepted, value: fresh.value, origin: fresh.origin});
        break;
      }
    }
    const before = this.knows.get(key(this.id))?.claims;
    if (before && sameClaims(before, ours)) return false;
    this.knows.set(key(this.id), {node: {...this.id}, claims: ours});
    return true;
  }

  /** Every node we know of: at least a quorum once we get to pick, which is enough to seed the ring. */
  private pickValue(): string[] {
    return [...this.knows.values()].map(({node}) => node.name);
  }

  consensus(): string[] | undefined {
    const counts = new Map<string, number>();
    for (const {claims} of this.knows.values()) {
      if (claims.accepted.round === 0) continue;
      const origin = `${claims.origin.round}/${key(claims.origin.proposer)}`;
      const count = (counts.get(origin) ?? 0) + 1;
      counts.set(origin, count);
      if (count >= this.quorum) return [...claims.value];
    }
    return undefined;
  }
}

/** `--ipalloc-init observer`: never proposes nor accepts; it asks for the ring instead. */
export class Observer implements Participant {
  readonly isElector = false;
  readonly quorum = 0;
  readonly known = 0;

  setQuorum(): void {}

  propose(): void {}

  update(): boolean {
    return false;
  }

  think(): boolean {
    return false;
  }

  consensus(): undefined {
    return undefined;
  }

  state(): undefined {
    return undefined;
  }
}
