#include "cli/output.h"
#include "core/util.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

int output_format_parse(const char *name, enum output_format *format)
{
	static const char *const names[] = {[OUTPUT_TSV] = "tsv", [OUTPUT_CSV] = "csv", [OUTPUT_JSON] = "json"};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (strcmp(name, names[i]) == 0) {
			*format = (enum output_format)i;
			return 0;
		}
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
	if (strpbrk(value, ",\"\r\n") == NULL) {
		fputs(value, f);
		return;
	}
	fputc('"', f);
	for (const char *p = value; *p; p++) {
		if (*p == '"')
			fputc('"', f);
		fputc(*p, f);
	}
	fputc('"', f);
}

void output_row(void *ctx, int ncolumns, const char *const *names, const char *const *values)
{
	struct output *out = ctx;
	FILE *f = out->file;
	if (out->format == OUTPUT_JSON) {
		json_t *object = json_object();
		for (int i = 0; i < ncolumns; i++)
			json_object_set_new(object, names[i], values[i] ? json_string(values[i]) : json_null());
		char *text = json_dumps(object, JSON_PRESERVE_ORDER | JSON_COMPACT);
		fprintf(f, "%s\n%s", out->rows ? "," : "", text ? text : "{}");
		free(text);
		json_decref(object);
	} else {
		if (out->format == OUTPUT_CSV && out->rows == 0) {
			for (int i = 0; i < ncolumns; i++) {
				fputs(i ? "," : "", f);
				put_csv_value(f, names[i]);
			}
			fputc('\n', f);
		}
		for (int i = 0; i < ncolumns; i++) {
			fputs(i == 0 ? "" : out->format == OUTPUT_CSV ? "," : "\t", f);
			const char *value = values[i] ? values[i] : "";
			if (out->format == OUTPUT_CSV)
				put_csv_value(f, value);
			else
				put_tsv_value(f, value);
		}
		fputc('\n', f);
	}
	out->rows++;
}

void output_end(struct output *out)
{
	if (out->format == OUTPUT_JSON)
		fputs(out->rows ? "\n]\n" : "]\n", out->file);
	fflush(out->file);
}
