/*
 * A campaign's rechecks: which round is next, when one is due under the
 * campaign's schedule, and whether --at-least-after refuses it. Pure
 * functions over the rounds as the store gives them; the verb (cli/
 * cmd_recheck.c) runs the round through verify's engine.
 */
#ifndef PLUGHOLE_RECHECK_H
#define PLUGHOLE_RECHECK_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "store/store.h"

enum recheck_step {
	RECHECK_RESUME,	  /* the last round never finished: continue it */
	RECHECK_NEW,	  /* a new round, numbered next_seq */
	RECHECK_TOO_SOON, /* --at-least-after (or the schedule's) refuses: the previous round is younger */
	RECHECK_NOT_DUE,  /* (a schedule) the next round is due at due_at */
	RECHECK_FINISHED, /* (a schedule) every round of it ran */
};

struct recheck_next {
	enum recheck_step step;
	int64_t next_seq; /* RECHECK_NEW: the new round's number (1, 2, ...) */
	time_t previous;  /* when the previous round (or, before the first, the campaign) began */
	time_t due_at;	  /* RECHECK_NOT_DUE, RECHECK_TOO_SOON: from when it may run */
};

/*
 * What a recheck of a campaign created at created does now. last: its newest
 * recheck round (NULL: none yet). at_least_after: seconds the previous round
 * must be old (0: no limit). schedule: NULL for a recheck asked by hand, else
 * its every and rounds (the schedule's own at_least_after is the caller's to
 * pass in).
 */
struct recheck_next recheck_next(time_t now, time_t created, const struct store_round *last,
				 int64_t at_least_after, const struct store_schedule *schedule);

#endif
