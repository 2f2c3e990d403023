#include "core/linereader.h"

#include <string.h>

void linereader_init(struct linereader *r, FILE *file)
{
	r->file = file;
	r->start = r->end = 0;
	r->lineno = 0;
	r->eof = r->error = false;
}

static void fill(struct linereader *r)
{
	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	while (!r->eof && r->end < sizeof r->buf) {
		size_t n = fread(r->buf + r->end, 1, sizeof r->buf - r->end, r->file);
		r->end += n;
		if (n == 0) {
			r->eof = true;
			r->error = ferror(r->file) != 0;
		}
		if (n > 0)
			break;
	}
}

const char *linereader_peek(struct linereader *r, size_t *len)
{
	if (r->end == r->start)
		fill(r);
	*len = r->end - r->start;
	return r->buf + r->start;
}

/* Drops bytes up to and including the next newline. */
static void skip_rest_of_line(struct linereader *r)
{
	for (;;) {
		char *nl = memchr(r->buf + r->start, '\n', r->end - r->start);
		if (nl != NULL) {
			r->start = (size_t)(nl - r->buf) + 1;
			return;
		}
		r->start = r->end;
		if (r->eof)
			return;
		fill(r);
	}
}

int linereader_next(struct linereader *r, const char **line, size_t *len, bool *too_long)
{
	*too_long = false;
	for (;;) {
		char *begin = r->buf + r->start;
		char *nl = memchr(begin, '\n', r->end - r->start);
		if (nl != NULL) {
			*line = begin;
			*len = (size_t)(nl - begin);
			r->start += *len + 1;
			r->lineno++;
			return 1;
		}
		if (r->eof) {
			if (r->error)
				return -1;
			if (r->end == r->start)
				return 0;
			*line = begin; /* a last line without its newline */
			*len = r->end - r->start;
			r->start = r->end;
			r->lineno++;
			return 1;
		}
		if (r->start == 0 && r->end == sizeof r->buf) {
			/* Keep the line's head for the caller's error message. */
			memcpy(r->head, r->buf, sizeof r->head);
			r->start = r->end;
			skip_rest_of_line(r);
			*line = r->head;
			*len = sizeof r->head;
			*too_long = true;
			r->lineno++;
			return 1;
		}
		fill(r);
	}
}
