#include "track/recheck.h"

#include <string.h>

#include "track/rounds.h"

struct recheck_next recheck_next(time_t now, time_t created, const struct store_round *last,
				 int64_t at_least_after, const struct store_schedule *schedule)
{
	struct recheck_next next = {.previous = last ? last->started : created};
	/* A round left unfinished (a crash, a stop) is continued, whatever the clock says: it is not a new
	 * one. */
	if (last != NULL && strcmp(last->status, ROUND_DONE) != 0) {
		next.step = RECHECK_RESUME;
		return next;
	}
	next.next_seq = last ? last->seq + 1 : 1;
	if (schedule != NULL) {
		if (next.next_seq > schedule->rounds) {
			next.step = RECHECK_FINISHED;
			return next;
		}
		next.due_at = next.previous + (time_t)schedule->every;
		if (now < next.due_at) {
			next.step = RECHECK_NOT_DUE;
			return next;
		}
	}
	if (at_least_after > 0 && now - next.previous < at_least_after) {
		next.step = RECHECK_TOO_SOON;
		next.due_at = next.previous + (time_t)at_least_after;
		return next;
	}
	next.step = RECHECK_NEW;
	return next;
}
