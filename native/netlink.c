/*
 * weave_tap's second piece: a netlink socket opened inside a given network namespace, so the
 * router can create and configure a pod's links (NETLINK_ROUTE) and look for its iptables-nft
 * chains (NETLINK_NETFILTER) without starting a process per step.
 * Everything else of netlink (messages, acks, errors) is TypeScript (src/lib/net/netlink/).
 *
 * A socket belongs for life to the namespace it was created in. setns() moves only the calling
 * thread, so the socket is made on a short-lived thread that enters the namespace and ends:
 * no thread of Node's is ever left in another namespace, whatever fails.
 *
 * JS API:
 *   netlinkOpen(nsFd, protocol = NETLINK_ROUTE) -> fd
 *                             a blocking, close-on-exec netlink socket with extended acks,
 *                             bound, in the network namespace of the open file nsFd (-1: ours);
 *                             reads give up after 10 s (EAGAIN) so no request can hang a thread
 *   netlinkProtocols          {route, netfilter}: the protocols netlinkOpen takes, numbered as
 *                             linux/netlink.h has them (builds of older sources lack it)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/netlink.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "addon.h"

/* A new socket, or -errno. */
static int open_socket(int protocol) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
  if (fd < 0) return -errno;
  struct timeval timeout = {.tv_sec = 10};
  int one = 1;
  struct sockaddr_nl self = {.nl_family = AF_NETLINK};
  /* Extended acks carry the kernel's reason in words; capped acks leave out the echoed request. */
  if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) < 0 ||
      setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one) < 0 ||
      setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one) < 0 ||
      bind(fd, (struct sockaddr *)&self, sizeof self) < 0) {
    int err = errno;
    close(fd);
    return -err;
  }
  return fd;
}

struct job {
  int ns_fd;
  int protocol;
  int result;
};

static void *open_in_netns(void *arg) {
  struct job *job = arg;
  job->result = setns(job->ns_fd, CLONE_NEWNET) < 0 ? -errno : open_socket(job->protocol);
  return NULL;
}

napi_value netlink_open(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  struct job job = {.protocol = NETLINK_ROUTE};
  napi_valuetype second = napi_undefined;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_int32(env, argv[0], &job.ns_fd) != napi_ok ||
      (argc > 1 && napi_typeof(env, argv[1], &second) != napi_ok) ||
      (second != napi_undefined && napi_get_value_int32(env, argv[1], &job.protocol) != napi_ok) ||
      (job.protocol != NETLINK_ROUTE && job.protocol != NETLINK_NETFILTER)) {
    napi_throw_type_error(env, NULL, "weave_tap.netlinkOpen: expects a file descriptor (-1: this namespace) and optionally a protocol of netlinkProtocols");
    return NULL;
  }
  if (job.ns_fd < 0) {
    job.result = open_socket(job.protocol);
  } else {
    pthread_t thread;
    int err = pthread_create(&thread, NULL, open_in_netns, &job);
    if (err != 0) return throw_errno(env, "netlinkOpen: pthread_create", err);
    pthread_join(thread, NULL);
  }
  if (job.result < 0) return throw_errno(env, job.ns_fd < 0 ? "netlinkOpen" : "netlinkOpen in the namespace", -job.result);
  napi_value fd;
  if (napi_create_int32(env, job.result, &fd) != napi_ok) {
    close(job.result);
    return NULL;
  }
  return fd;
}

napi_value netlink_protocols(napi_env env) {
  napi_value protocols, route, netfilter;
  CHECK(napi_create_object(env, &protocols));
  CHECK(napi_create_int32(env, NETLINK_ROUTE, &route));
  CHECK(napi_create_int32(env, NETLINK_NETFILTER, &netfilter));
  CHECK(napi_set_named_property(env, protocols, "route", route));
  CHECK(napi_set_named_property(env, protocols, "netfilter", netfilter));
  return protocols;
}
