/*
 * Reads lines from a stream in bounded memory: a line longer than the
 * buffer is reported as too long and skipped, never grown without limit.
 * The first fill can be peeked at (format detection) without consuming it.
 */
#ifndef PLUGHOLE_LINEREADER_H
#define PLUGHOLE_LINEREADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define LINEREADER_BUFFER (64 * 1024)

struct linereader {
	FILE *file;
	char buf[LINEREADER_BUFFER];
	size_t start, end;
	char head[256]; /* the start of the last over-long line */
	unsigned long lineno;
	bool eof, error;
};

void linereader_init(struct linereader *r, FILE *file);
/* The bytes buffered so far (filling once if empty): a sample of the input. */
const char *linereader_peek(struct linereader *r, size_t *len);
/*
 * 1 with the next line (without its newline) in *line and *len, 0 at the end,
 * -1 on a read error. *too_long is set when the line was cut: its first
 * bytes are returned and the rest skipped.
 */
int linereader_next(struct linereader *r, const char **line, size_t *len, bool *too_long);

#endif
