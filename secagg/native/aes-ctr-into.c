/*
 * AES-256-CTR keystream written into the caller's memory: aesCtrInto(key, counterBlock, out) fills `out` with the
 * keystream of `key` from the 16-byte initial counter block (the whole block incremented big-endian, as node:crypto's
 * 'aes-256-ctr' and secagg/prg.ts define the mask PRG). Why native: node:crypto hands every update() back in a fresh
 * buffer that V8 counts as external memory, and in a SecAgg+ round those buffers (27 MB a client, 40 MB at the
 * coordinator at 100 clients) start most of the round's collections; no node:crypto call writes into a caller's buffer
 * (README "SecAgg+ parameters and dropout"). This writes into one reused buffer with the OpenSSL that Node itself
 * links (its EVP symbols, no system libcrypto), so the bytes are node:crypto's. Built at install by
 * scripts/build-native-aes.mjs where a C compiler and Node's headers are present; secagg/native-keystream.ts loads it,
 * and without it masks come from node:crypto as before.
 */
#include <node_api.h>
#include <openssl/evp.h>
#include <string.h>

static napi_value fail(napi_env env, const char *message) {
  napi_throw_type_error(env, NULL, message);
  return NULL;
}

/* The bytes of a Uint8Array argument, or NULL (with a TypeError thrown). */
static unsigned char *bytes_of(napi_env env, napi_value value, size_t *length, const char *name) {
  bool is_typed = false;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) {
    fail(env, name);
    return NULL;
  }
  napi_typedarray_type type;
  void *data = NULL;
  napi_value buffer;
  size_t offset = 0;
  if (napi_get_typedarray_info(env, value, &type, length, &data, &buffer, &offset) != napi_ok || type != napi_uint8_array) {
    fail(env, name);
    return NULL;
  }
  return (unsigned char *)data;
}

static napi_value aes_ctr_into(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 3) return fail(env, "aesCtrInto(key, counterBlock, out) takes three Uint8Arrays");
  size_t key_length = 0, iv_length = 0, out_length = 0;
  unsigned char *key = bytes_of(env, argv[0], &key_length, "key must be a Uint8Array");
  if (!key) return NULL;
  unsigned char *iv = bytes_of(env, argv[1], &iv_length, "counterBlock must be a Uint8Array");
  if (!iv) return NULL;
  unsigned char *out = bytes_of(env, argv[2], &out_length, "out must be a Uint8Array");
  if (!out) return NULL;
  if (key_length != 32) return fail(env, "key must be 32 bytes");
  if (iv_length != 16) return fail(env, "counterBlock must be 16 bytes");
  if (out_length > (size_t)0x40000000) return fail(env, "out must be at most 1 GiB");
  if (out_length == 0) return NULL;
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  int written = 0, ok = ctx != NULL;
  /* CTR encrypts zeros to the keystream; in place (in == out) is allowed for stream modes. */
  memset(out, 0, out_length);
  ok = ok && EVP_EncryptInit_ex(ctx, EVP_aes_256_ctr(), NULL, key, iv) == 1;
  ok = ok && EVP_EncryptUpdate(ctx, out, &written, out, (int)out_length) == 1 && (size_t)written == out_length;
  EVP_CIPHER_CTX_free(ctx);
  if (!ok) {
    memset(out, 0, out_length);
    napi_throw_error(env, NULL, "AES-256-CTR failed in OpenSSL");
  }
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "aesCtrInto", NAPI_AUTO_LENGTH, aes_ctr_into, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "aesCtrInto", fn) != napi_ok) return NULL;
  return exports;
}
