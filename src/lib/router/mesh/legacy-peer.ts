import {decodeGob, GobError} from '../legacy/gob.js';
import type {Logger} from '../log.js';
import type {ConnectionInfo} from '../state.js';
import {ipOf} from './address.js';
import {ProtocolError} from './protocol.js';

/**
 * Weave 2.8.1's peers send the same 7-byte header as ours and the same encryption flag (and
 * public key), then their own handshake: a length-prefixed, gob-encoded map[string]string of
 * fields (`Protocol`, `ProtocolMinVersion`, `PeerNameFlavour`, `Name`, `NickName`, `UID`,
 * `ConnID`...), NaCl-sealed when there is a password (weaveworks/mesh protocol.go, doIntroV2).
 * We name such a peer rather than misread it; speaking its protocol is not done yet
 * (docs/weave-2.8.1-wire.md).
 */

const MIXED = 'mixed clusters with weave 2.8.1 are not supported yet (move every host over: see "Moving a 2.8.1 cluster" in the README)';

/** The handshake fields of a weave 2.8.1 peer, when `body` is its unencrypted handshake. */
export function legacyHandshakeFields(body: Buffer): Map<string, string> | undefined {
  let value;
  try {
    value = decodeGob(body);
  } catch (error) {
    if (error instanceof GobError) return undefined;
    throw error;
  }
  if (!(value instanceof Map) || ![...value].every(([k, v]) => typeof k === 'string' && typeof v === 'string')) return undefined;
  const fields = value as Map<string, string>;
  return fields.has('Name') && fields.has('PeerNameFlavour') ? fields : undefined;
}

/** A peer that speaks weave 2.8.1's protocol; it is retried only rarely. */
export class LegacyPeerError extends ProtocolError {
  constructor(fields?: Map<string, string>) {
    const nick = fields?.get('NickName');
    const who = fields ? `peer ${fields.get('Name')}${nick ? `(${nick})` : ''}` : 'the peer';
    const how = fields ? '' : ' (its first message after the key exchange is sealed the original way, not a proof of ours)';
    super(`${who} speaks weave 2.8.1's protocol${how}: ${MIXED}`);
    this.name = 'LegacyPeerError';
  }
}

/** How long a weave 2.8.1 peer is remembered after its last try: shown (when it dialled us), not warned of again. */
export const REMEMBERED_FOR_MS = 10 * 60_000;

/**
 * The weave 2.8.1 peers met lately: one warning per address (not one per retry), and those that
 * dialled us in `status connections` (those we dial show there as failed targets already).
 */
export class LegacyPeers {
  /** By IP: when we last heard of it. */
  private readonly warned = new Map<string, number>();
  /** By IP, the peers that dialled us: the port changes with every try. */
  private readonly inbound = new Map<string, {address: string; message: string; at: number}>();

  constructor(
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  failed(address: string, outbound: boolean, error: Error): void {
    if (!(error instanceof LegacyPeerError)) return;
    this.prune();
    const ip = ipOf(address);
    const at = this.now();
    if (!this.warned.has(ip)) this.log.warning(error.message, {address, outbound});
    this.warned.set(ip, at);
    if (!outbound) this.inbound.set(ip, {address, message: error.message, at});
  }

  /** A handshake with this address succeeded: whatever ran there before was replaced. */
  connected(address: string): void {
    this.warned.delete(ipOf(address));
    this.inbound.delete(ipOf(address));
  }

  status(): ConnectionInfo[] {
    this.prune();
    return [...this.inbound.values()].map(p => ({address: p.address, outbound: false, state: 'failed', info: p.message, attrs: {}}));
  }

  private prune(): void {
    const old = this.now() - REMEMBERED_FOR_MS;
    for (const [ip, at] of this.warned) if (at < old) this.warned.delete(ip);
    for (const [ip, p] of this.inbound) if (p.at < old) this.inbound.delete(ip);
  }
}
