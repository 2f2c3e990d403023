#include "cli/output.h"
#include "core/util.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/escape.h"
#include "notify/csv.h"

int output_format_parse(const char *name, enum output_format *format)
{
	size_t len = strlen(name);
	int index = 0;
	for (const char *p = OUTPUT_FORMATS; *p; index++) {
		size_t n = strcspn(p, "|");
		if (n == len && memcmp(p, name, len) == 0) {
			*format = (enum output_format)index;
			return 0;
		}
		p += n + (p[n] == '|');
	}
	return -1;
}

void output_begin(struct output *out, enum output_format format, FILE *file)
{
	out->format = format;
	out->file = file;
	out->rows = 0;
	if (format == OUTPUT_JSON)
		fputs("[", file);
}

/* TSV cannot quote: tabs and newlines inside a value become spaces. */
static void put_tsv_value(FILE *f, const char *value)
{
	for (const char *p = value; *p; p++)
		fputc(*p == '\t' || *p == '\n' || *p == '\r' ? ' ' : *p, f);
}

static void put_csv_value(FILE *f, const char *value)
{
	const char *formula = csv_formula_like(value, strlen(value)) ? "'" : ""; /* notify/csv.h says why */
	if (strpbrk(value, ",\"\r\n") == NULL) {
		fprintf(f, "%s%s", formula, value);
		return;
	}
	fprintf(f, "\"%s", formula);
	for (const char *p = value; *p; p++) {
		if (*p == '"')
			fputc('"', f);
		fputc(*p, f);
	}
	fputc('"', f);
}

static void put_line(const struct output *out, int count, const char *const *values)
{
	for (int i = 0; i < count; i++) {
		fputs(i == 0 ? "" : out->format == OUTPUT_CSV ? "," : "\t", out->file);
		const char *value = values[i] ? values[i] : "";
		if (out->format == OUTPUT_CSV)
			put_csv_value(out->file, value);
		else
			put_tsv_value(out->file, value);
	}
	fputc('\n', out->file);
}

/* JSON strings must be UTF-8: text that is not (peer bytes) goes escaped. */
static json_t *json_text(const char *text)
{
	json_t *value = json_string(text);
	if (value != NULL)
		return value;
	size_t len = strlen(text);
	char *escaped = malloc(ESCAPE_SIZE(len));
	if (escaped == NULL)
		return NULL;
	value = json_string(escape_text(escaped, ESCAPE_SIZE(len), text, len));
	free(escaped);
	return value;
}

static json_t *json_value(enum store_value_type type, const char *text)
{
	if (text == NULL)
		return json_null();
	switch (type) {
	case STORE_NULL: return json_null();
	case STORE_INTEGER: return json_integer(strtoll(text, NULL, 10));
	case STORE_REAL: return json_real(strtod(text, NULL));
	case STORE_BOOLEAN: return json_boolean(strtoll(text, NULL, 10) != 0);
	case STORE_TEXT: break;
	}
	return json_text(text);
}

static void put_json_object(struct output *out, const struct store_row *row)
{
	json_t *object = json_object();
	for (int i = 0; object && i < row->count; i++) {
		json_t *value = json_value(row->types[i], row->values[i]);
		json_object_set_new(object, row->names[i], value ? value : json_null());
	}
	char *text = object ? json_dumps(object, JSON_PRESERVE_ORDER | JSON_COMPACT) : NULL;
	if (out->format == OUTPUT_JSON)
		fprintf(out->file, "%s\n%s", out->rows ? "," : "", text ? text : "{}");
	else
		fprintf(out->file, "%s\n", text ? text : "{}");
	free(text);
	json_decref(object);
}

void output_row(void *ctx, const struct store_row *row)
{
	struct output *out = ctx;
	if (row->values == NULL) {
		/* the names alone: TSV and CSV begin with them, rows or not */
		if (out->format == OUTPUT_TSV || out->format == OUTPUT_CSV)
			put_line(out, row->count, row->names);
		return;
	}
	if (out->format == OUTPUT_JSON || out->format == OUTPUT_JSONL)
		put_json_object(out, row);
	else
		put_line(out, row->count, row->values);
	out->rows++;
}

void output_end(struct output *out)
{
	if (out->format == OUTPUT_JSON)
		fputs(out->rows ? "\n]\n" : "]\n", out->file);
	fflush(out->file);
}
