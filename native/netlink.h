/* What tap.c and netlink.c share: one module, one error helper. */
#ifndef WEAVE_NETLINK_H
#define WEAVE_NETLINK_H
#include <node_api.h>

/* Throws an Error "what: strerror(err)" with `errno` set; returns NULL for the caller to return. */
napi_value weave_throw_errno(napi_env env, const char *what, int err);

napi_value netlink_open(napi_env env, napi_callback_info info);
#endif
