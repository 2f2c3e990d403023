/* Where plughole's shipped data files are found. */
#ifndef PLUGHOLE_PATHS_H
#define PLUGHOLE_PATHS_H

#include <stddef.h>

/* PLUGHOLE_DATA (environment) or the build's data/ folder, joined with name. */
const char *data_path(const char *name, char *buf, size_t buflen);

#endif
