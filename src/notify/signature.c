#include "notify/signature.h"

#include <dkim.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "notify/textbuf.h"

#define SIGNATURE_KEY_MAX (64u << 10)
#define SIGNATURE_PREFIX "DKIM-Signature: "

const char *const signature_headers[] = {
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "Reply-To",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "MIME-Version",
    "Content-Type",
    NULL,
};

struct signer {
	DKIM_LIB *lib;
	unsigned char *key; /* PEM, NUL-terminated */
	char *selector, *domain;
	unsigned long serial; /* each message's job id */
};

static unsigned char *read_key(const char *path, char *why, size_t whylen)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	unsigned char *buf = malloc(SIGNATURE_KEY_MAX + 1);
	size_t n = buf ? fread(buf, 1, SIGNATURE_KEY_MAX + 1, f) : 0;
	fclose(f);
	if (buf == NULL || n == 0 || n > SIGNATURE_KEY_MAX) {
		snprintf(why, whylen, "%s: %s", path,
			 buf == NULL ? "out of memory"
			 : n	     ? "too large for a key"
				     : "empty");
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	/* what libopendkim would only find out at the first letter: a PEM RSA private key */
	BIO *bio = BIO_new_mem_buf(buf, (int)n);
	EVP_PKEY *pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
	bool rsa = pkey != NULL && EVP_PKEY_base_id(pkey) == EVP_PKEY_RSA;
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	if (!rsa) {
		snprintf(why, whylen, "%s: not a PEM RSA private key (openssl genrsa makes one)", path);
		free(buf);
		return NULL;
	}
	return buf;
}

struct signer *signer_new(const char *key_path, const char *selector, const char *domain, char *why,
			  size_t whylen)
{
	struct signer *s = calloc(1, sizeof *s);
	if (s == NULL) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	if ((s->key = read_key(key_path, why, whylen)) == NULL) {
		signer_free(s);
		return NULL;
	}
	s->selector = strdup(selector ? selector : "");
	s->domain = domain && domain[0] ? strdup(domain) : NULL;
	s->lib = dkim_init(NULL, NULL);
	if (s->selector == NULL || s->selector[0] == '\0' || (domain && domain[0] && s->domain == NULL) ||
	    s->lib == NULL) {
		snprintf(why, whylen, "%s",
			 s->lib == NULL ? "libopendkim did not start" : "no DKIM selector");
		signer_free(s);
		return NULL;
	}
	/* the preview's LF lines sign as the CRLF lines of the wire */
	unsigned int flags = DKIM_LIBFLAGS_FIXCRLF;
	if (dkim_options(s->lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof flags) != DKIM_STAT_OK ||
	    dkim_options(s->lib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNHDRS, (void *)signature_headers,
			 sizeof(char **)) != DKIM_STAT_OK) {
		snprintf(why, whylen, "libopendkim refused its options");
		signer_free(s);
		return NULL;
	}
	return s;
}

void signer_free(struct signer *s)
{
	if (s == NULL)
		return;
	if (s->lib)
		dkim_close(s->lib);
	if (s->key)
		OPENSSL_cleanse(s->key, strlen((char *)s->key));
	free(s->key);
	free(s->selector);
	free(s->domain);
	free(s);
}

/* The header as libopendkim folds it, with the message's own newlines. */
static int header_with_newlines(const unsigned char *value, enum mime_newline newline, struct textbuf *out)
{
	int rc = textbuf_puts(out, SIGNATURE_PREFIX);
	for (const unsigned char *p = value; *p && rc == 0; p++) {
		if (*p == '\r')
			continue;
		rc = *p == '\n' ? textbuf_puts(out, newline == MIME_CRLF ? "\r\n" : "\n")
				: textbuf_append(out, (const char *)p, 1);
	}
	return rc | textbuf_puts(out, newline == MIME_CRLF ? "\r\n" : "\n");
}

int signer_sign(struct signer *s, const char *sender, enum mime_newline newline, char **msg, size_t *len,
		char *why, size_t whylen)
{
	const char *at = sender ? strrchr(sender, '@') : NULL;
	const char *domain = s->domain ? s->domain : at ? at + 1 : NULL;
	if (domain == NULL || domain[0] == '\0') {
		snprintf(why, whylen,
			 "DKIM: no signing domain (the sender has none; set [campaign] dkim_domain)");
		return -1;
	}
	char job[32];
	snprintf(job, sizeof job, "letter-%lu", ++s->serial);
	DKIM_STAT st;
	DKIM *d = dkim_sign(s->lib, (const unsigned char *)job, NULL, (dkim_sigkey_t)s->key,
			    (const unsigned char *)s->selector, (const unsigned char *)domain,
			    DKIM_CANON_RELAXED, DKIM_CANON_RELAXED, DKIM_SIGN_RSASHA256, -1, &st);
	if (d == NULL) {
		snprintf(why, whylen, "DKIM: cannot sign: %s", dkim_getresultstr(st));
		return -1;
	}
	unsigned char *value = NULL;
	size_t value_len = 0;
	if ((st = dkim_chunk(d, (unsigned char *)*msg, *len)) != DKIM_STAT_OK ||
	    (st = dkim_chunk(d, NULL, 0)) != DKIM_STAT_OK || (st = dkim_eom(d, NULL)) != DKIM_STAT_OK ||
	    (st = dkim_getsighdr_d(d, strlen(SIGNATURE_PREFIX), &value, &value_len)) != DKIM_STAT_OK) {
		const char *detail = dkim_geterror(d);
		snprintf(why, whylen, "DKIM: cannot sign: %s%s%s", dkim_getresultstr(st), detail ? ": " : "",
			 detail ? detail : "");
		dkim_free(d);
		return -1;
	}
	struct textbuf out;
	textbuf_init(&out, MIME_MAX_MESSAGE + 4096);
	int rc = header_with_newlines(value, newline, &out) | textbuf_append(&out, *msg, *len);
	dkim_free(d); /* value is the handle's */
	if (rc != 0) {
		snprintf(why, whylen, "the signed message is larger than %u bytes", MIME_MAX_MESSAGE);
		textbuf_free(&out);
		return -1;
	}
	free(*msg);
	*msg = textbuf_take(&out, len);
	return 0;
}
