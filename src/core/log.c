#include "core/log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

static enum log_level current_level = LOG_INFO;

void log_set_level(enum log_level level) { current_level = level; }
enum log_level log_get_level(void) { return current_level; }

/* The progress display: what it shows, and whether it is on the terminal now. */
static struct {
	enum log_progress_mode mode;
	double interval, last; /* status lines: seconds between them, when the last went */
	char line[512];
	bool drawn; /* the line is on the terminal, the cursor at its end */
	bool shown; /* a line was shown: the last one is shown too */
} progress;

static double monotonic(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Back to the start of the progress line, cleared: what comes next has the line to itself. */
static void progress_erase(void)
{
	if (progress.drawn)
		fputs("\r\033[K", stderr);
	progress.drawn = false;
}

/* The line, cut to the terminal's width: a wrapped line could not be redrawn in place. */
static void progress_draw(void)
{
	struct winsize ws;
	int width = ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1 ? ws.ws_col - 1 : 79;
	fprintf(stderr, "%.*s", width, progress.line);
	fflush(stderr);
	progress.drawn = true;
}

static void log_emit(enum log_level level, const char *prefix, const char *fmt, va_list ap)
{
	if (level > current_level)
		return;
	bool redraw = progress.drawn;
	progress_erase();
	fprintf(stderr, "plughole: %s", prefix);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	if (redraw)
		progress_draw();
}

#define LOG_FUNCTION(name, level, prefix)             \
	void name(const char *fmt, ...)               \
	{                                             \
		va_list ap;                           \
		va_start(ap, fmt);                    \
		log_emit(level, prefix, fmt, ap);     \
		va_end(ap);                           \
	}

LOG_FUNCTION(log_error, LOG_ERROR, "error: ")
LOG_FUNCTION(log_warn, LOG_WARN, "warning: ")
LOG_FUNCTION(log_info, LOG_INFO, "")
LOG_FUNCTION(log_debug, LOG_DEBUG, "debug: ")

enum log_progress_mode log_progress_begin(double interval)
{
	progress_erase();
	progress.mode = current_level < LOG_INFO ? LOG_PROGRESS_OFF
			: isatty(STDERR_FILENO)  ? LOG_PROGRESS_LINE
						 : LOG_PROGRESS_STATUS;
	progress.interval = interval;
	progress.last = monotonic();
	progress.line[0] = '\0';
	progress.shown = false;
	return progress.mode;
}

void log_progress(const char *line)
{
	snprintf(progress.line, sizeof progress.line, "%s", line);
	if (progress.mode == LOG_PROGRESS_LINE) {
		progress_erase();
		progress_draw();
		progress.shown = true;
	} else if (progress.mode == LOG_PROGRESS_STATUS && monotonic() - progress.last >= progress.interval) {
		progress.last = monotonic();
		fprintf(stderr, "plughole: %s\n", progress.line);
		progress.shown = true;
	}
}

void log_progress_end(const char *line)
{
	if (!progress.shown || line[0] == '\0') { /* too short a run for a line: none at the end either */
		progress_erase();
	} else if (progress.mode == LOG_PROGRESS_LINE) {
		log_progress(line);
		fputc('\n', stderr);
		progress.drawn = false;
	} else if (progress.mode == LOG_PROGRESS_STATUS) {
		fprintf(stderr, "plughole: %s\n", line);
	}
	progress.mode = LOG_PROGRESS_OFF;
}
