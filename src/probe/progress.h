/*
 * A verify run's progress in words, from the engine's public counts
 * (probe_engine_stats, probe_engine_waits): pure functions, unit-tested.
 * The caller draws the line (log_progress) and owns the clock.
 */
#ifndef PLUGHOLE_PROGRESS_H
#define PLUGHOLE_PROGRESS_H

#include <stddef.h>
#include <time.h>

#include "probe/engine.h"

/*
 * Seconds to the run's end: the work left (targets neither finished nor
 * waiting) at the pace so far, or the latest deadline of what waits,
 * whichever ends later; so the estimate counts down while hosts wait out a
 * grace or a retry. -1 when no pace is known yet and work is left.
 */
double probe_progress_eta(const struct probe_stats *stats, const struct probe_waits *waits, double elapsed,
			  double now);
/* A duration for people: "42s", "3m05s", "1h02m". */
size_t probe_progress_duration(double seconds, char *out, size_t size);
/*
 * What the run waits for and until when (wall clock, local time):
 * "waiting: 12 hosts in proof grace until 11:42:10, 3 retries pending until
 * 11:50:00 (greylisting)"; "" when nothing waits. now is probe_now()'s clock
 * at wall_now.
 */
size_t probe_progress_waits(const struct probe_waits *waits, double now, time_t wall_now, char *out, size_t size);
/* "verify: 812/1000 done, 41/s, 3 open, 20 in flight, ETA 1m05s; waiting: ..." */
size_t probe_progress_line(const struct probe_stats *stats, const struct probe_waits *waits, double elapsed,
			   double now, time_t wall_now, char *out, size_t size);

#endif
