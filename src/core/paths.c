#include "core/paths.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *data_dir_beside(const char *exe, char *buf, size_t buflen)
{
	/* /usr/local/bin/plughole -> /usr/local/share/plughole */
	const char *slash = strrchr(exe, '/');
	size_t dir_len = slash ? (size_t)(slash - exe) : 0;
	snprintf(buf, buflen, "%.*s/../share/plughole", (int)dir_len, slash ? exe : ".");
	return buf;
}

static int is_directory(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Looked up each time (a few times a run): tests change $PLUGHOLE_DATA as they go. */
static const char *data_dir(char *dir, size_t size)
{
	const char *env = getenv("PLUGHOLE_DATA");
	char exe[PATH_MAX];
	ssize_t n;
	if (env != NULL && *env != '\0')
		snprintf(dir, size, "%s", env);
	else if ((n = readlink("/proc/self/exe", exe, sizeof exe - 1)) > 0 &&
		 (exe[n] = '\0', is_directory(data_dir_beside(exe, dir, size))))
		;
	else
		snprintf(dir, size, "%s", PLUGHOLE_DATA_DIR);
	return dir;
}

const char *data_path(const char *name, char *buf, size_t buflen)
{
	char dir[PATH_MAX + 32];
	snprintf(buf, buflen, "%s/%s", data_dir(dir, sizeof dir), name);
	return buf;
}
