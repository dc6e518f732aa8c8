/*
 * weave_tap's lock: flock(2), which Node lacks, on a file the router opened (its state lock,
 * src/lib/router/state-lock.ts). Taking it here spares each router start a `flock` process.
 *
 * JS API:
 *   flock(fd) -> boolean     an exclusive lock without waiting: true once taken, false when
 *                            another open file holds it; throws with errno on any other failure
 */
#include <errno.h>
#include <sys/file.h>

#include "addon.h"

napi_value lock_flock(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!args_of(env, info, 1, argv)) return NULL;
  int32_t fd;
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  int result;
  do {
    result = flock(fd, LOCK_EX | LOCK_NB);
  } while (result < 0 && errno == EINTR);
  if (result < 0 && errno != EWOULDBLOCK) return throw_errno(env, "flock", errno);
  napi_value taken;
  CHECK(napi_get_boolean(env, result == 0, &taken));
  return taken;
}
