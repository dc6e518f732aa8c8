/*
 * TCP super-frames cut into MTU-sized frames for the wire, and rebuilt on the far side.
 *
 * segment(frame, out, offsets, lengths) -> count (-1: a super-frame of a kind we cannot cut; -2: no room)
 *   `frame` is what the TAP gives: a virtio-net header, then an Ethernet frame, maybe a TCP
 *   super-frame (GSO TCPV4/TCPV6) or a UDP one (GSO UDP_L4). It is cut as the kernel's GSO
 *   would: the payload split by gso_size, each piece under a copy of the headers with its own
 *   IPv4 id and length (IPv6 payload length); for TCP its sequence number and flags (CWR on the
 *   first only, FIN and PSH on the last only), for UDP its length (each piece a datagram of its
 *   own, as UDP_SEGMENT sends them). The checksum is left for the receiving kernel as the
 *   super-frame's was (NEEDS_CSUM, the field holding the pseudo-header sum): the AEAD already
 *   guarantees the bytes arrive intact. Any other frame passes whole. Each piece is written to `out` as a datagram-to-be,
 *   [16 bytes for the header | virtio-net header and frame | 16 bytes for the tag], its start in
 *   offsets[i] and its length in lengths[i].
 *
 * write(fd, buffer, offsets, lengths, count, coalesce) -> frames the kernel took
 *   Writes the frames buffer[offsets[i], +lengths[i]) to the TAP. With `coalesce`, consecutive
 *   IPv4 TCP segments of one stream are first joined back into one super-frame as the kernel's
 *   GRO would (same headers bar id, length and checksum, sequence numbers following, all but
 *   the last a full gso_size, no flag but ACK and a final PSH), so the kernel handles one frame
 *   where the wire carried dozens.
 */
#include "addon.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#define VNET 10
#define ROOM 16 /* the sleeve header before each piece, and the tag after it */
#define F_NEEDS_CSUM 1
#define GSO_NONE 0
#define GSO_TCPV4 1
#define GSO_TCPV6 4
#define GSO_UDP_L4 5
#define GSO_ECN 0x80
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20
#define TCP_ECE 0x40
#define TCP_CWR 0x80
#define MAX_FRAME (VNET + 14 + 65535)

/* struct virtio_net_hdr without num_buffers, in the host's byte order (legacy virtio, as the TAP uses). */
struct vnet {
  uint8_t flags, gso_type;
  uint16_t hdr_len, gso_size, csum_start, csum_offset;
} __attribute__((packed));

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static void put16(uint8_t *p, uint16_t v) { p[0] = v >> 8, p[1] = v & 0xff; }
static void put32(uint8_t *p, uint32_t v) { p[0] = v >> 24, p[1] = v >> 16 & 0xff, p[2] = v >> 8 & 0xff, p[3] = v & 0xff; }

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t sum) {
  for (size_t i = 0; i + 1 < n; i += 2) sum += get16(p + i);
  if (n & 1) sum += (uint32_t)p[n - 1] << 8;
  return sum;
}

static uint16_t fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)sum;
}

static void ipv4_checksum(uint8_t *ip) {
  put16(ip + 10, 0);
  put16(ip + 10, (uint16_t)~fold(sum16(ip, (size_t)(ip[0] & 0xf) * 4, 0)));
}

/** The checksum field (at `field`) of a partial checksum (NEEDS_CSUM): the pseudo-header's sum, not complemented. */
static void pseudo_checksum(uint8_t *field, const uint8_t *l3, int v6, uint8_t protocol, uint32_t l4_length) {
  uint32_t sum = v6 ? sum16(l3 + 8, 32, 0) : sum16(l3 + 12, 8, 0);
  sum += protocol + (l4_length & 0xffff) + (l4_length >> 16);
  put16(field, fold(sum));
}

/** Where the network header starts in an Ethernet frame (after one VLAN tag, if any), and its ethertype. */
static size_t l3_offset(const uint8_t *eth, size_t length, uint16_t *ethertype) {
  if (length < 18) return 0;
  *ethertype = get16(eth + 12);
  if (*ethertype != 0x8100) return 14;
  *ethertype = get16(eth + 16);
  return 18;
}

napi_value gso_segment(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!args_of(env, info, 4, argv)) return NULL;
  uint8_t *frame, *out;
  size_t length, room;
  int32_t *offsets, *lengths;
  size_t n_offsets, n_lengths;
  if (!bytes_of(env, argv[0], &frame, &length) || !bytes_of(env, argv[1], &out, &room) || !ints_of(env, argv[2], &offsets, &n_offsets) ||
      !ints_of(env, argv[3], &lengths, &n_lengths))
    return NULL;
  size_t slots = n_offsets < n_lengths ? n_offsets : n_lengths;
  int32_t count = -1;
  napi_value result;

  struct vnet h;
  if (length < VNET) goto done;
  memcpy(&h, frame, VNET);
  if (h.gso_type == GSO_NONE) {
    count = -2;
    if (slots < 1 || length + 2 * ROOM > room) goto done;
    memcpy(out + ROOM, frame, length);
    offsets[0] = 0;
    lengths[0] = (int32_t)(length + 2 * ROOM);
    count = 1;
    goto done;
  }

  int type = h.gso_type & ~GSO_ECN, udp = type == GSO_UDP_L4;
  const uint8_t *eth = frame + VNET;
  size_t eth_length = length - VNET;
  uint16_t ethertype = 0;
  size_t l3 = l3_offset(eth, eth_length, &ethertype);
  /* UDP_L4 says nothing of the IP version: the ethertype does. */
  int v6 = type == GSO_TCPV6 || (udp && ethertype == 0x86dd);
  if ((type != GSO_TCPV4 && type != GSO_TCPV6 && !udp) || l3 == 0 || ethertype != (v6 ? 0x86dd : 0x0800)) goto done;
  /* With NEEDS_CSUM the kernel says where TCP or UDP starts; IPv6 extension headers need nothing more. */
  size_t l4 = (h.flags & F_NEEDS_CSUM) ? h.csum_start : l3 + (v6 ? 40 : (size_t)(eth[l3] & 0xf) * 4);
  if (l4 + (udp ? 8 : 20) > eth_length) goto done;
  size_t headers = l4 + (udp ? 8 : (size_t)(eth[l4 + 12] >> 4) * 4);
  size_t mss = h.gso_size;
  if (headers >= eth_length || mss == 0) goto done;
  size_t payload = eth_length - headers, pieces = (payload + mss - 1) / mss;
  count = -2;
  if (pieces > slots || pieces * (2 * ROOM + VNET + headers) + payload > room) goto done;

  uint16_t id = v6 ? 0 : get16(eth + l3 + 4);
  uint32_t seq = udp ? 0 : get32(eth + l4 + 4);
  uint8_t flags = udp ? 0 : eth[l4 + 13];
  size_t at = 0;
  for (size_t i = 0; i < pieces; i++) {
    size_t size = i + 1 < pieces ? mss : payload - i * mss;
    uint8_t *p = out + at + ROOM;
    struct vnet piece = {.flags = F_NEEDS_CSUM, .gso_type = GSO_NONE, .hdr_len = (uint16_t)headers, .csum_start = (uint16_t)l4, .csum_offset = udp ? 6 : 16};
    memcpy(p, &piece, VNET);
    uint8_t *e = p + VNET;
    memcpy(e, eth, headers);
    memcpy(e + headers, eth + headers + i * mss, size);
    uint8_t *ip = e + l3;
    if (v6) {
      put16(ip + 4, (uint16_t)(headers - l3 - 40 + size));
    } else {
      put16(ip + 2, (uint16_t)(headers - l3 + size));
      put16(ip + 4, (uint16_t)(id + i));
      ipv4_checksum(ip);
    }
    uint8_t *t = e + l4;
    if (udp) {
      put16(t + 4, (uint16_t)(8 + size));
    } else {
      put32(t + 4, seq + (uint32_t)(i * mss));
      uint8_t f = flags;
      if (i > 0) f &= (uint8_t)~TCP_CWR;
      if (i + 1 < pieces) f &= (uint8_t)~(TCP_FIN | TCP_PSH);
      t[13] = f;
    }
    pseudo_checksum(t + (udp ? 6 : 16), ip, v6, udp ? 17 : 6, (uint32_t)(headers - l4 + size));
    offsets[i] = (int32_t)at;
    lengths[i] = (int32_t)(2 * ROOM + VNET + headers + size);
    at += (size_t)lengths[i];
  }
  count = (int32_t)pieces;

done:
  CHECK(napi_create_int32(env, count, &result));
  return result;
}

/* The super-frame being rebuilt by write(): one per thread (the receiving worker's). */
static __thread struct {
  uint8_t frame[MAX_FRAME];
  size_t length, mss, pieces;
  uint32_t next_seq;
  uint16_t next_id;
  int ended; /* the last piece was short or pushed: nothing more joins */
} gro;

/** The IPv4 TCP header's offset in a frame (virtio-net header included) that may join a super-frame; 0 when it may not. */
static size_t joinable(const uint8_t *f, size_t length) {
  struct vnet h;
  if (length < VNET + 14 + 20 + 20) return 0;
  memcpy(&h, f, VNET);
  const uint8_t *eth = f + VNET, *ip = eth + 14;
  if (h.gso_type != GSO_NONE || get16(eth + 12) != 0x0800 || ip[0] != 0x45 || (get16(ip + 6) & 0x3fff) != 0 || ip[9] != 6) return 0;
  if (get16(ip + 2) != length - VNET - 14) return 0; /* Ethernet padding, or a lie */
  size_t tcp = VNET + 14 + 20;
  size_t headers = tcp + (size_t)(f[tcp + 12] >> 4) * 4;
  uint8_t flags = f[tcp + 13];
  if (headers >= length || (flags & ~TCP_PSH) != TCP_ACK) return 0;
  return tcp;
}

static int write_frame(int fd, const uint8_t *data, size_t length) {
  ssize_t n;
  do n = write(fd, data, length);
  while (n < 0 && errno == EINTR);
  /* A frame the kernel refuses (malformed header, full queue) is dropped, as a NIC would. */
  return n == (ssize_t)length;
}

/** Writes the super-frame being rebuilt, as a GSO frame when it holds more than one piece; its pieces written. */
static uint32_t flush(int fd) {
  if (gro.pieces == 0) return 0;
  uint32_t pieces = (uint32_t)gro.pieces;
  gro.pieces = 0;
  if (pieces == 1) return (uint32_t)write_frame(fd, gro.frame, gro.length);
  uint8_t *eth = gro.frame + VNET, *ip = eth + 14, *tcp = ip + 20;
  struct vnet h = {.flags = F_NEEDS_CSUM, .gso_type = GSO_TCPV4, .hdr_len = (uint16_t)(34 + (tcp[12] >> 4) * 4), .gso_size = (uint16_t)gro.mss, .csum_start = 34, .csum_offset = 16};
  memcpy(gro.frame, &h, VNET);
  put16(ip + 2, (uint16_t)(gro.length - VNET - 14));
  ipv4_checksum(ip);
  pseudo_checksum(tcp + 16, ip, 0, 6, (uint32_t)(gro.length - VNET - 34));
  return write_frame(fd, gro.frame, gro.length) ? pieces : 0;
}

/** Joins the frame to the super-frame being rebuilt when it continues it; false when it does not. */
static int join(const uint8_t *f, size_t length, size_t tcp) {
  const uint8_t *ip = f + VNET + 14, *g = gro.frame, *gip = g + VNET + 14;
  size_t headers = tcp + (size_t)(f[tcp + 12] >> 4) * 4, size = length - headers;
  if (gro.pieces == 0 || gro.ended || size > gro.mss || gro.length + size > sizeof gro.frame || headers != tcp + (size_t)(g[tcp + 12] >> 4) * 4) return 0;
  /* Same Ethernet header, same IP header bar length, id and checksum; the same TCP header bar sequence, PSH and checksum. */
  if (memcmp(f + VNET, g + VNET, 14) != 0 || ip[1] != gip[1] || memcmp(ip + 6, gip + 6, 4) != 0 || memcmp(ip + 12, gip + 12, 8) != 0) return 0;
  if (get16(ip + 4) != gro.next_id || get32(f + tcp + 4) != gro.next_seq) return 0;
  if (memcmp(f + tcp, g + tcp, 4) != 0 || memcmp(f + tcp + 8, g + tcp + 8, 5) != 0 || memcmp(f + tcp + 14, g + tcp + 14, 2) != 0 ||
      memcmp(f + tcp + 18, g + tcp + 18, headers - tcp - 18) != 0)
    return 0;
  memcpy(gro.frame + gro.length, f + headers, size);
  gro.length += size;
  gro.pieces++;
  gro.next_seq += (uint32_t)size;
  gro.next_id++;
  if (f[tcp + 13] & TCP_PSH) gro.frame[tcp + 13] |= TCP_PSH;
  gro.ended = size < gro.mss || (f[tcp + 13] & TCP_PSH);
  return 1;
}

/** Starts a new super-frame with this frame. */
static void begin(const uint8_t *f, size_t length, size_t tcp) {
  size_t headers = tcp + (size_t)(f[tcp + 12] >> 4) * 4;
  memcpy(gro.frame, f, length);
  gro.length = length;
  gro.pieces = 1;
  gro.mss = length - headers;
  gro.next_seq = get32(f + tcp + 4) + (uint32_t)gro.mss;
  gro.next_id = (uint16_t)(get16(f + VNET + 14 + 4) + 1);
  gro.ended = (f[tcp + 13] & TCP_PSH) != 0;
}

napi_value gro_write(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  if (!args_of(env, info, 6, argv)) return NULL;
  int32_t fd, *offsets, *lengths;
  uint32_t count;
  uint8_t *buffer;
  size_t size, n_offsets, n_lengths;
  bool coalesce;
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  if (!bytes_of(env, argv[1], &buffer, &size) || !ints_of(env, argv[2], &offsets, &n_offsets) || !ints_of(env, argv[3], &lengths, &n_lengths)) return NULL;
  CHECK(napi_get_value_uint32(env, argv[4], &count));
  CHECK(napi_get_value_bool(env, argv[5], &coalesce));
  if (count > n_offsets || count > n_lengths) {
    napi_throw_range_error(env, NULL, "weave_tap.write: count exceeds the offsets or lengths");
    return NULL;
  }
  uint32_t written = 0;
  gro.pieces = 0;
  for (uint32_t i = 0; i < count; i++) {
    if (offsets[i] < 0 || lengths[i] < 0 || (size_t)offsets[i] + (size_t)lengths[i] > size) {
      napi_throw_range_error(env, NULL, "weave_tap.write: a frame lies outside the buffer");
      return NULL;
    }
    const uint8_t *f = buffer + offsets[i];
    size_t length = (size_t)lengths[i];
    size_t tcp = coalesce ? joinable(f, length) : 0;
    if (tcp && join(f, length, tcp)) continue;
    written += flush(fd);
    if (tcp) begin(f, length, tcp);
    else written += (uint32_t)write_frame(fd, f, length);
  }
  written += flush(fd);
  napi_value result;
  CHECK(napi_create_uint32(env, written, &result));
  return result;
}
