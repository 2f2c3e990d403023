#include "notify/suppress.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "core/mailbox.h"

const char *const suppress_kind_names[3] = {"address", "domain", "network"};

static void lower_copy(char *out, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[len] = '\0';
}

int suppress_parse(const char *text, size_t len, struct suppress_rule *out, const char **why)
{
	memset(out, 0, sizeof *out);
	if (len == 0 || len >= SUPPRESS_VALUE_MAX) {
		*why = len ? "too long" : "empty";
		return -1;
	}
	if (text[0] == '@') {
		if (mailbox_domain_check(text + 1, len - 1, why) != 0)
			return -1;
		out->kind = SUPPRESS_DOMAIN;
		lower_copy(out->value, text + 1, len - 1);
		return 0;
	}
	if (memchr(text, '@', len) != NULL) {
		if (mailbox_check(text, len, why) != 0)
			return -1;
		out->kind = SUPPRESS_ADDRESS;
		lower_copy(out->value, text, len);
		return 0;
	}
	const char *range_why = NULL;
	if (range_parse(text, len, &out->range, &range_why) != 0) {
		*why = "neither an address (x@domain), a domain (@domain) nor a network (CIDR, FIRST-LAST)";
		return -1;
	}
	out->kind = SUPPRESS_NETWORK;
	range_format(&out->range, out->value, sizeof out->value);
	return 0;
}

int suppress_contact_domain(const char *contact, char *out, size_t outlen)
{
	const char *at = contact ? strrchr(contact, '@') : NULL;
	if (at == NULL || at[1] == '\0' || strlen(at + 1) >= outlen)
		return -1;
	lower_copy(out, at + 1, strlen(at + 1));
	return 0;
}
