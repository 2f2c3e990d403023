#include "notify/suppress.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

const char *const suppress_kind_names[3] = {"address", "domain", "network"};

/* Letters, digits and hyphens in labels of 1-63, at least two labels, 253 at most. */
static int check_domain(const char *s, size_t len, const char **why)
{
	size_t label = 0, labels = 1;
	if (len == 0 || len > 253) {
		*why = len ? "domain longer than 253 characters" : "empty domain";
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.') {
			if (label == 0 || s[i - 1] == '-') {
				*why = "empty label or a label ending in '-' in the domain";
				return -1;
			}
			label = 0;
			labels++;
			continue;
		}
		if (!isalnum(c) && c != '-') {
			*why = "a domain has only letters, digits, '-' and '.'";
			return -1;
		}
		if ((label == 0 && c == '-') || ++label > 63) {
			*why = label > 63 ? "label longer than 63 characters" : "a label starts with '-'";
			return -1;
		}
	}
	if (label == 0 || s[len - 1] == '-' || labels < 2) {
		*why = labels < 2 ? "a domain needs at least two labels" : "empty last label in the domain";
		return -1;
	}
	return 0;
}

int suppress_check_address(const char *text, size_t len, const char **why)
{
	const char *at = memrchr(text, '@', len);
	if (at == NULL || at == text) {
		*why = at ? "no local part before '@'" : "no '@'";
		return -1;
	}
	for (const char *p = text; p < at; p++)
		if (*p <= ' ' || *p == 0x7f || *p == '@' || *p == '<' || *p == '>' || *p == ',') {
			*why = "the local part has a space, a control character or one of @<>,";
			return -1;
		}
	if (at - text > 64) {
		*why = "local part longer than 64 characters";
		return -1;
	}
	return check_domain(at + 1, len - (size_t)(at + 1 - text), why);
}

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
		if (check_domain(text + 1, len - 1, why) != 0)
			return -1;
		out->kind = SUPPRESS_DOMAIN;
		lower_copy(out->value, text + 1, len - 1);
		return 0;
	}
	if (memchr(text, '@', len) != NULL) {
		if (suppress_check_address(text, len, why) != 0)
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
