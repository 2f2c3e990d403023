/*
 * Rows out as TSV (a header line, then one record a line, for awk and cut),
 * CSV (a header, RFC 4180 quoting), JSON (one array of objects) or JSON Lines
 * (one object a line, to stream). Both JSON forms keep the store's types:
 * integers are numbers, booleans booleans, NULL null.
 */
#ifndef PLUGHOLE_OUTPUT_H
#define PLUGHOLE_OUTPUT_H

#include <stdio.h>

#include "store/store.h"

/* The names in the enum's order: usage texts and the parser read this one text. */
#define OUTPUT_FORMATS "tsv|csv|json|jsonl"
enum output_format { OUTPUT_TSV, OUTPUT_CSV, OUTPUT_JSON, OUTPUT_JSONL };

struct output {
	enum output_format format;
	FILE *file;
	unsigned long rows;
};

int output_format_parse(const char *name, enum output_format *format);
void output_begin(struct output *out, enum output_format format, FILE *file);
/* A store_row_fn, so store queries can print straight through. */
void output_row(void *out, const struct store_row *row);
void output_end(struct output *out);

#endif
