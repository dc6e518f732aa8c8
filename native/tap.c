/*
 * weave_tap: the native part of the encrypted data path (the sleeve). Node has no API for
 * /dev/net/tun nor for batched datagrams, and its per-packet crypto and socket calls cost more
 * than an MTU-sized packet is worth; so this N-API addon does the per-packet work: it opens a
 * TAP device and moves frames between it and buffers the caller owns (this file), cuts and
 * rebuilds TCP super-frames (gso.c), seals and opens datagrams (gcm.c) and sends and receives
 * them in batches (udp.c). Peers, keys, counters and replay windows stay in TypeScript.
 * netlink.c gives the warm CNI path and the router netlink sockets inside network namespaces.
 *
 * The TAP is opened with IFF_VNET_HDR and, when the kernel agrees, TSO/checksum offloads: each
 * frame read starts with a 10-byte struct virtio_net_hdr and may be a TCP (or UDP) super-frame of
 * up to 64 KB that the kernel has not segmented. The sender cuts it into MTU-sized frames, one sealed
 * datagram each (no IP fragments); the receiver joins them back before writing them to its TAP,
 * so each side's kernel handles one frame where the wire carries dozens.
 *
 * The fd is non-blocking; wait() blocks the calling thread (a worker's) until it is readable.
 * The device is not persistent: it disappears when the fd is closed or the process exits.
 *
 * JS API (see src/lib/router/dataplane/sleeve/native.ts):
 *   openTap(name, offloads) -> {fd, name, offloads}
 *                                          create the TAP `name`, asking for offloads or not
 *   wait(fd, timeoutMs) -> boolean         true when fd (a TAP or a socket) can be read
 *   read(fd, buffer, slotSize, lengths)    up to lengths.length frames into consecutive slots
 *                                          of `buffer`; their lengths into `lengths`; the count
 *   write(...), segment(...)               gso.c
 *   key(...), seal(...), open(...)         gcm.c
 *   udpOpen(...), send(...), receive(...)  udp.c
 *   close(fd)                              a TAP or a socket
 *   netlinkOpen(...), netlinkProtocols     netlink.c
 *   flock(fd)                              lock.c
 */
#include "addon.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* Newer than some distributions' headers (Linux 6.2). */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#define TUN_F_USO6 0x40
#endif

napi_value throw_errno(napi_env env, const char *what, int err) {
  char message[256];
  snprintf(message, sizeof message, "%s: %s", what, strerror(err));
  napi_value code, msg, error;
  napi_create_string_utf8(env, strerror(err), NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg);
  napi_create_error(env, NULL, msg, &error);
  napi_value errnoValue;
  napi_create_int32(env, err, &errnoValue);
  napi_set_named_property(env, error, "errno", errnoValue);
  napi_throw(env, error);
  return NULL;
}

napi_value args_of(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want) {
    napi_throw_type_error(env, NULL, "weave_tap: too few arguments");
    return NULL;
  }
  return argv[0];
}

int bytes_of(napi_env env, napi_value value, uint8_t **data, size_t *length) {
  napi_typedarray_type type;
  if (napi_get_typedarray_info(env, value, &type, length, (void **)data, NULL, NULL) != napi_ok || type != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "weave_tap: a Buffer expected");
    return 0;
  }
  return 1;
}

int ints_of(napi_env env, napi_value value, int32_t **data, size_t *length) {
  napi_typedarray_type type;
  if (napi_get_typedarray_info(env, value, &type, length, (void **)data, NULL, NULL) != napi_ok || type != napi_int32_array) {
    napi_throw_type_error(env, NULL, "weave_tap: an Int32Array expected");
    return 0;
  }
  return 1;
}

static napi_value tap_open(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!args_of(env, info, 2, argv)) return NULL;
  bool wanted;
  CHECK(napi_get_value_bool(env, argv[1], &wanted));
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  size_t len;
  CHECK(napi_get_value_string_utf8(env, argv[0], ifr.ifr_name, IFNAMSIZ, &len));

  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return throw_errno(env, "open /dev/net/tun", errno);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "TUNSETIFF", err);
  }
  /*
   * Super-frames and unfinished checksums only when wanted and the kernel takes them; plain
   * frames otherwise. UDP super-frames (USO, Linux 6.2) too where the kernel knows them.
   */
  unsigned tcp = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;
  bool offloads = wanted && (ioctl(fd, TUNSETOFFLOAD, tcp | TUN_F_USO4 | TUN_F_USO6) == 0 || ioctl(fd, TUNSETOFFLOAD, tcp) == 0);

  napi_value result, value;
  CHECK(napi_create_object(env, &result));
  CHECK(napi_create_int32(env, fd, &value));
  CHECK(napi_set_named_property(env, result, "fd", value));
  CHECK(napi_create_string_utf8(env, ifr.ifr_name, NAPI_AUTO_LENGTH, &value));
  CHECK(napi_set_named_property(env, result, "name", value));
  CHECK(napi_get_boolean(env, offloads, &value));
  CHECK(napi_set_named_property(env, result, "offloads", value));
  return result;
}

static napi_value tap_wait(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!args_of(env, info, 2, argv)) return NULL;
  int32_t fd, timeout;
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  CHECK(napi_get_value_int32(env, argv[1], &timeout));
  struct pollfd p = {.fd = fd, .events = POLLIN};
  int n = poll(&p, 1, timeout);
  if (n < 0 && errno != EINTR) return throw_errno(env, "poll", errno);
  napi_value result;
  /* An error too (the device deleted under us): the read() that follows reports it. */
  CHECK(napi_get_boolean(env, n > 0 && (p.revents & (POLLIN | POLLERR | POLLHUP | POLLNVAL)), &result));
  return result;
}

static napi_value tap_read(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!args_of(env, info, 4, argv)) return NULL;
  int32_t fd, slot;
  uint8_t *buffer;
  size_t size;
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  CHECK(napi_get_buffer_info(env, argv[1], (void **)&buffer, &size));
  CHECK(napi_get_value_int32(env, argv[2], &slot));
  napi_typedarray_type type;
  size_t slots;
  int32_t *lengths;
  CHECK(napi_get_typedarray_info(env, argv[3], &type, &slots, (void **)&lengths, NULL, NULL));
  if (type != napi_int32_array || slot <= 0) {
    napi_throw_type_error(env, NULL, "weave_tap.read: lengths must be an Int32Array and slotSize positive");
    return NULL;
  }
  if (slots > size / (size_t)slot) slots = size / (size_t)slot;

  uint32_t count = 0;
  while (count < slots) {
    ssize_t n = read(fd, buffer + (size_t)count * slot, slot);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      if (count > 0) break; /* report the frames read; the error comes back on the next call */
      return throw_errno(env, "read tap", errno);
    }
    lengths[count++] = (int32_t)n;
  }
  napi_value result;
  CHECK(napi_create_uint32(env, count, &result));
  return result;
}

static napi_value tap_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!args_of(env, info, 1, argv)) return NULL;
  int32_t fd;
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  if (close(fd) < 0) return throw_errno(env, "close tap", errno);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value protocols = netlink_protocols(env);
  if (protocols == NULL) return NULL;
  napi_property_descriptor props[] = {
      {"openTap", NULL, tap_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"wait", NULL, tap_wait, NULL, NULL, NULL, napi_enumerable, NULL},
      {"read", NULL, tap_read, NULL, NULL, NULL, napi_enumerable, NULL},
      {"write", NULL, gro_write, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, tap_close, NULL, NULL, NULL, napi_enumerable, NULL},
      {"segment", NULL, gso_segment, NULL, NULL, NULL, napi_enumerable, NULL},
      {"key", NULL, gcm_key, NULL, NULL, NULL, napi_enumerable, NULL},
      {"seal", NULL, gcm_seal, NULL, NULL, NULL, napi_enumerable, NULL},
      {"open", NULL, gcm_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"udpOpen", NULL, udp_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"send", NULL, udp_send, NULL, NULL, NULL, napi_enumerable, NULL},
      {"receive", NULL, udp_receive, NULL, NULL, NULL, napi_enumerable, NULL},
      {"netlinkOpen", NULL, netlink_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"netlinkProtocols", NULL, NULL, NULL, NULL, protocols, napi_enumerable, NULL},
      {"flock", NULL, lock_flock, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  CHECK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

NAPI_MODULE_INIT() { return init(env, exports); }
