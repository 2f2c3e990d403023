#include "core/paths.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *data_dir_beside(const char *exe, char *buf, size_t buflen)
{
	/* /usr/local/bin/plughole -> /usr/local/bin/../share/plughole */
	const char *slash = strrchr(exe, '/');
	int dir_len = slash ? (int)(slash - exe) : 1;
	snprintf(buf, buflen, "%.*s/%s", dir_len, slash ? exe : ".", PLUGHOLE_DATA_FROM_BIN);
	return buf;
}

/* The directory beside the running binary, made canonical; NULL when there is none. */
static const char *installed_dir(char *dir, size_t size)
{
	char exe[PATH_MAX], beside[PATH_MAX + 64], canonical[PATH_MAX];
	struct stat st;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	if (realpath(data_dir_beside(exe, beside, sizeof beside), canonical) == NULL ||
	    stat(canonical, &st) != 0 || !S_ISDIR(st.st_mode))
		return NULL;
	snprintf(dir, size, "%s", canonical);
	return dir;
}

/* Looked up each time (a few times a run): tests change $PLUGHOLE_DATA as they go. */
static const char *data_dir(char *dir, size_t size)
{
	const char *env = getenv("PLUGHOLE_DATA");
	if (env != NULL && *env != '\0')
		snprintf(dir, size, "%s", env);
	else if (installed_dir(dir, size) == NULL)
		snprintf(dir, size, "%s", PLUGHOLE_DATA_DIR);
	return dir;
}

const char *data_path(const char *name, char *buf, size_t buflen)
{
	char dir[PATH_MAX + 32];
	snprintf(buf, buflen, "%s/%s", data_dir(dir, sizeof dir), name);
	return buf;
}
