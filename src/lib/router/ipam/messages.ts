import type {NodeClaims, NodeId, PaxosState, ProposalId} from './consensus.js';
import type {Span} from './range.js';
import type {ForeignRing, RingToken} from './ring.js';

/**
 * IPAM's messages on the gossip channel "IPallocation", as JSON (wire compatibility with the Go
 * router is not a goal). Gossip and broadcasts carry a GossipState; unicasts a kind byte, then a
 * span or a GossipState. Everything is checked on the way in: a peer sending nonsense is refused.
 */

export const CHANNEL = 'IPallocation';

/** The unicast kinds, in the original's order. */
export const Unicast = {SpaceRequest: 0, RingUpdate: 1, SpaceRequestDenied: 2} as const;

export interface GossipState {
  /** Peer names to nicknames, so that rmpeer and the status can name peers that are gone. */
  nicknames: Record<string, string>;
  /** While there is no ring: an elector's consensus state (an observer sends none). */
  paxos?: PaxosState;
  ring?: ForeignRing;
}

/** A message that is not what IPAM sends: the connection it came on is closed with this. */
export class IpamMessageError extends Error {
  constructor(message: string) {
    super(`malformed IPAM message: ${message}`);
    this.name = 'IpamMessageError';
  }
}

type Json = unknown;

const NAME = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

function fail(what: string): never {
  throw new IpamMessageError(what);
}

function u32(v: Json, what: string): number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 2 ** 32 ? v : fail(`${what} is not an address or count`);
}

function count(v: Json, what: string): number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : fail(`${what} is not a count`);
}

function peerName(v: Json, what: string): string {
  return typeof v === 'string' && NAME.test(v) ? v : fail(`${what} is not a peer name`);
}

function list(v: Json, what: string): Json[] {
  return Array.isArray(v) ? v : fail(`${what} is not a list`);
}

function object(v: Json, what: string): Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, Json>) : fail(`${what} is not an object`);
}

function nodeId(v: Json): NodeId {
  const o = object(v, 'node');
  const uid = typeof o.uid === 'string' && /^\d{1,20}$/.test(o.uid) ? o.uid : fail('uid');
  return {name: o.name === '' ? '' : peerName(o.name, 'node name'), uid};
}

function proposal(v: Json): ProposalId {
  const o = object(v, 'proposal');
  return {round: count(o.round, 'round'), proposer: nodeId(o.proposer)};
}

function claims(v: Json): NodeClaims {
  const o = object(v, 'claims');
  return {
    promise: proposal(o.promise),
    accepted: proposal(o.accepted),
    value: list(o.value, 'value').map(n => peerName(n, 'value')),
    origin: proposal(o.origin),
  };
}

function ring(v: Json): ForeignRing {
  const o = object(v, 'ring');
  const tokens = list(o.tokens, 'tokens').map((t): RingToken => {
    const [start, peer, version, free] = list(t, 'token');
    return {start: u32(start, 'token'), peer: peerName(peer, 'token owner'), version: count(version, 'version'), free: u32(free, 'free')};
  });
  return {start: u32(o.start, 'range start'), end: u32(o.end, 'range end'), seeds: list(o.seeds, 'seeds').map(s => peerName(s, 'seed')), tokens};
}

export function encodeState(state: GossipState): Buffer {
  const wire: Record<string, Json> = {nicknames: state.nicknames};
  if (state.paxos) wire.paxos = state.paxos;
  if (state.ring) {
    const {start, end, seeds, tokens} = state.ring;
    wire.ring = {start, end, seeds, tokens: tokens.map(t => [t.start, t.peer, t.version, t.free])};
  }
  return Buffer.from(JSON.stringify(wire));
}

export function decodeState(buf: Buffer): GossipState {
  let raw: Json;
  try {
    raw = JSON.parse(buf.toString('utf8'));
  } catch {
    fail('not JSON');
  }
  const o = object(raw, 'state');
  const nicknames: Record<string, string> = {};
  for (const [name, nick] of Object.entries(object(o.nicknames ?? {}, 'nicknames'))) {
    nicknames[peerName(name, 'nickname key')] = typeof nick === 'string' && nick.length <= 255 ? nick : fail('nickname');
  }
  const state: GossipState = {nicknames};
  if (o.paxos !== undefined) state.paxos = list(o.paxos, 'paxos').map(e => ({node: nodeId(object(e, 'paxos entry').node), claims: claims(object(e, 'paxos entry').claims)}));
  if (o.ring !== undefined) state.ring = ring(o.ring);
  return state;
}

export function encodeUnicast(kind: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.of(kind), body]);
}

export function encodeSpan(span: Span): Buffer {
  return Buffer.from(JSON.stringify([span.start, span.end]));
}

export function decodeSpan(buf: Buffer): Span {
  let raw: Json;
  try {
    raw = JSON.parse(buf.toString('utf8'));
  } catch {
    fail('not JSON');
  }
  const [start, end] = list(raw, 'span');
  const span = {start: u32(start, 'span start'), end: u32(end, 'span end')};
  return span.start < span.end ? span : fail('empty span');
}
