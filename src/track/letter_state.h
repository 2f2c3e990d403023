/*
 * A letter's life, as explicit stored names (letters.state, with a CHECK in
 * the store), and the only moves allowed between them: a table, so a sender
 * cannot move a letter wrongly (a sent letter never goes back to queued, so
 * it is never sent twice).
 *
 *   queued ──claim──▶ sending ──accepted──▶ sent ──bounce──▶ bounced
 *     ▲  │               │ └──tempfail──▶ deferred ──claim──▶ sending
 *     │  │               └───permfail──▶ failed
 *     │  └─suppress/skip──▶ suppressed / skipped   (also from deferred)
 *     └──────── resolve-unsent ── sending (after a crash: the operator says it never went)
 *               resolve-sent  ── sending ──▶ sent (it did go)
 */
#ifndef PLUGHOLE_LETTER_STATE_H
#define PLUGHOLE_LETTER_STATE_H

enum letter_state {
	LETTER_INVALID = -1,
	LETTER_QUEUED,
	LETTER_SENDING,
	LETTER_SENT,
	LETTER_DEFERRED,
	LETTER_FAILED,
	LETTER_BOUNCED,
	LETTER_SUPPRESSED,
	LETTER_SKIPPED,
	LETTER_STATE_COUNT
};

enum letter_event {
	LETTER_EV_CLAIM,	  /* a sender takes it, before the first byte goes */
	LETTER_EV_ACCEPTED,	  /* the smarthost said 2xx after the data */
	LETTER_EV_TEMPFAIL,	  /* 4xx, or the connection broke: try again later */
	LETTER_EV_PERMFAIL,	  /* 5xx at submission */
	LETTER_EV_BOUNCE,	  /* a DSN came back for a sent letter */
	LETTER_EV_SUPPRESS,	  /* a suppression rule matches (at create or at send) */
	LETTER_EV_SKIP,		  /* the operator leaves it out */
	LETTER_EV_RESOLVE_SENT,	  /* left in sending by a crash: it did go */
	LETTER_EV_RESOLVE_UNSENT, /* left in sending by a crash: it never went */
	LETTER_EVENT_COUNT
};

/* The state after event, or LETTER_INVALID when the move is not allowed. */
enum letter_state letter_transition(enum letter_state from, enum letter_event event);
/* The stored name ("queued", ...); NULL when out of range. */
const char *letter_state_name(enum letter_state state);
enum letter_state letter_state_parse(const char *name);
const char *letter_event_name(enum letter_event event);

#endif
