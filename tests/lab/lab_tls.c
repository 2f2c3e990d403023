/*
 * The STARTTLS hosts' certificate: a P-256 key and a self-signed certificate
 * made in memory at start, so the lab needs no files. Probers do not verify
 * it (neither do real relay testers: self-signed certificates are the norm).
 */
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "core/log.h"
#include "lab.h"

static X509 *tls_self_signed(EVP_PKEY *key)
{
	X509 *cert = X509_new();
	X509_NAME *name;
	if (cert == NULL)
		return NULL;
	name = X509_get_subject_name(cert);
	if (X509_set_version(cert, 2) != 1 || ASN1_INTEGER_set(X509_get_serialNumber(cert), 1) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(cert), -86400) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(cert), 365L * 86400) == NULL ||
	    X509_set_pubkey(cert, key) != 1 ||
	    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"plughole-lab", -1, -1,
				       0) != 1 ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"lab.test", -1, -1,
				       0) != 1 ||
	    X509_set_issuer_name(cert, name) != 1 || X509_sign(cert, key, EVP_sha256()) == 0) {
		X509_free(cert);
		return NULL;
	}
	return cert;
}

struct ssl_ctx_st *lab_tls_context(void)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *cert = key != NULL ? tls_self_signed(key) : NULL;
	SSL_CTX *ctx = cert != NULL ? SSL_CTX_new(TLS_server_method()) : NULL;
	if (ctx != NULL &&
	    (SSL_CTX_use_certificate(ctx, cert) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1)) {
		SSL_CTX_free(ctx);
		ctx = NULL;
	}
	if (ctx == NULL)
		log_error("lab: cannot make the TLS certificate");
	else
		/* Many hosts, one short-lived test each: no session cache to grow. */
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	X509_free(cert);
	EVP_PKEY_free(key);
	return ctx;
}
