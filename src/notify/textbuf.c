#include "notify/textbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/grow.h"

void textbuf_init(struct textbuf *b, size_t limit)
{
	memset(b, 0, sizeof *b);
	b->limit = limit;
}

void textbuf_free(struct textbuf *b)
{
	free(b->data);
	textbuf_init(b, b->limit);
}

static int reserve(struct textbuf *b, size_t n)
{
	if (b->overflow || n > b->limit - b->len) {
		b->overflow = true;
		return -1;
	}
	char *grown = grow_array(b->data, &b->cap, b->len, n + 1, 1); /* and the NUL */
	if (grown == NULL) {
		b->overflow = true;
		return -1;
	}
	b->data = grown;
	return 0;
}

int textbuf_append(struct textbuf *b, const char *s, size_t n)
{
	if (reserve(b, n) != 0)
		return -1;
	if (n > 0)
		memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int textbuf_puts(struct textbuf *b, const char *s)
{
	return textbuf_append(b, s, strlen(s));
}

int textbuf_printf(struct textbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || reserve(b, (size_t)n) != 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

char *textbuf_take(struct textbuf *b, size_t *len)
{
	if (b->data == NULL && reserve(b, 0) != 0)
		return NULL;
	b->data[b->len] = '\0';
	char *data = b->data;
	if (len != NULL)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return data;
}
