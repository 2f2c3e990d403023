#include "attrib/load.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "attrib/asnames.h"
#include "attrib/delegated.h"
#include "attrib/pfx2as.h"
#include "attrib/rpsl.h"
#include "core/log.h"

/* Bytes per read: more than RPSL_MAX_OBJECT so an object fits, few so they stay in cache. */
#define READ_CHUNK (2u << 20)
#define PARALLEL_MIN (32u << 20) /* smaller plain files are parsed by one thread */
#define MAX_PARTS 8
#define MAX_LINE (64u << 10) /* a longer line of a line format is broken input */
#define VALUE_MAX 4096	     /* one folded attribute value (remarks can run long) */
#define DETECT_SAMPLE (64u << 10)

/* A malformed object, kept until the file is done: parallel parsers learn their line numbers last. */
struct report {
	uint64_t line;
	char why[200];
};

struct parser {
	const char *name;
	enum snap_kind kind;
	struct snap_builder *b;
	struct attrib_load_stats *stats;
	struct rpsl_object *obj;
	uint64_t line;	       /* lines consumed so far */
	bool skipping;	       /* inside an over-long object or line: drop input to the next boundary */
	const char *separator; /* between RPSL objects: "\n\n", or "\n\r\n" in CRLF files */
	struct report reports[ATTRIB_MAX_REPORTED];
	char value[VALUE_MAX];
};

static void malformed(struct parser *p, uint64_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void malformed(struct parser *p, uint64_t line, const char *fmt, ...)
{
	if (p->stats->malformed++ >= ATTRIB_MAX_REPORTED)
		return;
	struct report *r = &p->reports[p->stats->malformed - 1];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof r->why, fmt, ap);
	va_end(ap);
	r->line = line;
}

static uint64_t count_lines(const char *s, size_t len)
{
	uint64_t n = 0;
	for (const char *end = s + len; (s = memchr(s, '\n', (size_t)(end - s))) != NULL; s++)
		n++;
	return n;
}

/* The key of an AS number, as aut-num and the AS name lists spell it. */
static size_t as_key(char key[static 16], uint32_t asn)
{
	return (size_t)snprintf(key, 16, "AS%u", asn);
}

/* ---- RPSL ---- */

static const char *value_of(struct parser *p, const struct rpsl_attr *a, bool keep_comments, size_t *len)
{
	return rpsl_value_view(a, keep_comments, p->value, sizeof p->value, len);
}

static void add_emails(struct parser *p, const struct rpsl_attr *a)
{
	if (memchr(a->value, '@', a->value_len) == NULL)
		return; /* most remarks carry none: skip the fold */
	size_t len, n;
	const char *text = value_of(p, a, true, &n), *cursor = text, *email;
	while ((email = rpsl_next_email(&cursor, text + n, &len)) != NULL)
		snap_record_add(p->b, SNAP_F_EMAIL, email, len);
}

static void add_field(struct parser *p, enum snap_field field, const struct rpsl_attr *a, bool keep_comments)
{
	size_t len;
	const char *v = value_of(p, a, keep_comments, &len);
	if (len > 0)
		snap_record_add(p->b, field, v, len);
}

static void note_registry(struct parser *p, const struct rpsl_attr *a)
{
	if (p->stats->registry[0] != '\0')
		return;
	size_t len;
	const char *v = value_of(p, a, false, &len);
	snprintf(p->stats->registry, sizeof p->stats->registry, "%.*s", (int)len, v);
}

static const enum snap_class rpsl_classes[RPSL_A_LAST] = {
    [RPSL_A_INETNUM] = SNAP_INETNUM,
    [RPSL_A_INET6NUM] = SNAP_INET6NUM,
    [RPSL_A_ORGANISATION] = SNAP_ORGANISATION,
    [RPSL_A_ROLE] = SNAP_ROLE,
    [RPSL_A_PERSON] = SNAP_PERSON,
    [RPSL_A_IRT] = SNAP_IRT,
    [RPSL_A_AUT_NUM] = SNAP_AUT_NUM,
};

/* The attributes each class keeps, and as which field. */
static enum snap_field rpsl_field(enum snap_class cls, enum rpsl_attr_id id, bool *first_only)
{
	*first_only = false;
	switch (id) {
	case RPSL_A_NETNAME:
	case RPSL_A_ORG_NAME:
	case RPSL_A_AS_NAME:
		*first_only = true;
		return SNAP_F_NAME;
	case RPSL_A_DESCR:
		*first_only = true;
		return SNAP_F_DESCR;
	case RPSL_A_COUNTRY:
		*first_only = true;
		return SNAP_F_COUNTRY;
	case RPSL_A_STATUS:
		*first_only = true;
		return SNAP_F_STATUS;
	case RPSL_A_ORG:
		*first_only = true;
		return cls == SNAP_ORGANISATION ? SNAP_F_END : SNAP_F_ORG;
	case RPSL_A_ABUSE_C:
		return SNAP_F_ABUSE_C;
	case RPSL_A_MNT_IRT:
		return SNAP_F_MNT_IRT;
	case RPSL_A_ABUSE_MAILBOX:
		return SNAP_F_ABUSE_MAILBOX;
	default:
		return SNAP_F_END;
	}
}

static void add_rpsl(struct parser *p, const struct rpsl_object *obj, uint64_t line)
{
	enum rpsl_attr_id id = rpsl_class(obj);
	const struct rpsl_attr *head = &obj->attrs[0];
	struct range range;
	const char *why = NULL;
	size_t len;
	const char *v;
	char key[64];
	p->stats->objects++;
	if (id != RPSL_A_INETNUM && id != RPSL_A_INET6NUM && id != RPSL_A_ORGANISATION && id != RPSL_A_ROLE &&
	    id != RPSL_A_PERSON && id != RPSL_A_IRT && id != RPSL_A_AUT_NUM) {
		p->stats->skipped++; /* mntner, route, domain, ...: nothing attribution reads */
		return;
	}
	enum snap_class cls = rpsl_classes[id];
	v = value_of(p, head, false, &len);
	if (cls == SNAP_INETNUM || cls == SNAP_INET6NUM) {
		int rc = cls == SNAP_INETNUM ? rpsl_parse_inetnum(v, len, &range, &why)
					     : rpsl_parse_inet6num(v, len, &range, &why);
		if (rc != 0) {
			malformed(p, line + head->line, "%s: \"%.*s\": %s", rpsl_attr_names[id],
				  (int)(len < 60 ? len : 60), v, why);
			return;
		}
	} else if (cls == SNAP_AUT_NUM) {
		uint32_t asn;
		if (asn_parse(v, len, &asn) != 0) {
			malformed(p, line + head->line, "aut-num: \"%.*s\" is not an AS number",
				  (int)(len < 60 ? len : 60), v);
			return;
		}
		len = as_key(key, asn);
	} else {
		/* role and person are keyed by nic-hdl, the others by their class attribute */
		const struct rpsl_attr *handle = head;
		if (cls == SNAP_ROLE || cls == SNAP_PERSON) {
			handle = NULL;
			for (size_t i = 1; i < obj->count && handle == NULL; i++)
				if (obj->attrs[i].id == RPSL_A_NIC_HDL)
					handle = &obj->attrs[i];
			if (handle == NULL) {
				malformed(p, line + head->line, "%s without nic-hdl", rpsl_attr_names[id]);
				return;
			}
			v = value_of(p, handle, false, &len);
		}
		if (len == 0 || len >= sizeof key || memchr(v, ' ', len) != NULL) {
			malformed(p, line + handle->line, "%s: bad handle \"%.*s\"",
				  rpsl_attr_names[handle->id], (int)(len < 60 ? len : 60), v);
			return;
		}
		memcpy(key, v, len);
	}
	uint32_t record = snap_record_begin(p->b, cls, (uint32_t)(line + head->line));
	if (cls == SNAP_ROLE || cls == SNAP_PERSON) {
		snap_record_add(p->b, SNAP_F_KEY, key, len);
		add_field(p, SNAP_F_NAME, head, true);
	} else if (cls != SNAP_INETNUM && cls != SNAP_INET6NUM) {
		snap_record_add(p->b, SNAP_F_KEY, key, len);
	}
	uint32_t seen = 0; /* bit per field already taken, for the first-only ones */
	for (size_t i = 1; i < obj->count; i++) {
		const struct rpsl_attr *a = &obj->attrs[i];
		bool first_only;
		enum snap_field field;
		switch (a->id) {
		case RPSL_A_OTHER:
			continue;
		case RPSL_A_E_MAIL:
			if (cls == SNAP_IRT)
				add_field(p, SNAP_F_OBJECT_EMAIL, a, false);
			add_emails(p, a);
			continue;
		case RPSL_A_REMARKS:
		case RPSL_A_NOTIFY:
		case RPSL_A_IRT_NFY:
			add_emails(p, a);
			continue;
		case RPSL_A_SOURCE:
			note_registry(p, a);
			continue;
		default:
			field = rpsl_field(cls, a->id, &first_only);
		}
		if (field == SNAP_F_END || (first_only && (seen & 1u << field)))
			continue;
		seen |= 1u << field;
		add_field(p, field, a, field == SNAP_F_NAME || field == SNAP_F_DESCR);
	}
	snap_record_end(p->b);
	if (cls == SNAP_INETNUM || cls == SNAP_INET6NUM) {
		snap_add_range(p->b, &range, record);
		p->stats->ranges++;
		return;
	}
	static const enum snap_keyspace spaces[SNAP_CLASS_LAST] = {[SNAP_ORGANISATION] = SNAP_KEY_ORG,
								   [SNAP_ROLE] = SNAP_KEY_CONTACT,
								   [SNAP_PERSON] = SNAP_KEY_CONTACT,
								   [SNAP_IRT] = SNAP_KEY_IRT,
								   [SNAP_AUT_NUM] = SNAP_KEY_ASN};
	snap_add_key(p->b, spaces[cls], key, len, record);
	p->stats->keys++;
}

static size_t feed_rpsl(struct parser *p, const char *buf, size_t len, bool final)
{
	size_t pos = 0;
	if (p->skipping) {
		const char *q = memmem(buf, len, p->separator, strlen(p->separator));
		size_t upto = q ? (size_t)(q - buf) + 1 : len;
		p->line += count_lines(buf, upto);
		if (q == NULL)
			return len;
		p->skipping = false;
		pos = upto;
	}
	while (pos < len) {
		/* empty lines between objects */
		while (pos < len &&
		       (buf[pos] == '\n' || (buf[pos] == '\r' && pos + 1 < len && buf[pos + 1] == '\n'))) {
			pos += buf[pos] == '\r' ? 2 : 1;
			p->line++;
		}
		if (pos + 1 == len && buf[pos] == '\r') {
			/* a CR the buffer ends on: its LF is in the next chunk, or the file ends */
			pos += final;
			break;
		}
		if (pos == len)
			break;
		const char *why;
		uint32_t bad_line;
		int rc = rpsl_parse_object(buf + pos, len - pos, p->obj, &why, &bad_line);
		if (!p->obj->ended && !final) {
			/* it may go on in the next chunk: parse it again from there */
			if (len - pos > RPSL_MAX_OBJECT) {
				malformed(p, p->line + 1, "object longer than 1 MiB");
				p->line += count_lines(buf + pos, len - pos);
				p->skipping = true;
				return len;
			}
			break;
		}
		p->stats->objects += rc != 0;
		if (rc != 0)
			malformed(p, p->line + 1 + bad_line, "%s", why);
		else if (p->obj->count > 0)
			add_rpsl(p, p->obj, p->line + 1);
		p->line += p->obj->lines;
		pos += p->obj->length;
	}
	return pos;
}

/* ---- line formats ---- */

/*
 * A line parser's answer (1 a record, 0 a line without one, -1 malformed
 * with *why): true when there is a record to add, counted as an object.
 */
static bool line_parsed(struct parser *p, int rc, const char *const *why)
{
	if (rc < 0)
		malformed(p, p->line, "%s", *why);
	if (rc <= 0)
		return false;
	p->stats->objects++;
	return true;
}

static void add_delegated(struct parser *p, const char *line, size_t len)
{
	struct delegated_record r;
	const char *why;
	if (!line_parsed(p, delegated_parse_line(line, len, &r, &why), &why))
		return;
	if (p->stats->registry[0] == '\0')
		snprintf(p->stats->registry, sizeof p->stats->registry, "%s", r.registry);
	bool asn = r.type == DELEGATED_ASN;
	char key[16];
	size_t key_len = 0;
	uint32_t record =
	    snap_record_begin(p->b, asn ? SNAP_DELEGATED_ASN : SNAP_DELEGATED, (uint32_t)p->line);
	if (asn) {
		key_len = as_key(key, r.asn_first);
		snap_record_add(p->b, SNAP_F_KEY, key, key_len);
	}
	if (r.cc[0])
		snap_record_add(p->b, SNAP_F_COUNTRY, r.cc, 2);
	snap_record_add(p->b, SNAP_F_STATUS, r.status, strlen(r.status));
	snap_record_add(p->b, SNAP_F_REGISTRY, r.registry, strlen(r.registry));
	if (r.opaque_id[0])
		snap_record_add(p->b, SNAP_F_HOLDER, r.opaque_id, strlen(r.opaque_id));
	if (r.date[0])
		snap_record_add(p->b, SNAP_F_DATE, r.date, strlen(r.date));
	snap_record_end(p->b);
	if (!asn) {
		snap_add_range(p->b, &r.range, record);
		p->stats->ranges++;
		return;
	}
	/* Blocks of AS numbers are keyed one by one, up to a sane block size. */
	uint32_t count = r.asn_count > 4096 ? 1 : r.asn_count;
	for (uint32_t i = 0; i < count; i++) {
		key_len = as_key(key, r.asn_first + i);
		snap_add_key(p->b, SNAP_KEY_ASNAME, key, key_len, record);
		p->stats->keys++;
	}
}

static void add_pfx2as(struct parser *p, const char *line, size_t len)
{
	struct pfx2as_record r;
	const char *why;
	if (!line_parsed(p, pfx2as_parse_line(line, len, &r, &why), &why))
		return;
	uint32_t record = snap_record_begin(p->b, SNAP_ROUTE, (uint32_t)p->line);
	snap_record_add(p->b, SNAP_F_ORIGIN, r.text, r.text_len);
	snap_record_end(p->b);
	snap_add_range(p->b, &r.range, record);
	p->stats->ranges++;
}

static void add_asname(struct parser *p, const char *line, size_t len)
{
	struct asname_record r;
	const char *why;
	if (!line_parsed(p, asnames_parse_line(line, len, &r, &why), &why))
		return;
	char key[16];
	size_t key_len = as_key(key, r.asn);
	uint32_t record = snap_record_begin(p->b, SNAP_ASNAME, (uint32_t)p->line);
	snap_record_add(p->b, SNAP_F_KEY, key, key_len);
	snap_record_add(p->b, SNAP_F_NAME, r.name, r.name_len);
	if (r.cc[0])
		snap_record_add(p->b, SNAP_F_COUNTRY, r.cc, 2);
	snap_record_end(p->b);
	snap_add_key(p->b, SNAP_KEY_ASNAME, key, key_len, record);
	p->stats->keys++;
}

static void (*const line_adders[SNAP_KIND_LAST])(struct parser *p, const char *line, size_t len) = {
    [SNAP_KIND_DELEGATED] = add_delegated,
    [SNAP_KIND_PFX2AS] = add_pfx2as,
    [SNAP_KIND_ASNAMES] = add_asname,
};

static size_t feed_lines(struct parser *p, const char *buf, size_t len, bool final)
{
	size_t pos = 0;
	while (pos < len) {
		const char *start = buf + pos;
		const char *nl = memchr(start, '\n', len - pos);
		if (nl == NULL && !final) {
			if (len - pos > MAX_LINE) {
				p->line++;
				malformed(p, p->line, "line longer than %u bytes", MAX_LINE);
				p->skipping = true;
				return len;
			}
			break;
		}
		size_t n = (size_t)((nl ? nl : buf + len) - start);
		pos += n + (nl != NULL);
		if (p->skipping) {
			p->skipping = false; /* the rest of an over-long line */
			continue;
		}
		p->line++;
		line_adders[p->kind](p, start, n);
	}
	return pos;
}

/* ---- driving ---- */

static size_t feed(struct parser *p, const char *buf, size_t len, bool final)
{
	return p->kind == SNAP_KIND_RPSL ? feed_rpsl(p, buf, len, final) : feed_lines(p, buf, len, final);
}

/* Empty lines separate RPSL objects: "\n\n", or "\n\r\n" when the file's lines end in CRLF. */
static const char *separator_for(const char *sample, size_t len)
{
	const char *nl = memchr(sample, '\n', len);
	return nl != NULL && nl > sample && nl[-1] == '\r' ? "\n\r\n" : "\n\n";
}

static struct parser *parser_new(const char *name, enum snap_kind kind, struct snap_builder *b,
				 struct attrib_load_stats *stats, const char *sample, size_t sample_len)
{
	struct parser *p = calloc(1, sizeof *p);
	if (p == NULL || (kind == SNAP_KIND_RPSL && (p->obj = malloc(sizeof *p->obj)) == NULL)) {
		free(p);
		log_error("out of memory");
		return NULL;
	}
	p->name = name;
	p->kind = kind;
	p->b = b;
	p->stats = stats;
	p->separator = separator_for(sample, sample_len);
	stats->kind = kind;
	return p;
}

static void parser_free(struct parser *p)
{
	if (p != NULL)
		free(p->obj);
	free(p);
}

static const char *next_sample_line(const char **cursor, const char *end, size_t *len)
{
	while (*cursor < end) {
		const char *s = *cursor;
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *e = nl ? nl : end;
		*cursor = nl ? nl + 1 : end;
		while (e > s && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e == s || s[0] == '#' || s[0] == '%')
			continue;
		*len = (size_t)(e - s);
		return s;
	}
	return NULL;
}

int attrib_detect_format(const char *sample, size_t len, enum snap_kind *out)
{
	const char *cursor = sample, *end = sample + len;
	size_t n;
	const char *line = next_sample_line(&cursor, end, &n);
	if (line == NULL)
		return -1;
	struct delegated_record d;
	struct pfx2as_record r;
	struct asname_record a;
	const char *why;
	/* The delegated version line is all digits before its first '|'. */
	if (memchr(line, '|', n) != NULL && delegated_parse_line(line, n, &d, &why) >= 0) {
		*out = SNAP_KIND_DELEGATED;
		return 0;
	}
	if (memchr(line, '\t', n) != NULL && pfx2as_parse_line(line, n, &r, &why) == 1) {
		*out = SNAP_KIND_PFX2AS;
		return 0;
	}
	size_t i = 0;
	while (i < n && ((line[i] >= 'a' && line[i] <= 'z') || (line[i] >= 'A' && line[i] <= 'Z') ||
			 (line[i] >= '0' && line[i] <= '9') || line[i] == '-' || line[i] == '_'))
		i++;
	if (i > 0 && i < n && line[i] == ':') {
		*out = SNAP_KIND_RPSL;
		return 0;
	}
	if (asnames_parse_line(line, n, &a, &why) == 1) {
		*out = SNAP_KIND_ASNAMES;
		return 0;
	}
	return -1;
}

static double seconds_since(const struct timespec *start)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* The reports of parsers that ran over consecutive parts of one file, in file order. */
static void print_reports(const char *name, struct parser *const *parsers, const uint64_t *line_base,
			  size_t count)
{
	uint64_t total = 0, printed = 0;
	for (size_t t = 0; t < count; t++) {
		uint64_t n = parsers[t]->stats->malformed;
		total += n;
		for (uint64_t i = 0; i < n && i < ATTRIB_MAX_REPORTED && printed < ATTRIB_MAX_REPORTED;
		     i++, printed++)
			log_warn("%s:%llu: %s (skipped)", name,
				 (unsigned long long)(line_base[t] + parsers[t]->reports[i].line),
				 parsers[t]->reports[i].why);
	}
	if (total > printed)
		log_warn("%s: %llu more malformed objects skipped", name,
			 (unsigned long long)(total - printed));
}

int attrib_parse_buffer(const char *name, const char *buf, size_t len, enum snap_kind kind,
			struct snap_builder *b, struct attrib_load_stats *stats)
{
	uint64_t base = 0;
	memset(stats, 0, sizeof *stats);
	struct parser *p = parser_new(name, kind, b, stats, buf, len);
	if (p == NULL)
		return -1;
	feed(p, buf, len, true);
	stats->bytes = len;
	stats->lines = p->line;
	print_reports(name, &p, &base, 1);
	parser_free(p);
	return b->failed ? -1 : 0;
}

/* gzip (or a pipe): decompressed into a buffer chunk by chunk, one parser. */
static int parse_gzip(const char *path, int fd, uint64_t total, enum snap_kind kind, bool detect,
		      struct snap_builder *b, struct attrib_load_stats *stats, const struct attrib_load_progress *progress)
{
	gzFile gz = gzdopen(fd, "rb");
	if (gz == NULL) {
		close(fd);
		log_error("%s: cannot read gzip", path);
		return -1;
	}
	gzbuffer(gz, 1 << 20);
	char *buf = malloc(READ_CHUNK);
	struct parser *p = NULL;
	size_t have = 0;
	bool eof = false;
	int rc = -1;
	uint64_t base = 0;
	while (buf != NULL && !eof) {
		int got = gzread(gz, buf + have, (unsigned)(READ_CHUNK - have));
		if (got < 0) {
			int err;
			log_error("%s: %s", path, gzerror(gz, &err));
			goto done;
		}
		eof = got == 0;
		have += (size_t)got;
		stats->bytes += (uint64_t)got;
		if (progress != NULL) /* the file's bytes read, compressed or not: its size is the total */
			progress->fn(progress->ctx, total ? (uint64_t)gzoffset(gz) : stats->bytes, total);
		if (p == NULL) {
			if (have < DETECT_SAMPLE && !eof)
				continue;
			if (detect && attrib_detect_format(buf, have < DETECT_SAMPLE ? have : DETECT_SAMPLE,
							   &kind) != 0) {
				log_error(
				    "%s: not a format plughole reads (rpsl, delegated, pfx2as, asnames)",
				    path);
				goto done;
			}
			b->kind = kind;
			if ((p = parser_new(path, kind, b, stats, buf, have)) == NULL)
				goto done;
		}
		size_t used = feed(p, buf, have, eof);
		memmove(buf, buf + used, have - used);
		have -= used;
	}
	if (p != NULL) {
		stats->lines = p->line;
		print_reports(path, &p, &base, 1);
		rc = 0;
	}
done:
	parser_free(p);
	free(buf);
	gzclose(gz);
	return rc;
}

/*
 * A plain file: cut at object (or line) boundaries into one part per core,
 * each part read through its own buffer (pread: cheaper than mapping pages
 * in) and parsed by its own thread into its own builder; the builders are
 * then joined in file order.
 */
/* The bytes every part has read, told by the part on the calling thread. */
struct load_progress {
	_Atomic uint64_t bytes;
	uint64_t total;
	const struct attrib_load_progress *report; /* NULL: nobody asked */
};

struct part {
	struct load_progress *progress;
	bool reports; /* the part parsed on the calling thread */
	struct parser *p;
	struct snap_builder b;
	struct attrib_load_stats stats;
	int fd;
	off_t start, end;
	int rc;
	pthread_t thread;
	bool running;
};

static void *parse_part(void *arg)
{
	struct part *part = arg;
	char *buf = malloc(READ_CHUNK);
	size_t have = 0;
	off_t at = part->start;
	part->rc = buf ? 0 : -1;
	while (buf != NULL) {
		size_t want = READ_CHUNK - have;
		if ((off_t)want > part->end - at)
			want = (size_t)(part->end - at);
		ssize_t got = want ? pread(part->fd, buf + have, want, at) : 0;
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			log_error("%s: %s", part->p->name, strerror(errno));
			part->rc = -1;
			break;
		}
		at += got;
		have += (size_t)got;
		uint64_t read_so_far = atomic_fetch_add(&part->progress->bytes, (uint64_t)got) + (uint64_t)got;
		if (part->reports && part->progress->report != NULL)
			part->progress->report->fn(part->progress->report->ctx, read_so_far, part->progress->total);
		bool final = got == 0 || at == part->end;
		size_t used = feed(part->p, buf, have, final);
		memmove(buf, buf + used, have - used);
		have -= used;
		if (final)
			break;
	}
	free(buf);
	return NULL;
}

/* Where the part after offset from begins: just past the next object (or line) boundary. */
static off_t next_boundary(int fd, off_t size, off_t from, enum snap_kind kind, const char *separator)
{
	char window[1 << 16];
	size_t keep = strlen(separator) - 1; /* a separator may straddle two windows */
	while (from < size) {
		ssize_t got = pread(fd, window, sizeof window, from);
		if (got <= 0)
			return size;
		const char *q = kind == SNAP_KIND_RPSL ? memmem(window, (size_t)got, separator, keep + 1)
						       : memchr(window, '\n', (size_t)got);
		if (q != NULL)
			return from + (q - window) + 1;
		if ((size_t)got <= keep)
			return size;
		from += got - (ssize_t)keep;
	}
	return size;
}

static int parse_plain(const char *path, int fd, off_t size, enum snap_kind kind, bool detect,
		       struct snap_builder *b, struct attrib_load_stats *stats,
		       const struct attrib_load_progress *progress)
{
	struct load_progress shared = {.total = (uint64_t)size, .report = progress};
	char sample[DETECT_SAMPLE];
	ssize_t sample_len = pread(fd, sample, sizeof sample, 0);
	if (sample_len <= 0 || (detect && attrib_detect_format(sample, (size_t)sample_len, &kind) != 0)) {
		log_error("%s: %s", path,
			  sample_len < 0 ? strerror(errno)
			  : sample_len == 0
			      ? "empty"
			      : "not a format plughole reads (rpsl, delegated, pfx2as, asnames)");
		close(fd);
		return -1;
	}
	const char *separator = separator_for(sample, (size_t)sample_len);
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t count = size < (off_t)PARALLEL_MIN ? 1
		       : cpus < 1		  ? 1
		       : cpus > MAX_PARTS	  ? MAX_PARTS
						  : (size_t)cpus;
	struct part *parts = calloc(count, sizeof *parts);
	struct parser *parsers[MAX_PARTS] = {NULL};
	uint64_t line_base[MAX_PARTS] = {0};
	int rc = parts ? 0 : -1;
	off_t start = 0;
	for (size_t t = 0; t < count && rc == 0; t++) {
		struct part *part = &parts[t];
		off_t end = t + 1 == count ? size
					   : next_boundary(fd, size, size / (off_t)count * (off_t)(t + 1),
							   kind, separator);
		if (end < start)
			end = start; /* an object longer than a part: the part before holds it */
		part->fd = fd;
		part->progress = &shared;
		part->reports = t == 0;
		part->start = start;
		part->end = end;
		snap_builder_init(&part->b, kind);
		/* room for everything in the first part, which the others join */
		size_t room = (size_t)(t == 0 ? size : end - start);
		snap_builder_reserve(&part->b, room / 4 + 4096, room / 256 + 64);
		if ((part->p = parser_new(path, kind, &part->b, &part->stats, sample, (size_t)sample_len)) ==
		    NULL)
			rc = -1;
		start = end;
	}
	for (size_t t = 1; t < count && rc == 0; t++)
		if (pthread_create(&parts[t].thread, NULL, parse_part, &parts[t]) == 0)
			parts[t].running = true;
	if (rc == 0)
		parse_part(&parts[0]);
	for (size_t t = 1; t < count; t++) {
		if (parts[t].running)
			pthread_join(parts[t].thread, NULL);
		else if (rc == 0)
			parse_part(&parts[t]); /* no thread to spare: parse it here */
	}
	for (size_t t = 0; t < count && rc == 0; t++)
		rc = parts[t].rc;
	snap_builder_init(b, kind);
	for (size_t t = 0; t < count && rc == 0; t++) {
		struct attrib_load_stats *s = &parts[t].stats;
		line_base[t] = t == 0 ? 0 : line_base[t - 1] + parts[t - 1].p->line;
		parsers[t] = parts[t].p;
		if (t == 0)
			*b = parts[0].b; /* the first part's builder becomes the file's */
		else
			snap_builder_append(b, &parts[t].b, (uint32_t)line_base[t]);
		stats->lines += parts[t].p->line;
		stats->objects += s->objects;
		stats->ranges += s->ranges;
		stats->keys += s->keys;
		stats->malformed += s->malformed;
		stats->skipped += s->skipped;
		if (stats->registry[0] == '\0')
			memcpy(stats->registry, s->registry, sizeof stats->registry);
	}
	stats->bytes = (uint64_t)size;
	stats->kind = kind;
	if (rc == 0)
		print_reports(path, parsers, line_base, count);
	for (size_t t = 0; parts != NULL && t < count; t++) {
		parser_free(parts[t].p);
		if (rc != 0 || t > 0)
			snap_builder_free(&parts[t].b);
	}
	free(parts);
	close(fd);
	return rc;
}

int attrib_parse_file(const char *path, const char *format, struct snap_builder *b,
		      struct attrib_load_stats *stats)
{
	return attrib_parse_file_progress(path, format, b, stats, NULL);
}

int attrib_parse_file_progress(const char *path, const char *format, struct snap_builder *b,
			       struct attrib_load_stats *stats, const struct attrib_load_progress *progress)
{
	struct timespec start;
	enum snap_kind kind = SNAP_KIND_RPSL;
	unsigned char magic[2];
	struct stat st;
	memset(stats, 0, sizeof *stats);
	clock_gettime(CLOCK_MONOTONIC, &start);
	snap_builder_init(b, kind);
	if (format != NULL && snap_kind_parse(format, &kind) != 0) {
		log_error("%s: unknown format '%s' (rpsl, delegated, pfx2as, asnames)", path, format);
		return -1;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0) {
		log_error("%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	int rc;
	/* zlib passes plain text through, so pipes (no pread) stream through it too */
	bool gzip = pread(fd, magic, sizeof magic, 0) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
	if (gzip || !S_ISREG(st.st_mode))
		rc = parse_gzip(path, fd, S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0, kind, format == NULL, b, stats,
				progress);
	else
		rc = parse_plain(path, fd, st.st_size, kind, format == NULL, b, stats, progress);
	if (rc == 0 && snap_builder_finish(b) != 0) {
		log_error("%s: out of memory (or more than 2 GiB of records)", path);
		rc = -1;
	}
	stats->parse_seconds = seconds_since(&start);
	return rc;
}

static void default_source(const char *path, char *out, size_t outlen)
{
	char copy[1024];
	snprintf(copy, sizeof copy, "%s", path);
	const char *base = basename(copy);
	size_t n = strlen(base);
	if (n > 3 && strcmp(base + n - 3, ".gz") == 0)
		n -= 3;
	snprintf(out, outlen, "%.*s", (int)n, base);
}

int attrib_load_file(struct store *store, const char *path, const char *source, const char *format,
		     struct attrib_load_stats *stats, const struct attrib_load_progress *progress)
{
	struct snap_builder b;
	if (attrib_parse_file_progress(path, format, &b, stats, progress) != 0) {
		snap_builder_free(&b);
		return -1;
	}
	struct store_snapshot_info info;
	memset(&info, 0, sizeof info);
	if (source != NULL)
		snprintf(info.source, sizeof info.source, "%s", source);
	else
		default_source(path, info.source, sizeof info.source);
	snprintf(stats->source, sizeof stats->source, "%s", info.source);
	if (stats->malformed > 0 && stats->ranges + stats->keys == 0) {
		log_error("%s: nothing usable in it; the snapshot of %s is unchanged", path, info.source);
		snap_builder_free(&b);
		return -1;
	}
	char *real = realpath(path, NULL);
	snprintf(info.file, sizeof info.file, "%s", real ? real : path);
	free(real);
	snprintf(info.format, sizeof info.format, "%s", snap_kind_names[stats->kind]);
	snprintf(info.registry, sizeof info.registry, "%s", stats->registry);
	info.loaded = (int64_t)time(NULL);
	info.bytes = (int64_t)stats->bytes;
	info.objects = (int64_t)stats->objects;
	info.ranges = (int64_t)stats->ranges;
	info.keys = (int64_t)stats->keys;
	info.malformed = (int64_t)stats->malformed;
	info.skipped = (int64_t)stats->skipped;
	struct snap_meta meta;
	struct snap_blob blobs[SNAP_PART_LAST];
	struct store_blob parts[SNAP_PART_LAST];
	snap_builder_parts(&b, &meta, blobs);
	for (int i = 0; i < SNAP_PART_LAST; i++)
		parts[i] = (struct store_blob){snap_part_names[i], (void *)blobs[i].data, blobs[i].len};
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	int rc = store_registry_replace(store, &info, parts, SNAP_PART_LAST);
	stats->store_seconds = seconds_since(&start);
	snap_builder_free(&b);
	return rc;
}
