/* Arrays that grow by doubling, the sizes checked for overflow. */
#ifndef PLUGHOLE_GROW_H
#define PLUGHOLE_GROW_H

#include <stddef.h>

/* The first allocation holds at least this many bytes: small arrays are not regrown element by element. */
#define GROW_FIRST_BYTES 1024

/* grow_array when the array must be (re)allocated. */
void *grow_array_realloc(void *items, size_t *cap, size_t count, size_t more, size_t size);

/*
 * Room for `more` elements after the `count` in use of items, an array of
 * *cap elements of `size` bytes: its capacity doubled until they fit.
 * Returns the array, moved or not; NULL, with items and *cap untouched, when
 * memory runs out or the bytes would overflow a size_t.
 */
static inline void *grow_array(void *items, size_t *cap, size_t count, size_t more, size_t size)
{
	if (items != NULL && more <= *cap - count)
		return items; /* the common case, inline: appends in loops over millions of rows */
	return grow_array_realloc(items, cap, count, more, size);
}

#endif
