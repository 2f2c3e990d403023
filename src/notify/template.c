#include "notify/template.h"
#include "core/grow.h"
#include "core/util.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the compiled form: a flat array of nodes; a section knows where its body ends ---- */

enum node_kind { NODE_TEXT, NODE_VALUE, NODE_RAW, NODE_SECTION, NODE_INVERTED };

struct node {
	enum node_kind kind;
	size_t start, len; /* text: the bytes; the others: the name */
	size_t end;	   /* a section: the index of the first node after its body */
	unsigned line, column;
};

struct template
{
	char *file;
	char *source;
	struct node *nodes;
	size_t count, cap;
};

/* A forward-only cursor that turns offsets into lines and columns. */
struct cursor {
	const char *source;
	size_t offset;
	unsigned line, column;
};

static void cursor_move(struct cursor *c, size_t offset)
{
	for (; c->offset < offset; c->offset++) {
		if (c->source[c->offset] == '\n') {
			c->line++;
			c->column = 1;
		} else if (((unsigned char)c->source[c->offset] & 0xc0) != 0x80) {
			c->column++; /* columns count characters, not UTF-8 continuation bytes */
		}
	}
}

static void fail(struct tpl_error *err, const char *file, unsigned line, unsigned column, const char *fmt,
		 ...) __attribute__((format(printf, 5, 6)));

static void fail(struct tpl_error *err, const char *file, unsigned line, unsigned column, const char *fmt,
		 ...)
{
	char what[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	err->line = line;
	err->column = column;
	snprintf(err->message, sizeof err->message, "%s:%u:%u: %s", file, line, column, what);
}

static int add_node(struct template *t, enum node_kind kind, size_t start, size_t len,
		    const struct cursor *at)
{
	struct node *grown = grow_array(t->nodes, &t->cap, t->count, 1, sizeof *grown);
	if (grown == NULL)
		return -1;
	t->nodes = grown;
	t->nodes[t->count++] = (struct node){kind, start, len, 0, at ? at->line : 0, at ? at->column : 0};
	return 0;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
	       c == '-';
}

/* "." alone, or segments of [A-Za-z0-9_-] joined by single dots. */
static bool valid_name(const char *s, size_t n)
{
	if (n == 1 && s[0] == '.')
		return true;
	if (n == 0 || n > TPL_MAX_NAME || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(name_char(s[i]) || (s[i] == '.' && s[i - 1] != '.')))
			return false;
	return true;
}

/* What one tag holds, once its braces are found. */
struct tag {
	char sigil;	       /* 0 for a value, or one of ! # ^ / & { */
	size_t name, name_len; /* offsets into the source */
	size_t open, close;    /* the tag's first byte and the byte after it */
};

static const char *find2(const char *s, size_t from, size_t len, const char *pair)
{
	for (size_t i = from; i + 1 < len; i++)
		if (s[i] == pair[0] && s[i + 1] == pair[1])
			return s + i;
	return NULL;
}

/* Reads the tag at source[open] ("{{"); -1 and a message on a malformed one. */
static int read_tag(const char *s, size_t len, size_t open, struct tag *tag, const char **why)
{
	size_t i = open + 2;
	tag->open = open;
	tag->sigil = 0;
	if (i < len && strchr("!#^/&{", s[i]) != NULL && s[i] != '\0')
		tag->sigil = s[i++];
	else if (i < len && (s[i] == '>' || s[i] == '=')) {
		*why = s[i] == '>' ? "partials ({{>name}}) are not supported"
				   : "delimiter changes ({{=...=}}) are not supported";
		return -1;
	}
	const char *end = find2(s, i, len, "}}");
	if (end == NULL) {
		*why = "tag not closed by }}";
		return -1;
	}
	size_t close = (size_t)(end - s) + 2;
	if (tag->sigil == '{') { /* {{{name}}} */
		if (close >= len || s[close] != '}') {
			*why = "{{{ is closed by }}}";
			return -1;
		}
		close++;
	}
	tag->close = close;
	if (tag->sigil == '!')
		return 0;
	size_t a = i, b = (size_t)(end - s);
	while (a < b && is_blank(s[a]))
		a++;
	while (b > a && is_blank(s[b - 1]))
		b--;
	if (!valid_name(s + a, b - a)) {
		*why = b == a ? "empty tag" : "bad tag name (letters, digits, _ and -, joined by dots)";
		return -1;
	}
	tag->name = a;
	tag->name_len = b - a;
	return 0;
}

/*
 * A section, inverted, close or comment tag alone on its line (blanks
 * around it) takes the line: returns true and the offsets where the line
 * starts and where the next one begins.
 */
static bool standalone(const char *s, size_t len, const struct tag *tag, size_t *line_start, size_t *next)
{
	if (tag->sigil == 0 || tag->sigil == '&' || tag->sigil == '{')
		return false;
	size_t a = tag->open;
	while (a > 0 && is_blank(s[a - 1]))
		a--;
	if (a > 0 && s[a - 1] != '\n')
		return false;
	size_t b = tag->close;
	while (b < len && is_blank(s[b]))
		b++;
	if (b < len && s[b] == '\r' && b + 1 < len && s[b + 1] == '\n')
		b++;
	if (b < len && s[b] != '\n')
		return false;
	*line_start = a;
	*next = b < len ? b + 1 : b;
	return true;
}

struct open_section {
	size_t node; /* its index in nodes */
};

static int parse(struct template *t, size_t len, struct tpl_error *err)
{
	const char *s = t->source;
	struct cursor at = {s, 0, 1, 1};
	struct open_section stack[TPL_MAX_DEPTH];
	size_t depth = 0, text = 0, pos = 0;
	for (;;) {
		const char *found = find2(s, pos, len, "{{");
		size_t open = found ? (size_t)(found - s) : len;
		struct tag tag;
		const char *why = NULL;
		cursor_move(&at, open);
		if (found == NULL) {
			if (open > text && add_node(t, NODE_TEXT, text, open - text, NULL) != 0)
				goto oom;
			break;
		}
		if (read_tag(s, len, open, &tag, &why) != 0) {
			fail(err, t->file, at.line, at.column, "%s", why);
			return -1;
		}
		size_t text_end = open, next = tag.close;
		standalone(s, len, &tag, &text_end, &next);
		if (text_end > text && add_node(t, NODE_TEXT, text, text_end - text, NULL) != 0)
			goto oom;
		switch (tag.sigil) {
		case '!':
			break;
		case '#':
		case '^':
			if (depth == TPL_MAX_DEPTH) {
				fail(err, t->file, at.line, at.column, "sections nested deeper than %d",
				     TPL_MAX_DEPTH);
				return -1;
			}
			if (add_node(t, tag.sigil == '#' ? NODE_SECTION : NODE_INVERTED, tag.name,
				     tag.name_len, &at) != 0)
				goto oom;
			stack[depth++].node = t->count - 1;
			break;
		case '/': {
			if (depth == 0) {
				fail(err, t->file, at.line, at.column, "{{/%.*s}} closes no open section",
				     (int)tag.name_len, s + tag.name);
				return -1;
			}
			struct node *opened = &t->nodes[stack[depth - 1].node];
			if (opened->len != tag.name_len ||
			    memcmp(s + opened->start, s + tag.name, tag.name_len)) {
				fail(err, t->file, at.line, at.column,
				     "{{/%.*s}} does not close {{%c%.*s}} opened at line %u column %u",
				     (int)tag.name_len, s + tag.name,
				     opened->kind == NODE_SECTION ? '#' : '^', (int)opened->len,
				     s + opened->start, opened->line, opened->column);
				return -1;
			}
			opened->end = t->count;
			depth--;
			break;
		}
		default:
			if (add_node(t, tag.sigil ? NODE_RAW : NODE_VALUE, tag.name, tag.name_len, &at) != 0)
				goto oom;
			break;
		}
		text = pos = next;
	}
	if (depth > 0) {
		const struct node *opened = &t->nodes[stack[depth - 1].node];
		fail(err, t->file, opened->line, opened->column, "section {{%c%.*s}} is never closed",
		     opened->kind == NODE_SECTION ? '#' : '^', (int)opened->len, s + opened->start);
		return -1;
	}
	return 0;
oom:
	fail(err, t->file, at.line, at.column, "out of memory");
	return -1;
}

struct template *tpl_parse(const char *file, const char *source, size_t len, struct tpl_error *err)
{
	memset(err, 0, sizeof *err);
	if (len > TPL_MAX_SOURCE) {
		fail(err, file, 1, 1, "template larger than %u bytes", TPL_MAX_SOURCE);
		return NULL;
	}
	struct template *t = calloc(1, sizeof *t);
	if (t == NULL || (t->file = strdup(file)) == NULL || (t->source = malloc(len + 1)) == NULL) {
		fail(err, file, 1, 1, "out of memory");
		tpl_free(t);
		return NULL;
	}
	if (len > 0)
		memcpy(t->source, source, len);
	t->source[len] = '\0';
	if (parse(t, len, err) != 0) {
		tpl_free(t);
		return NULL;
	}
	return t;
}

struct template *tpl_load(const char *path, struct tpl_error *err)
{
	memset(err, 0, sizeof *err);
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		snprintf(err->message, sizeof err->message, "%s: cannot read the template", path);
		return NULL;
	}
	char *buf = malloc(TPL_MAX_SOURCE + 1);
	size_t n = buf ? fread(buf, 1, TPL_MAX_SOURCE + 1, f) : 0;
	int bad = buf == NULL || ferror(f);
	fclose(f);
	if (bad) {
		snprintf(err->message, sizeof err->message, "%s: cannot read the template", path);
		free(buf);
		return NULL;
	}
	struct template *t = tpl_parse(path, buf, n, err);
	free(buf);
	return t;
}

void tpl_free(struct template *t)
{
	if (t == NULL)
		return;
	free(t->file);
	free(t->source);
	free(t->nodes);
	free(t);
}

/* ---- the data: values in chunks owned by one struct tpl_data ---- */

struct tpl_value {
	enum tpl_type type;
	bool boolean;
	const char *string;
	size_t len;
	struct tpl_value *first, *last; /* an object's members or a list's items */
	struct tpl_value *next;
	const char *key; /* as a member of an object */
};

struct chunk {
	struct chunk *next;
	size_t used, size;
	max_align_t data[];
};

struct tpl_data {
	struct chunk *chunks;
	struct tpl_value root;
	bool failed; /* an allocation failed: rendering reports it */
};

#define CHUNK_SIZE (64u << 10)

static void *data_alloc(struct tpl_data *d, size_t n)
{
	n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
	struct chunk *c = d->chunks;
	if (c == NULL || c->size - c->used < n) {
		size_t size = n > CHUNK_SIZE ? n : CHUNK_SIZE;
		c = malloc(sizeof *c + size);
		if (c == NULL) {
			d->failed = true;
			return NULL;
		}
		c->used = 0;
		c->size = size;
		c->next = d->chunks;
		d->chunks = c;
	}
	void *p = (char *)c->data + c->used;
	c->used += n;
	return p;
}

static const char *data_strdup(struct tpl_data *d, const char *s, size_t n)
{
	char *copy = data_alloc(d, n + 1);
	if (copy != NULL) {
		if (n > 0)
			memcpy(copy, s, n);
		copy[n] = '\0';
	}
	return copy;
}

struct tpl_data *tpl_data_new(void)
{
	struct tpl_data *d = calloc(1, sizeof *d);
	if (d != NULL)
		d->root.type = TPL_OBJECT;
	return d;
}

void tpl_data_free(struct tpl_data *d)
{
	if (d == NULL)
		return;
	for (struct chunk *c = d->chunks, *next; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(d);
}

struct tpl_value *tpl_root(struct tpl_data *d)
{
	return &d->root;
}

static struct tpl_value *append(struct tpl_data *d, struct tpl_value *parent)
{
	struct tpl_value *v = data_alloc(d, sizeof *v);
	if (v == NULL)
		return NULL;
	memset(v, 0, sizeof *v);
	if (parent->last != NULL)
		parent->last->next = v;
	else
		parent->first = v;
	parent->last = v;
	return v;
}

/* The member key of object, new or emptied. */
static struct tpl_value *member(struct tpl_data *d, struct tpl_value *object, const char *key,
				enum tpl_type type)
{
	if (object == NULL || object->type != TPL_OBJECT) {
		d->failed = true;
		return NULL;
	}
	struct tpl_value *v = NULL;
	for (struct tpl_value *m = object->first; m != NULL; m = m->next)
		if (strcmp(m->key, key) == 0)
			v = m;
	if (v == NULL) {
		const char *copy = data_strdup(d, key, strlen(key));
		if (copy == NULL || (v = append(d, object)) == NULL)
			return NULL;
		v->key = copy;
	}
	v->type = type;
	v->first = v->last = NULL;
	v->string = NULL;
	v->len = 0;
	return v;
}

struct tpl_value *tpl_set_stringn(struct tpl_data *d, struct tpl_value *object, const char *key,
				  const char *value, size_t len)
{
	const char *copy = data_strdup(d, value ? value : "", value ? len : 0);
	struct tpl_value *v = copy ? member(d, object, key, TPL_STRING) : NULL;
	if (v != NULL) {
		v->string = copy;
		v->len = value ? len : 0;
	}
	return v;
}

struct tpl_value *tpl_set_string(struct tpl_data *d, struct tpl_value *object, const char *key,
				 const char *value)
{
	return tpl_set_stringn(d, object, key, value, value ? strlen(value) : 0);
}

struct tpl_value *tpl_set_bool(struct tpl_data *d, struct tpl_value *object, const char *key, bool value)
{
	struct tpl_value *v = member(d, object, key, TPL_BOOL);
	if (v != NULL)
		v->boolean = value;
	return v;
}

struct tpl_value *tpl_set_object(struct tpl_data *d, struct tpl_value *object, const char *key)
{
	return member(d, object, key, TPL_OBJECT);
}

struct tpl_value *tpl_set_list(struct tpl_data *d, struct tpl_value *object, const char *key)
{
	return member(d, object, key, TPL_LIST);
}

static struct tpl_value *list_add(struct tpl_data *d, struct tpl_value *list, enum tpl_type type)
{
	if (list == NULL || list->type != TPL_LIST) {
		d->failed = true;
		return NULL;
	}
	struct tpl_value *v = append(d, list);
	if (v != NULL)
		v->type = type;
	return v;
}

struct tpl_value *tpl_list_add_object(struct tpl_data *d, struct tpl_value *list)
{
	return list_add(d, list, TPL_OBJECT);
}

struct tpl_value *tpl_list_add_string(struct tpl_data *d, struct tpl_value *list, const char *value)
{
	const char *copy = data_strdup(d, value ? value : "", value ? strlen(value) : 0);
	struct tpl_value *v = copy ? list_add(d, list, TPL_STRING) : NULL;
	if (v != NULL) {
		v->string = copy;
		v->len = strlen(copy);
	}
	return v;
}

/* ---- escaping ---- */

/*
 * The length of the well-formed UTF-8 sequence at s (0 when malformed) and
 * whether it may be shown as it is.
 */
static size_t utf8_sequence(const unsigned char *s, size_t n, bool *printable)
{
	unsigned char c = s[0];
	if (c < 0x80) {
		*printable = (c >= 0x20 && c != 0x7f) || c == '\t' || c == '\n';
		return 1;
	}
	size_t len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
	if (len == 0 || len > n)
		return 0;
	uint32_t cp = c & (0x7f >> len);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	static const uint32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
	if (cp < least[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	/* not C1 controls, nor the bidirectional overrides and isolates that can disguise text */
	*printable = !(cp <= 0x9f || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069));
	return len;
}

int tpl_escape_text(struct textbuf *out, const char *s, size_t n)
{
	static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */
	size_t run = 0, i = 0;
	while (i < n) {
		bool printable = false;
		size_t len = utf8_sequence((const unsigned char *)s + i, n - i, &printable);
		if (len > 0 && printable) {
			i += len;
			continue;
		}
		if (textbuf_append(out, s + run, i - run) != 0 || textbuf_append(out, replacement, 3) != 0)
			return -1;
		i += len > 0 ? len : 1; /* a malformed byte at a time, a whole forbidden character */
		run = i;
	}
	return textbuf_append(out, s + run, n - run);
}

int tpl_escape_html(struct textbuf *out, const char *s, size_t n)
{
	static const struct {
		char c;
		const char *entity;
	} entities[] = {{'&', "&amp;"}, {'<', "&lt;"}, {'>', "&gt;"}, {'"', "&quot;"}, {'\'', "&#39;"}};
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		for (size_t e = 0; e < ARRAY_SIZE(entities); e++) {
			if (s[i] != entities[e].c)
				continue;
			if (tpl_escape_text(out, s + run, i - run) != 0 ||
			    textbuf_puts(out, entities[e].entity) != 0)
				return -1;
			run = i + 1;
		}
	}
	return tpl_escape_text(out, s + run, n - run);
}

/* ---- rendering ---- */

struct render {
	const struct template *t;
	tpl_escape_fn escape;
	struct textbuf *out;
	struct tpl_error *err;
	unsigned flags;
	const struct tpl_value *stack[TPL_MAX_DEPTH + 1]; /* the context: root, then each section's value */
	size_t depth;
};

static const struct tpl_value *find_member(const struct tpl_value *object, const char *key, size_t n)
{
	if (object == NULL || object->type != TPL_OBJECT)
		return NULL;
	for (const struct tpl_value *m = object->first; m != NULL; m = m->next)
		if (strlen(m->key) == n && memcmp(m->key, key, n) == 0)
			return m;
	return NULL;
}

/* Mustache's lookup: the first segment in the innermost context that has it, then down the dots. */
static const struct tpl_value *lookup(const struct render *r, const char *name, size_t n)
{
	if (n == 1 && name[0] == '.')
		return r->stack[r->depth - 1];
	const char *dot = memchr(name, '.', n);
	size_t first = dot ? (size_t)(dot - name) : n;
	const struct tpl_value *v = NULL;
	for (size_t i = r->depth; i > 0 && v == NULL; i--)
		v = find_member(r->stack[i - 1], name, first);
	while (v != NULL && dot != NULL) {
		const char *segment = dot + 1;
		dot = memchr(segment, '.', (size_t)(name + n - segment));
		v = find_member(v, segment, (size_t)((dot ? dot : name + n) - segment));
	}
	return v;
}

static bool truthy(const struct tpl_value *v)
{
	if (v == NULL)
		return false;
	switch (v->type) {
	case TPL_STRING:
		return v->len > 0;
	case TPL_BOOL:
		return v->boolean;
	case TPL_LIST:
		return v->first != NULL;
	case TPL_OBJECT:
		return true;
	default:
		return false;
	}
}

static int render_failed(struct render *r, const struct node *n, const char *what)
{
	fail(r->err, r->t->file, n->line, n->column, "%s", what);
	return -1;
}

static int render_range(struct render *r, size_t from, size_t to);

static int render_section(struct render *r, size_t i, const struct tpl_value *v)
{
	const struct node *n = &r->t->nodes[i];
	if (n->kind == NODE_INVERTED)
		return truthy(v) ? 0 : render_range(r, i + 1, n->end);
	if (!truthy(v))
		return 0;
	if (v->type != TPL_LIST) {
		r->stack[r->depth++] = v;
		int rc = render_range(r, i + 1, n->end);
		r->depth--;
		return rc;
	}
	for (const struct tpl_value *item = v->first; item != NULL; item = item->next) {
		r->stack[r->depth++] = item;
		int rc = render_range(r, i + 1, n->end);
		r->depth--;
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int render_value(struct render *r, const struct node *n, const struct tpl_value *v)
{
	const char *s = "";
	size_t len = 0;
	if (v != NULL && v->type == TPL_STRING) {
		s = v->string;
		len = v->len;
	} else if (v != NULL && v->type == TPL_BOOL) {
		s = v->boolean ? "true" : "false";
		len = strlen(s);
	} else if (v != NULL && v->type != TPL_NULL) {
		char what[TPL_MAX_NAME + 64];
		snprintf(what, sizeof what, "{{%.*s}} is %s, not a value", (int)n->len,
			 r->t->source + n->start, v->type == TPL_LIST ? "a list" : "an object");
		return render_failed(r, n, what);
	}
	int rc = n->kind == NODE_RAW ? textbuf_append(r->out, s, len) : r->escape(r->out, s, len);
	return rc == 0 ? 0 : render_failed(r, n, "output larger than its limit");
}

/* Depth is bounded by the parser (TPL_MAX_DEPTH), so is this recursion. */
static int render_range(struct render *r, size_t from, size_t to)
{
	for (size_t i = from; i < to;) {
		const struct node *n = &r->t->nodes[i];
		if (n->kind == NODE_TEXT) {
			if (textbuf_append(r->out, r->t->source + n->start, n->len) != 0)
				return render_failed(r, n, "output larger than its limit");
			i++;
			continue;
		}
		const struct tpl_value *v = lookup(r, r->t->source + n->start, n->len);
		if (v == NULL && (r->flags & TPL_STRICT)) {
			char what[TPL_MAX_NAME + 32];
			snprintf(what, sizeof what, "no value named %.*s", (int)n->len,
				 r->t->source + n->start);
			return render_failed(r, n, what);
		}
		int rc = n->kind == NODE_SECTION || n->kind == NODE_INVERTED ? render_section(r, i, v)
									     : render_value(r, n, v);
		if (rc != 0)
			return rc;
		i = n->kind == NODE_SECTION || n->kind == NODE_INVERTED ? n->end : i + 1;
	}
	return 0;
}

int tpl_render(const struct template *t, const struct tpl_data *d, tpl_escape_fn escape, unsigned flags,
	       struct textbuf *out, struct tpl_error *err)
{
	memset(err, 0, sizeof *err);
	if (d->failed) {
		fail(err, t->file, 1, 1, "the data to render is incomplete (out of memory)");
		return -1;
	}
	struct render r = {t, escape ? escape : tpl_escape_text, out, err, flags, {&d->root}, 1};
	return render_range(&r, 0, t->count);
}
