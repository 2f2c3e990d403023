#include "track/letters.h"

#include "core/log.h"

int letter_apply(struct store *store, int64_t letter_id, enum letter_event event, const char *reason,
		 time_t now)
{
	char name[32];
	int found = store_letter_state(store, letter_id, name, sizeof name);
	if (found != 1) {
		if (found == 0)
			log_error("letter %lld: no such letter", (long long)letter_id);
		return LETTER_APPLY_ERROR;
	}
	enum letter_state from = letter_state_parse(name);
	enum letter_state to = letter_transition(from, event);
	if (to == LETTER_INVALID)
		return LETTER_APPLY_INVALID;
	int moved = store_letter_set_state(store, letter_id, letter_state_name(from), letter_state_name(to),
					   reason, now);
	return moved == 1 ? (int)to : moved == 0 ? LETTER_APPLY_RACED : LETTER_APPLY_ERROR;
}
