/*
 * The sleeve's UDP sockets, moving datagrams in batches (sendmmsg/recvmmsg): a system call per
 * batch rather than per MTU-sized datagram. Every socket sets Don't Fragment (IP_PMTUDISC_DO):
 * a datagram larger than the path MTU fails with EMSGSIZE instead of leaving in IP fragments.
 *
 *   open(address|null, port, bufferBytes, peerAddress|null, peerPort) -> fd
 *       an IPv4 socket bound to address:port when either is given, connected to the peer when given
 *   send(fd, buffer, offsets, lengths, count) -> sent
 *       datagrams buffer[offsets[i], offsets[i] + lengths[i]) to the connected peer; a datagram the
 *       kernel refuses (EMSGSIZE, an ICMP error reported) is skipped; a full socket buffer waits
 *   receive(fd, buffer, slotSize, lengths) -> count
 *       up to lengths.length datagrams into consecutive slots; -1 for one cut short (MSG_TRUNC)
 */
#define _GNU_SOURCE /* sendmmsg, recvmmsg */
#include "addon.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 256 /* datagrams per system call: several super-frames' worth, so most are joined back whole */
/** How long send() waits for room in a full socket buffer before dropping the rest. */
#define FULL_WAIT_MS 100

/** An IPv4 socket address; false with an exception pending when `value` is not a dotted quad. */
static int address_of(napi_env env, napi_value value, int32_t port, struct sockaddr_in *sa) {
  char text[INET_ADDRSTRLEN] = "0.0.0.0";
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok) return 0;
  if (type == napi_string && napi_get_value_string_utf8(env, value, text, sizeof text, NULL) != napi_ok) return 0;
  memset(sa, 0, sizeof *sa);
  sa->sin_family = AF_INET;
  sa->sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, text, &sa->sin_addr) != 1) {
    napi_throw_type_error(env, NULL, "weave_tap.open: addresses must be IPv4 dotted quads");
    return 0;
  }
  return 1;
}

/** As much buffer as asked: past net.core.[rw]mem_max with CAP_NET_ADMIN, else what the limit grants. */
static void size_buffers(int fd, int bytes) {
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) < 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof bytes) < 0) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
}

napi_value udp_open(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (!args_of(env, info, 5, argv)) return NULL;
  int32_t port, bytes, peer_port;
  CHECK(napi_get_value_int32(env, argv[1], &port));
  CHECK(napi_get_value_int32(env, argv[2], &bytes));
  CHECK(napi_get_value_int32(env, argv[4], &peer_port));
  napi_valuetype bind_type, peer_type;
  CHECK(napi_typeof(env, argv[0], &bind_type));
  CHECK(napi_typeof(env, argv[3], &peer_type));
  struct sockaddr_in local, peer;
  if (!address_of(env, argv[0], port, &local) || (peer_type == napi_string && !address_of(env, argv[3], peer_port, &peer))) return NULL;

  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno);
  size_buffers(fd, bytes);
  int dont_fragment = IP_PMTUDISC_DO;
  const char *failed = NULL;
  if (setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &dont_fragment, sizeof dont_fragment) < 0) failed = "IP_MTU_DISCOVER";
  else if ((bind_type == napi_string || port != 0) && bind(fd, (struct sockaddr *)&local, sizeof local) < 0) failed = "bind";
  else if (peer_type == napi_string && connect(fd, (struct sockaddr *)&peer, sizeof peer) < 0) failed = "connect";
  if (failed) {
    int err = errno;
    close(fd);
    return throw_errno(env, failed, err);
  }
  napi_value result;
  CHECK(napi_create_int32(env, fd, &result));
  return result;
}

napi_value udp_send(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (!args_of(env, info, 5, argv)) return NULL;
  int32_t fd, *offsets, *lengths;
  uint32_t count;
  uint8_t *buffer;
  size_t size, n_offsets, n_lengths;
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  if (!bytes_of(env, argv[1], &buffer, &size) || !ints_of(env, argv[2], &offsets, &n_offsets) || !ints_of(env, argv[3], &lengths, &n_lengths)) return NULL;
  CHECK(napi_get_value_uint32(env, argv[4], &count));
  if (count > n_offsets || count > n_lengths) {
    napi_throw_range_error(env, NULL, "weave_tap.send: count exceeds the offsets or lengths");
    return NULL;
  }
  for (uint32_t i = 0; i < count; i++) {
    if (offsets[i] < 0 || lengths[i] < 0 || (size_t)offsets[i] + (size_t)lengths[i] > size) {
      napi_throw_range_error(env, NULL, "weave_tap.send: a datagram lies outside the buffer");
      return NULL;
    }
  }

  struct mmsghdr msgs[BATCH];
  struct iovec iovs[BATCH];
  uint32_t sent = 0, at = 0;
  while (at < count) {
    uint32_t n = count - at < BATCH ? count - at : BATCH;
    memset(msgs, 0, n * sizeof msgs[0]);
    for (uint32_t i = 0; i < n; i++) {
      iovs[i].iov_base = buffer + offsets[at + i];
      iovs[i].iov_len = (size_t)lengths[at + i];
      msgs[i].msg_hdr.msg_iov = &iovs[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int r = sendmmsg(fd, msgs, n, 0);
    if (r > 0) {
      sent += (uint32_t)r;
      at += (uint32_t)r;
    } else if (r < 0 && errno == EINTR) {
      continue;
    } else if (r < 0 && (errno == EAGAIN || errno == ENOBUFS)) {
      /* Back-pressure from the socket buffer: wait for room, as a blocking send would; give up on the rest after a while. */
      struct pollfd p = {.fd = fd, .events = POLLOUT};
      if (poll(&p, 1, FULL_WAIT_MS) <= 0) break;
    } else {
      at++; /* this datagram is refused (too big for the path, or a peer's ICMP error reported): the others go */
    }
  }
  napi_value result;
  CHECK(napi_create_uint32(env, sent, &result));
  return result;
}

napi_value udp_receive(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!args_of(env, info, 4, argv)) return NULL;
  int32_t fd, slot, *lengths;
  uint8_t *buffer;
  size_t size, slots;
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  if (!bytes_of(env, argv[1], &buffer, &size)) return NULL;
  CHECK(napi_get_value_int32(env, argv[2], &slot));
  if (!ints_of(env, argv[3], &lengths, &slots)) return NULL;
  if (slot <= 0) {
    napi_throw_range_error(env, NULL, "weave_tap.receive: slotSize must be positive");
    return NULL;
  }
  if (slots > size / (size_t)slot) slots = size / (size_t)slot;
  if (slots > BATCH) slots = BATCH;

  struct mmsghdr msgs[BATCH];
  struct iovec iovs[BATCH];
  memset(msgs, 0, slots * sizeof msgs[0]);
  for (size_t i = 0; i < slots; i++) {
    iovs[i].iov_base = buffer + i * (size_t)slot;
    iovs[i].iov_len = (size_t)slot;
    msgs[i].msg_hdr.msg_iov = &iovs[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  int r;
  do r = recvmmsg(fd, msgs, (unsigned)slots, MSG_DONTWAIT, NULL);
  while (r < 0 && errno == EINTR);
  if (r < 0) {
    if (errno != EAGAIN) return throw_errno(env, "recvmmsg", errno);
    r = 0;
  }
  for (int i = 0; i < r; i++) lengths[i] = (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) ? -1 : (int32_t)msgs[i].msg_len;
  napi_value result;
  CHECK(napi_create_int32(env, r, &result));
  return result;
}
