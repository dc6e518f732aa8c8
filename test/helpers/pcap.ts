import {readFileSync} from 'node:fs';
import {collect} from './spawn.js';

/**
 * The TCP byte streams of a classic pcap file (Ethernet, IPv4), one per direction, keyed
 * `src:port>dst:port`, in order, retransmissions dropped. Enough for captures of a few hundred
 * packets on a LAN; not a general reader.
 */
export function tcpStreams(file: string): Map<string, Buffer> {
  const pcap = readFileSync(file);
  const magic = pcap.readUInt32LE(0);
  if (magic !== 0xa1b2c3d4) throw new Error(`${file}: not a little-endian microsecond pcap (magic ${magic.toString(16)})`);
  if (pcap.readUInt32LE(20) !== 1) throw new Error(`${file}: link type ${pcap.readUInt32LE(20)}, not Ethernet`);
  const parts = new Map<string, {next?: number; chunks: Buffer[]}>();
  for (let at = 24; at + 16 <= pcap.length; ) {
    const length = pcap.readUInt32LE(at + 8);
    const frame = pcap.subarray(at + 16, at + 16 + length);
    at += 16 + length;
    if (frame.readUInt16BE(12) !== 0x0800) continue;
    const ip = frame.subarray(14);
    if (ip[9] !== 6) continue;
    const tcp = ip.subarray((ip[0]! & 0x0f) * 4, ip.readUInt16BE(2));
    const payload = tcp.subarray((tcp[12]! >> 4) * 4);
    const key = `${ip.subarray(12, 16).join('.')}:${tcp.readUInt16BE(0)}>${ip.subarray(16, 20).join('.')}:${tcp.readUInt16BE(2)}`;
    const seq = tcp.readUInt32BE(4);
    const stream = parts.get(key) ?? {chunks: []};
    parts.set(key, stream);
    if (payload.length === 0) continue;
    if (stream.next !== undefined && seq !== stream.next) continue;
    stream.chunks.push(payload);
    stream.next = (seq + payload.length) >>> 0;
  }
  return new Map([...parts].map(([key, s]) => [key, Buffer.concat(s.chunks)]));
}

/** The stream one side sent: the direction whose source is `from` (`ip:port`, or `ip` for any port). */
export function sentBy(streams: Map<string, Buffer>, from: string): Buffer {
  const found = [...streams].find(([key]) => key.startsWith(from.includes(':') ? `${from}>` : `${from}:`));
  if (!found) throw new Error(`no stream from ${from} among ${[...streams.keys()].join(', ')}`);
  return found[1];
}

/** Link-layer header lengths of the pcap link types tcpdump writes (Ethernet, Linux cooked v1 and v2). */
const LINK_HEADER: Record<number, number> = {1: 14, 113: 16, 276: 20};

/** The IPv4 packets of a pcap file (as captured: cut at the snap length), in order. */
export function ipv4Packets(file: string): Buffer[] {
  const pcap = readFileSync(file);
  const linkHeader = LINK_HEADER[pcap.readUInt32LE(20)];
  if (linkHeader === undefined) throw new Error(`unexpected pcap link type ${pcap.readUInt32LE(20)}`);
  const packets: Buffer[] = [];
  for (let at = 24; at + 16 <= pcap.length; ) {
    const captured = pcap.readUInt32LE(at + 8);
    const ip = pcap.subarray(at + 16 + linkHeader, at + 16 + captured);
    at += 16 + captured;
    if (ip.length >= 20 && ip[0]! >> 4 === 4) packets.push(ip);
  }
  return packets;
}

/** A piece of a fragmented IPv4 datagram: the more-fragments flag or an offset. */
export const isFragment = (ip: Buffer): boolean => (ip.readUInt16BE(6) & 0x3fff) !== 0;

/** How many packets of a capture file match a tcpdump filter. */
export async function countPackets(file: string, filter: string[]): Promise<number> {
  const read = await collect('tcpdump', ['-r', file, '-nn', ...filter]);
  if (read.exitCode !== 0) throw new Error(`tcpdump -r ${file} failed: ${read.stderr}`);
  return read.stdout.split('\n').filter(Boolean).length;
}
