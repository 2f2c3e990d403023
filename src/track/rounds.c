/* F_OFD_SETLK (_GNU_SOURCE, set by the build): a lock per open file description, not per process */
#include "track/rounds.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"

#define ROUND_LOCKS_MAX 16 /* rounds one process holds at once (a recheck: one) */

static int lock_fds[ROUND_LOCKS_MAX];
static size_t lock_count;

static int open_lock_file(const char *db_path)
{
	char path[4096];
	if ((size_t)snprintf(path, sizeof path, "%s.rounds.lock", db_path) >= sizeof path) {
		log_error("%s: path too long for its round lock file", db_path);
		return -1;
	}
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		log_error("%s: %s", path, strerror(errno));
	return fd;
}

static struct flock round_byte(int64_t round, short type)
{
	return (struct flock){.l_type = type, .l_whence = SEEK_SET, .l_start = (off_t)round, .l_len = 1};
}

int round_lock(const char *db_path, int64_t round)
{
	if (lock_count == ROUND_LOCKS_MAX) {
		log_error("rounds: this process holds %d round locks already", ROUND_LOCKS_MAX);
		return -1;
	}
	int fd = open_lock_file(db_path);
	if (fd < 0)
		return -1;
	struct flock lock = round_byte(round, F_WRLCK);
	if (fcntl(fd, F_OFD_SETLK, &lock) != 0) {
		int held = errno == EAGAIN || errno == EACCES;
		if (!held)
			log_error("%s.rounds.lock: %s", db_path, strerror(errno));
		close(fd);
		return held ? 1 : -1;
	}
	lock_fds[lock_count++] = fd; /* left open: the lock goes with the process */
	return 0;
}

void round_unlock_all(void)
{
	while (lock_count > 0)
		close(lock_fds[--lock_count]);
}

int round_locked(const char *db_path, int64_t round)
{
	int fd = open_lock_file(db_path);
	if (fd < 0)
		return -1;
	struct flock lock = round_byte(round, F_WRLCK);
	int rc = fcntl(fd, F_OFD_GETLK, &lock);
	close(fd);
	if (rc != 0) {
		log_error("%s.rounds.lock: %s", db_path, strerror(errno));
		return -1;
	}
	/* F_OFD_GETLK reports a conflict with this process's own other descriptions too */
	return lock.l_type != F_UNLCK;
}

struct settle {
	struct store *store;
	const char *db_path;
	int failed;
};

static int settle_round(void *ctx, const struct store_round *round)
{
	struct settle *s = ctx;
	if (strcmp(round->kind, ROUND_KIND_RECHECK) == 0)
		return 0;
	int locked = strcmp(round->kind, ROUND_KIND_OWNER) == 0 ? round_locked(s->db_path, round->id) : 0;
	if (locked < 0 ||
	    (locked == 0 && store_round_end(s->store, round->id, ROUND_INTERRUPTED, time(NULL)) != 0)) {
		s->failed = 1;
		return 1;
	}
	return 0;
}

int rounds_settle(struct store *store, const char *db_path)
{
	struct settle s = {store, db_path, 0};
	return store_rounds_running_each(store, settle_round, &s) != 0 || s.failed ? -1 : 0;
}
