#include "probe/relay_variants.h"
#include "core/util.h"

#include <string.h>

/*
 * Ids are the test ids of tokens already stored: a new variant takes a new
 * id, a removed one's id is never given again. Retired: 3 server-domain-sender,
 * 9 percent-hack-domain, 13 source-route-domain (they named the domain the
 * server's banner claims).
 */
const struct relay_variant relay_variants[] = {
	{0, "plain", true, "<{F}>", "<{T}@{S}>"},
	{1, "null-sender", true, "<>", "<{T}@{S}>"},
	{5, "sink-domain-sender", true, "<relaytest@{S}>", "<{T}@{S}>"},
	/* exotic: one syntax error each to a strict server (a domain literal, no domain) */
	{8, "percent-hack", false, "<{F}>", "<{T}%{S}@{L}>"},
	{12, "source-route", false, "<{F}>", "<@{L}:{T}@{S}>"},
	{7, "quoted-at-server", false, "<{F}>", "<\"{T}@{S}\"@{L}>"},
	{11, "bang-path-at-server", false, "<{F}>", "<{S}!{T}@{L}>"},
	{14, "sink-literal", false, "<{F}>", "<{T}@{SL}>"},
	{6, "quoted", false, "<{F}>", "<\"{T}@{S}\">"},
	{10, "bang-path", false, "<{F}>", "<{S}!{T}>"},
	/* two each: the sender's error, then RCPT without a sender */
	{4, "server-literal-sender", false, "<relaytest@{L}>", "<{T}@{S}>"},
	{2, "unqualified-sender", false, "<relaytest>", "<{T}@{S}>"},
	{15, "unqualified-percent", false, "<relaytest>", "<{T}%{S}@{L}>"},
};
const size_t relay_variant_count = ARRAY_SIZE(relay_variants);
_Static_assert(ARRAY_SIZE(relay_variants) <= RELAY_VARIANTS_MAX, "masks hold every variant");

const struct relay_variant *relay_variant_by_id(unsigned id)
{
	for (size_t i = 0; i < relay_variant_count; i++)
		if (relay_variants[i].id == id)
			return &relay_variants[i];
	return NULL;
}

static const char *placeholder(const char *name, size_t len, const struct relay_context *ctx)
{
	static const struct {
		const char *name;
		size_t offset;
	} table[] = {
		{"T", offsetof(struct relay_context, token)},
		{"S", offsetof(struct relay_context, sink_domain)},
		{"SL", offsetof(struct relay_context, sink_literal)},
		{"L", offsetof(struct relay_context, server_literal)},
		{"F", offsetof(struct relay_context, from)},
	};
	for (size_t i = 0; i < ARRAY_SIZE(table); i++)
		if (strlen(table[i].name) == len && memcmp(table[i].name, name, len) == 0)
			return *(const char *const *)(const void *)((const char *)ctx + table[i].offset);
	return NULL;
}

bool relay_expand(const char *template, const struct relay_context *ctx, char *out, size_t outlen)
{
	size_t n = 0;
	for (const char *p = template; *p; p++) {
		const char *value = NULL;
		size_t vlen = 1;
		if (*p == '{') {
			const char *close = strchr(p, '}');
			if (close == NULL || (value = placeholder(p + 1, (size_t)(close - p - 1), ctx)) == NULL)
				return false;
			vlen = strlen(value);
			p = close;
		} else {
			value = p;
		}
		if (n + vlen >= outlen)
			return false;
		memcpy(out + n, value, vlen);
		n += vlen;
	}
	out[n] = '\0';
	return true;
}
