#include "core/paths.h"

#include <stdio.h>
#include <stdlib.h>

const char *data_path(const char *name, char *buf, size_t buflen)
{
	const char *dir = getenv("PLUGHOLE_DATA");
	if (dir == NULL || *dir == '\0')
		dir = PLUGHOLE_DATA_DIR;
	snprintf(buf, buflen, "%s/%s", dir, name);
	return buf;
}
