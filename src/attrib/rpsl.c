#include "attrib/rpsl.h"

#include <string.h>

const char *const rpsl_attr_names[RPSL_A_LAST] = {
    [RPSL_A_OTHER] = "other",
    [RPSL_A_INETNUM] = "inetnum",
    [RPSL_A_INET6NUM] = "inet6num",
    [RPSL_A_ORGANISATION] = "organisation",
    [RPSL_A_ROLE] = "role",
    [RPSL_A_PERSON] = "person",
    [RPSL_A_IRT] = "irt",
    [RPSL_A_AUT_NUM] = "aut-num",
    [RPSL_A_NETNAME] = "netname",
    [RPSL_A_DESCR] = "descr",
    [RPSL_A_COUNTRY] = "country",
    [RPSL_A_ORG] = "org",
    [RPSL_A_ABUSE_C] = "abuse-c",
    [RPSL_A_MNT_IRT] = "mnt-irt",
    [RPSL_A_STATUS] = "status",
    [RPSL_A_REMARKS] = "remarks",
    [RPSL_A_NOTIFY] = "notify",
    [RPSL_A_E_MAIL] = "e-mail",
    [RPSL_A_ABUSE_MAILBOX] = "abuse-mailbox",
    [RPSL_A_IRT_NFY] = "irt-nfy",
    [RPSL_A_NIC_HDL] = "nic-hdl",
    [RPSL_A_ORG_NAME] = "org-name",
    [RPSL_A_AS_NAME] = "as-name",
    [RPSL_A_SOURCE] = "source",
};

#define RPSL_MAX_NAME 32

static bool is_name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
	       c == '_';
}

/* Dumps write names in lower case; the fold keeps mixed-case input working. */
static enum rpsl_attr_id classify(const char *name, size_t len)
{
	char lower[RPSL_MAX_NAME];
	if (len >= sizeof lower)
		return RPSL_A_OTHER;
	for (size_t i = 0; i < len; i++)
		lower[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
	/* Most lines of a dump are attributes nobody reads (admin-c, mnt-by, ...):
	 * the first letter rules most of them out before any comparison. */
	for (int id = RPSL_A_OTHER + 1; id < RPSL_A_LAST; id++) {
		const char *known = rpsl_attr_names[id];
		size_t i = 0;
		while (i < len && known[i] == lower[i]) /* stops at known's end too: lower has no NUL */
			i++;
		if (i == len && known[len] == '\0')
			return (enum rpsl_attr_id)id;
	}
	return RPSL_A_OTHER;
}

/* memchr for short lines: a word at a time, no call. */
static inline const char *find_newline(const char *p, const char *end)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	while (end - p >= 8) {
		uint64_t w;
		memcpy(&w, p, sizeof w);
		w ^= 0x0a0a0a0a0a0a0a0aull; /* '\n' bytes become zero */
		uint64_t zero = (w - 0x0101010101010101ull) & ~w & 0x8080808080808080ull;
		if (zero != 0)
			return p + (__builtin_ctzll(zero) >> 3);
		p += 8;
	}
	while (p < end && *p != '\n')
		p++;
	return p < end ? p : NULL;
#else
	return memchr(p, '\n', (size_t)(end - p));
#endif
}

int rpsl_parse_object(const char *buf, size_t len, struct rpsl_object *obj, const char **why,
		      uint32_t *bad_line)
{
	const char *p = buf, *end = buf + len;
	struct rpsl_attr *current = NULL;
	uint32_t line = 0;
	int rc = 0;
	obj->count = 0;
	obj->ended = false;
	for (; p < end; line++) {
		const char *nl = find_newline(p, end);
		const char *eol = nl ? nl : end;
		size_t n = (size_t)(eol - p);
		char c = n ? p[0] : '\n';
		if (n == 0 || (n == 1 && c == '\r')) {
			obj->ended = true;
			break;
		}
		if (rc != 0) {
			/* broken: only measured to its end from here */
		} else if (c == '%' || c == '#') {
			current = NULL; /* a comment line ends the attribute before it */
		} else if (c == ' ' || c == '\t' || c == '+') {
			if (current == NULL) {
				*why = "continuation line with no attribute before it";
				*bad_line = line;
				rc = -1;
			} else {
				current->value_len = (uint32_t)(eol - current->value);
				current->continued = true;
			}
		} else {
			size_t i = 0;
			while (i < n && i <= RPSL_MAX_NAME && is_name_char((unsigned char)p[i]))
				i++;
			if (i == 0 || i >= n || p[i] != ':' || i > RPSL_MAX_NAME) {
				*why =
				    i > RPSL_MAX_NAME ? "attribute name too long" : "not an attribute line";
				*bad_line = line;
				rc = -1;
			} else if (obj->count == RPSL_MAX_ATTRS) {
				*why = "too many attributes";
				*bad_line = line;
				rc = -1;
			} else {
				current = &obj->attrs[obj->count++];
				current->id = classify(p, i);
				current->line = line;
				current->name = p;
				current->name_len = (uint32_t)i;
				current->value = p + i + 1;
				current->value_len = (uint32_t)(n - i - 1);
				current->continued = false;
			}
		}
		p = nl ? nl + 1 : end;
	}
	obj->lines = line;
	obj->length = (size_t)(p - buf);
	if (rc == 0 && obj->length > RPSL_MAX_OBJECT) {
		*why = "object longer than 1 MiB";
		*bad_line = 0;
		rc = -1;
	}
	return rc;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

size_t rpsl_value(const struct rpsl_attr *attr, bool keep_comments, char *out, size_t outlen)
{
	const char *p = attr->value, *end = attr->value + attr->value_len;
	size_t used = 0;
	bool first = true;
	if (outlen == 0)
		return 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		const char *s = p;
		if (!first)
			s++; /* the continuation mark: space, tab or '+' */
		const char *e = eol;
		if (!keep_comments) {
			const char *hash = memchr(s, '#', (size_t)(e - s));
			if (hash != NULL)
				e = hash;
		}
		while (s < e && is_blank(*s))
			s++;
		while (e > s && is_blank(e[-1]))
			e--;
		if (e > s) {
			if (used > 0 && used + 1 < outlen)
				out[used++] = ' ';
			size_t n = (size_t)(e - s);
			if (n > outlen - 1 - used)
				n = outlen - 1 - used;
			memcpy(out + used, s, n);
			used += n;
		}
		first = false;
		p = nl ? nl + 1 : end;
	}
	out[used] = '\0';
	return used;
}

const char *rpsl_value_view(const struct rpsl_attr *attr, bool keep_comments, char *scratch,
			    size_t scratch_len, size_t *len)
{
	const char *s = attr->value, *e = attr->value + attr->value_len;
	if (attr->continued) {
		*len = rpsl_value(attr, keep_comments, scratch, scratch_len);
		return scratch;
	}
	if (!keep_comments) {
		const char *hash = s;
		while (hash < e && *hash != '#')
			hash++;
		e = hash;
	}
	while (s < e && is_blank(*s))
		s++;
	while (e > s && is_blank(e[-1]))
		e--;
	*len = (size_t)(e - s);
	return s;
}

/* LACNIC writes IPv4 prefixes with the zero octets left out: "200.3.0/20". */
static size_t pad_v4_prefix(const char *s, size_t len, char *out, size_t outlen)
{
	const char *slash = memchr(s, '/', len);
	if (slash == NULL || memchr(s, ':', len) != NULL)
		return 0;
	size_t head = (size_t)(slash - s), dots = 0;
	for (size_t i = 0; i < head; i++)
		dots += s[i] == '.';
	if (dots >= 3 || head + 6 + (len - head) >= outlen)
		return 0;
	memcpy(out, s, head);
	size_t n = head;
	for (; dots < 3; dots++) {
		memcpy(out + n, ".0", 2);
		n += 2;
	}
	memcpy(out + n, slash, len - head);
	return n + len - head;
}

int rpsl_parse_inetnum(const char *s, size_t len, struct range *out, const char **why)
{
	char padded[64];
	while (len > 0 && is_blank(*s))
		s++, len--;
	while (len > 0 && is_blank(s[len - 1]))
		len--;
	size_t n = pad_v4_prefix(s, len, padded, sizeof padded);
	if (n > 0)
		return range_parse(padded, n, out, why);
	return range_parse(s, len, out, why);
}

int rpsl_parse_inet6num(const char *s, size_t len, struct range *out, const char **why)
{
	while (len > 0 && is_blank(*s))
		s++, len--;
	while (len > 0 && is_blank(s[len - 1]))
		len--;
	if (memchr(s, ':', len) == NULL) {
		*why = "not an IPv6 prefix";
		return -1;
	}
	return range_parse(s, len, out, why);
}

static bool is_local_char(unsigned char c)
{
	return is_name_char(c) || c == '.' || c == '+' || c == '%' || c == '=' || c == '\'';
}

static bool is_domain_char(unsigned char c)
{
	return is_name_char(c) || c == '.';
}

const char *rpsl_next_email(const char **cursor, const char *end, size_t *len)
{
	const char *p = *cursor;
	while (p < end) {
		const char *at = memchr(p, '@', (size_t)(end - p));
		if (at == NULL)
			break;
		const char *s = at, *e = at + 1;
		while (s > *cursor && is_local_char((unsigned char)s[-1]))
			s--;
		while (e < end && is_domain_char((unsigned char)*e))
			e++;
		while (e > at + 1 && (e[-1] == '.' || e[-1] == '-'))
			e--;
		while (s < at && s[0] == '.')
			s++;
		p = at + 1;
		if (s == at || e == at + 1 || memchr(at + 1, '.', (size_t)(e - at - 1)) == NULL)
			continue;
		*cursor = e;
		*len = (size_t)(e - s);
		return s;
	}
	*cursor = end;
	return NULL;
}
