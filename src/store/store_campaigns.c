/* SQL for campaigns: the open findings they freeze, owners, hosts, letters and attempts. */
#include <stdio.h>
#include <string.h>

#include "store/store_internal.h"

#define OPEN_VERDICTS "('open-relay', 'open-proxy-mail', 'open-proxy-web')"
#define LETTERS_IN(state)                                                                                    \
	" (SELECT count(*) FROM letters l WHERE l.campaign_id = c.id AND l.state = '" state "') AS " state ","

const char *const store_campaigns_sql[STMT_COUNT] = {
	/*
	 * When the proof of each open finding's verdict arrived, NULL when none binds
	 * to it: a mail verdict needs a proof bound to a probe of the finding's own run
	 * carrying the finding's token; open-proxy-web the target's record of the
	 * finding's token, seen after the run began (2 s of clock skew, as proof_bindings).
	 */
	[STMT_OPEN_FINDINGS] =
	    "SELECT f.candidate_id, c.address, c.port, f.verdict, f.test, f.variant, f.protocol, f.software, f.tls,"
	    " f.token, f.exit_address, f.run_id,"
	    " CASE WHEN f.verdict = 'open-proxy-web' THEN"
	    "  (SELECT min(t.received) FROM target_hits t JOIN verify_runs r ON r.id = f.run_id"
	    "   WHERE t.token = f.token AND t.received >= r.started - 2)"
	    " ELSE (SELECT min(b.received) FROM proof_bindings b WHERE b.token = f.token"
	    "   AND b.candidate_id = f.candidate_id AND b.run_id IS NOT DISTINCT FROM f.run_id) END AS proved,"
	    " a.owner_id, o.organisation, o.org_handle, a.contact, a.rung, a.range, a.object, a.asn, a.as_name,"
	    " a.country, a.agency, a.further"
	    " FROM findings f JOIN candidates c ON c.id = f.candidate_id"
	    " LEFT JOIN attributions a ON a.candidate_id = f.candidate_id LEFT JOIN owners o ON o.id = a.owner_id"
	    " WHERE f.verdict IN " OPEN_VERDICTS " ORDER BY c.id",
	[STMT_CAMPAIGN_INSERT] =
	    "INSERT INTO campaigns(name, created, verdicts, control_fraction, seed, agencies, countries, domain,"
	    " key_salt, skipped_unattributed) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
	    " ON CONFLICT(name) DO NOTHING RETURNING id",
	[STMT_CAMPAIGN_ID] = "SELECT id FROM campaigns WHERE name = ?1",
	[STMT_CAMPAIGN_OWNER_INSERT] =
	    "INSERT INTO campaign_owners(campaign_id, owner_id, organisation, org_handle, contact, rung, country,"
	    " agency, verdict, stratum, grp, further) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
	    " RETURNING id",
	[STMT_HOST_INSERT] =
	    "INSERT INTO campaign_hosts(campaign_id, campaign_owner_id, candidate_id, address, port, verdict, test,"
	    " variant, protocol, software, tls, token, exit_address, proved, run_id, contact, rung, range, object,"
	    " asn, as_name, country, agency, suppressed_by) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,"
	    " ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24)",
	[STMT_LETTER_INSERT] =
	    "INSERT INTO letters(campaign_id, campaign_owner_id, previous_id, ticket, ticket_key, message_id,"
	    " recipient, agency, language, template, state, suppressed_by, created, updated, reason)"
	    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13, ?14)"
	    " ON CONFLICT DO NOTHING RETURNING id",
	[STMT_LETTER_TICKET_TAKEN] =
	    "SELECT count(*) FROM letters WHERE ticket = ?1 OR message_id = ?2",
	[STMT_LETTER_SET_STATE] =
	    "UPDATE letters SET state = ?1, reason = coalesce(?2, reason), updated = ?3 WHERE id = ?4 AND state = ?5",
	[STMT_LETTER_STATE] = "SELECT state FROM letters WHERE id = ?1",
	[STMT_ATTEMPT_BEGIN] =
	    "INSERT INTO letter_attempts(letter_id, started, smarthost, outcome) VALUES(?1, ?2, ?3, 'started')"
	    " RETURNING id",
	[STMT_ATTEMPT_END] =
	    "UPDATE letter_attempts SET finished = ?1, smtp_code = ?2, smtp_reply = ?3, outcome = ?4 WHERE id = ?5",
	[STMT_CAMPAIGNS] =
	    "SELECT c.name, c.created,"
	    " (SELECT count(*) FROM campaign_hosts h WHERE h.campaign_id = c.id) AS hosts,"
	    " (SELECT count(*) FROM campaign_owners o WHERE o.campaign_id = c.id) AS owners,"
	    " (SELECT count(*) FROM campaign_owners o WHERE o.campaign_id = c.id AND o.grp = 'treatment') AS "
	    "treatment,"
	    " (SELECT count(*) FROM campaign_owners o WHERE o.campaign_id = c.id AND o.grp = 'control') AS "
	    "control," LETTERS_IN("queued") LETTERS_IN("sending") LETTERS_IN("sent") LETTERS_IN("deferred")
		LETTERS_IN("failed") LETTERS_IN("bounced") LETTERS_IN("suppressed")
		    LETTERS_IN("skipped") " c.control_fraction, c.seed, c.verdicts"
					  " FROM campaigns c ORDER BY c.created, c.id",
	/* The owner's newest letter stands for it (a bounce may have added one to a next contact). */
	[STMT_CAMPAIGN_HOSTS] =
	    "SELECT o.id AS owner, o.organisation, o.contact, o.country AS owner_country, o.grp AS \"group\","
	    " coalesce(l.state, '-') AS letter, l.ticket, l.recipient, l.reason, h.address, h.port, h.verdict, "
	    "h.variant,"
	    " h.protocol, h.software, h.proved, h.country, h.agency, h.asn, h.token, h.suppressed_by,"
	    /* the contact chain: the contact (its rung), then each further one, in order */
	    " o.contact || coalesce(' (' || o.rung || ')', '') || coalesce((SELECT group_concat(' > ' ||"
	    " json_extract(j.value, '$.contact') || ' (' || json_extract(j.value, '$.rung') || ')', '')"
	    " FROM json_each(o.further) j), '') AS chain"
	    " FROM campaign_hosts h JOIN campaign_owners o ON o.id = h.campaign_owner_id"
	    " LEFT JOIN letters l ON l.id = (SELECT max(l2.id) FROM letters l2 WHERE l2.campaign_owner_id = o.id)"
	    " WHERE h.campaign_id = ?1 ORDER BY o.id, h.candidate_id",
	[STMT_LETTERS] =
	    "SELECT l.id, l.campaign_owner_id, l.previous_id, l.ticket, l.ticket_key, l.message_id, l.recipient,"
	    " l.agency, l.language, l.template, l.state, l.suppressed_by, l.reason, l.created, l.updated,"
	    " l.next_attempt, o.organisation, o.grp AS \"group\", c.name AS campaign, c.domain"
	    " FROM letters l JOIN campaign_owners o ON o.id = l.campaign_owner_id JOIN campaigns c ON c.id = "
	    "l.campaign_id"
	    " WHERE l.campaign_id = ?1 AND (?2 IS NULL OR l.state = ?2) ORDER BY l.id",
	[STMT_LETTER_HOSTS] =
	    "SELECT h.address, h.port, h.verdict, h.test, h.variant, h.protocol, h.software, h.tls, h.token,"
	    " h.exit_address, h.proved, h.run_id, h.contact, h.rung, h.range, h.object, h.asn, h.as_name,"
	    " h.country, h.agency"
	    " FROM letters l JOIN campaign_hosts h ON h.campaign_owner_id = l.campaign_owner_id"
	    " WHERE l.id = ?1 AND h.suppressed_by IS NULL ORDER BY h.candidate_id",
	[STMT_LETTER_SCHEDULE] = "UPDATE letters SET next_attempt = ?1 WHERE id = ?2",
	[STMT_ATTEMPTS_COUNT] = "SELECT count(*) FROM letter_attempts WHERE letter_id = ?1 AND outcome = ?2",
	[STMT_LAST_ATTEMPT] =
		"SELECT started, outcome FROM letter_attempts WHERE letter_id = ?1 ORDER BY id DESC LIMIT 1",
	[STMT_LETTER_BY_TICKET] =
		"SELECT l.id, l.campaign_id, l.campaign_owner_id, l.state, l.recipient, l.agency, l.language, l.template,"
		" c.domain, c.name, c.key_salt, o.owner_id, o.further"
		" FROM letters l JOIN campaigns c ON c.id = l.campaign_id"
		" JOIN campaign_owners o ON o.id = l.campaign_owner_id"
		" WHERE l.ticket = ?1",
	[STMT_LETTER_EXISTS] =
		"SELECT count(*) FROM letters WHERE campaign_owner_id = ?1 AND lower(recipient) = lower(?2)",
	[STMT_RETURN_PUT] =
		"INSERT INTO letter_returns(letter_id, ticket, received, kind, shape, action, status, recipient,"
		" diagnostic, peer, raw, raw_size) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
};
#undef LETTERS_IN

static const char *column(sqlite3_stmt *stmt, int i)
{
	return (const char *)sqlite3_column_text(stmt, i);
}

int store_campaign_findings_each(struct store *store, store_campaign_finding_fn fn, void *ctx)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_OPEN_FINDINGS);
	if (stmt == NULL)
		return -1;
	int rc, stop = 0;
	while (!stop && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct store_campaign_finding f = {
		    .candidate_id = sqlite3_column_int64(stmt, 0),
		    .address = column(stmt, 1),
		    .port = (uint16_t)sqlite3_column_int(stmt, 2),
		    .verdict = column(stmt, 3),
		    .test = column(stmt, 4),
		    .variant = column(stmt, 5),
		    .protocol = column(stmt, 6),
		    .software = column(stmt, 7),
		    .tls = sqlite3_column_int(stmt, 8) != 0,
		    .token = column(stmt, 9),
		    .exit_address = column(stmt, 10),
		    .run_id = sqlite3_column_int64(stmt, 11),
		    .proved = sqlite3_column_int64(stmt, 12),
		    .owner_id = sqlite3_column_int64(stmt, 13),
		    .organisation = column(stmt, 14),
		    .org_handle = column(stmt, 15),
		    .contact = column(stmt, 16),
		    .rung = column(stmt, 17),
		    .range = column(stmt, 18),
		    .object = column(stmt, 19),
		    .asn = (uint32_t)sqlite3_column_int64(stmt, 20),
		    .as_name = column(stmt, 21),
		    .country = column(stmt, 22),
		    .agency = column(stmt, 23),
		    .further = column(stmt, 24),
		};
		if (f.token == NULL)
			f.proved = 0; /* nothing to bind */
		stop = fn(ctx, &f);
	}
	sqlite3_reset(stmt);
	return stop || rc == SQLITE_DONE ? 0 : store_error(store, "reading open findings");
}

/* Steps an INSERT ... RETURNING id: the id, 0 when it inserted nothing, -1 on error. */
static int64_t step_returning(struct store *store, sqlite3_stmt *stmt)
{
	int rc = sqlite3_step(stmt);
	int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
	if (rc == SQLITE_ROW)
		rc = sqlite3_step(stmt);
	sqlite3_reset(stmt);
	return rc == SQLITE_DONE ? id : store_error(store, sqlite3_sql(stmt));
}

int64_t store_campaign_insert(struct store *store, const struct store_campaign *c)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_CAMPAIGN_INSERT);
	if (stmt == NULL)
		return -1;
	store_bind_text(stmt, 1, c->name);
	sqlite3_bind_int64(stmt, 2, (int64_t)c->created);
	store_bind_text(stmt, 3, c->verdicts);
	sqlite3_bind_double(stmt, 4, c->control_fraction);
	sqlite3_bind_int64(stmt, 5, c->seed);
	store_bind_text(stmt, 6, c->agencies);
	store_bind_text(stmt, 7, c->countries);
	store_bind_text(stmt, 8, c->domain);
	store_bind_text(stmt, 9, c->key_salt);
	sqlite3_bind_int64(stmt, 10, c->skipped_unattributed);
	return step_returning(store, stmt);
}

int64_t store_campaign_id(struct store *store, const char *name)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_CAMPAIGN_ID);
	if (stmt == NULL)
		return -1;
	store_bind_text(stmt, 1, name);
	int rc = sqlite3_step(stmt);
	int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
	sqlite3_reset(stmt);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? id : store_error(store, "finding a campaign");
}

int64_t store_campaign_owner_insert(struct store *store, const struct store_campaign_owner *o)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_CAMPAIGN_OWNER_INSERT);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, o->campaign_id);
	if (o->owner_id > 0)
		sqlite3_bind_int64(stmt, 2, o->owner_id);
	store_bind_text(stmt, 3, o->organisation);
	store_bind_text(stmt, 4, o->org_handle);
	store_bind_text(stmt, 5, o->contact);
	store_bind_text(stmt, 6, o->rung);
	store_bind_text(stmt, 7, o->country);
	store_bind_text(stmt, 8, o->agency);
	store_bind_text(stmt, 9, o->verdict);
	store_bind_text(stmt, 10, o->stratum);
	store_bind_text(stmt, 11, o->group);
	store_bind_text(stmt, 12, o->further);
	int64_t id = step_returning(store, stmt);
	return id == 0 ? store_error(store, "freezing a campaign owner") : id;
}

int store_campaign_host_insert(struct store *store, int64_t campaign_id, int64_t campaign_owner_id,
			       const struct store_campaign_finding *h, const char *suppressed_by)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_HOST_INSERT);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, campaign_id);
	sqlite3_bind_int64(stmt, 2, campaign_owner_id);
	sqlite3_bind_int64(stmt, 3, h->candidate_id);
	store_bind_text(stmt, 4, h->address);
	sqlite3_bind_int(stmt, 5, h->port);
	store_bind_text(stmt, 6, h->verdict);
	store_bind_text(stmt, 7, h->test);
	store_bind_text(stmt, 8, h->variant);
	store_bind_text(stmt, 9, h->protocol);
	store_bind_text(stmt, 10, h->software);
	sqlite3_bind_int(stmt, 11, h->tls);
	store_bind_text(stmt, 12, h->token);
	store_bind_text(stmt, 13, h->exit_address);
	sqlite3_bind_int64(stmt, 14, h->proved);
	if (h->run_id > 0)
		sqlite3_bind_int64(stmt, 15, h->run_id);
	store_bind_text(stmt, 16, h->contact);
	store_bind_text(stmt, 17, h->rung);
	store_bind_text(stmt, 18, h->range);
	store_bind_text(stmt, 19, h->object);
	if (h->asn != 0)
		sqlite3_bind_int64(stmt, 20, h->asn);
	store_bind_text(stmt, 21, h->as_name);
	store_bind_text(stmt, 22, h->country);
	store_bind_text(stmt, 23, h->agency);
	store_bind_text(stmt, 24, suppressed_by);
	return store_step_done(store, stmt);
}

int64_t store_letter_insert(struct store *store, const struct store_letter *l)
{
	sqlite3_stmt *taken = store_statement(store, STMT_LETTER_TICKET_TAKEN);
	if (taken == NULL)
		return -1;
	store_bind_text(taken, 1, l->ticket);
	store_bind_text(taken, 2, l->message_id);
	int64_t n = store_step_int64(store, taken);
	if (n != 0)
		return n < 0 ? -1 : 0;
	sqlite3_stmt *stmt = store_statement(store, STMT_LETTER_INSERT);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, l->campaign_id);
	sqlite3_bind_int64(stmt, 2, l->campaign_owner_id);
	if (l->previous_id > 0)
		sqlite3_bind_int64(stmt, 3, l->previous_id);
	store_bind_text(stmt, 4, l->ticket);
	store_bind_text(stmt, 5, l->ticket_key);
	store_bind_text(stmt, 6, l->message_id);
	store_bind_text(stmt, 7, l->recipient);
	store_bind_text(stmt, 8, l->agency);
	store_bind_text(stmt, 9, l->language);
	store_bind_text(stmt, 10, l->template_name);
	store_bind_text(stmt, 11, l->state);
	store_bind_text(stmt, 12, l->suppressed_by);
	sqlite3_bind_int64(stmt, 13, (int64_t)l->created);
	store_bind_text(stmt, 14, l->reason);
	return step_returning(store, stmt);
}

int store_letter_set_state(struct store *store, int64_t letter_id, const char *from, const char *to,
			   const char *reason, time_t now)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_LETTER_SET_STATE);
	if (stmt == NULL)
		return -1;
	store_bind_text(stmt, 1, to);
	store_bind_text(stmt, 2, reason);
	sqlite3_bind_int64(stmt, 3, (int64_t)now);
	sqlite3_bind_int64(stmt, 4, letter_id);
	store_bind_text(stmt, 5, from);
	if (store_step_done(store, stmt) != 0)
		return -1;
	return sqlite3_changes(store->db) == 1;
}

int store_letter_state(struct store *store, int64_t letter_id, char *buf, size_t buflen)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_LETTER_STATE);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, letter_id);
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		snprintf(buf, buflen, "%s", column(stmt, 0));
	sqlite3_reset(stmt);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : store_error(store, "reading a letter's state");
}

int64_t store_letter_attempt_begin(struct store *store, int64_t letter_id, const char *smarthost, time_t now)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_ATTEMPT_BEGIN);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, letter_id);
	sqlite3_bind_int64(stmt, 2, (int64_t)now);
	store_bind_text(stmt, 3, smarthost);
	int64_t id = step_returning(store, stmt);
	return id == 0 ? store_error(store, "recording an attempt") : id;
}

int store_letter_attempt_end(struct store *store, int64_t attempt_id, int smtp_code, const char *smtp_reply,
			     const char *outcome, time_t now)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_ATTEMPT_END);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, (int64_t)now);
	if (smtp_code > 0)
		sqlite3_bind_int(stmt, 2, smtp_code);
	store_bind_text(stmt, 3, smtp_reply);
	store_bind_text(stmt, 4, outcome);
	sqlite3_bind_int64(stmt, 5, attempt_id);
	return store_step_done(store, stmt);
}

int store_campaigns_each(struct store *store, store_row_fn fn, void *ctx)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_CAMPAIGNS);
	return stmt == NULL ? -1 : store_rows_each(store, stmt, fn, ctx);
}

int store_campaign_hosts_each(struct store *store, int64_t campaign_id, store_row_fn fn, void *ctx)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_CAMPAIGN_HOSTS);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, campaign_id);
	return store_rows_each(store, stmt, fn, ctx);
}

int store_letters_each(struct store *store, int64_t campaign_id, const char *state, store_row_fn fn,
		       void *ctx)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_LETTERS);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, campaign_id);
	store_bind_text(stmt, 2, state);
	return store_rows_each(store, stmt, fn, ctx);
}

int store_letter_hosts_each(struct store *store, int64_t letter_id, store_row_fn fn, void *ctx)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_LETTER_HOSTS);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, letter_id);
	return store_rows_each(store, stmt, fn, ctx);
}

int store_letter_schedule(struct store *store, int64_t letter_id, time_t next_attempt)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_LETTER_SCHEDULE);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, (int64_t)next_attempt);
	sqlite3_bind_int64(stmt, 2, letter_id);
	return store_step_done(store, stmt);
}

int64_t store_letter_attempts_count(struct store *store, int64_t letter_id, const char *outcome)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_ATTEMPTS_COUNT);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, letter_id);
	store_bind_text(stmt, 2, outcome);
	return store_step_int64(store, stmt);
}

int store_letter_last_attempt(struct store *store, int64_t letter_id, time_t *started, char *outcome,
			      size_t outcomelen)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_LAST_ATTEMPT);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, letter_id);
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		*started = (time_t)sqlite3_column_int64(stmt, 0);
		snprintf(outcome, outcomelen, "%s", column(stmt, 1));
	}
	sqlite3_reset(stmt);
	return rc == SQLITE_ROW	   ? 1
	       : rc == SQLITE_DONE ? 0
				   : store_error(store, "reading a letter's attempts");
}

int store_letter_by_ticket(struct store *store, const char *ticket, struct store_letter_ref *out)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_LETTER_BY_TICKET);
	if (stmt == NULL)
		return -1;
	store_bind_text(stmt, 1, ticket);
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		memset(out, 0, sizeof *out);
		out->id = sqlite3_column_int64(stmt, 0);
		out->campaign_id = sqlite3_column_int64(stmt, 1);
		out->campaign_owner_id = sqlite3_column_int64(stmt, 2);
		store_column_copy(stmt, 3, out->state, sizeof out->state);
		store_column_copy(stmt, 4, out->recipient, sizeof out->recipient);
		store_column_copy(stmt, 5, out->agency, sizeof out->agency);
		store_column_copy(stmt, 6, out->language, sizeof out->language);
		store_column_copy(stmt, 7, out->template_name, sizeof out->template_name);
		store_column_copy(stmt, 8, out->domain, sizeof out->domain);
		store_column_copy(stmt, 9, out->campaign, sizeof out->campaign);
		store_column_copy(stmt, 10, out->key_salt, sizeof out->key_salt);
		out->owner_id = sqlite3_column_int64(stmt, 11);
		store_column_copy(stmt, 12, out->further, sizeof out->further);
	}
	sqlite3_reset(stmt);
	return rc == SQLITE_ROW	   ? 1
	       : rc == SQLITE_DONE ? 0
				   : store_error(store, "finding a letter by ticket");
}

int store_letter_exists(struct store *store, int64_t campaign_owner_id, const char *recipient)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_LETTER_EXISTS);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, campaign_owner_id);
	store_bind_text(stmt, 2, recipient);
	int64_t n = store_step_int64(store, stmt);
	return n < 0 ? -1 : n > 0;
}

int store_letter_return_put(struct store *store, const struct store_letter_return *r)
{
	sqlite3_stmt *stmt = store_statement(store, STMT_RETURN_PUT);
	if (stmt == NULL)
		return -1;
	if (r->letter_id > 0)
		sqlite3_bind_int64(stmt, 1, r->letter_id);
	store_bind_text(stmt, 2, r->ticket);
	sqlite3_bind_int64(stmt, 3, (int64_t)r->received);
	store_bind_text(stmt, 4, r->kind);
	store_bind_text(stmt, 5, r->shape);
	store_bind_text(stmt, 6, r->action);
	store_bind_text(stmt, 7, r->status);
	store_bind_text(stmt, 8, r->recipient);
	store_bind_text(stmt, 9, r->diagnostic);
	store_bind_text(stmt, 10, r->peer);
	sqlite3_bind_blob(stmt, 11, r->raw ? r->raw : "", (int)r->raw_len, SQLITE_TRANSIENT);
	sqlite3_bind_int64(stmt, 12, (int64_t)r->raw_size);
	return store_step_done(store, stmt);
}

bool store_in_transaction(struct store *store)
{
	return !sqlite3_get_autocommit(store->db);
}
