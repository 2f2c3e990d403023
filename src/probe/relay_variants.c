#include "probe/relay_variants.h"

#include <string.h>

const struct relay_variant relay_variants[] = {
	{"plain", "<{F}>", "<{T}@{S}>"},
	{"null-sender", "<>", "<{T}@{S}>"},
	{"unqualified-sender", "<relaytest>", "<{T}@{S}>"},
	{"server-domain-sender", "<relaytest@{D}>", "<{T}@{S}>"},
	{"server-literal-sender", "<relaytest@{L}>", "<{T}@{S}>"},
	{"sink-domain-sender", "<relaytest@{S}>", "<{T}@{S}>"},
	{"quoted", "<{F}>", "<\"{T}@{S}\">"},
	{"quoted-at-server", "<{F}>", "<\"{T}@{S}\"@{L}>"},
	{"percent-hack", "<{F}>", "<{T}%{S}@{L}>"},
	{"percent-hack-domain", "<{F}>", "<{T}%{S}@{D}>"},
	{"bang-path", "<{F}>", "<{S}!{T}>"},
	{"bang-path-at-server", "<{F}>", "<{S}!{T}@{L}>"},
	{"source-route", "<{F}>", "<@{L}:{T}@{S}>"},
	{"source-route-domain", "<{F}>", "<@{D}:{T}@{S}>"},
	{"sink-literal", "<{F}>", "<{T}@{SL}>"},
	{"unqualified-percent", "<relaytest>", "<{T}%{S}@{L}>"},
};
const size_t relay_variant_count = sizeof relay_variants / sizeof relay_variants[0];
_Static_assert(sizeof relay_variants / sizeof relay_variants[0] <= RELAY_VARIANTS_MAX, "masks hold every variant");

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
		{"D", offsetof(struct relay_context, server_domain)},
		{"F", offsetof(struct relay_context, from)},
	};
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
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
