#include "track/letter_state.h"
#include "core/util.h"

#include <string.h>

static const char *const state_names[LETTER_STATE_COUNT] = {
    [LETTER_QUEUED] = "queued",		[LETTER_SENDING] = "sending", [LETTER_SENT] = "sent",
    [LETTER_DEFERRED] = "deferred",	[LETTER_FAILED] = "failed",   [LETTER_BOUNCED] = "bounced",
    [LETTER_SUPPRESSED] = "suppressed", [LETTER_SKIPPED] = "skipped",
};

static const char *const event_names[LETTER_EVENT_COUNT] = {
    [LETTER_EV_CLAIM] = "claim",
    [LETTER_EV_ACCEPTED] = "accepted",
    [LETTER_EV_TEMPFAIL] = "tempfail",
    [LETTER_EV_PERMFAIL] = "permfail",
    [LETTER_EV_BOUNCE] = "bounce",
    [LETTER_EV_SUPPRESS] = "suppress",
    [LETTER_EV_SKIP] = "skip",
    [LETTER_EV_RESOLVE_SENT] = "resolve-sent",
    [LETTER_EV_RESOLVE_UNSENT] = "resolve-unsent",
};

/* Every allowed move; anything else is invalid. */
static const struct {
	enum letter_state from;
	enum letter_event event;
	enum letter_state to;
} moves[] = {
    {LETTER_QUEUED, LETTER_EV_CLAIM, LETTER_SENDING},
    {LETTER_DEFERRED, LETTER_EV_CLAIM, LETTER_SENDING},
    {LETTER_SENDING, LETTER_EV_ACCEPTED, LETTER_SENT},
    {LETTER_SENDING, LETTER_EV_TEMPFAIL, LETTER_DEFERRED},
    {LETTER_SENDING, LETTER_EV_PERMFAIL, LETTER_FAILED},
    {LETTER_SENT, LETTER_EV_BOUNCE, LETTER_BOUNCED},
    {LETTER_QUEUED, LETTER_EV_SUPPRESS, LETTER_SUPPRESSED},
    {LETTER_DEFERRED, LETTER_EV_SUPPRESS, LETTER_SUPPRESSED},
    {LETTER_QUEUED, LETTER_EV_SKIP, LETTER_SKIPPED},
    {LETTER_DEFERRED, LETTER_EV_SKIP, LETTER_SKIPPED},
    {LETTER_SENDING, LETTER_EV_RESOLVE_SENT, LETTER_SENT},
    {LETTER_SENDING, LETTER_EV_RESOLVE_UNSENT, LETTER_QUEUED},
};

enum letter_state letter_transition(enum letter_state from, enum letter_event event)
{
	for (size_t i = 0; i < ARRAY_SIZE(moves); i++)
		if (moves[i].from == from && moves[i].event == event)
			return moves[i].to;
	return LETTER_INVALID;
}

const char *letter_state_name(enum letter_state state)
{
	return state >= 0 && state < LETTER_STATE_COUNT ? state_names[state] : NULL;
}

enum letter_state letter_state_parse(const char *name)
{
	for (int i = 0; name != NULL && i < LETTER_STATE_COUNT; i++)
		if (strcmp(state_names[i], name) == 0)
			return (enum letter_state)i;
	return LETTER_INVALID;
}

const char *letter_event_name(enum letter_event event)
{
	return event >= 0 && event < LETTER_EVENT_COUNT ? event_names[event] : NULL;
}
