#include "probe/progress.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#include "core/util.h"

/* How each wait reads, in the order the line names them. */
static const struct {
	enum probe_wait reason;
	const char *one, *many; /* what waits: "1 host in proof grace", "3 hosts in proof grace" */
	const char *why;        /* after the deadline, or "" */
} wait_words[] = {
	{PROBE_WAIT_GRACE, "host in proof grace", "hosts in proof grace", ""},
	{PROBE_WAIT_RETRY, "retry pending", "retries pending", ""},
	{PROBE_WAIT_GREYLIST, "retry pending", "retries pending", " (greylisting)"},
	{PROBE_WAIT_PROOFS, "proof awaited", "proofs awaited", " (--wait)"},
};

_Static_assert(ARRAY_SIZE(wait_words) == PROBE_WAIT_LAST - 1, "every wait has its words");

/* Appends to out at *len, never past size; the text stays terminated. */
static void append(char *out, size_t size, size_t *len, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void append(char *out, size_t size, size_t *len, const char *fmt, ...)
{
	if (*len >= size)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(out + *len, size - *len, fmt, ap);
	va_end(ap);
	if (n > 0)
		*len = *len + (size_t)n < size ? *len + (size_t)n : size - 1;
}

double probe_progress_eta(const struct probe_stats *stats, const struct probe_waits *waits, double elapsed,
			  double now)
{
	uint64_t waiting = waits->count[PROBE_WAIT_GRACE] + waits->count[PROBE_WAIT_RETRY] +
			   waits->count[PROBE_WAIT_GREYLIST];
	uint64_t left = stats->targets > stats->finished ? stats->targets - stats->finished : 0;
	uint64_t work = left > waiting ? left - waiting : 0;
	double wait = 0;
	for (int r = PROBE_WAIT_NONE + 1; r < PROBE_WAIT_LAST; r++)
		if (waits->count[r] > 0 && waits->until[r] - now > wait)
			wait = waits->until[r] - now;
	if (work == 0)
		return wait;
	double pace = elapsed > 0 ? (double)stats->finished / elapsed : 0;
	if (pace <= 0)
		return -1;
	return fmax((double)work / pace, wait);
}

size_t probe_progress_duration(double seconds, char *out, size_t size)
{
	long s = seconds > 0 ? lround(seconds) : 0;
	int n = s < 60	   ? snprintf(out, size, "%lds", s)
		: s < 3600 ? snprintf(out, size, "%ldm%02lds", s / 60, s % 60)
			   : snprintf(out, size, "%ldh%02ldm", s / 3600, s / 60 % 60);
	return n < 0 ? 0 : (size_t)n < size ? (size_t)n : size - 1;
}

size_t probe_progress_waits(const struct probe_waits *waits, double now, time_t wall_now, char *out, size_t size)
{
	size_t len = 0;
	if (size == 0)
		return 0;
	out[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(wait_words); i++) {
		uint64_t n = waits->count[wait_words[i].reason];
		if (n == 0)
			continue;
		time_t until = wall_now + (time_t)ceil(fmax(waits->until[wait_words[i].reason] - now, 0));
		struct tm tm;
		char clock[16];
		strftime(clock, sizeof clock, "%H:%M:%S", localtime_r(&until, &tm));
		append(out, size, &len, "%s%llu %s until %s%s", len == 0 ? "waiting: " : ", ", (unsigned long long)n,
		       n == 1 ? wait_words[i].one : wait_words[i].many, clock, wait_words[i].why);
	}
	return len;
}

size_t probe_progress_line(const struct probe_stats *stats, const struct probe_waits *waits, double elapsed,
			   double now, time_t wall_now, char *out, size_t size)
{
	size_t len = 0;
	if (size == 0)
		return 0;
	out[0] = '\0';
	uint64_t open = stats->verdicts[VERDICT_OPEN_RELAY] + stats->verdicts[VERDICT_OPEN_PROXY_MAIL] +
			stats->verdicts[VERDICT_OPEN_PROXY_WEB];
	double eta = probe_progress_eta(stats, waits, elapsed, now);
	char eta_text[32] = "?";
	if (eta >= 0)
		probe_progress_duration(eta, eta_text, sizeof eta_text);
	double pace = elapsed > 0 ? (double)stats->finished / elapsed : 0.0;
	append(out, size, &len, "verify: %llu/%llu done, %.*f/s, %llu open, %llu in flight, ETA %s",
	       (unsigned long long)stats->finished, (unsigned long long)stats->targets, pace < 10 ? 1 : 0, pace,
	       (unsigned long long)open, (unsigned long long)stats->in_flight, eta_text);
	char waiting[256];
	if (probe_progress_waits(waits, now, wall_now, waiting, sizeof waiting) > 0)
		append(out, size, &len, "; %s", waiting);
	return len;
}
