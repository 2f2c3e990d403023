/*
 * A compact mustache-like template engine for the letters (and later the
 * owners' web pages). The syntax is mustache's core:
 *
 *   {{name}}  {{host.address}}   a value, passed through the escape hook
 *   {{& name}}                   a value as it is (already escaped text)
 *   {{.}}                        the current item (a list of strings)
 *   {{#name}} ... {{/name}}      a section: once per item of a list, once for
 *                                an object, a true boolean or a non-empty
 *                                string; never for false, empty or missing
 *   {{^name}} ... {{/name}}      inverted: only when the section would not run
 *   {{! comment }}               nothing
 *
 * A section, inverted or comment tag alone on its line takes the whole line
 * with it (mustache's "standalone" rule), so a plain-text template can put
 * each tag on a line of its own without leaving blank lines behind.
 *
 * Parsing is a pure function over (buffer, length) into a compiled template;
 * errors name the file, line and column. Rendering walks a typed value tree
 * (struct tpl_value) and is bounded: nesting depth at parse time, output
 * size at render time.
 */
#ifndef PLUGHOLE_TEMPLATE_H
#define PLUGHOLE_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

#include "notify/textbuf.h"

#define TPL_MAX_DEPTH 16 /* sections inside sections */
#define TPL_MAX_NAME 64	 /* bytes of a tag's name */
#define TPL_MAX_SOURCE (1u << 20)

struct tpl_error {
	char message[320]; /* "file:line:column: what" */
	unsigned line, column;
};

struct template;

/*
 * Compiles source[0..len) (a copy is kept). file names the source in
 * errors. NULL on error, with err filled.
 */
struct template *tpl_parse(const char *file, const char *source, size_t len, struct tpl_error *err);
/* Reads and compiles a file; errors as tpl_parse, or the file cannot be read. */
struct template *tpl_load(const char *path, struct tpl_error *err);
void tpl_free(struct template *t);

/* ---- the data a template renders ---- */

enum tpl_type { TPL_NULL, TPL_STRING, TPL_BOOL, TPL_LIST, TPL_OBJECT };

struct tpl_value;
/* Owns every value and string below it; freed at once. */
struct tpl_data;

struct tpl_data *tpl_data_new(void);
void tpl_data_free(struct tpl_data *d);
/* The root object of d. */
struct tpl_value *tpl_root(struct tpl_data *d);

/*
 * Setters on an object (a key set twice keeps the last). Strings are
 * copied. Each returns the new value, or NULL when out of memory (a later
 * render then reports it).
 */
struct tpl_value *tpl_set_string(struct tpl_data *d, struct tpl_value *object, const char *key,
				 const char *value);
struct tpl_value *tpl_set_stringn(struct tpl_data *d, struct tpl_value *object, const char *key,
				  const char *value, size_t len);
struct tpl_value *tpl_set_bool(struct tpl_data *d, struct tpl_value *object, const char *key, bool value);
struct tpl_value *tpl_set_object(struct tpl_data *d, struct tpl_value *object, const char *key);
struct tpl_value *tpl_set_list(struct tpl_data *d, struct tpl_value *object, const char *key);
/* Appends to a list. */
struct tpl_value *tpl_list_add_object(struct tpl_data *d, struct tpl_value *list);
struct tpl_value *tpl_list_add_string(struct tpl_data *d, struct tpl_value *list, const char *value);

/* ---- rendering ---- */

/* Writes s[0..n) to out, escaped for the output's format; 0 or -1. */
typedef int (*tpl_escape_fn)(struct textbuf *out, const char *s, size_t n);
/* Plain text: control characters (but tab and newline) and invalid UTF-8 become U+FFFD. */
int tpl_escape_text(struct textbuf *out, const char *s, size_t n);
/* HTML: & < > " ' as entities, then as tpl_escape_text. */
int tpl_escape_html(struct textbuf *out, const char *s, size_t n);

/* A name no context holds is an error (not an empty value): catches a misspelt tag. */
#define TPL_STRICT 1u

/*
 * Renders t against d's root into out (whose limit bounds the output).
 * escape NULL means tpl_escape_text. 0, or -1 with err filled, naming the
 * template's file, line and column (output too large, a list or object
 * where a value belongs, a missing name under TPL_STRICT, out of memory).
 */
int tpl_render(const struct template *t, const struct tpl_data *d, tpl_escape_fn escape, unsigned flags,
	       struct textbuf *out, struct tpl_error *err);

#endif
