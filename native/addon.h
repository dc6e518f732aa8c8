/* What the files of the weave_tap addon share: N-API error plumbing and argument access. */
#ifndef WEAVE_ADDON_H
#define WEAVE_ADDON_H

#define NAPI_VERSION 8
#include <node_api.h>
#include <stddef.h>
#include <stdint.h>

#define CHECK(call)                                                  \
  do {                                                               \
    if ((call) != napi_ok) {                                         \
      napi_throw_error(env, NULL, "weave_tap: N-API call failed: " #call); \
      return NULL;                                                   \
    }                                                                \
  } while (0)

/** Throws an Error "what: strerror(err)" carrying `errno`; returns NULL for the caller to return. */
napi_value throw_errno(napi_env env, const char *what, int err);
/** Fills argv with `want` arguments; NULL (an exception pending) when fewer were given. */
napi_value args_of(napi_env env, napi_callback_info info, size_t want, napi_value *argv);
/** The bytes of a Buffer or Uint8Array (its view, offset applied); false with an exception pending otherwise. */
int bytes_of(napi_env env, napi_value value, uint8_t **data, size_t *length);
/** The elements of an Int32Array; false with an exception pending otherwise. */
int ints_of(napi_env env, napi_value value, int32_t **data, size_t *length);

/* gso.c: TCP super-frames cut and rebuilt as the kernel's GSO and GRO do. */
napi_value gso_segment(napi_env env, napi_callback_info info);
napi_value gro_write(napi_env env, napi_callback_info info);
/* gcm.c: AES-256-GCM in place, with OpenSSL's EVP from the Node binary. */
napi_value gcm_key(napi_env env, napi_callback_info info);
napi_value gcm_seal(napi_env env, napi_callback_info info);
napi_value gcm_open(napi_env env, napi_callback_info info);
/* udp.c: datagram sockets, sent and received in batches. */
napi_value udp_open(napi_env env, napi_callback_info info);
napi_value udp_send(napi_env env, napi_callback_info info);
napi_value udp_receive(napi_env env, napi_callback_info info);
/* netlink.c: netlink sockets inside a network namespace, for the warm CNI path and the router. */
napi_value netlink_open(napi_env env, napi_callback_info info);
/** The protocols netlink_open takes, as an object {route, netfilter}; NULL with an exception pending. */
napi_value netlink_protocols(napi_env env);
/* lock.c: flock(2), for the router's state lock. */
napi_value lock_flock(napi_env env, napi_callback_info info);

#endif
