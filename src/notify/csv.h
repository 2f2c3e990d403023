/*
 * A CSV writer by RFC 4180: fields separated by commas, records ended by
 * CRLF, a field quoted when it holds a comma, a double quote, CR or LF (or
 * starts or ends with a space, which some readers trim), quotes doubled
 * inside. Pure: it only appends to a buffer.
 */
#ifndef PLUGHOLE_CSV_H
#define PLUGHOLE_CSV_H

#include <stddef.h>

#include "notify/textbuf.h"

/* One field, quoted when needed. 0 or -1 (the buffer's limit). */
int csv_field(struct textbuf *out, const char *s, size_t n);
/* A record of count fields (NULL is an empty field) and its CRLF. */
int csv_record(struct textbuf *out, const char *const *fields, size_t count);

#endif
