#include "sink/bounce_path.h"

#include <sqlite3.h>
#include <string.h>
#include <time.h>

#include "attrib/agencies.h"
#include "core/escape.h"
#include "core/log.h"
#include "core/paths.h"
#include "notify/bounce.h"

/* The agencies, for the next contact: loaded at the first bounce, kept for the sink's life. */
static struct agencies agencies;
static bool agencies_loaded;

bool sink_bounce_path_wanted(const struct sink_envelope *env)
{
	for (size_t i = 0; i < env->nrcpts; i++)
		if (bounce_address(env->rcpts[i]))
			return true;
	return false;
}

int sink_bounce_path(struct sink *sink, const struct sink_envelope *env, const char *msg, size_t len)
{
	if (!agencies_loaded) {
		char path[4096];
		if (agencies_load(&agencies, data_path("agencies.conf", path, sizeof path)) != 0)
			log_warn("sink: no agencies file: bounces get no follow-up letter");
		agencies_loaded = true;
	}
	const char *rcpt = NULL;
	for (size_t i = 0; i < env->nrcpts && rcpt == NULL; i++)
		if (bounce_address(env->rcpts[i]))
			rcpt = env->rcpts[i];
	/* alone (autocommit) the sink makes the changes one transaction; in a batch it commits the batch */
	bool own = !store_in_transaction(sink->store);
	if (own && store_begin(sink->store) != 0) {
		sink->counters.store_errors++;
		return -1;
	}
	struct bounce_result r;
	int rc =
	    bounce_handle(sink->store, &agencies, &sink->secret, rcpt, msg, len, env->peer, time(NULL), &r);
	if (rc == 0)
		rc = own ? store_commit(sink->store) : store_sink_commit(sink->store);
	else if (own)
		store_rollback(sink->store);
	if (rc != 0) {
		sink->counters.store_errors++;
		return -1;
	}
	char shown[ESCAPE_SIZE(320)], diag[ESCAPE_SIZE(200)];
	escape_text(shown, sizeof shown, rcpt, strlen(rcpt));
	escape_text(diag, sizeof diag, r.dsn.diagnostic, strnlen(r.dsn.diagnostic, 200));
	log_info("sink: %s for %s from %s: %s%s%s%s%s",
		 r.dsn.to_unsubscribe ? "unsubscribe" : dsn_kind_name(r.dsn.kind), shown, env->peer,
		 r.effect == BOUNCE_BOUNCED ? "letter bounced: " : "", r.effect == BOUNCE_BOUNCED ? diag : "",
		 r.followup_id > 0 ? "; next letter queued to " : "", r.followup_id > 0 ? r.followup_to : "",
		 r.note[0] ? r.note : "");
	return 0;
}
