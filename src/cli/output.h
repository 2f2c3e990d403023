/*
 * Rows out as TSV (no header: one record a line, for awk and cut), CSV
 * (with a header, RFC 4180 quoting) or JSON (an array of objects).
 */
#ifndef PLUGHOLE_OUTPUT_H
#define PLUGHOLE_OUTPUT_H

#include <stdio.h>

enum output_format { OUTPUT_TSV, OUTPUT_CSV, OUTPUT_JSON };

struct output {
	enum output_format format;
	FILE *file;
	unsigned long rows;
};

int output_format_parse(const char *name, enum output_format *format);
void output_begin(struct output *out, enum output_format format, FILE *file);
/* Matches store_row_fn, so store queries can print straight through. */
void output_row(void *out, int ncolumns, const char *const *names, const char *const *values);
void output_end(struct output *out);

#endif
