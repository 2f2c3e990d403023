/* track/recheck.c: which round a recheck runs now, by hand or on a schedule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka wants setjmp, stdarg, stddef and stdint first; blank lines keep clang-format from sorting it up */

#include <cmocka.h>

#include <string.h>

#include "track/recheck.h"

#define DAY 86400
#define CREATED 1000000

static struct store_round round_of(int64_t seq, time_t started, const char *status)
{
	struct store_round r = {.id = 10 + seq, .seq = seq, .started = started};
	strcpy(r.kind, "recheck");
	strcpy(r.status, status);
	return r;
}

static void by_hand(void **unused)
{
	/* the first round: numbered 1, its previous the campaign */
	struct recheck_next n = recheck_next(CREATED + 10, CREATED, NULL, 0, NULL);
	assert_int_equal(n.step, RECHECK_NEW);
	assert_int_equal(n.next_seq, 1);
	assert_int_equal(n.previous, CREATED);
	/* --at-least-after: refused until the previous round is that old, then allowed */
	struct store_round one = round_of(1, CREATED + DAY, "done");
	n = recheck_next(CREATED + DAY + 3600, CREATED, &one, 7 * DAY, NULL);
	assert_int_equal(n.step, RECHECK_TOO_SOON);
	assert_int_equal(n.due_at, CREATED + 8 * DAY);
	n = recheck_next(CREATED + 8 * DAY, CREATED, &one, 7 * DAY, NULL);
	assert_int_equal(n.step, RECHECK_NEW);
	assert_int_equal(n.next_seq, 2);
	/* an unfinished round is continued whatever the clock and the limit say */
	struct store_round running = round_of(2, CREATED + 8 * DAY, "running");
	n = recheck_next(CREATED + 8 * DAY + 1, CREATED, &running, 7 * DAY, NULL);
	assert_int_equal(n.step, RECHECK_RESUME);
}

static void on_a_schedule(void **unused)
{
	struct store_schedule s = {.every = 7 * DAY, .rounds = 2};
	/* not yet: the first is due a week after the campaign */
	struct recheck_next n = recheck_next(CREATED + DAY, CREATED, NULL, 0, &s);
	assert_int_equal(n.step, RECHECK_NOT_DUE);
	assert_int_equal(n.due_at, CREATED + 7 * DAY);
	n = recheck_next(CREATED + 7 * DAY, CREATED, NULL, 0, &s);
	assert_int_equal(n.step, RECHECK_NEW);
	assert_int_equal(n.next_seq, 1);
	/* run: the next is due a week after it began, so a second look at once does nothing */
	struct store_round one = round_of(1, CREATED + 7 * DAY, "done");
	n = recheck_next(CREATED + 7 * DAY + 60, CREATED, &one, 0, &s);
	assert_int_equal(n.step, RECHECK_NOT_DUE);
	assert_int_equal(n.due_at, CREATED + 14 * DAY);
	/* all its rounds ran */
	struct store_round two = round_of(2, CREATED + 14 * DAY, "done");
	n = recheck_next(CREATED + 100 * DAY, CREATED, &two, 0, &s);
	assert_int_equal(n.step, RECHECK_FINISHED);
	/* a round of the schedule left unfinished is continued */
	struct store_round unfinished = round_of(2, CREATED + 14 * DAY, "running");
	n = recheck_next(CREATED + 14 * DAY + 5, CREATED, &unfinished, 0, &s);
	assert_int_equal(n.step, RECHECK_RESUME);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(by_hand),
	    cmocka_unit_test(on_a_schedule),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
