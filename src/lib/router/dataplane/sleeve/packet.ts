/**
 * The sleeve's UDP datagram: a 16-byte header in clear, then the frame sealed with AES-256-GCM.
 *
 *   0      type (1: an Ethernet frame)
 *   1..3   zero
 *   4..7   session id: which of the receiver's keys opens it (u32, from the key itself)
 *   8..15  counter: the sender's packet number in that session (u64), never reused
 *   16..   ciphertext of the frame (its virtio-net header, then the Ethernet frame), 16-byte tag
 *
 * The whole header is the associated data; its last 12 bytes (session id, counter) are the nonce.
 */
export const TYPE_FRAME = 1;
export const HEADER_BYTES = 16;
export const TAG_BYTES = 16;
const SESSION_OFFSET = 4;
const COUNTER_OFFSET = 8;
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
/** Counters stay exact JavaScript numbers; a session reaching this must be replaced (centuries at 1 Mpps). */
export const MAX_COUNTER = Number.MAX_SAFE_INTEGER;

/** Writes the header at the start of `datagram`. */
export function writeHeader(datagram: Buffer, sessionId: number, counter: number): void {
  datagram.writeUInt32BE(TYPE_FRAME << 24, 0);
  datagram.writeUInt32BE(sessionId, SESSION_OFFSET);
  datagram.writeUInt32BE(Math.floor(counter / 2 ** 32), COUNTER_OFFSET);
  datagram.writeUInt32BE(counter >>> 0, COUNTER_OFFSET + 4);
}

export function readCounter(packet: Buffer): number {
  return packet.readUInt32BE(COUNTER_OFFSET) * 2 ** 32 + packet.readUInt32BE(COUNTER_OFFSET + 4);
}

export function readSessionId(packet: Buffer): number {
  return packet.readUInt32BE(SESSION_OFFSET);
}

/** A datagram that cannot be a sleeve frame: wrong type or too short to hold a header and a tag. */
export function malformed(packet: Buffer): boolean {
  return packet.length < HEADER_BYTES + TAG_BYTES + VNET_HDR_BYTES || packet.readUInt32BE(0) !== TYPE_FRAME << 24;
}
