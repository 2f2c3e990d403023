/*
 * SIGINT and SIGTERM during a long verb. The verb stops cleanly (what is done
 * stays stored, the rest stays pending) and main() exits 130 after a SIGINT,
 * as a shell reports a command it interrupted; SIGTERM is the orderly stop a
 * supervisor asks for and leaves the verb's own status.
 *
 * A verb with an event loop (verify, sink) watches the signals in its loop; a
 * verb without one (attribute) polls *cli_stop_flag() between steps. A verb
 * whose every write is one transaction (attribute load) keeps the default
 * action: killed by SIGINT, it leaves the store as it was, and the shell sees
 * the same 130.
 */
#ifndef PLUGHOLE_CLI_INTERRUPT_H
#define PLUGHOLE_CLI_INTERRUPT_H

#include <signal.h>

struct event;
struct event_base;

struct cli_signals {
	struct event *events[2];
	void (*stop)(void *arg); /* NULL: leave the event loop */
	void *arg;
	struct event_base *base;
};

/* Calls stop(arg) on SIGINT or SIGTERM (a second one ends the process); 0, or -1 logged. */
int cli_signals_watch(struct cli_signals *s, struct event_base *base, void (*stop)(void *arg), void *arg);
void cli_signals_free(struct cli_signals *s);

/* Without an event loop: the first SIGINT or SIGTERM sets *cli_stop_flag(); a second ends the process. */
void cli_signals_catch(void);
volatile sig_atomic_t *cli_stop_flag(void);

/* The signal that stopped the verb, 0 when none did. */
int cli_stopped_by(void);

#endif
