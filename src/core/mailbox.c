#include "core/mailbox.h"

#include <ctype.h>
#include <string.h>

int mailbox_domain_check(const char *s, size_t len, const char **why)
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

int mailbox_check(const char *s, size_t len, const char **why)
{
	const char *at = memrchr(s, '@', len);
	if (at == NULL || at == s) {
		*why = at ? "no local part before '@'" : "no '@'";
		return -1;
	}
	for (const char *p = s; p < at; p++)
		if (*p <= ' ' || *p == 0x7f || *p == '@' || *p == '<' || *p == '>' || *p == ',') {
			*why = "the local part has a space, a control character or one of @<>,";
			return -1;
		}
	if (at - s > 64) {
		*why = "local part longer than 64 characters";
		return -1;
	}
	return mailbox_domain_check(at + 1, len - (size_t)(at + 1 - s), why);
}
