/* The admin password's hash: libcrypt's yescrypt (salted, slow), checked in constant time. */
#include <crypt.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web/web.h"

int web_password_hash(const char *password, char *out, size_t outlen)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	if (crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof salt) == NULL)
		return -1;
	struct crypt_data *data = calloc(1, sizeof *data);
	const char *hash = data ? crypt_r(password, salt, data) : NULL;
	int rc = hash != NULL && hash[0] == '$' && strlen(hash) < outlen ? 0 : -1;
	if (rc == 0)
		snprintf(out, outlen, "%s", hash);
	free(data);
	return rc;
}

bool web_password_check(const char *password, const char *hash)
{
	struct crypt_data *data = calloc(1, sizeof *data);
	const char *got = data ? crypt_r(password, hash, data) : NULL;
	size_t n = strlen(hash);
	bool ok = got != NULL && got[0] == '$' && strlen(got) == n && CRYPTO_memcmp(got, hash, n) == 0;
	free(data);
	return ok;
}
