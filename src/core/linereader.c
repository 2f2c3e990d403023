#include "core/linereader.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

static void reset(struct linereader *r)
{
	r->start = r->end = 0;
	r->lineno = 0;
	r->eof = r->error = false;
	r->why = NULL;
}

int linereader_open(struct linereader *r, int fd)
{
	reset(r);
	int copy = dup(fd); /* gzclose closes it; the caller's fd stays open */
	if (copy < 0)
		return -1;
	if ((r->gz = gzdopen(copy, "rb")) == NULL) {
		close(copy);
		errno = ENOMEM;
		return -1;
	}
	gzbuffer(r->gz, 128 * 1024);
	return 0;
}

void linereader_close(struct linereader *r)
{
	if (r->gz != NULL)
		gzclose(r->gz);
	r->gz = NULL;
}

int linereader_rewind(struct linereader *r)
{
	if (gzrewind(r->gz) != 0)
		return -1;
	reset(r);
	return 0;
}

bool linereader_is_gzip(const struct linereader *r) { return r->end > 0 && gzdirect(r->gz) == 0; }

static void fill(struct linereader *r)
{
	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	while (!r->eof && r->end < sizeof r->buf) {
		int n = gzread(r->gz, r->buf + r->end, (unsigned)(sizeof r->buf - r->end));
		if (n <= 0) {
			int code = Z_OK;
			const char *message = gzerror(r->gz, &code);
			r->eof = true;
			/* a gzip stream cut short (Z_BUF_ERROR) is an error too, not a quiet end */
			r->error = n < 0 || code != Z_OK;
			if (strncmp(message, "<fd:", 4) == 0 && strstr(message, ": ") != NULL)
				message = strstr(message, ": ") + 2; /* zlib names the descriptor; the caller names the file */
			r->why = code == Z_ERRNO ? strerror(errno) : message;
			break;
		}
		r->end += (size_t)n;
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
