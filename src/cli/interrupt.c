#include "cli/interrupt.h"

#include <event2/event.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"

/* The signal caught: set by a handler, so only a sig_atomic_t. */
static volatile sig_atomic_t caught;

static void on_signal(evutil_socket_t signal_number, short what, void *arg)
{
	struct cli_signals *s = arg;
	if (caught != 0) { /* a second one while stopping: end at once, by the signal */
		signal((int)signal_number, SIG_DFL);
		raise((int)signal_number);
		return;
	}
	caught = (sig_atomic_t)signal_number;
	log_info("%s: stopping", strsignal((int)signal_number));
	if (s->stop != NULL)
		s->stop(s->arg);
	else
		event_base_loopbreak(s->base);
}

int cli_signals_watch(struct cli_signals *s, struct event_base *base, void (*stop)(void *arg), void *arg)
{
	static const int signals[] = {SIGINT, SIGTERM};
	*s = (struct cli_signals){.stop = stop, .arg = arg, .base = base};
	for (size_t i = 0; i < ARRAY_SIZE(signals); i++) {
		s->events[i] = evsignal_new(base, signals[i], on_signal, s);
		if (s->events[i] == NULL || evsignal_add(s->events[i], NULL) != 0) {
			log_error("cannot watch for %s", strsignal(signals[i]));
			cli_signals_free(s);
			return -1;
		}
	}
	return 0;
}

void cli_signals_free(struct cli_signals *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(s->events); i++) {
		if (s->events[i] != NULL)
			event_free(s->events[i]);
		s->events[i] = NULL;
	}
}

static void on_signal_flag(int signal_number) { caught = (sig_atomic_t)signal_number; }

void cli_signals_catch(void)
{
	struct sigaction action;
	memset(&action, 0, sizeof action);
	action.sa_handler = on_signal_flag;
	action.sa_flags = SA_RESETHAND; /* the second signal finds the default action */
	sigemptyset(&action.sa_mask);
	sigaction(SIGINT, &action, NULL);
	sigaction(SIGTERM, &action, NULL);
}

volatile sig_atomic_t *cli_stop_flag(void) { return &caught; }

int cli_stopped_by(void) { return (int)caught; }
