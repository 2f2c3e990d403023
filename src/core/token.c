#include "core/token.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/hmac.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"

enum {
	TOKEN_VERSION = 1,
	MAC_LEN = 10,
	HEADER_LEN = 1 + 1 + 2 + 1 + 4 + 2, /* version family campaign test time port */
	PAYLOAD_V4 = HEADER_LEN + 4 + MAC_LEN,
	PAYLOAD_V6 = HEADER_LEN + 16 + MAC_LEN,
	PREFIX_LEN = sizeof TOKEN_PREFIX - 1,
};

static const char base32_alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

static size_t base32_len(size_t bytes) { return (bytes * 8 + 4) / 5; }

static void base32_encode(const uint8_t *in, size_t len, char *out)
{
	uint32_t buffer = 0;
	int bits = 0;
	for (size_t i = 0; i < len; i++) {
		buffer = buffer << 8 | in[i];
		bits += 8;
		while (bits >= 5) {
			*out++ = base32_alphabet[(buffer >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		*out++ = base32_alphabet[(buffer << (5 - bits)) & 31];
	*out = '\0';
}

static int base32_value(char c)
{
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

static int base32_decode(const char *in, size_t len, uint8_t *out, size_t outlen)
{
	uint32_t buffer = 0;
	int bits = 0;
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		int v = base32_value(in[i]);
		if (v < 0)
			return -1;
		buffer = buffer << 5 | (uint32_t)v;
		bits += 5;
		if (bits >= 8) {
			if (n == outlen)
				return -1;
			out[n++] = (uint8_t)(buffer >> (bits - 8));
			bits -= 8;
		}
	}
	/* Leftover padding bits must be zero, so each token has one spelling. */
	if (n != outlen || (buffer & ((1u << bits) - 1)) != 0)
		return -1;
	return 0;
}

/* One HMAC context per thread, keyed once: OpenSSL's one-shot HMAC() looks
 * the digest up on every call, and a verifier makes a token per variant. */
static _Thread_local struct {
	uint8_t key[TOKEN_SECRET_LEN];
	EVP_MAC_CTX *ctx;
} mac_cache;

static EVP_MAC_CTX *mac_context(const struct token_secret *secret)
{
	if (mac_cache.ctx != NULL && memcmp(mac_cache.key, secret->key, sizeof secret->key) == 0)
		return EVP_MAC_init(mac_cache.ctx, NULL, 0, NULL) == 1 ? mac_cache.ctx : NULL;
	if (mac_cache.ctx == NULL) {
		EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
		mac_cache.ctx = hmac ? EVP_MAC_CTX_new(hmac) : NULL;
		EVP_MAC_free(hmac); /* the context holds its own reference */
		if (mac_cache.ctx == NULL)
			return NULL;
	}
	OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
			       OSSL_PARAM_construct_end()};
	if (EVP_MAC_init(mac_cache.ctx, secret->key, sizeof secret->key, params) != 1) {
		memset(mac_cache.key, 0, sizeof mac_cache.key);
		return NULL;
	}
	memcpy(mac_cache.key, secret->key, sizeof secret->key);
	return mac_cache.ctx;
}

static void compute_mac(const struct token_secret *secret, const uint8_t *data, size_t len,
			uint8_t mac[MAC_LEN])
{
	uint8_t full[EVP_MAX_MD_SIZE];
	size_t full_len = 0;
	EVP_MAC_CTX *ctx = mac_context(secret);
	if (ctx == NULL || EVP_MAC_update(ctx, data, len) != 1 ||
	    EVP_MAC_final(ctx, full, &full_len, sizeof full) != 1) {
		unsigned int n = 0; /* the context failed: the slow path still gives the right MAC */
		HMAC(EVP_sha256(), secret->key, sizeof secret->key, data, len, full, &n);
	}
	memcpy(mac, full, MAC_LEN);
}

size_t token_make(const struct token_secret *secret, uint16_t campaign, const struct addr *address,
		  uint16_t port, uint8_t test, uint32_t time, char out[TOKEN_MAX_LEN])
{
	uint8_t payload[PAYLOAD_V6];
	bool v4 = addr_is_v4(address);
	size_t n = 0;
	payload[n++] = TOKEN_VERSION;
	payload[n++] = v4 ? 4 : 6;
	payload[n++] = (uint8_t)(campaign >> 8);
	payload[n++] = (uint8_t)campaign;
	payload[n++] = test;
	payload[n++] = (uint8_t)(time >> 24);
	payload[n++] = (uint8_t)(time >> 16);
	payload[n++] = (uint8_t)(time >> 8);
	payload[n++] = (uint8_t)time;
	payload[n++] = (uint8_t)(port >> 8);
	payload[n++] = (uint8_t)port;
	if (v4) {
		memcpy(payload + n, address->bytes + 12, 4);
		n += 4;
	} else {
		memcpy(payload + n, address->bytes, 16);
		n += 16;
	}
	compute_mac(secret, payload, n, payload + n);
	n += MAC_LEN;
	memcpy(out, TOKEN_PREFIX, PREFIX_LEN);
	base32_encode(payload, n, out + PREFIX_LEN);
	return PREFIX_LEN + base32_len(n);
}

int token_check(const struct token_secret *secret, const char *text, size_t len, struct token_fields *out)
{
	uint8_t payload[PAYLOAD_V6];
	size_t payload_len;
	if (len < PREFIX_LEN || strncasecmp(text, TOKEN_PREFIX, PREFIX_LEN) != 0)
		return -1;
	size_t body = len - PREFIX_LEN;
	if (body == base32_len(PAYLOAD_V4))
		payload_len = PAYLOAD_V4;
	else if (body == base32_len(PAYLOAD_V6))
		payload_len = PAYLOAD_V6;
	else
		return -1;
	if (base32_decode(text + PREFIX_LEN, body, payload, payload_len) != 0)
		return -1;
	bool v4 = payload_len == PAYLOAD_V4;
	if (payload[0] != TOKEN_VERSION || payload[1] != (v4 ? 4 : 6))
		return -1;
	uint8_t mac[MAC_LEN];
	compute_mac(secret, payload, payload_len - MAC_LEN, mac);
	if (CRYPTO_memcmp(mac, payload + payload_len - MAC_LEN, MAC_LEN) != 0)
		return -1;
	out->campaign = (uint16_t)(payload[2] << 8 | payload[3]);
	out->test = payload[4];
	out->time = (uint32_t)payload[5] << 24 | (uint32_t)payload[6] << 16 | (uint32_t)payload[7] << 8 | payload[8];
	out->port = (uint16_t)(payload[9] << 8 | payload[10]);
	if (v4)
		addr_from_v4(&out->address, (uint32_t)payload[11] << 24 | (uint32_t)payload[12] << 16 |
						    (uint32_t)payload[13] << 8 | payload[14]);
	else
		memcpy(out->address.bytes, payload + 11, 16);
	return 0;
}

static bool is_word_char(char c) { return isalnum((unsigned char)c) != 0; }

int token_scan(const struct token_secret *secret, const char *buf, size_t len, size_t *offset,
	       struct token_fields *out, char found[TOKEN_MAX_LEN])
{
	for (size_t i = *offset; i + PREFIX_LEN <= len; i++) {
		if (strncasecmp(buf + i, TOKEN_PREFIX, PREFIX_LEN) != 0 || (i > 0 && is_word_char(buf[i - 1])))
			continue;
		size_t run = 0;
		while (i + PREFIX_LEN + run < len && base32_value(buf[i + PREFIX_LEN + run]) >= 0)
			run++;
		size_t end = i + PREFIX_LEN + run;
		if (end < len && is_word_char(buf[end]))
			continue;
		if (run != base32_len(PAYLOAD_V4) && run != base32_len(PAYLOAD_V6))
			continue;
		*offset = end;
		memcpy(found, buf + i, end - i);
		found[end - i] = '\0';
		return token_check(secret, buf + i, end - i, out) == 0 ? 1 : 0;
	}
	*offset = len;
	return -1;
}

int token_secret_load(struct token_secret *secret, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		/* O_EXCL: when two processes start at once, one creates, the other reads. */
		if (RAND_bytes(secret->key, sizeof secret->key) != 1) {
			log_error("%s: cannot gather random bytes for a new secret", path);
			return -1;
		}
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0) {
			ssize_t w = write(fd, secret->key, sizeof secret->key);
			if (close(fd) != 0 || w != (ssize_t)sizeof secret->key) {
				log_error("%s: cannot write the new secret", path);
				unlink(path);
				return -1;
			}
			log_info("created a new token secret in %s", path);
			return 0;
		}
		if (errno != EEXIST) {
			log_error("%s: %s", path, strerror(errno));
			return -1;
		}
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0) {
		log_error("%s: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) == 0 && (st.st_mode & 077) != 0)
		log_warn("%s: the token secret is readable by others (mode %o)", path, st.st_mode & 0777);
	ssize_t r = read(fd, secret->key, sizeof secret->key);
	close(fd);
	if (r != (ssize_t)sizeof secret->key) {
		log_error("%s: not a plughole secret (expected %d bytes)", path, TOKEN_SECRET_LEN);
		return -1;
	}
	return 0;
}
