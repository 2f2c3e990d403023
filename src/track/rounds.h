/*
 * Rounds (store migration 8): the names of their kinds and states, and the
 * lock a process holds on a round while it writes into it. A round left
 * 'running' whose lock is free was left by a process that died: a recheck
 * round is resumed by the next recheck, a plain verify's or an owner
 * check's round is settled as interrupted.
 */
#ifndef PLUGHOLE_ROUNDS_H
#define PLUGHOLE_ROUNDS_H

#include <stdint.h>

#include "store/store.h"

#define ROUND_KIND_VERIFY "verify"
#define ROUND_KIND_RECHECK "recheck"
#define ROUND_KIND_OWNER "owner"
#define ROUND_RUNNING "running"
#define ROUND_DONE "done"
#define ROUND_INTERRUPTED "interrupted"

/*
 * Takes this process's lock on round (a byte of DB.rounds.lock, an open file
 * description lock: it goes with the process). 0 held now, 1 another process
 * holds it, -1 error (logged).
 */
int round_lock(const char *db_path, int64_t round);
/* Gives back every round lock this process took: its runs into them are over ('recheck --due', one campaign
 * after another, would otherwise hold one per campaign). */
void round_unlock_all(void);
/* Whether a process holds round's lock: 1 held (by any process, this one too), 0 free, -1 error. */
int round_locked(const char *db_path, int64_t round);
/*
 * With the store's verify lock held: a plain verify's round left running is
 * interrupted, and so is an owner check's whose lock is free. Recheck rounds
 * stay running, to be resumed. 0 or -1.
 */
int rounds_settle(struct store *store, const char *db_path);

#endif
