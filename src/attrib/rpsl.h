/*
 * RPSL objects as the RIRs' split database dumps carry them (RFC 2622
 * syntax): "name: value" lines, continuation lines starting with a space,
 * a tab or '+', whole-line comments starting with '%' or '#', objects
 * separated by empty lines. The parser is a pure function over one object's
 * text: it records where each attribute is, and copies nothing.
 */
#ifndef PLUGHOLE_RPSL_H
#define PLUGHOLE_RPSL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"

#define RPSL_MAX_ATTRS 1024	  /* more than any real object carries */
#define RPSL_MAX_OBJECT (1 << 20) /* bytes; a longer "object" is broken input */

/* The attributes attribution reads; everything else is RPSL_A_OTHER. */
enum rpsl_attr_id {
	RPSL_A_OTHER,
	RPSL_A_INETNUM,
	RPSL_A_INET6NUM,
	RPSL_A_ORGANISATION,
	RPSL_A_ROLE,
	RPSL_A_PERSON,
	RPSL_A_IRT,
	RPSL_A_AUT_NUM,
	RPSL_A_NETNAME,
	RPSL_A_DESCR,
	RPSL_A_COUNTRY,
	RPSL_A_ORG,
	RPSL_A_ABUSE_C,
	RPSL_A_MNT_IRT,
	RPSL_A_STATUS,
	RPSL_A_REMARKS,
	RPSL_A_NOTIFY,
	RPSL_A_E_MAIL,
	RPSL_A_ABUSE_MAILBOX,
	RPSL_A_IRT_NFY,
	RPSL_A_NIC_HDL,
	RPSL_A_ORG_NAME,
	RPSL_A_AS_NAME,
	RPSL_A_SOURCE,
	RPSL_A_LAST
};
extern const char *const rpsl_attr_names[RPSL_A_LAST];

struct rpsl_attr {
	enum rpsl_attr_id id;
	uint32_t line;	  /* 0-based line of the attribute within the object text */
	bool continued;	  /* has continuation lines */
	const char *name; /* as written (RPSL names are case-insensitive) */
	uint32_t name_len;
	const char *value; /* raw: from after the ':' to the end of its last continuation line */
	uint32_t value_len;
};

struct rpsl_object {
	struct rpsl_attr attrs[RPSL_MAX_ATTRS];
	size_t count;
	size_t length;	/* bytes of its lines, the last line's newline included */
	uint32_t lines; /* lines it spans, comments included */
	bool ended;	/* an empty line follows: the object is whole even if buf goes on */
};

/*
 * Parses the object at the start of buf, up to the first empty line (not
 * consumed) or the end of buf: one pass over its lines, which also tells the
 * caller where the next object starts (obj->length). The caller skips the
 * empty lines between objects. Comment-only text gives count == 0 and is not
 * an error. Returns 0, or -1 with *why and *bad_line (0-based, within buf);
 * a broken object is still measured to its end, so the caller can skip it.
 */
int rpsl_parse_object(const char *buf, size_t len, struct rpsl_object *obj, const char **why,
		      uint32_t *bad_line);

/* The object's class: the id of its first attribute (RPSL_A_OTHER for classes not read). */
static inline enum rpsl_attr_id rpsl_class(const struct rpsl_object *obj)
{
	return obj->count ? obj->attrs[0].id : RPSL_A_OTHER;
}

/*
 * The value on one line: continuation lines joined with single spaces,
 * surrounding blanks trimmed and, unless keep_comments, an end-of-line '#'
 * comment removed. Copies at most outlen - 1 bytes and NUL-terminates;
 * returns the length copied.
 */
size_t rpsl_value(const struct rpsl_attr *attr, bool keep_comments, char *out, size_t outlen);
/*
 * The same value without a copy when it is one line: points into the
 * object's text, or into scratch when continuation lines had to be joined.
 * Not NUL-terminated; *len is its length.
 */
const char *rpsl_value_view(const struct rpsl_attr *attr, bool keep_comments, char *scratch,
			    size_t scratch_len, size_t *len);

/* "192.0.2.0 - 192.0.2.255" (a lone address is a range of one). */
int rpsl_parse_inetnum(const char *s, size_t len, struct range *out, const char **why);
/* "2001:db8::/32". */
int rpsl_parse_inet6num(const char *s, size_t len, struct range *out, const char **why);

/*
 * Finds the next e-mail address in free text (remarks:, notify:): advances
 * *cursor past it and returns its start with *len set, or NULL when none.
 */
const char *rpsl_next_email(const char **cursor, const char *end, size_t *len);

#endif
