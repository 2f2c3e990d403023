#include "notify/guides.h"
#include "core/util.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- which guide ---- */

enum route_by { BY_SOFTWARE, BY_PROTOCOL };

/* First match wins. Software names are probe/fingerprint.c's; protocols are the probe modules'. */
static const struct route {
	enum route_by by;
	const char *match;
	const char *guide;
} routes[] = {
    {BY_SOFTWARE, "Postfix", "postfix"},     {BY_SOFTWARE, "Exim", "exim"},
    {BY_SOFTWARE, "Sendmail", "sendmail"},   {BY_SOFTWARE, "Microsoft Exchange", "exchange"},
    {BY_SOFTWARE, "qmail", "qmail"},	     {BY_SOFTWARE, "OpenSMTPD", "opensmtpd"},
    {BY_SOFTWARE, "Squid", "squid"},	     {BY_SOFTWARE, "Apache mod_proxy", "apache"},
    {BY_SOFTWARE, "tinyproxy", "tinyproxy"}, {BY_SOFTWARE, "Dante", "dante"},
    {BY_SOFTWARE, "WinGate", "wingate"},     {BY_SOFTWARE, "MikroTik", "router"},
    {BY_SOFTWARE, "Cisco IOS", "router"},    {BY_PROTOCOL, "wingate", "wingate"},
    {BY_PROTOCOL, "router", "router"},
};

const char *const guide_names[] = {
    "postfix", "exim",	    "sendmail", "exchange", "qmail",  "opensmtpd",     "squid",
    "apache",  "tinyproxy", "dante",	"wingate",  "router", "generic-relay", "generic-proxy",
};
const size_t guide_name_count = ARRAY_SIZE(guide_names);

int guide_family_of_verdict(const char *verdict, enum guide_family *family)
{
	static const struct {
		const char *verdict;
		enum guide_family family;
	} families[] = {
	    {"open-relay", GUIDE_RELAY},
	    {"relay-accepted", GUIDE_RELAY},
	    {"open-proxy-mail", GUIDE_PROXY},
	    {"open-proxy-web", GUIDE_PROXY},
	};
	for (size_t i = 0; verdict != NULL && i < ARRAY_SIZE(families); i++) {
		if (strcmp(verdict, families[i].verdict) == 0) {
			*family = families[i].family;
			return 0;
		}
	}
	return -1;
}

const char *guide_for(const char *software, const char *protocol, enum guide_family family)
{
	for (size_t i = 0; i < ARRAY_SIZE(routes); i++) {
		const char *value = routes[i].by == BY_SOFTWARE ? software : protocol;
		if (value != NULL && strcasecmp(value, routes[i].match) == 0)
			return routes[i].guide;
	}
	return family == GUIDE_RELAY ? "generic-relay" : "generic-proxy";
}

/* ---- the markup ---- */

struct line {
	const char *s;
	size_t len;
	unsigned number;
};

static bool blank(const struct line *l)
{
	for (size_t i = 0; i < l->len; i++)
		if (l->s[i] != ' ' && l->s[i] != '\t' && l->s[i] != '\r')
			return false;
	return true;
}

static bool starts(const struct line *l, const char *prefix)
{
	size_t n = strlen(prefix);
	return l->len >= n && memcmp(l->s, prefix, n) == 0;
}

static bool is_code(const struct line *l)
{
	return starts(l, "    ") || starts(l, "\t");
}

static void markup_fail(struct tpl_error *err, const char *file, unsigned line, const char *what)
{
	err->line = line;
	err->column = 1;
	snprintf(err->message, sizeof err->message, "%s:%u: %s", file, line, what);
}

static int header_line(struct guide_doc *doc, const struct line *l, const char *file, struct tpl_error *err)
{
	const char *colon = memchr(l->s, ':', l->len);
	size_t key = colon ? (size_t)(colon - l->s) : 0;
	const char *value = colon ? colon + 1 : NULL;
	size_t vlen = colon ? l->len - key - 1 : 0;
	while (vlen > 0 && (*value == ' ' || *value == '\t'))
		value++, vlen--;
	while (vlen > 0 && (value[vlen - 1] == ' ' || value[vlen - 1] == '\r'))
		vlen--;
	if (key == 5 && strncasecmp(l->s, "Title", 5) == 0 && vlen > 0 && vlen < sizeof doc->title) {
		memcpy(doc->title, value, vlen);
		doc->title[vlen] = '\0';
		return 0;
	}
	if (key == 6 && strncasecmp(l->s, "Family", 6) == 0) {
		if (vlen == 5 && strncmp(value, "relay", 5) == 0)
			doc->family = GUIDE_RELAY;
		else if (vlen == 5 && strncmp(value, "proxy", 5) == 0)
			doc->family = GUIDE_PROXY;
		else {
			markup_fail(err, file, l->number, "Family: is relay or proxy");
			return -1;
		}
		return 0;
	}
	markup_fail(err, file, l->number, "a guide starts with Title: and Family: lines, then a blank line");
	return -1;
}

/* Starts a block at l, or extends the current one; -1 when there are too many. */
static int block(struct guide_doc *doc, enum guide_block_kind kind, bool extend, const char *text,
		 const struct line *l, const char *file, struct tpl_error *err)
{
	size_t start = (size_t)(l->s - text), end = start + l->len;
	if (extend && doc->count > 0) {
		struct guide_block *b = &doc->blocks[doc->count - 1];
		b->len = end - b->start;
		return 0;
	}
	if (doc->count == GUIDE_MAX_BLOCKS) {
		markup_fail(err, file, l->number, "too many blocks in one guide");
		return -1;
	}
	doc->blocks[doc->count++] = (struct guide_block){kind, start, end - start};
	return 0;
}

int guide_markup_parse(const char *file, const char *text, size_t len, struct guide_doc *doc,
		       struct tpl_error *err)
{
	memset(doc, 0, sizeof *doc);
	memset(err, 0, sizeof *err);
	bool in_header = true, have_family = false, open = false; /* open: a block may go on */
	enum guide_block_kind current = GUIDE_PARAGRAPH;
	struct line l = {text, 0, 0};
	for (size_t pos = 0; pos < len;) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		l.s = text + pos;
		l.len = (size_t)((nl ? nl : text + len) - l.s);
		l.number++;
		pos += l.len + (nl != NULL);
		if (l.len > 0 && l.s[l.len - 1] == '\r')
			l.len--;
		int rc = 0;
		if (in_header) {
			if (blank(&l)) {
				in_header = false;
				continue;
			}
			if (header_line(doc, &l, file, err) != 0)
				return -1;
			have_family |= starts(&l, "Family") || starts(&l, "family");
			continue;
		}
		if (blank(&l)) {
			open = false;
			continue;
		}
		if (starts(&l, "== ")) {
			rc = block(doc, current = GUIDE_HEADING, false, text, &l, file, err);
			open = false;
		} else if (is_code(&l)) {
			rc = block(doc, GUIDE_CODE, open && current == GUIDE_CODE, text, &l, file, err);
			current = GUIDE_CODE;
			open = true;
		} else if (starts(&l, "- ")) {
			rc = block(doc, current = GUIDE_ITEM, false, text, &l, file, err);
			open = true;
		} else if (starts(&l, "  ") && open && current == GUIDE_ITEM) {
			rc = block(doc, GUIDE_ITEM, true, text, &l, file, err);
		} else {
			rc = block(doc, GUIDE_PARAGRAPH, open && current == GUIDE_PARAGRAPH, text, &l, file,
				   err);
			current = GUIDE_PARAGRAPH;
			open = true;
		}
		if (rc != 0)
			return -1;
	}
	if (doc->title[0] == '\0' || !have_family) {
		markup_fail(err, file, 1, "a guide starts with Title: and Family: lines, then a blank line");
		return -1;
	}
	return 0;
}

/* Characters (not bytes) of UTF-8 text, for columns. */
static size_t width(const char *s, size_t n)
{
	size_t w = 0;
	for (size_t i = 0; i < n; i++)
		w += ((unsigned char)s[i] & 0xc0) != 0x80;
	return w;
}

static bool space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The next word of s[0..n) from *pos, with its length; NULL after the last. */
static const char *next_word(const char *s, size_t n, size_t *pos, size_t *len)
{
	size_t i = *pos;
	while (i < n && space(s[i]))
		i++;
	size_t start = i;
	while (i < n && !space(s[i]))
		i++;
	*pos = i;
	*len = i - start;
	return *len > 0 ? s + start : NULL;
}

/* The words of s[0..n) wrapped at GUIDE_TEXT_WIDTH: first line after first, the others after indent. */
static int wrap(struct textbuf *out, const char *s, size_t n, const char *first, const char *indent)
{
	size_t column = width(first, strlen(first));
	int rc = tpl_escape_text(out, first, strlen(first));
	bool line_empty = true;
	const char *word;
	size_t pos = 0, len;
	while (rc == 0 && (word = next_word(s, n, &pos, &len)) != NULL) {
		size_t ww = width(word, len);
		if (!line_empty && column + 1 + ww > GUIDE_TEXT_WIDTH) {
			rc |= textbuf_puts(out, "\n") | textbuf_puts(out, indent);
			column = width(indent, strlen(indent));
			line_empty = true;
		}
		if (!line_empty) {
			rc |= textbuf_puts(out, " ");
			column++;
		}
		rc |= tpl_escape_text(out, word, len);
		column += ww;
		line_empty = false;
	}
	return rc | textbuf_puts(out, "\n");
}

/* Each line of a code block without its four-space (or tab) indent, through emit. */
static int code_lines(struct textbuf *out, const char *s, size_t n, const char *prefix, tpl_escape_fn escape)
{
	int rc = 0;
	for (size_t pos = 0; pos < n && rc == 0;) {
		const char *nl = memchr(s + pos, '\n', n - pos);
		size_t len = (size_t)((nl ? nl : s + n) - (s + pos));
		size_t skip = len >= 4 && memcmp(s + pos, "    ", 4) == 0 ? 4
			      : len > 0 && s[pos] == '\t'		  ? 1
									  : 0;
		size_t keep = len - skip;
		if (keep > 0 && s[pos + skip + keep - 1] == '\r')
			keep--;
		rc |= textbuf_puts(out, prefix) | escape(out, s + pos + skip, keep) | textbuf_puts(out, "\n");
		pos += len + 1;
	}
	return rc;
}

/* Whether block i is written: under GUIDE_ACTIONS_ONLY, only the Fix and Check sections. */
static bool wanted(const struct guide_doc *doc, const char *text, size_t i, unsigned flags)
{
	if (!(flags & GUIDE_ACTIONS_ONLY))
		return true;
	for (size_t k = i + 1; k > 0; k--) {
		const struct guide_block *b = &doc->blocks[k - 1];
		if (b->kind != GUIDE_HEADING)
			continue;
		const char *h = text + b->start + 3;
		size_t n = b->len - 3;
		return (n == 3 && memcmp(h, "Fix", 3) == 0) || (n == 5 && memcmp(h, "Check", 5) == 0);
	}
	return true;
}

static int write_text(const struct guide_doc *doc, const char *text, unsigned flags, struct textbuf *out)
{
	int rc = 0;
	bool first = true;
	for (size_t i = 0; i < doc->count && rc == 0; i++) {
		const struct guide_block *b = &doc->blocks[i];
		const char *s = text + b->start;
		if (!wanted(doc, text, i, flags))
			continue;
		if (!first && !(b->kind == GUIDE_ITEM && doc->blocks[i - 1].kind == GUIDE_ITEM))
			rc |= textbuf_puts(out, "\n");
		switch (b->kind) {
		case GUIDE_HEADING: {
			size_t w = width(s + 3, b->len - 3);
			rc |= tpl_escape_text(out, s + 3, b->len - 3) | textbuf_puts(out, "\n");
			for (size_t k = 0; k < w && rc == 0; k++)
				rc |= textbuf_puts(out, "-");
			rc |= textbuf_puts(out, "\n");
			break;
		}
		case GUIDE_PARAGRAPH:
			rc |= wrap(out, s, b->len, "", "");
			break;
		case GUIDE_ITEM:
			rc |= wrap(out, s + 2, b->len - 2, "- ", "  ");
			break;
		case GUIDE_CODE:
			rc |= code_lines(out, s, b->len, "    ", tpl_escape_text);
			break;
		}
		first = false;
	}
	return rc ? -1 : 0;
}

/* Whitespace runs collapsed to one space, escaped. */
static int html_words(struct textbuf *out, const char *s, size_t n)
{
	int rc = 0;
	const char *word;
	size_t pos = 0, len;
	for (bool first = true; rc == 0 && (word = next_word(s, n, &pos, &len)) != NULL; first = false) {
		if (!first)
			rc |= textbuf_puts(out, " ");
		rc |= tpl_escape_html(out, word, len);
	}
	return rc;
}

static int write_html(const struct guide_doc *doc, const char *text, unsigned flags, struct textbuf *out)
{
	int rc = textbuf_puts(out, "<section class=\"guide\">\n<h2>") |
		 tpl_escape_html(out, doc->title, strlen(doc->title)) | textbuf_puts(out, "</h2>\n");
	for (size_t i = 0; i < doc->count && rc == 0; i++) {
		const struct guide_block *b = &doc->blocks[i];
		const char *s = text + b->start;
		bool prev_item = i > 0 && doc->blocks[i - 1].kind == GUIDE_ITEM;
		bool next_item = i + 1 < doc->count && doc->blocks[i + 1].kind == GUIDE_ITEM;
		if (!wanted(doc, text, i, flags))
			continue;
		switch (b->kind) {
		case GUIDE_HEADING:
			rc |= textbuf_puts(out, "<h3>") | html_words(out, s + 3, b->len - 3) |
			      textbuf_puts(out, "</h3>\n");
			break;
		case GUIDE_PARAGRAPH:
			rc |= textbuf_puts(out, "<p>") | html_words(out, s, b->len) |
			      textbuf_puts(out, "</p>\n");
			break;
		case GUIDE_ITEM:
			rc |= textbuf_puts(out, prev_item ? "<li>" : "<ul>\n<li>") |
			      html_words(out, s + 2, b->len - 2) |
			      textbuf_puts(out, next_item ? "</li>\n" : "</li>\n</ul>\n");
			break;
		case GUIDE_CODE:
			rc |= textbuf_puts(out, "<pre><code>") |
			      code_lines(out, s, b->len, "", tpl_escape_html) |
			      textbuf_puts(out, "</code></pre>\n");
			break;
		}
	}
	return rc | textbuf_puts(out, "</section>\n") ? -1 : 0;
}

int guide_markup_write(const struct guide_doc *doc, const char *text, enum guide_format format,
		       unsigned flags, struct textbuf *out)
{
	return format == GUIDE_HTML ? write_html(doc, text, flags, out) : write_text(doc, text, flags, out);
}

/* ---- loaded guides ---- */

struct loaded {
	char name[32];
	struct template *t;
};

struct guides {
	char dir[4096];
	struct loaded *list;
	size_t count;
	struct guide_doc doc; /* scratch: large, so not on the stack */
};

struct guides *guides_open(const char *dir)
{
	struct guides *g = calloc(1, sizeof *g);
	if (g != NULL && snprintf(g->dir, sizeof g->dir, "%s", dir) >= (int)sizeof g->dir) {
		free(g);
		return NULL;
	}
	return g;
}

void guides_close(struct guides *g)
{
	if (g == NULL)
		return;
	for (size_t i = 0; i < g->count; i++)
		tpl_free(g->list[i].t);
	free(g->list);
	free(g);
}

static bool valid_guide_name(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n >= sizeof((struct loaded *)0)->name)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
		      name[i] == '-'))
			return false;
	return true;
}

static const struct template *guide_template(struct guides *g, const char *name, struct tpl_error *err)
{
	for (size_t i = 0; i < g->count; i++)
		if (strcmp(g->list[i].name, name) == 0)
			return g->list[i].t;
	if (!valid_guide_name(name)) {
		snprintf(err->message, sizeof err->message, "%.64s: not a guide name", name);
		return NULL;
	}
	char path[sizeof g->dir + 64];
	snprintf(path, sizeof path, "%s/%s.txt", g->dir, name);
	struct template *t = tpl_load(path, err);
	struct loaded *grown = t ? realloc(g->list, (g->count + 1) * sizeof *grown) : NULL;
	if (grown == NULL) {
		if (t != NULL)
			snprintf(err->message, sizeof err->message, "%.240s: out of memory", path);
		tpl_free(t);
		return NULL;
	}
	g->list = grown;
	snprintf(g->list[g->count].name, sizeof g->list[g->count].name, "%s", name);
	g->list[g->count++].t = t;
	return t;
}

int guides_render(struct guides *g, const char *name, enum guide_format format, unsigned flags,
		  const char *server, const char *port, struct textbuf *out, char title[GUIDE_MAX_TITLE],
		  struct tpl_error *err)
{
	memset(err, 0, sizeof *err);
	const struct template *t = guide_template(g, name, err);
	if (t == NULL)
		return -1;
	struct tpl_data *d = tpl_data_new();
	if (d == NULL) {
		snprintf(err->message, sizeof err->message, "%.64s: out of memory", name);
		return -1;
	}
	tpl_set_string(d, tpl_root(d), "server", server);
	tpl_set_string(d, tpl_root(d), "port", port);
	char hostport[160]; /* what curl takes: [2001:db8::1]:3128 */
	bool v6 = strchr(server, ':') != NULL;
	snprintf(hostport, sizeof hostport, "%s%.64s%s:%.8s", v6 ? "[" : "", server, v6 ? "]" : "", port);
	tpl_set_string(d, tpl_root(d), "hostport", hostport);
	struct textbuf source;
	textbuf_init(&source, TPL_MAX_SOURCE);
	int rc = tpl_render(t, d, tpl_escape_text, TPL_STRICT, &source, err);
	tpl_data_free(d);
	char path[sizeof g->dir + 64];
	snprintf(path, sizeof path, "%s/%s.txt", g->dir, name);
	if (rc == 0)
		rc = guide_markup_parse(path, source.data ? source.data : "", source.len, &g->doc, err);
	if (rc == 0 && guide_markup_write(&g->doc, source.data, format, flags, out) != 0) {
		snprintf(err->message, sizeof err->message, "%.240s: output larger than its limit", path);
		rc = -1;
	}
	if (rc == 0)
		snprintf(title, GUIDE_MAX_TITLE, "%s", g->doc.title);
	textbuf_free(&source);
	return rc;
}
