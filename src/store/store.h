/*
 * The store: one SQLite database (WAL mode, so the sink and the verifier can
 * share it) holding everything plughole knows. All SQL lives in src/store/,
 * one file per group of tables (store_internal.h lists the statements by
 * file); the rest of plughole calls the functions below.
 *
 * Functions return 0 (or a count/id >= 0) on success and -1 on error, after
 * logging what went wrong.
 *
 * Portability (for a PostgreSQL backend): the statements are plain SQL with
 * ?N parameters (numbered in order: $N there) and RETURNING / ON CONFLICT,
 * except for these SQLite-only constructs that remain:
 *   - unixepoch(), strftime(..., 'unixepoch') (findings, proofs, attrib);
 *   - sqlar_uncompress(), our own function over deflated transcripts (store_zlib.c);
 *   - INSERT OR IGNORE (candidates, proofs, reconciled findings): ON CONFLICT DO NOTHING;
 *   - IS / IS NOT against a value (outcome IS NOT 'message-withdrawn', run_id IS ?N):
 *     IS [NOT] DISTINCT FROM;
 *   - max()/sum() over comparisons (0/1 integers) and two-argument max() (greatest());
 *   - bare columns beside min()/max() in a GROUP BY (FIRST_BINDINGS and the reconcile
 *     in store_findings.c: the row of the minimum), and an output alias in HAVING (owners);
 *   - "+run_id", a planner hint (harmless elsewhere);
 *   - the schema: INTEGER PRIMARY KEY rowids, WITHOUT ROWID, CROSS JOIN ... ON in the
 *     proof_bindings view, PRAGMA user_version as the migration count (store_schema.c);
 *   - the C side: sqlite3_last_insert_rowid/sqlite3_changes, incremental blob reads of
 *     snapshot parts (store_attrib.c), and the busy timeout and WAL sharing (store.c).
 */
#ifndef PLUGHOLE_STORE_H
#define PLUGHOLE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/addr.h"

struct store;

/*
 * How a verb opens the store. CREATE makes it when absent (ingest, verify,
 * sink, attribute load); UPDATE and READ want one that exists, so a mistyped
 * --db is an error, not a new empty store. READ is for verbs that only read:
 * a store in a read-only file or directory is opened read-only (store.c says
 * how WAL allows it), and an older schema is brought up to date when the
 * store may be written, else refused with the reason.
 */
enum store_mode { STORE_CREATE, STORE_UPDATE, STORE_READ };

struct store *store_open_mode(const char *path, enum store_mode mode);
/* store_open_mode(path, STORE_CREATE) */
struct store *store_open(const char *path);
void store_close(struct store *store);
int store_schema_version(struct store *store);
/* The version this plughole's migrations bring a store to. */
int store_schema_latest(void);

/* Batches writes; begin is IMMEDIATE so a second writer waits instead of failing late. */
int store_begin(struct store *store);
/* Commits the open transaction; 0 when none is open (a user of the same connection committed it). */
int store_commit(struct store *store);
void store_rollback(struct store *store);

int store_meta_set(struct store *store, const char *key, const char *value);
/* Copies the value into buf; 1 found, 0 absent, -1 error. */
int store_meta_get(struct store *store, const char *key, char *buf, size_t buflen);

/* ---- candidates and where they came from (store_candidates.c) ---- */

/* Id of the named source, created if new. */
int64_t store_source_id(struct store *store, const char *name, const char *format);
/* not_open: rows the feed itself says are not open (ZMap success 0, a closed port); not stored. */
struct ingest_counts {
	uint64_t lines, taken, excluded, duplicate, bad, not_open;
};
struct store_candidate {
	struct addr address;
	uint16_t port;
};
/*
 * Stores a batch of candidates in the open transaction, sorted first in the
 * order of the (address, port) index so that inserts from a feed in random
 * order land near each other; counts new ones as taken, known ones (whose
 * sources grow) as duplicate. The batch is reordered. 0 or -1.
 */
int store_candidates_put(struct store *store, struct store_candidate *batch, size_t n, int64_t source_id,
			 time_t now, struct ingest_counts *counts);
/* One candidate (verify's named targets): 1 new, 0 already known (its sources grow), -1 error. */
int store_candidate_put(struct store *store, const struct addr *address, uint16_t port,
			int64_t source_id, time_t now);
/* A page cache of kib KiB for this connection (bulk ingest); 0 or -1. */
int store_cache_size(struct store *store, int kib);
int64_t store_candidate_count(struct store *store);

int store_ingest_run_put(struct store *store, int64_t source_id, const char *format, time_t started,
			 time_t finished, const struct ingest_counts *counts);

/* ---- proofs received by the sink (store_proofs.c; rejects: store_sink.c) ---- */

struct proof {
	const char *token;
	uint16_t campaign;
	struct addr address; /* the candidate the token was made for */
	uint16_t port;
	uint8_t test;
	uint32_t token_time;
	const char *peer;     /* who delivered it to the sink */
	const char *helo;
	const char *mail_from;
	const char *rcpt_to;  /* recipients, comma separated */
	time_t received;
	uint64_t size;
	const char *headers;  /* the message's header block, bounded */
};

/* 1 recorded, 0 already recorded (same token again), -1 error. */
int store_proof_put(struct store *store, const struct proof *proof);
int store_sink_reject_put(struct store *store, time_t when, const char *peer, const char *token,
			  const char *reason);
int64_t store_proof_count(struct store *store);

/* A listed row: each value as text (NULL for SQL NULL) with its type, so
 * output can keep numbers numbers. */
enum store_value_type { STORE_NULL, STORE_INTEGER, STORE_REAL, STORE_TEXT, STORE_BOOLEAN };
struct store_row {
	int count;
	const char *const *names;
	const char *const *values; /* NULL in the first call, which brings the names alone */
	const enum store_value_type *types;
};
/* Called first with the names alone (values NULL: a header even for no rows), then once per row. */
typedef void (*store_row_fn)(void *ctx, const struct store_row *row);
/* The row's value in the column called name; NULL when NULL or no such column. */
const char *store_row_value(const struct store_row *row, const char *name);
/* Calls fn for each proof row, newest last. The
 * proofs bound to a probe come first; those no probe sent (a token made by
 * hand, say) after them, marked "unmatched": they prove nothing. */
int store_proofs_each(struct store *store, store_row_fn fn, void *ctx);

/* The newest proof's id (0 when none), where a poll for new ones starts. */
int64_t store_proof_last_id(struct store *store);
/* Proofs stored after the one with id after, oldest first, at most limit; fn
 * gets each (its strings valid during the call). Returns the last id seen
 * (after when none), -1 on error. */
typedef void (*store_proof_fn)(void *ctx, const struct proof *proof);
int64_t store_proofs_since(struct store *store, int64_t after, int limit, store_proof_fn fn, void *ctx);

/* ---- the sink's TCP target (store_sink.c) ---- */

struct target_hit {
	const char *nonce;    /* sent in the banner; unique */
	const char *peer;     /* who connected, "ip:port" */
	const char *listener; /* the target's own "ip:port" */
	const char *request;  /* the first line the client sent, or NULL */
	const char *token;    /* a genuine token in that line, or NULL */
	time_t received;
};

int store_target_hit_put(struct store *store, const struct target_hit *hit);
/*
 * Makes everything this connection wrote durable now: commits the open
 * transaction (an in-process verifier's batch) and begins the next one in its
 * place, so the batch's owner goes on as before. 0, or -1 when the commit
 * failed (what it held is not durable).
 */
int store_sink_commit(struct store *store);

/* ---- proxy verification's look-ups of what the sink saw (store_sink.c, store_proofs.c) ---- */

/*
 * Who reached the target that sent nonce, at since or later, with token in
 * its request or none: 1 found (peer copied), 0 not, -1 error.
 */
int store_target_hit_find(struct store *store, const char *nonce, const char *token, time_t since, char *peer,
			  size_t peerlen);
/*
 * Whether token arrived as proof bound to a probe of run (see proof_bindings in
 * store_schema.c): 1 found (its test id and the delivering peer copied), 0 not,
 * -1 error.
 */
int store_proof_find(struct store *store, int64_t run, const char *token, uint8_t *test, char *peer,
		     size_t peerlen);
/* Whether the proof with token binds to a probe of run: 1 (the probe's variant copied), 0 not, -1 error. */
int store_proof_bound(struct store *store, int64_t run, const char *token, char *variant, size_t variantlen);

/* ---- verification: runs and probes (store_probes.c), pending candidates (store_candidates.c),
 * findings (store_findings.c) ---- */

/* A verification run: its probes and findings name it, and proofs count only
 * for the run whose probe sent their token. Returns the run's id, -1 on error. */
int64_t store_run_begin(struct store *store, time_t started, double wait, uint16_t campaign, bool external_sink);
/* The same, the run writing into round (store_round_begin; 0: none): one row, one write. */
int64_t store_run_begin_in(struct store *store, time_t started, double wait, uint16_t campaign, bool external_sink,
			   int64_t round);
/* status: "done", "stopped" or "failed". */
int store_run_end(struct store *store, int64_t run, time_t finished, const char *status);

typedef void (*store_candidate_fn)(void *ctx, int64_t id, const char *address, uint16_t port);
/* Candidates without a finding, oldest first, except relays that a test
 * message may have gone to already (a relay gets one message, ever). */
int store_candidates_pending(struct store *store, store_candidate_fn fn, void *ctx);
/* The candidate's id, 0 when absent, -1 on error. */
int64_t store_candidate_id(struct store *store, const struct addr *address, uint16_t port);

struct finding {
	int64_t candidate_id;
	const char *verdict;      /* a verdict name (probe/verdict.h) */
	const char *test;         /* "relay" or "proxy" */
	const char *variant;      /* the test variant that worked, if any */
	const char *protocol;     /* the probe module */
	const char *software;
	bool tls;
	const char *token;        /* the token that proved it */
	const char *exit_address; /* where the sink saw the message come from */
	const char *transcript;   /* bounded */
	unsigned attempts;
	time_t checked;
	int64_t run;              /* the run that decided it (store_run_begin) */
};
/* The verdict into findings (the latest) and, when its run has a round, into round_findings, in one transaction. */
int store_finding_put(struct store *store, const struct finding *finding);
/* A proof bound to one of its run's probes upgrades a written finding (to open-relay, ...), and the row of
 * the run's round. */
int store_finding_proven(struct store *store, int64_t run, int64_t candidate_id, const char *verdict,
			 const char *variant, const char *token, const char *exit_address, time_t when);
/*
 * One row per test message, and what became of it (its outcome):
 *   message-due        recorded, committed before the message may go; after a
 *                      crash, it may or may not have gone: it never goes again
 *                      and gives no verdict (only a proof bound to it does)
 *   message-written    written to the server, no answer yet (or none came)
 *   message-sent       the server accepted it (2xx after the dot)
 *   message-refused    the server answered it otherwise (it may still deliver)
 *   message-withdrawn  never went
 * A proxy's message is recorded once it went (it reaches only our sink).
 */
int store_probe_put(struct store *store, int64_t run, int64_t candidate_id, const char *test, const char *variant,
		    const char *token, time_t when, const char *outcome, const char *reply);
/* When the newest probe began (0: none), -1 on error. */
int64_t store_probe_last_started(struct store *store);
/* What became of that message (one of the outcomes above, reply may be NULL). */
int store_probe_answer(struct store *store, int64_t run, const char *token, const char *outcome, const char *reply,
		       time_t when);
/* Repairs what a crash or a late proof left: returns how many findings changed. */
int store_findings_reconcile(struct store *store);
/* After store_findings_reconcile: relay candidates without a finding whose test message's fate is
 * unknown (see message-due); -1 on error. */
int64_t store_messages_unknown(struct store *store);
/* Test messages of this test that may have gone to the candidate (all but withdrawn ones); -1 on error. */
int64_t store_messages_gone(struct store *store, int64_t candidate_id, const char *test);
/* Findings with their candidate, optionally only one verdict (NULL: all). */
int store_findings_each(struct store *store, const char *verdict, bool transcript, store_row_fn fn, void *ctx);

/* ---- rounds: every verification a round with its own verdicts (store_rounds.c; migrations 8, 9) ---- */

struct store_round {
	int64_t id, campaign_id, seq; /* campaign_id, seq: 0 when none (only rechecks have them) */
	char kind[16];                /* "verify", "recheck" or "owner" */
	char requested_by[128];       /* an owner check's "ticket:T" or "address:A", else "" */
	char status[16];              /* "running", "done" or "interrupted" */
	time_t started, finished;     /* finished 0: not yet */
};
typedef int (*store_round_fn)(void *ctx, const struct store_round *round);

/* A new round, 'running'; campaign_id and seq 0 for none, requested_by NULL for none. Its id, or -1. */
int64_t store_round_begin(struct store *store, const char *kind, int64_t campaign_id, int64_t seq,
			  const char *requested_by, time_t started);
/* status "done" or "interrupted" (or "running" again, finished 0). */
int store_round_end(struct store *store, int64_t round, const char *status, time_t finished);
/* 1 and *out, 0 no such round, -1 error. */
int store_round_get(struct store *store, int64_t round, struct store_round *out);
/* The campaign's newest recheck round: 1 and *out, 0 none yet, -1 error. */
int store_recheck_last(struct store *store, int64_t campaign_id, struct store_round *out);
/* Rounds left 'running', oldest first; owner rounds started at since or later. fn non-zero stops. */
int store_rounds_running_each(struct store *store, store_round_fn fn, void *ctx);
int store_owner_rounds_since_each(struct store *store, time_t since, store_round_fn fn, void *ctx);
/*
 * What a crash or a late proof left, per round (as store_findings_reconcile does for findings):
 * the round's rows for messages that went, proofs bound to its probes. Touches round, and with
 * others (the caller holds the store's verify lock) every round but an owner check still running.
 * Then findings catches up. Returns how many round rows changed, or -1.
 */
int store_round_reconcile(struct store *store, int64_t round, bool others);
/* The round's rows (the findings columns, with round, kind, seq and checked), optionally of one verdict. */
int store_round_findings_each(struct store *store, int64_t round, const char *verdict, bool transcript,
			      store_row_fn fn, void *ctx);
/* Every round's row for address (port 0: every port), oldest round first. */
int store_finding_history_each(struct store *store, const char *address, uint16_t port, const char *verdict,
			       bool transcript, store_row_fn fn, void *ctx);
/* candidate_id and verdict of each row of the round. */
int store_round_verdicts_each(struct store *store, int64_t round,
			      void (*fn)(void *ctx, int64_t candidate_id, const char *verdict), void *ctx);
/* A campaign's frozen host: its candidate, address, port and frozen test ("relay", "proxy"). Non-zero stops
 * (negative: an error, returned as -1). */
typedef int (*store_host_fn)(void *ctx, int64_t candidate_id, const char *address, uint16_t port, const char *test);
/* The campaign's hosts, treatment and control, that have no row in round yet. */
int store_recheck_hosts_each(struct store *store, int64_t campaign_id, int64_t round, store_host_fn fn, void *ctx);
/* The recheck round's hosts by group and outcome (campaign_round_outcomes): grp, outcome, hosts. */
int store_round_outcomes_each(struct store *store, int64_t round, store_row_fn fn, void *ctx);

/* A campaign's recheck schedule (seconds). */
struct store_schedule {
	int64_t campaign_id, every, rounds, at_least_after;
	char name[128];
	time_t created; /* the campaign's */
};
int store_schedule_set(struct store *store, int64_t campaign_id, int64_t every, int64_t rounds,
		       int64_t at_least_after);
/* Every schedule, by campaign name; *out malloc'd. */
int store_schedules_read(struct store *store, struct store_schedule **out, size_t *count);
/* When the campaign was created (UTC seconds), -1 on error. */
int64_t store_campaign_created(struct store *store, int64_t campaign_id);

/* ---- attribution: registry snapshots, RDAP cache, owners (store_attrib.c) ---- */

struct store_blob {
	const char *name;
	void *data; /* from a read: malloc'd, the caller's to keep (set to NULL) or leave to free */
	size_t len;
};

/* One loaded source (a dump file): its counts, and its data as named blobs. */
struct store_snapshot_info {
	int64_t id; /* set by reads */
	char source[128], format[16], registry[32], file[512];
	int64_t loaded, bytes, objects, ranges, keys, malformed, skipped;
};

#define STORE_SNAPSHOT_MAX_PARTS 8
struct store_snapshot {
	struct store_snapshot_info info;
	struct store_blob parts[STORE_SNAPSHOT_MAX_PARTS];
	size_t part_count;
};

/*
 * Replaces the source's snapshot in one transaction: readers see the old or
 * the new one. Replacing or removing a snapshot drops the attributions (each
 * rests on every snapshot), in the same transaction: 'attribute' redoes them.
 */
int store_registry_replace(struct store *store, const struct store_snapshot_info *info,
			   const struct store_blob *parts, size_t count);
/* 1 removed, 0 no such source. */
int store_registry_remove(struct store *store, const char *source);
/* Every snapshot with its blobs, read in one transaction. */
int store_registry_read(struct store *store, struct store_snapshot **out, size_t *count);
void store_registry_free(struct store_snapshot *snapshots, size_t count);
/* The snapshots' counts, one row each. */
int store_registry_each(struct store *store, store_row_fn fn, void *ctx);

/* An RDAP answer for a network (status 200), or that there is none (404). */
struct store_rdap_net {
	struct range range;
	char registry[128]; /* the server that answered */
	int status;
	char handle[128], name[128], country[3], org[256], abuse[256], parent[128], url[512];
	int64_t fetched, expires;
};
/* The smallest unexpired cached network holding address: 1 found, 0 none, -1 error. */
int store_rdap_get(struct store *store, const struct addr *address, time_t now, struct store_rdap_net *out);
int store_rdap_put(struct store *store, const struct store_rdap_net *net);

struct store_pending {
	int64_t candidate_id;
	struct addr address;
};
/* Findings without an attribution (all findings when all is set), in candidate order. */
int store_attribution_pending(struct store *store, bool all, struct store_pending **out, size_t *count);

struct store_attribution {
	int64_t candidate_id;
	const char *organisation; /* the owner: who holds the range (never the end user) */
	const char *org_handle;   /* its registry handle, or NULL */
	const char *contact;      /* where the letter goes */
	const char *rung;         /* which fallback gave the contact (attrib/owners.h) */
	const char *range, *object; /* the range and the registry object that decided */
	uint32_t asn;             /* origin AS, 0 when unknown */
	const char *as_name, *country, *agency;
	const char *method;       /* "bulk" or "rdap" */
	time_t when;
	const char *further;      /* the rungs below: JSON [{"rung", "contact"}...], or NULL */
};
/* Records the attribution, creating its owner if new; returns the owner's id or -1. */
int64_t store_attribution_put(struct store *store, const struct store_attribution *a);
/* Owners with hosts, hosts and open (proven) counts, largest first; open_only: owners with open hosts, most first. */
int store_owners_each(struct store *store, bool open_only, store_row_fn fn, void *ctx);
struct store_attribution_counts {
	int64_t attributed, by_rdap; /* attributions, and those an RDAP answer helped make */
	int64_t pending;             /* findings without one */
};
int store_attribution_counts(struct store *store, struct store_attribution_counts *out);
/* One row per attributed finding: owner, address, port, verdict, rung, contact, ... */
int store_attributions_each(struct store *store, store_row_fn fn, void *ctx);

/* ---- campaigns: frozen findings, owners, groups, letters (store_campaigns.c) ---- */

/* An open finding as campaign create reads it, with its attribution (NULLs when none). */
struct store_campaign_finding {
	int64_t candidate_id, run_id; /* run_id 0: none */
	const char *address;
	uint16_t port;
	const char *verdict, *test, *variant, *protocol, *software, *token, *exit_address;
	bool tls;
	int64_t proved; /* when the bound proof arrived (UTC); 0: no proof binds to its verdict */
	int64_t owner_id; /* 0: no attribution */
	const char *organisation, *org_handle, *contact, *rung, *range, *object, *as_name, *country, *agency;
	uint32_t asn;
	const char *further; /* the attribution's further contacts (JSON), or NULL */
};
typedef int (*store_campaign_finding_fn)(void *ctx, const struct store_campaign_finding *finding);
/*
 * Every finding whose latest verdict is open (open-relay, open-proxy-mail,
 * open-proxy-web), in candidate order, with when the proof of that verdict
 * arrived: for mail verdicts a proof bound (proof_bindings) to a probe of the
 * finding's run carrying the finding's token; for open-proxy-web the sink's
 * target saw the finding's token after its run began. fn returning non-zero stops.
 */
int store_campaign_findings_each(struct store *store, store_campaign_finding_fn fn, void *ctx);

struct store_campaign {
	const char *name;
	time_t created;
	const char *verdicts;  /* comma separated */
	double control_fraction;
	int64_t seed;
	const char *agencies, *countries; /* the filters, comma separated, or NULL */
	const char *domain;    /* of Message-IDs and VERP addresses */
	const char *key_salt;  /* for the ticket keys (track/ticket.h) */
	int64_t skipped_unattributed;
};
/* The new campaign's id; 0 when one of that name exists. */
int64_t store_campaign_insert(struct store *store, const struct store_campaign *campaign);
/* The campaign's id, 0 when absent, -1 on error. */
int64_t store_campaign_id(struct store *store, const char *name);

struct store_campaign_owner {
	int64_t campaign_id, owner_id;
	const char *organisation, *org_handle, *contact, *rung, *country, *agency, *verdict, *stratum;
	const char *group;   /* "treatment" or "control" */
	const char *further; /* its further contacts as attribute found them (JSON), or NULL */
};
int64_t store_campaign_owner_insert(struct store *store, const struct store_campaign_owner *owner);
/* Freezes one host of a campaign owner (the row's columns, copied). */
int store_campaign_host_insert(struct store *store, int64_t campaign_id, int64_t campaign_owner_id,
			       const struct store_campaign_finding *host, const char *suppressed_by);

struct store_letter {
	int64_t campaign_id, campaign_owner_id, previous_id; /* previous_id 0: none */
	const char *ticket, *ticket_key, *message_id, *recipient, *agency, *language, *template_name;
	const char *state;         /* a letter_state_name() */
	const char *suppressed_by; /* the rule, when state is suppressed */
	const char *reason;        /* why, when state is skipped */
	time_t created;
};
/* The new letter's id; 0 when its ticket or Message-ID is taken (draw another), -1 on error. */
int64_t store_letter_insert(struct store *store, const struct store_letter *letter);
/*
 * Moves a letter from one state to another (names; track/letter_state.h says
 * which moves exist) only if it is in from: 1 moved, 0 it was not, -1 error.
 */
int store_letter_set_state(struct store *store, int64_t letter_id, const char *from, const char *to,
			   const char *reason, time_t now);
/* The letter's state copied into buf: 1, 0 no such letter, -1 error. */
int store_letter_state(struct store *store, int64_t letter_id, char *buf, size_t buflen);
/* A submission attempt: begun (returns its id), then ended with the reply and an outcome word. */
int64_t store_letter_attempt_begin(struct store *store, int64_t letter_id, const char *smarthost, time_t now);
int store_letter_attempt_end(struct store *store, int64_t attempt_id, int smtp_code, const char *smtp_reply,
			     const char *outcome, time_t now);

/* The campaign's letters (state NULL: all), oldest first: id, campaign_owner_id, previous_id, ticket,
 * ticket_key, message_id, recipient, agency, language, template, state, suppressed_by, reason, created,
 * updated, next_attempt, organisation, "group", and the campaign's name and domain. */
int store_letters_each(struct store *store, int64_t campaign_id, const char *state, store_row_fn fn, void *ctx);
/* The hosts a letter is about (its owner's frozen hosts, those in a suppressed network left out),
 * in candidate order: every campaign_hosts column but the ids. */
int store_letter_hosts_each(struct store *store, int64_t letter_id, store_row_fn fn, void *ctx);

/* When a deferred letter may be tried again (UTC seconds). 0, or -1. */
int store_letter_schedule(struct store *store, int64_t letter_id, time_t next_attempt);
/* How many of the letter's attempts ended with outcome (e.g. "tempfail"), or -1. */
int64_t store_letter_attempts_count(struct store *store, int64_t letter_id, const char *outcome);
/* The newest attempt of a letter: its start and outcome ("started" when it never ended). 1, 0 none, -1. */
int store_letter_last_attempt(struct store *store, int64_t letter_id, time_t *started, char *outcome,
			      size_t outcomelen);

/* A letter found by its ticket, with what a follow-up letter needs. */
struct store_letter_ref {
	int64_t id, campaign_id, campaign_owner_id;
	char state[16], recipient[320], agency[64], language[16], template_name[64], domain[256],
	    campaign[80], key_salt[80];
	int64_t owner_id; /* the attribution's owner, 0 when none */
	char further[4096]; /* the campaign owner's further contacts (JSON), "" when none */
};
/* 1 and *out, 0 no such ticket, -1 error. */
int store_letter_by_ticket(struct store *store, const char *ticket, struct store_letter_ref *out);
/* Whether the campaign owner already has a letter to recipient (any state): 1, 0, -1. */
int store_letter_exists(struct store *store, int64_t campaign_owner_id, const char *recipient);

/* What came back for a letter (migration 7): kind bounce, delay, auto-reply, unsubscribe or other. */
struct store_letter_return {
	int64_t letter_id; /* 0: no letter has that ticket */
	const char *ticket, *kind, *shape, *action, *status, *recipient, *diagnostic, *peer;
	time_t received;
	const void *raw;
	size_t raw_len, raw_size; /* raw_len kept of raw_size received */
};
int store_letter_return_put(struct store *store, const struct store_letter_return *r);
/* Whether a transaction is open on the store's connection (an in-process sink's batch). */
bool store_in_transaction(struct store *store);

/* One row per campaign: name, created, hosts, owners, treatment, control, letters per state. */
int store_campaigns_each(struct store *store, store_row_fn fn, void *ctx);
/* One row per host of the campaign: its owner, group, letter, evidence. */
int store_campaign_hosts_each(struct store *store, int64_t campaign_id, store_row_fn fn, void *ctx);

/* ---- suppression: who never gets a letter (store_suppress.c) ---- */

/* kind "address", "domain" (value without '@') or "network" (range given). 1 added, 0 already there. */
int store_suppression_add(struct store *store, const char *kind, const char *value, const struct range *range,
			  const char *reason, time_t now);
/* 1 removed, 0 no such rule. */
int store_suppression_remove(struct store *store, const char *kind, const char *value);
/* kind, value, reason, added (UTC seconds), oldest first. */
int store_suppressions_each(struct store *store, store_row_fn fn, void *ctx);
/*
 * Whether a letter to contact (an e-mail address) about a host at address
 * (NULL: none) must not go: 1 with the rule that matched ("KIND VALUE: reason")
 * copied into rule, 0 not, -1 error. The address rule matches the contact
 * (case-insensitive), the domain rule its domain and subdomains, the network
 * rule the host. The sender calls it again at send time.
 */
int store_suppressed(struct store *store, const char *contact, const struct addr *address, char *rule,
		     size_t rulelen);

/* ---- the owners' web (store_web.c): reads only ---- */

/* Makes the connection a web reader: it refuses writes (PRAGMA query_only) and maps the file. 0 or -1. */
int store_web_query_only(struct store *store);
/* Before any store is opened in the process: SQLite set up for many reading threads. */
void store_web_setup(void);
/* One read transaction over several reads (one snapshot, one lock), ended by store_web_read_end. 0 or -1. */
int store_web_read_begin(struct store *store);
void store_web_read_end(struct store *store);
/* The campaign called name (NULL: the newest): its id (0 when none) and name copied; -1 on error. */
int64_t store_web_campaign(struct store *store, const char *name, char *out, size_t outlen);
/* agency, template, language of the campaign's letters and owners, distinct. */
int store_web_campaign_languages_each(struct store *store, int64_t campaign_id, store_row_fn fn, void *ctx);

struct store_web_ticket {
	int64_t letter_id, campaign_id, created;
	char key[40], state[16], campaign[80], organisation[256], recipient[320], language[16], agency[64];
};
/* The letter with that (canonical) ticket: 1, 0 none, -1 error. */
int store_web_ticket(struct store *store, const char *ticket, struct store_web_ticket *out);
/*
 * The letter's hosts (suppressed networks left out): address, port, verdict,
 * variant, protocol, software, tls, proved, exit_address, proof_peer,
 * proof_received, transcript (of the verification that proved it), and the
 * newest round that tested the host: round_kind, round_seq, round_started,
 * round_verdict, round_checked, round_outcome (campaign_round_outcomes' word
 * for a recheck of this campaign, else NULL).
 */
int store_web_ticket_hosts_each(struct store *store, int64_t letter_id, store_row_fn fn, void *ctx);
/* Returned mail of the campaign's letters: kind, count. */
int store_web_bounces_each(struct store *store, int64_t campaign_id, store_row_fn fn, void *ctx);
/* The campaign's rounds: kind, rounds, running, latest (started). */
int store_web_rounds_each(struct store *store, int64_t campaign_id, store_row_fn fn, void *ctx);
/* Per group (treatment, control): hosts, and the latest recheck's fixed, still_open, gone, unknown. */
int store_web_outcomes_each(struct store *store, int64_t campaign_id, store_row_fn fn, void *ctx);
/* The newest proofs (received, address, port, peer) and sink rejects (received, peer, reason), at most limit. */
int store_web_proofs_recent_each(struct store *store, int limit, store_row_fn fn, void *ctx);
int store_web_rejects_recent_each(struct store *store, int limit, store_row_fn fn, void *ctx);

/* ---- exports (store_export.c) ---- */

/* A host:port whose latest verdict is listed; strings valid during the call only. */
struct store_dnsbl_row {
	const char *address;
	size_t address_len;
	uint16_t port;
	const char *verdict;
	const char *software; /* peer-derived, NULL when unknown */
	size_t software_len;
	int64_t proved; /* UTC seconds of the last proof */
};
/* Returns 0 to go on, anything else to stop (store_dnsbl_each then returns -1). */
typedef int (*store_dnsbl_fn)(void *ctx, const struct store_dnsbl_row *row);
/* Every candidate whose latest verdict (findings) is one of verdicts (at most
 * STORE_DNSBL_VERDICTS_MAX), in address order, then port: one query, streamed. 0 or -1. */
#define STORE_DNSBL_VERDICTS_MAX 3
int store_dnsbl_each(struct store *store, const char *const *verdicts, size_t n, store_dnsbl_fn fn, void *ctx);
/* That query's SQL (?1..?3: the verdicts, NULL for none), for a reference run in sqlite3 (bench/report.sh). */
const char *store_dnsbl_sql(void);

#endif
