/*
 * weave_tap's second piece: a NETLINK_ROUTE socket opened inside a given network namespace, so
 * the router can create and configure a pod's links without starting an `ip` process per step.
 * Everything else of netlink (messages, acks, errors) is TypeScript (src/lib/net/netlink/).
 *
 * A socket belongs for life to the namespace it was created in. setns() moves only the calling
 * thread, so the socket is made on a short-lived thread that enters the namespace and ends:
 * no thread of Node's is ever left in another namespace, whatever fails.
 *
 * JS API:
 *   netlinkOpen(nsFd) -> fd   a blocking, close-on-exec NETLINK_ROUTE socket with extended acks,
 *                             bound, in the network namespace of the open file nsFd (-1: ours);
 *                             reads give up after 10 s (EAGAIN) so no request can hang a thread
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
static int route_socket(void) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
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
  int result;
};

static void *open_in_netns(void *arg) {
  struct job *job = arg;
  job->result = setns(job->ns_fd, CLONE_NEWNET) < 0 ? -errno : route_socket();
  return NULL;
}

napi_value netlink_open(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t ns_fd;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_int32(env, argv[0], &ns_fd) != napi_ok) {
    napi_throw_type_error(env, NULL, "weave_tap.netlinkOpen: expects a file descriptor (-1: this namespace)");
    return NULL;
  }
  struct job job = {.ns_fd = ns_fd};
  if (ns_fd < 0) {
    job.result = route_socket();
  } else {
    pthread_t thread;
    int err = pthread_create(&thread, NULL, open_in_netns, &job);
    if (err != 0) return throw_errno(env, "netlinkOpen: pthread_create", err);
    pthread_join(thread, NULL);
  }
  if (job.result < 0) return throw_errno(env, ns_fd < 0 ? "netlinkOpen" : "netlinkOpen in the namespace", -job.result);
  napi_value fd;
  if (napi_create_int32(env, job.result, &fd) != napi_ok) {
    close(job.result);
    return NULL;
  }
  return fd;
}
