/*
 * Where plughole's shipped data files are found, in this order:
 *   1. $PLUGHOLE_DATA, when set;
 *   2. share/plughole beside the bin/ directory the running binary is in (an
 *      installed plughole, wherever PREFIX or DESTDIR put it);
 *   3. the data/ folder of the source tree it was built from.
 */
#ifndef PLUGHOLE_PATHS_H
#define PLUGHOLE_PATHS_H

#include <stddef.h>

/* The data directory joined with name, in buf. */
const char *data_path(const char *name, char *buf, size_t buflen);
/* The data directory an installed binary at exe has: exe's directory + "/../share/plughole" (pure). */
const char *data_dir_beside(const char *exe, char *buf, size_t buflen);

#endif
