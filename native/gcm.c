/*
 * AES-256-GCM for the sleeve's datagrams, in place, one cipher context per key: Node's crypto
 * API builds a context per packet, which costs more than the encryption of an MTU-sized packet.
 * The Node binary carries OpenSSL and exports its symbols; its headers ship with Node's.
 *
 * A datagram is [16-byte header | text | 16-byte tag] (src/lib/router/dataplane/sleeve/packet.ts);
 * the whole header is the associated data, its last 12 bytes the nonce.
 *
 *   key(key32, encrypt) -> context        freed by the garbage collector
 *   seal(context, buffer, offset, length) the header is written; text sealed in place, tag after it
 *   open(context, buffer, offset, length) -> boolean    text opened in place when the tag verifies
 */
#include "addon.h"

#include <openssl/evp.h>

#define HEADER 16
#define TAG 16
#define NONCE_AT 4

static void free_context(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  EVP_CIPHER_CTX_free(data);
}

napi_value gcm_key(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!args_of(env, info, 2, argv)) return NULL;
  uint8_t *key;
  size_t length;
  bool encrypt;
  if (!bytes_of(env, argv[0], &key, &length)) return NULL;
  CHECK(napi_get_value_bool(env, argv[1], &encrypt));
  if (length != 32) {
    napi_throw_range_error(env, NULL, "weave_tap.key: an AES-256 key is 32 bytes");
    return NULL;
  }
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  if (!ctx || EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, NULL, encrypt) != 1) {
    EVP_CIPHER_CTX_free(ctx);
    napi_throw_error(env, NULL, "weave_tap.key: OpenSSL refused AES-256-GCM");
    return NULL;
  }
  napi_value result;
  CHECK(napi_create_external(env, ctx, free_context, NULL, &result));
  return result;
}

/** The context and the datagram [offset, offset + length) of a seal/open call; NULL ctx on a bad argument. */
static EVP_CIPHER_CTX *datagram_of(napi_env env, napi_callback_info info, uint8_t **packet, int32_t *length) {
  napi_value argv[4];
  if (!args_of(env, info, 4, argv)) return NULL;
  void *ctx;
  uint8_t *buffer;
  size_t size;
  int32_t offset;
  if (napi_get_value_external(env, argv[0], &ctx) != napi_ok || !bytes_of(env, argv[1], &buffer, &size) ||
      napi_get_value_int32(env, argv[2], &offset) != napi_ok || napi_get_value_int32(env, argv[3], length) != napi_ok) {
    napi_throw_type_error(env, NULL, "weave_tap: (context, buffer, offset, length) expected");
    return NULL;
  }
  if (offset < 0 || *length < HEADER + TAG || (size_t)offset + (size_t)*length > size) {
    napi_throw_range_error(env, NULL, "weave_tap: the datagram lies outside the buffer");
    return NULL;
  }
  *packet = buffer + offset;
  return ctx;
}

napi_value gcm_seal(napi_env env, napi_callback_info info) {
  uint8_t *p;
  int32_t length;
  EVP_CIPHER_CTX *ctx = datagram_of(env, info, &p, &length);
  if (!ctx) return NULL;
  int text = length - HEADER - TAG, out;
  if (EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, p + NONCE_AT) != 1 || EVP_EncryptUpdate(ctx, NULL, &out, p, HEADER) != 1 ||
      EVP_EncryptUpdate(ctx, p + HEADER, &out, p + HEADER, text) != 1 || EVP_EncryptFinal_ex(ctx, p + HEADER + text, &out) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG, p + HEADER + text) != 1) {
    napi_throw_error(env, NULL, "weave_tap.seal: OpenSSL failed to encrypt");
  }
  return NULL;
}

napi_value gcm_open(napi_env env, napi_callback_info info) {
  uint8_t *p;
  int32_t length;
  EVP_CIPHER_CTX *ctx = datagram_of(env, info, &p, &length);
  if (!ctx) return NULL;
  int text = length - HEADER - TAG, out;
  bool ok = EVP_DecryptInit_ex(ctx, NULL, NULL, NULL, p + NONCE_AT) == 1 && EVP_DecryptUpdate(ctx, NULL, &out, p, HEADER) == 1 &&
            EVP_DecryptUpdate(ctx, p + HEADER, &out, p + HEADER, text) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG, p + HEADER + text) == 1 && EVP_DecryptFinal_ex(ctx, p + HEADER + text, &out) == 1;
  napi_value result;
  CHECK(napi_get_boolean(env, ok, &result));
  return result;
}
