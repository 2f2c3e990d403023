/* The verify progress line's words: the ETA while hosts wait, what waits and until when. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "probe/progress.h"

#define NOW 1000.0            /* probe_now()'s clock */
#define WALL ((time_t)42000)  /* 11:40:00 UTC at NOW */

static struct probe_stats stats(uint64_t targets, uint64_t finished)
{
	return (struct probe_stats){.targets = targets, .finished = finished};
}

static void eta_is_the_work_left_at_the_pace_so_far(void **unused)
{
	struct probe_stats s = stats(100, 40);
	struct probe_waits w = {0};
	assert_true(probe_progress_eta(&s, &w, 20, NOW) == 30); /* 60 left at 2/s */
	s = stats(100, 0);
	assert_true(probe_progress_eta(&s, &w, 5, NOW) == -1); /* no pace yet */
	s = stats(100, 100);
	assert_true(probe_progress_eta(&s, &w, 50, NOW) == 0);
}

static void eta_counts_down_while_hosts_wait(void **unused)
{
	/* 10 hosts left, all waiting: 8 in proof grace until NOW+4, 2 retries until NOW+120. */
	struct probe_stats s = stats(100, 90);
	struct probe_waits w = {0};
	w.count[PROBE_WAIT_GRACE] = 8;
	w.until[PROBE_WAIT_GRACE] = NOW + 4;
	w.count[PROBE_WAIT_GREYLIST] = 2;
	w.until[PROBE_WAIT_GREYLIST] = NOW + 120;
	assert_true(probe_progress_eta(&s, &w, 30, NOW) == 120);
	/* Ten seconds later, nothing finished: the estimate is ten seconds shorter, not longer. */
	assert_true(probe_progress_eta(&s, &w, 40, NOW + 10) == 110);
	/* Work left besides the waits (100 hosts at 3/s): the later of the two ends. */
	s = stats(200, 90);
	assert_true(probe_progress_eta(&s, &w, 30, NOW) == 120);
	s = stats(2000, 90);
	assert_true(probe_progress_eta(&s, &w, 30, NOW) == 1900 / 3.0);
	/* A deadline passed (its timer due) counts as none. */
	s = stats(100, 90);
	assert_true(probe_progress_eta(&s, &w, 200, NOW + 130) == 0);
}

static void waits_name_their_reason_and_deadline(void **unused)
{
	char text[256];
	struct probe_waits w = {0};
	assert_int_equal(probe_progress_waits(&w, NOW, WALL, text, sizeof text), 0);
	assert_string_equal(text, "");
	w.count[PROBE_WAIT_GRACE] = 12;
	w.until[PROBE_WAIT_GRACE] = NOW + 130;
	w.count[PROBE_WAIT_GREYLIST] = 3;
	w.until[PROBE_WAIT_GREYLIST] = NOW + 600;
	w.count[PROBE_WAIT_RETRY] = 1;
	w.until[PROBE_WAIT_RETRY] = NOW + 2.2; /* rounded up: not before it */
	probe_progress_waits(&w, NOW, WALL, text, sizeof text);
	assert_string_equal(text, "waiting: 12 hosts in proof grace until 11:42:10, 1 retry pending until 11:40:03, "
				  "3 retries pending until 11:50:00 (greylisting)");
	w = (struct probe_waits){0};
	w.count[PROBE_WAIT_PROOFS] = 2;
	w.until[PROBE_WAIT_PROOFS] = NOW + 30;
	probe_progress_waits(&w, NOW, WALL, text, sizeof text);
	assert_string_equal(text, "waiting: 2 proofs awaited until 11:40:30 (--wait)");
	char small[20];
	probe_progress_waits(&w, NOW, WALL, small, sizeof small); /* cut, terminated */
	assert_int_equal(strlen(small), sizeof small - 1);
}

static void durations_read_as_people_say_them(void **unused)
{
	char text[32];
	probe_progress_duration(42.4, text, sizeof text);
	assert_string_equal(text, "42s");
	probe_progress_duration(185, text, sizeof text);
	assert_string_equal(text, "3m05s");
	probe_progress_duration(3720, text, sizeof text);
	assert_string_equal(text, "1h02m");
	probe_progress_duration(-3, text, sizeof text);
	assert_string_equal(text, "0s");
}

static void the_line_says_it_all(void **unused)
{
	char text[512];
	struct probe_stats s = stats(100, 90);
	s.in_flight = 8;
	s.verdicts[VERDICT_OPEN_RELAY] = 3;
	struct probe_waits w = {0};
	w.count[PROBE_WAIT_GRACE] = 8;
	w.until[PROBE_WAIT_GRACE] = NOW + 4;
	w.count[PROBE_WAIT_RETRY] = 2;
	w.until[PROBE_WAIT_RETRY] = NOW + 65;
	probe_progress_line(&s, &w, 30, NOW, WALL, text, sizeof text);
	assert_string_equal(text, "verify: 90/100 done, 3.0/s, 3 open, 8 in flight, ETA 1m05s; waiting: 8 hosts in proof"
				  " grace until 11:40:04, 2 retries pending until 11:41:05");
	s = stats(100, 0);
	w = (struct probe_waits){0};
	probe_progress_line(&s, &w, 0, NOW, WALL, text, sizeof text);
	assert_string_equal(text, "verify: 0/100 done, 0.0/s, 0 open, 0 in flight, ETA ?");
}

int main(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(eta_is_the_work_left_at_the_pace_so_far),
		cmocka_unit_test(eta_counts_down_while_hosts_wait),
		cmocka_unit_test(waits_name_their_reason_and_deadline),
		cmocka_unit_test(durations_read_as_people_say_them),
		cmocka_unit_test(the_line_says_it_all),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
