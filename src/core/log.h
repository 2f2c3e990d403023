/*
 * Logging to stderr with a global verbosity set once by the CLI, and the
 * progress line, which shares stderr with the log: this file owns the
 * terminal, so a log line never lands on the progress line.
 */
#ifndef PLUGHOLE_LOG_H
#define PLUGHOLE_LOG_H

enum log_level { LOG_QUIET = 0, LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Seconds between status lines when stderr is not a terminal (a pipe, a log
 * file): zmap writes one a second to a terminal and a log alike; a log file
 * reads better at a few seconds.
 */
#define LOG_STATUS_INTERVAL 5 /* seconds */
#define LOG_STR(x) LOG_STR_(x) /* the interval as text, for usage texts */
#define LOG_STR_(x) #x

enum log_progress_mode {
	LOG_PROGRESS_OFF,    /* -q, or nothing to show */
	LOG_PROGRESS_LINE,   /* stderr is a terminal: one line, redrawn in place */
	LOG_PROGRESS_STATUS, /* otherwise: a status line every interval */
};

/* Starts a progress display; the mode follows stderr (a terminal or not) and the verbosity. */
enum log_progress_mode log_progress_begin(double interval);
/* The progress now: redrawn on a terminal, else written when the interval has passed. */
void log_progress(const char *line);
/* Ends it: on a terminal the last line stays (a newline after it); elsewhere it is written once more;
 * nothing when no line was shown (a run shorter than a second, or than the interval). */
void log_progress_end(const char *line);

#endif
