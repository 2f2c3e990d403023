/*
 * A connection's transcript: the conversation as printable lines ("<< " what
 * the peer said, ">> " what we said, "-- " what happened), grown lazily and
 * bounded. Once full, one last line says the rest was cut.
 */
#ifndef PLUGHOLE_PROBE_TRANSCRIPT_H
#define PLUGHOLE_PROBE_TRANSCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TRANSCRIPT_MAX 6144 /* bytes kept per finding, NUL included: every variant of a closed server */
#define TRANSCRIPT_STEP 512 /* growth step: most conversations are short */

struct transcript {
	char *text; /* NUL-terminated; NULL while empty */
	uint16_t len, cap;
	bool cut; /* TRANSCRIPT_MAX reached: the rest is not kept */
};

/* Appends prefix and text (trailing CR/LF dropped, unprintable bytes as '?') as one line. */
void transcript_add(struct transcript *t, const char *prefix, const char *text, size_t len);
void transcript_free(struct transcript *t);

#endif
