#include "core/grow.h"

#include <stdint.h>
#include <stdlib.h>

void *grow_array_realloc(void *items, size_t *cap, size_t count, size_t more, size_t size)
{
	if (size == 0 || more > SIZE_MAX / size - count)
		return NULL;
	size_t first = GROW_FIRST_BYTES / size > 0 ? GROW_FIRST_BYTES / size : 1;
	size_t wanted = *cap > 0 ? *cap : first;
	while (wanted < count + more) {
		if (wanted > SIZE_MAX / size / 2) {
			wanted = count + more; /* doubling would overflow: exactly what is asked */
			break;
		}
		wanted *= 2;
	}
	void *grown = realloc(items, wanted * size);
	if (grown == NULL)
		return NULL;
	*cap = wanted;
	return grown;
}
