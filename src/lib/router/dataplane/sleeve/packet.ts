/**
 * The sleeve's UDP datagram: a 16-byte header in clear, then the frame sealed with AES-256-GCM.
 *
 *   0       type (1: a frame for the receiver; 2: a relayed frame; 3: a broadcast down a tree; see below)
 *   1       relayed or tree: hops it may still take; zero otherwise
 *   2..3    relayed or tree: the origin peer's id (u16, peerId()); zero otherwise
 *   4..7    session id: which of the receiver's keys opens it (u32, from the key itself)
 *   8..9    relayed: the destination peer's id (u16); zero otherwise
 *   10..15  counter: the sender's packet number in that session (u48), never reused
 *   16..    ciphertext of the frame (its virtio-net header, then the Ethernet frame), 16-byte tag
 *
 * The whole header is the associated data; its last 12 bytes are the nonce (unique: the
 * counter is). A relayed frame is sealed anew at each hop, for that hop's session: each hop
 * opens it, and a relay sends it on to its next hop towards the destination without looking
 * further; the destination learns the frame's source MAC behind the origin, not the relay.
 * A tree frame (a broadcast or unknown unicast) goes down the origin's spanning tree: each hop
 * delivers it, learning its source MAC behind the origin, and seals a copy for each of its
 * children in that tree.
 */
export const TYPE_FRAME = 1;
export const TYPE_RELAYED = 2;
export const TYPE_TREE = 3;
export const HEADER_BYTES = 16;
export const TAG_BYTES = 16;
const HOPS_OFFSET = 1;
const ORIGIN_OFFSET = 2;
const SESSION_OFFSET = 4;
const DESTINATION_OFFSET = 8;
const COUNTER_OFFSET = 10;
/** Each frame from the TAP starts with a struct virtio_net_hdr (no num_buffers). */
export const VNET_HDR_BYTES = 10;
/** IPv4 and UDP headers before each datagram on the wire. */
const IP_UDP_BYTES = 28;
const ETHERNET_HEADER_BYTES = 14;
/**
 * What the sleeve adds to a pod packet on the wire: IPv4, UDP, our header and tag, the
 * virtio-net header and the Ethernet header. A path MTU of at least the pods' MTU plus this
 * carries every datagram whole (super-frames are cut to the pods' MTU before sealing).
 */
export const SLEEVE_OVERHEAD = IP_UDP_BYTES + HEADER_BYTES + TAG_BYTES + VNET_HDR_BYTES + ETHERNET_HEADER_BYTES;
/** Counters fit 48 bits; a session reaching this must be replaced (9 years at 1 Mpps; a reconnection or restart rekeys long before). */
export const MAX_COUNTER = 2 ** 48 - 1;

/**
 * Writes the header at the start of `datagram`: a frame for the receiver, or one from `origin`
 * that may take `hops` more hops, relayed to `destination` or down the origin's tree.
 */
export function writeHeader(datagram: Buffer, sessionId: number, counter: number, type = TYPE_FRAME, hops = 0, origin = 0, destination = 0): void {
  datagram[0] = type;
  datagram[HOPS_OFFSET] = hops;
  datagram.writeUInt16BE(origin, ORIGIN_OFFSET);
  datagram.writeUInt32BE(sessionId, SESSION_OFFSET);
  datagram.writeUInt16BE(destination, DESTINATION_OFFSET);
  datagram.writeUIntBE(counter, COUNTER_OFFSET, 6);
}

export function readCounter(packet: Buffer): number {
  return packet.readUIntBE(COUNTER_OFFSET, 6);
}

export function readSessionId(packet: Buffer): number {
  return packet.readUInt32BE(SESSION_OFFSET);
}

export function readType(packet: Buffer): number {
  return packet[0]!;
}

/** A relayed or tree frame's hops left (0 for a frame for the receiver), origin and destination ids. */
export function readHops(packet: Buffer): number {
  return packet[0] === TYPE_FRAME ? 0 : packet[HOPS_OFFSET]!;
}

export function readOrigin(packet: Buffer): number {
  return packet.readUInt16BE(ORIGIN_OFFSET);
}

export function readDestination(packet: Buffer): number {
  return packet.readUInt16BE(DESTINATION_OFFSET);
}

/** A datagram that cannot be a sleeve frame: wrong type, a relayed or tree one with no hops, or too short to hold a header and a tag. */
export function malformed(packet: Buffer): boolean {
  if (packet.length < HEADER_BYTES + TAG_BYTES + VNET_HDR_BYTES) return true;
  if (packet[0] === TYPE_FRAME) return packet.readUInt32BE(0) !== TYPE_FRAME << 24 || packet.readUInt16BE(DESTINATION_OFFSET) !== 0;
  if (packet[0] === TYPE_TREE) return packet[HOPS_OFFSET] === 0 || packet.readUInt16BE(DESTINATION_OFFSET) !== 0;
  return packet[0] !== TYPE_RELAYED || packet[HOPS_OFFSET] === 0;
}
