/** MAC addresses as numbers (48 bits fit a double exactly): map keys without a string per frame. */
export function macAt(frame: Uint8Array, offset: number): number {
  return (frame[offset]! * 2 ** 40) + (frame[offset + 1]! * 2 ** 32) + ((frame[offset + 2]! << 24) >>> 0) + (frame[offset + 3]! << 16) + (frame[offset + 4]! << 8) + frame[offset + 5]!;
}

/** Group addresses (broadcast, multicast) have the low bit of their first byte set. */
export function isGroupMac(frame: Uint8Array, offset: number): boolean {
  return (frame[offset]! & 1) === 1;
}

/**
 * Which peer each remote MAC was last seen behind, as a switch learns its ports. Bounded: a
 * peer sending from endless addresses evicts the oldest entries rather than growing the table.
 */
export class MacTable {
  private readonly owners = new Map<number, string>();

  constructor(private readonly limit = 8192) {}

  get size(): number {
    return this.owners.size;
  }

  lookup(mac: number): string | undefined {
    return this.owners.get(mac);
  }

  /** Records `mac` behind `peer`; true when that is news (a new address, or one that moved). */
  learn(mac: number, peer: string): boolean {
    if (this.owners.get(mac) === peer) return false;
    this.owners.delete(mac);
    this.owners.set(mac, peer);
    if (this.owners.size > this.limit) this.owners.delete(this.owners.keys().next().value!);
    return true;
  }

  forgetPeer(peer: string): void {
    for (const [mac, owner] of this.owners) if (owner === peer) this.owners.delete(mac);
  }
}
