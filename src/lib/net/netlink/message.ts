import {endianness} from 'node:os';
import ipaddr from 'ipaddr.js';

/**
 * rtnetlink messages as bytes (linux/netlink.h, linux/rtnetlink.h, linux/if_link.h,
 * linux/if_addr.h, linux/net_namespace.h): the few the CNI path sends, the acks and links it
 * reads back, and the dumps `weave ps` reads.
 * Netlink speaks the host's byte order.
 */
const LE = endianness() === 'LE';

export const RTM = {NEWLINK: 16, DELLINK: 17, GETLINK: 18, NEWADDR: 20, GETADDR: 22, NEWROUTE: 24, GETROUTE: 26, GETNSID: 90} as const;
/** DUMP: every object of the type, in as many datagrams as it takes, then NLMSG_DONE. */
export const NLM_F = {REQUEST: 0x1, ACK: 0x4, DUMP: 0x300, EXCL: 0x200, CREATE: 0x400} as const;
const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const NLM_F_ACK_TLVS = 0x200;
const NLMSGERR_ATTR_MSG = 1;
const NLA_F_NESTED = 0x8000;
const HEADER = 16;

export const IFLA = {ADDRESS: 1, IFNAME: 3, MTU: 4, LINK: 5, MASTER: 10, LINKINFO: 18, IFALIAS: 20, NET_NS_FD: 28, LINK_NETNSID: 37} as const;
export const INFO = {KIND: 1, DATA: 2, SLAVE_DATA: 5} as const;
export const VETH_INFO_PEER = 1;
/** A bridge port's settings (IFLA_BRPORT_*), inside INFO.SLAVE_DATA. MODE: hairpin. */
export const BRPORT = {MODE: 4, LEARNING: 8, UNICAST_FLOOD: 9, MCAST_FLOOD: 27, BCAST_FLOOD: 30, ISOLATED: 33} as const;
/** A VXLAN device's settings (IFLA_VXLAN_*), inside INFO.DATA; PORT is in network byte order. */
export const VXLAN = {ID: 1, LOCAL: 4, LEARNING: 7, PORT: 15} as const;
export const IFA = {ADDRESS: 1, LOCAL: 2} as const;
export const IFA_F_NODAD = 0x2;
export const NETNSA = {NSID: 1, FD: 3} as const;
export const RTA = {DST: 1, OIF: 4, GATEWAY: 5} as const;
export const IFF_UP = 0x1;
const RT_TABLE_MAIN = 254;
/** What `ip route add` marks its routes with. */
const RTPROT_BOOT = 3;
export const RT_SCOPE = {UNIVERSE: 0, LINK: 253} as const;
const RTN_UNICAST = 1;
export const AF = {4: 2, 6: 10} as const;

/** An attribute: raw bytes, or attributes nested inside it. */
export interface Attr {
  type: number;
  value: Buffer | readonly Attr[];
}

const align = (n: number) => (n + 3) & ~3;

export const u8 = (n: number): Buffer => Buffer.from([n]);

export function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  if (LE) b.writeUInt32LE(n);
  else b.writeUInt32BE(n);
  return b;
}

/** A NUL-terminated string, as the kernel wants interface names. */
export const cstring = (s: string): Buffer => Buffer.from(`${s}\0`);

/** An address's bytes (4 or 16). */
export const addressBytes = (ip: string): Buffer => Buffer.from(ipaddr.parse(ip).toByteArray());

export const macBytes = (mac: string): Buffer => Buffer.from(mac.split(':').map(o => parseInt(o, 16)));

/** A MAC as `ip` prints it. */
export const macText = (b: Buffer): string => [...b].map(o => o.toString(16).padStart(2, '0')).join(':');

/** A string attribute without its NUL; undefined when absent. */
export const attrText = (attrs: Map<number, Buffer>, type: number): string | undefined => attrs.get(type)?.toString().replace(/\0.*$/s, '');

export function encodeAttrs(attrs: readonly Attr[]): Buffer {
  const parts: Buffer[] = [];
  for (const {type, value} of attrs) {
    const nested = !Buffer.isBuffer(value);
    const payload = nested ? encodeAttrs(value) : value;
    const header = Buffer.alloc(4);
    const len = 4 + payload.length;
    if (LE) {
      header.writeUInt16LE(len, 0);
      header.writeUInt16LE(type | (nested ? NLA_F_NESTED : 0), 2);
    } else {
      header.writeUInt16BE(len, 0);
      header.writeUInt16BE(type | (nested ? NLA_F_NESTED : 0), 2);
    }
    parts.push(header, payload, Buffer.alloc(align(len) - len));
  }
  return Buffer.concat(parts);
}

/** struct ifinfomsg: which link (by index; 0 with IFLA_IFNAME: by name), and flags to set. */
export function ifinfomsg(index = 0, flags = 0, change = flags): Buffer {
  const b = Buffer.alloc(16);
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  dv.setInt32(4, index, LE);
  dv.setUint32(8, flags, LE);
  dv.setUint32(12, change, LE);
  return b;
}

/** struct ifaddrmsg. */
export function ifaddrmsg(family: 4 | 6, prefix: number, flags: number, index: number): Buffer {
  const b = Buffer.alloc(8);
  b[0] = AF[family];
  b[1] = prefix;
  b[2] = flags;
  new DataView(b.buffer, b.byteOffset, b.length).setUint32(4, index, LE);
  return b;
}

/** struct rtmsg of a unicast route in the main table. */
export function rtmsg(family: 4 | 6, dstLen: number, scope: number): Buffer {
  return Buffer.from([AF[family], dstLen, 0, 0, RT_TABLE_MAIN, RTPROT_BOOT, scope, RTN_UNICAST, 0, 0, 0, 0]);
}

/** struct rtmsg of a route lookup (`ip route get`): only the family and a full-length destination. */
export const rtmsgGet = (family: 4 | 6): Buffer => Buffer.from([AF[family], family === 4 ? 32 : 128, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);

/** The fields of an RTM_NEWROUTE message: its attributes, after the 12-byte rtmsg. */
export const parseRoute = (payload: Buffer): Map<number, Buffer> => parseAttrs(payload.subarray(12));

/** One request: nlmsghdr, the fixed header of its type, then its attributes. */
export function message(type: number, flags: number, seq: number, fixed: Buffer, attrs: readonly Attr[] = []): Buffer {
  const body = Buffer.concat([fixed, encodeAttrs(attrs)]);
  const b = Buffer.alloc(HEADER + body.length);
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  dv.setUint32(0, b.length, LE);
  dv.setUint16(4, type, LE);
  dv.setUint16(6, flags | NLM_F.REQUEST, LE);
  dv.setUint32(8, seq, LE);
  body.copy(b, HEADER);
  return b;
}

/** A message read back: its type and sequence number, and what follows its header. */
export interface Reply {
  type: number;
  flags: number;
  seq: number;
  payload: Buffer;
}

export function* replies(datagram: Buffer): Generator<Reply> {
  const dv = new DataView(datagram.buffer, datagram.byteOffset, datagram.length);
  for (let at = 0; at + HEADER <= datagram.length; ) {
    const len = dv.getUint32(at, LE);
    if (len < HEADER || at + len > datagram.length) return;
    yield {type: dv.getUint16(at + 4, LE), flags: dv.getUint16(at + 6, LE), seq: dv.getUint32(at + 8, LE), payload: datagram.subarray(at + HEADER, at + len)};
    at += align(len);
  }
}

/** The attributes in `b`, by type (the last of a type wins), nesting flags dropped. */
export function parseAttrs(b: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  for (let at = 0; at + 4 <= b.length; ) {
    const len = dv.getUint16(at, LE);
    if (len < 4 || at + len > b.length) break;
    out.set(dv.getUint16(at + 2, LE) & ~NLA_F_NESTED & 0x3fff, b.subarray(at + 4, at + len));
    at += align(len);
  }
  return out;
}

export const readU32 = (b: Buffer): number => new DataView(b.buffer, b.byteOffset, b.length).getUint32(0, LE);

/** An ack or an error: 0, or the negative errno, and the kernel's words when it gave any. */
export function parseError(reply: Reply): {errno: number; said?: string} {
  const dv = new DataView(reply.payload.buffer, reply.payload.byteOffset, reply.payload.length);
  // The kernel puts the errno negated, and 0 for an ack.
  const errno = Math.abs(dv.getInt32(0, LE));
  if (errno === 0 || !(reply.flags & NLM_F_ACK_TLVS)) return {errno};
  // The capped echo of our request (its header alone) comes before the extended-ack attributes.
  const said = parseAttrs(reply.payload.subarray(4 + HEADER)).get(NLMSGERR_ATTR_MSG);
  return said ? {errno, said: said.toString().replace(/\0.*$/s, '')} : {errno};
}

export const isError = (reply: Reply): boolean => reply.type === NLMSG_ERROR;

/** The end of a dump: 0, or the negative errno of a dump that failed midway. */
export const isDone = (reply: Reply): boolean => reply.type === NLMSG_DONE;

export const readI32 = (b: Buffer): number => new DataView(b.buffer, b.byteOffset, b.length).getInt32(0, LE);

/** struct rtgenmsg (a family, padded): the fixed header of requests about namespaces. */
export const rtgenmsg = (): Buffer => Buffer.alloc(4);

/** The fields of an RTM_NEWLINK message: see link-info.ts for what they mean as `ip` shows them. */
export function parseLink(payload: Buffer): {ifindex: number; flags: number; attrs: Map<number, Buffer>} {
  const dv = new DataView(payload.buffer, payload.byteOffset, payload.length);
  return {ifindex: dv.getInt32(4, LE), flags: dv.getUint32(8, LE), attrs: parseAttrs(payload.subarray(16))};
}

/** The fields of an RTM_NEWADDR message: its family, prefix length, link and attributes. */
export function parseAddr(payload: Buffer): {family: number; prefixlen: number; ifindex: number; attrs: Map<number, Buffer>} {
  const dv = new DataView(payload.buffer, payload.byteOffset, payload.length);
  return {family: payload[0]!, prefixlen: payload[1]!, ifindex: dv.getUint32(4, LE), attrs: parseAttrs(payload.subarray(8))};
}
