/**
 * The mesh protocol on TCP 6783: what both ends agree on before anything else. A connection
 * opens with a 7-byte header, `weave` and the range of protocol versions the sender speaks; both
 * use the highest version in common. Then comes the handshake (handshake.ts), then frames:
 * a 4-byte big-endian length and a body whose first byte is a Tag.
 */

export const PROTOCOL = 'weave';
export const PROTOCOL_MIN_VERSION = 1;
export const PROTOCOL_MAX_VERSION = 2;

export interface VersionRange {
  min: number;
  max: number;
}

export const OUR_VERSIONS: VersionRange = {min: PROTOCOL_MIN_VERSION, max: PROTOCOL_MAX_VERSION};

const MAGIC = Buffer.from(PROTOCOL, 'ascii');
export const HEADER_BYTES = MAGIC.length + 2;

/** Largest frame accepted, as the original's 10 MB: a topology of thousands of peers fits. */
export const MAX_FRAME_BYTES = 10 << 20;

/**
 * Time allowed from the TCP connect to the end of the handshake: twice the original's 10 s. A
 * router starved of CPU (100 on 2 cores) accepts seconds late, and a handshake given up there
 * was all done again later, by both ends.
 */
export const HANDSHAKE_TIMEOUT_MS = 20_000;
/** Heartbeats keep a quiet connection alive; twice this without a frame and the peer is gone. */
export const HEARTBEAT_MS = 30_000;
/** Every channel's full state goes to a few random neighbours this often (repairs lost updates). */
export const GOSSIP_INTERVAL_MS = 30_000;

/** The first byte of every frame after the handshake. */
export const Tag = {
  Heartbeat: 0,
  /** The sender has added the connection: it is established once both ends have said so. */
  Ready: 1,
  /** Channel data for a neighbour, relayed onwards only where it taught the receiver something. */
  Gossip: 2,
  /** Channel data for one peer, relayed hop by hop towards it. */
  GossipUnicast: 3,
  /** Channel data for every peer, relayed along the spanning tree of its source. */
  GossipBroadcast: 4,
} as const;

/** A peer that does not follow the protocol; the message says what went wrong. */
export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

export function encodeHeader(versions: VersionRange): Buffer {
  return Buffer.concat([MAGIC, Buffer.of(versions.min, versions.max)]);
}

/** The version both ends speak: the highest in common, or the original's error when none is. */
export function negotiateVersion(ours: VersionRange, header: Buffer): number {
  if (header.length !== HEADER_BYTES || !header.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new ProtocolError(`remote protocol header not recognised: [${[...header.subarray(0, MAGIC.length)].join(' ')}]`);
  }
  const theirs = {min: header[MAGIC.length]!, max: header[MAGIC.length + 1]!};
  const min = Math.max(ours.min, theirs.min);
  const max = Math.min(ours.max, theirs.max);
  if (min > max) {
    throw new ProtocolError(`remote version range [${theirs.min},${theirs.max}] is incompatible with ours [${ours.min},${ours.max}]`);
  }
  return max;
}
