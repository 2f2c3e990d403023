/*
 * Moving a stored letter: its state read, the move looked up in the table
 * (letter_state.h), written only if nobody moved it meanwhile. The one way a
 * sender, a bounce or an operator changes a letter's state.
 */
#ifndef PLUGHOLE_LETTERS_H
#define PLUGHOLE_LETTERS_H

#include <stdint.h>
#include <time.h>

#include "store/store.h"
#include "track/letter_state.h"

enum {
	LETTER_APPLY_INVALID = -1, /* the table has no such move from the letter's state */
	LETTER_APPLY_RACED = -2,   /* another process moved it first: read again */
	LETTER_APPLY_ERROR = -3,   /* no such letter, or the store failed (logged) */
};

/* The letter's new state, or one of the negative values above. reason may be NULL. */
int letter_apply(struct store *store, int64_t letter_id, enum letter_event event, const char *reason,
		 time_t now);

#endif
