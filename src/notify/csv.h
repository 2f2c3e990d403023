/*
 * A CSV writer by RFC 4180: fields separated by commas, records ended by
 * CRLF, a field quoted when it holds a comma, a double quote, CR or LF (or
 * starts or ends with a space, which some readers trim), quotes doubled
 * inside. A field a spreadsheet would run as a formula (peer text such as a
 * banner "=HYPERLINK(...)") gets a leading apostrophe, as OWASP advises for
 * CSV injection; numbers, signed ones too, stay as they are. Pure: it only
 * appends to a buffer.
 */
#ifndef PLUGHOLE_CSV_H
#define PLUGHOLE_CSV_H

#include <stdbool.h>
#include <stddef.h>

#include "notify/textbuf.h"

/* Whether a spreadsheet would take the field for a formula: it starts with = + - @ TAB or CR and is no number. */
bool csv_formula_like(const char *s, size_t n);
/* One field, quoted when needed. 0 or -1 (the buffer's limit). */
int csv_field(struct textbuf *out, const char *s, size_t n);
/* A record of count fields (NULL is an empty field) and its CRLF. */
int csv_record(struct textbuf *out, const char *const *fields, size_t count);

#endif
