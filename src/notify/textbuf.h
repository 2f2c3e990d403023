/*
 * A growable byte buffer with a hard size limit: everything notify renders
 * (template output, CSV, guides) goes through one, so no input can make it
 * allocate without bound. Always NUL-terminated after a successful append.
 */
#ifndef PLUGHOLE_TEXTBUF_H
#define PLUGHOLE_TEXTBUF_H

#include <stdbool.h>
#include <stddef.h>

struct textbuf {
	char *data;
	size_t len, cap;
	size_t limit;  /* the most bytes it may hold */
	bool overflow; /* an append was refused: the limit or memory */
};

void textbuf_init(struct textbuf *b, size_t limit);
void textbuf_free(struct textbuf *b);
/* 0, or -1 (and overflow set; the buffer keeps what it had) */
int textbuf_append(struct textbuf *b, const char *s, size_t n);
int textbuf_puts(struct textbuf *b, const char *s);
int textbuf_printf(struct textbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hands the bytes (NUL-terminated, never NULL) to the caller and resets b. */
char *textbuf_take(struct textbuf *b, size_t *len);

#endif
