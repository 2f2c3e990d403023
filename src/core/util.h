/* Small helpers every stage may use. */
#ifndef PLUGHOLE_UTIL_H
#define PLUGHOLE_UTIL_H

/* The number of elements of an array (not a pointer). */
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
