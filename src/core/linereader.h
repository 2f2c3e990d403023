/*
 * Reads lines from a file descriptor in bounded memory: a line longer than
 * the buffer is reported as too long and skipped, never grown without limit.
 * gzip input (one member or several) is inflated on the way, recognised by
 * its magic bytes, never by a name: zlib passes anything else through as it
 * is. The first fill can be peeked at (format detection) without consuming it.
 */
#ifndef PLUGHOLE_LINEREADER_H
#define PLUGHOLE_LINEREADER_H

#include <stdbool.h>
#include <stddef.h>

#define LINEREADER_BUFFER (64 * 1024)

struct linereader {
	struct gzFile_s *gz;
	char buf[LINEREADER_BUFFER];
	size_t start, end;
	char head[256]; /* the start of the last over-long line */
	unsigned long lineno;
	bool eof, error;
	const char *why; /* the read error, when error is set */
};

/* Reads from a duplicate of fd (the caller keeps fd); 0, or -1 with errno set. */
int linereader_open(struct linereader *r, int fd);
void linereader_close(struct linereader *r);
/* Back to the first line: 0, or -1 when the input cannot seek (a pipe). */
int linereader_rewind(struct linereader *r);
/* True once some bytes were read and they were gzip. */
bool linereader_is_gzip(const struct linereader *r);
/* The bytes buffered so far (filling once if empty): a sample of the input. */
const char *linereader_peek(struct linereader *r, size_t *len);
/*
 * 1 with the next line (without its newline) in *line and *len, 0 at the end,
 * -1 on a read error (r->why says which). *too_long is set when the line was
 * cut: its first bytes are returned and the rest skipped.
 */
int linereader_next(struct linereader *r, const char **line, size_t *len, bool *too_long);

#endif
