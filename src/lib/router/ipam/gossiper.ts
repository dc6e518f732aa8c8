import type {Gossip, GossipData, Gossiper} from '../mesh/gossip.js';
import type {Logger} from '../log.js';
import type {Allocator} from './allocator.js';
import {Elector, type IpamInit, Observer, type Participant, quorumOf} from './consensus.js';
import {CHANNEL, decodeSpan, decodeState, encodeSpan, encodeState, encodeUnicast, type GossipState, IpamMessageError, Unicast} from './messages.js';
import {formatAddress} from '../../net/cidr.js';
import {formatSpan, type Span} from './range.js';
import type {IpamStore} from './records.js';
import {type ForeignRing, RingMergeError} from './ring.js';

/** What IPAM needs of the peer mesh, and nothing more. */
export interface IpamMesh {
  readonly ourName: string;
  /** Differs at each start: consensus takes a restarted peer for a new participant. */
  readonly uid: bigint;
  newGossip(channel: string, gossiper: Gossiper): Gossip;
  /** Whether a peer is in the topology, i.e. reachable from us. */
  isKnownPeer(name: string): boolean;
  /** The peers we were told to connect to: the default quorum counts them. */
  targets(): string[];
  onPeerRemoved(listener: (name: string) => void): void;
}

/** What the gossiper tells the service, which owns the waiting requests. */
export interface RingHooks {
  /** Our ring changed: waiting requests may proceed. */
  ringChanged(): void;
  /** A peer has no free space in `span` for us. */
  denied(sender: string, span: Span): void;
  hasPending(): boolean;
  /** Periodic retry of waiting requests (asking for space again). */
  retry(): void;
}

export interface GossiperOptions {
  allocator: Allocator;
  store: IpamStore;
  logger: Logger;
  mesh: IpamMesh;
  init: IpamInit;
  hooks: RingHooks;
  /** How often consensus is proposed again and waiting work retried while messages may be lost. */
  tickMs: number;
}

/**
 * IPAM between peers, as the original allocator's gossip side: agrees on the first ring by
 * consensus (or waits for one, as an observer), merges and spreads the ring on the channel
 * "IPallocation", donates space to peers that ask, and refuses peers whose ring cannot be
 * merged (other seeds, another range) by throwing, which closes their connection.
 *
 * Others only ever see a ring that is on disk here: a kill -9 cannot make us forget a span we
 * gave away, or hand out an address from it again.
 */
export class RingGossiper implements Gossiper {
  private readonly channel: Gossip;
  private readonly participant: Participant;
  private awaitingConsensus = false;
  /** When consensus last moved (our proposal, or news from another elector). */
  private progressAt = 0;
  /** The newest ring known durable: the only one others see. */
  private published?: ForeignRing;
  private changes = 0;
  private publishedChange = 0;
  /** Settles when the last ring change made here is published (on disk, in our state). */
  private publishing: Promise<void> = Promise.resolve();
  /** When we last asked for space per span, so that many waiting requests ask once. */
  private readonly asked = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  /**
   * Encoded when sent: a queue of it merges into one message carrying the latest state. The
   * encoding is kept until the state changes (stateChanged()), for a broadcast goes to every
   * neighbour.
   */
  private readonly data: GossipData = {encode: () => [(this.encoded ??= encodeState(this.state()))], merge: () => this.data};
  private encoded?: Buffer;

  constructor(private readonly o: GossiperOptions) {
    const {mesh, init, allocator} = o;
    this.participant = init.mode === 'observer' ? new Observer() : new Elector({name: mesh.ourName, uid: mesh.uid.toString()});
    this.channel = mesh.newGossip(CHANNEL, this);
    mesh.onPeerRemoved(name => {
      if (!allocator.ring.peers().has(name)) allocator.nicknames.delete(name);
      this.stateChanged();
    });
    if (!allocator.ring.empty) void this.publish(false);
    this.timer = setInterval(() => this.tick(), o.tickMs).unref();
  }

  private get ourName(): string {
    return this.o.allocator.ourName;
  }

  isKnownPeer(name: string): boolean {
    return name === this.ourName || this.o.mesh.isKnownPeer(name);
  }

  /** For the status: whether we wait for consensus, as what, and how far it got. */
  consensusStatus(): {awaiting: boolean; elector: boolean; quorum: number; known: number} {
    const {isElector, quorum, known} = this.participant;
    return {awaiting: this.awaitingConsensus, elector: isElector, quorum, known};
  }

  /** What state() returns may differ now: the next message encodes it afresh. */
  private stateChanged(): void {
    this.encoded = undefined;
  }

  private state(): GossipState {
    const state: GossipState = {nicknames: Object.fromEntries(this.o.allocator.nicknames)};
    if (this.published) state.ring = this.published;
    else {
      const paxos = this.participant.state();
      if (paxos) state.paxos = paxos;
    }
    return state;
  }

  private broadcast(): void {
    this.channel.gossipBroadcast(this.data);
  }

  private unicast(to: string, kind: number, body: Buffer): boolean {
    try {
      this.channel.gossipUnicast(to, encodeUnicast(kind, body));
      return true;
    } catch (error) {
      this.o.logger.debug('IPAM message not sent', {component: 'ipam', to, error: (error as Error).message});
      return false;
    }
  }

  /**
   * Makes the ring as it is now visible to others once it is durable; with `broadcast`, tells
   * everyone. Resolves then (or at once if the store failed, which it reports itself).
   */
  private publish(broadcast: boolean): Promise<void> {
    const {allocator, store} = this.o;
    const ring = {...allocator.ring.toRecord(), ...allocator.universeSpan};
    const change = ++this.changes;
    this.publishing = store.durable().then(
      () => {
        if (change > this.publishedChange) {
          this.publishedChange = change;
          this.published = ring.tokens.length > 0 ? ring : undefined;
          this.stateChanged();
        }
        if (broadcast) this.broadcast();
      },
      (error: Error) => this.o.logger.error('IPAM ring not published', {component: 'ipam', error: error.message}),
    );
    return this.publishing;
  }

  /** The ring changed here or by a merge: the service retries what waits; others hear of it. */
  private ringUpdated(broadcast: boolean): Promise<void> {
    this.awaitingConsensus = false;
    // Space may have come, or the donors changed: the next shortage asks again at once.
    this.asked.clear();
    this.o.hooks.ringChanged();
    return this.publish(broadcast);
  }

  /** Takes a step towards a ring: starts consensus (an observer asks around instead). */
  establish(): void {
    if (!this.o.allocator.ring.empty || this.awaitingConsensus) return;
    this.awaitingConsensus = true;
    this.setQuorum();
    this.o.logger.info(this.participant.isElector ? 'Awaiting consensus' : 'Awaiting IPAM data from another peer', {component: 'ipam', quorum: this.participant.quorum});
    this.propose();
    this.checkConsensus();
  }

  /** Set before we first count votes, whether we proposed or another did: with none, any vote would do. */
  private setQuorum(): void {
    if (this.participant.quorum === 0) this.participant.setQuorum(quorumOf(this.o.init, this.o.mesh.targets().length));
  }

  private propose(): void {
    this.progressAt = Date.now();
    this.participant.propose();
    this.stateChanged();
    this.broadcast();
  }

  private checkConsensus(): void {
    const value = this.participant.consensus();
    if (!value) return;
    this.o.logger.info('Paxos consensus', {component: 'ipam', peers: value});
    this.o.allocator.createRing(value);
    void this.ringUpdated(true);
  }

  /** Asks a peer with free space in `span` for some; false when nobody could be asked. */
  askForSpace(span: Span): boolean {
    const key = `${span.start}-${span.end}`;
    const last = this.asked.get(key);
    if (last !== undefined && Date.now() - last < this.o.tickMs) return true;
    for (const donor of this.o.allocator.ring.donorsFor(span, this.ourName)) {
      if (this.unicast(donor, Unicast.SpaceRequest, encodeSpan(span))) {
        this.o.logger.debug('Asked a peer for space', {component: 'ipam', donor, span: `${formatAddress(span.start)}-${formatAddress(span.end - 1)}`});
        this.asked.set(key, Date.now());
        return true;
      }
    }
    return false;
  }

  /** Asks the owner of `addr` to give it to us (a claim); false when it cannot be reached. */
  askOwner(owner: string, addr: number): boolean {
    return this.unicast(owner, Unicast.SpaceRequest, encodeSpan({start: addr, end: addr + 1}));
  }

  /** Shutdown: hands our spans to a live peer if there is one; returns it. */
  async handOver(): Promise<string | undefined> {
    const heir = this.pickHeir();
    if (!heir) {
      this.o.logger.info('No peer to hand our IP ranges to', {component: 'ipam'});
      this.o.allocator.abandon();
      return undefined;
    }
    this.o.allocator.handOver(heir);
    this.o.logger.info('Handed our IP ranges over', {component: 'ipam', heir});
    await this.publish(true);
    return heir;
  }

  /** rmpeer changed the ring here: others hear of it once it is durable. */
  takenOver(): Promise<void> {
    return this.publish(true);
  }

  /** As the original: a live peer with space, a live peer, then any peer in the ring, then any peer named. */
  private pickHeir(): string | undefined {
    const {ring, nicknames} = this.o.allocator;
    const named = (valid: (p: string) => boolean) => [...nicknames.keys()].find(p => p !== this.ourName && valid(p));
    const live = (p: string) => this.o.mesh.isKnownPeer(p);
    return ring.pickPeer(this.ourName, live) ?? named(live) ?? ring.pickPeer(this.ourName, () => true) ?? named(() => true);
  }

  private annotate(names: readonly string[]): string {
    const {nicknames} = this.o.allocator;
    return `[${names.map(n => (nicknames.has(n) ? `${n}(${nicknames.get(n)})` : n)).join(' ')}]`;
  }

  /** Merges what a peer told us; `sender` only when it came to us from that peer (not relayed gossip). True when we learnt something. */
  private update(sender: string | undefined, state: GossipState): boolean {
    // Nicknames, consensus or ring: anything below may change what we gossip.
    this.stateChanged();
    const {allocator} = this.o;
    for (const [peer, nickname] of Object.entries(state.nicknames)) if (peer !== this.ourName) allocator.nicknames.set(peer, nickname);
    if (state.ring) {
      let updated: boolean;
      try {
        updated = allocator.mergeRing(state.ring);
      } catch (error) {
        if (!(error instanceof RingMergeError)) throw error;
        const message =
          error.kind === 'seeds'
            ? `IP allocation was seeded by different peers (received: ${this.annotate(state.ring.seeds)}, ours: ${this.annotate(allocator.ring.toRecord().seeds)})`
            : error.kind === 'range'
              ? `Incompatible IP allocation ranges (received: ${formatSpan(state.ring)}, ours: ${formatSpan(allocator.universeSpan)})`
              : error.message;
        this.o.logger.error(message, {component: 'ipam', ...(sender ? {peer: sender} : {})});
        throw new Error(message);
      }
      if (!updated) return false;
      this.pruneNicknames();
      void this.ringUpdated(false);
      return true;
    }
    if (!allocator.ring.empty) {
      // An elector proposing or an observer asking, while we have a ring: it only needs ours.
      if (sender) this.sendRingUpdate(sender);
      return false;
    }
    if (state.paxos) {
      if (!this.participant.update(state.paxos)) return false;
      this.progressAt = Date.now();
      this.setQuorum();
      if (this.participant.think()) this.broadcast();
      this.checkConsensus();
      return true;
    }
    // An observer asked for a ring nobody has yet: an elector starts consensus on its behalf.
    if (this.participant.isElector && sender) this.establish();
    return false;
  }

  private pruneNicknames(): void {
    const {allocator} = this.o;
    const inRing = allocator.ring.peers();
    for (const name of allocator.nicknames.keys()) {
      if (name !== this.ourName && !inRing.has(name) && !this.o.mesh.isKnownPeer(name)) allocator.nicknames.delete(name);
    }
  }

  private sendRingUpdate(to: string): void {
    if (this.published) this.unicast(to, Unicast.RingUpdate, encodeState(this.state()));
  }

  /** A peer asked for space: it gets part of ours if we have any free there, and our ring in any case. */
  private donate(span: Span, to: string): void {
    const chunk = this.o.allocator.donate(span, to);
    if (!chunk) {
      this.o.logger.debug('No space to give to peer', {component: 'ipam', peer: to});
      this.unicast(to, Unicast.SpaceRequestDenied, encodeSpan(span));
      this.sendRingUpdate(to);
      return;
    }
    this.o.logger.info('Giving range to peer', {component: 'ipam', peer: to, range: `${formatAddress(chunk.start)}-${formatAddress(chunk.end - 1)}`});
    // Everyone hears of it (the original only told the recipient): the status of every peer shows it at once.
    void this.publish(true).then(() => this.sendRingUpdate(to));
  }

  // ----- Gossiper -----

  onGossipUnicast(sender: string, message: Buffer): void {
    const body = message.subarray(1);
    switch (message[0]) {
      case Unicast.SpaceRequest:
        if (!this.o.allocator.ring.empty) this.donate(decodeSpan(body), sender);
        return;
      case Unicast.SpaceRequestDenied:
        this.o.hooks.denied(sender, decodeSpan(body));
        return;
      case Unicast.RingUpdate:
        this.update(sender, decodeState(body));
        return;
      default:
        throw new IpamMessageError(`unexpected unicast kind ${message[0]}`);
    }
  }

  /**
   * Passed on once the ring we merged (from this message or just before) is on disk: only a
   * durable ring is in our state, and the peers past us would otherwise get an older one (the
   * original relayed after its synchronous write too). Later frames on the connection wait.
   */
  async onGossipBroadcast(source: string, update: Buffer): Promise<GossipData> {
    this.update(source, decodeState(update));
    await this.publishing;
    return this.data;
  }

  gossip(): GossipData {
    return this.data;
  }

  async onGossip(update: Buffer): Promise<GossipData | undefined> {
    const learnt = this.update(undefined, decodeState(update));
    await this.publishing;
    return learnt ? this.data : undefined;
  }

  // ----- periodic -----

  /** Retries what messages may have lost, and reports our free space where donors are chosen. */
  private tick(): void {
    const {allocator, hooks} = this.o;
    if (this.awaitingConsensus) {
      // A new round supersedes the one under way: only once that one seems stuck.
      if (Date.now() - this.progressAt >= this.o.tickMs) this.propose();
    } else if (hooks.hasPending()) {
      if (allocator.ring.empty) this.establish();
      else hooks.retry();
    }
    if (!allocator.ring.empty && allocator.reportFree()) void this.publish(false);
  }

  close(): void {
    clearInterval(this.timer);
  }
}
