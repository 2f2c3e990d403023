/*
 * Durations as operators write them: "90" (seconds, as before), "1.5",
 * "500ms", "30s", "1m", "2h", "1d", or units in a row ("1m30s"), the largest
 * first. Every duration option and config key reads them here.
 */
#ifndef PLUGHOLE_DURATION_H
#define PLUGHOLE_DURATION_H

#include <stddef.h>

/* Room for duration_format's text. */
#define DURATION_STRLEN 32

/*
 * Parses text[0..len) into seconds (>= 0, finite). -1 with *why set when it
 * is not a duration. Pure: reads only the buffer.
 */
int duration_parse(const char *text, size_t len, double *seconds, const char **why);
/* The units duration_parse takes, for messages and help: "ms, s, m, h, d". */
extern const char duration_units[];

#endif
