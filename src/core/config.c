#include "core/config.h"

#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/duration.h"
#include "core/log.h"
#include "core/util.h"
#include "probe/defaults.h" /* the engine's defaults, likewise */
#include "sink/sink.h" /* its defaults: one source for the code, this table and the help */

/* A duration is stored as whole seconds and written as duration_parse reads it ("30", "5m"). */
enum setting_type { SETTING_STRING, SETTING_LONG, SETTING_DURATION };

struct setting {
	const char *section;
	const char *name;
	enum setting_type type;
	size_t offset;
	const char *default_value;
	long min, max;
	const char *help; /* one line for data/plughole.conf.example */
};

#define STRING(sec, nm, field, def, text) {sec, nm, SETTING_STRING, offsetof(struct config, field), def, 0, 0, text}
/* def may be a macro: SINK_STR expands it before making it text. */
#define NUMBER(sec, nm, field, def, lo, hi, text) \
	{sec, nm, SETTING_LONG, offsetof(struct config, field), SINK_STR(def), lo, hi, text}
#define DURATION(sec, nm, field, def, lo, hi, text) \
	{sec, nm, SETTING_DURATION, offsetof(struct config, field), SINK_STR(def), lo, hi, text}

/* In the order of data/plughole.conf.example, which config_write_example writes from this table. */
static const struct setting settings[] = {
	STRING("store", "db", db, "plughole.db", "the SQLite store (--db and $PLUGHOLE_DB override it)"),
	STRING("store", "secret", secret, NULL, "the token secret; unset: the store's path + \".secret\""),
	STRING("safety", "optout", optout, NULL,
	       "ranges their owners asked us to leave alone, excluded like data/exclude.conf (--exclude-file adds more)"),
	NUMBER("ingest", "max_range", max_range, 256, 1, 16777216, "largest range (addresses) one feed entry may expand to"),
	STRING("sink", "listen", sink_listen, NULL, "where the sink's SMTP listener is (ADDR:PORT): verify's --sink"),
	STRING("sink", "domain", sink_domain, NULL, "the sink's mail domain: test messages go to a mailbox there"),
	STRING("sink", "target", sink_target, NULL, "the sink's plain TCP target (ADDR:PORT) that proxies are aimed at"),
	NUMBER("sink", "max_message", sink_max_message, SINK_DEFAULT_MAX_MESSAGE, 1024, 104857600,
	       "bytes: largest message kept; larger ones get 552"),
	NUMBER("sink", "max_bodies", sink_max_bodies, SINK_DEFAULT_MAX_BODIES, 1024, 17179869184,
	       "bytes all messages being received may hold; then DATA gets 452"),
	NUMBER("sink", "max_sessions", sink_max_sessions, SINK_DEFAULT_MAX_SESSIONS, 1, 100000,
	       "open connections at most; more get 421"),
	NUMBER("sink", "max_per_peer", sink_max_per_peer, SINK_DEFAULT_MAX_PER_PEER, 1, 100000,
	       "of those, from one address"),
	DURATION("sink", "idle_timeout", sink_idle_timeout, SINK_DEFAULT_IDLE_TIMEOUT, 1, 3600,
		 "silence before a session is closed (a duration: 60, 90s, 2m)"),
	DURATION("sink", "session_timeout", sink_session_timeout, SINK_DEFAULT_SESSION_TIMEOUT, 1, 86400,
		 "how long a whole session may last (a duration)"),
	NUMBER("sink", "target_rows_per_peer", sink_target_rows_per_peer, SINK_DEFAULT_TARGET_ROWS_PER_PEER, 1, 1000000,
	       "target hits one address (an IPv6 /64) may store a minute"),
	NUMBER("sink", "target_bytes_per_peer", sink_target_bytes_per_peer, SINK_DEFAULT_TARGET_BYTES_PER_PEER, 1024,
	       1073741824, "bytes of target hits one address may store a minute"),
	NUMBER("sink", "target_rows", sink_target_rows, SINK_DEFAULT_TARGET_ROWS, 1, 100000000,
	       "target hits without a genuine token all addresses may store a minute"),
	NUMBER("sink", "target_bytes", sink_target_bytes, SINK_DEFAULT_TARGET_BYTES, 1024, 17179869184,
	       "bytes of target hits all addresses may store a minute"),
	NUMBER("verify", "concurrency", verify_concurrency, PROBE_DEFAULT_CONCURRENCY, 0, 1000000,
	       "connections in flight (0: as many as descriptors allow)"),
	NUMBER("verify", "per_host", verify_per_host, PROBE_DEFAULT_PER_HOST, 1, 1000000,
	       "connections in flight to one address"),
	NUMBER("verify", "per_net", verify_per_net, PROBE_DEFAULT_PER_NET, 1, 1000000,
	       "connections in flight to one /24 (IPv4) or /48 (IPv6)"),
	NUMBER("verify", "rate", verify_rate, PROBE_DEFAULT_RATE, 0, 1000000,
	       "new connections per second (0: no limit)"),
	DURATION("verify", "connect_timeout", verify_connect_timeout, PROBE_DEFAULT_CONNECT_TIMEOUT, 0, 2592000,
		 "how long a connection may take to open (a duration)"),
	DURATION("verify", "timeout", verify_timeout, PROBE_DEFAULT_IDLE_TIMEOUT, 0, 2592000,
		 "how long a reply may take (a duration)"),
	DURATION("verify", "total_timeout", verify_total_timeout, PROBE_DEFAULT_TOTAL_TIMEOUT, 0, 2592000,
		 "how long one connection may last (a duration)"),
	DURATION("verify", "retry_after", verify_retry_after, PROBE_DEFAULT_RETRY_AFTER, 0, 2592000,
		 "first wait before retrying a tempfail or timeout; doubles (a duration)"),
	NUMBER("verify", "retries", verify_retries, PROBE_DEFAULT_RETRIES, 0, 10, "retries after a tempfail or timeout"),
	DURATION("verify", "wait", verify_wait, PROBE_DEFAULT_WAIT, 0, 2592000,
		 "how long to wait for proofs after the last test message (a duration)"),
	DURATION("verify", "proof_grace", verify_proof_grace, PROBE_DEFAULT_PROOF_GRACE, 0, 2592000,
		 "how long a proof may take before the next variant's message (a duration)"),
	NUMBER("campaign", "number", campaign, 1, 1, 65535, "the campaign number every token carries"),
	STRING("campaign", "operator", operator_name, "a plughole \"Secure Your Server\" campaign",
	       "who is testing, said in every test message"),
	STRING("campaign", "contact", operator_contact, NULL, "how a server's owner reaches us, said in every test message"),
	STRING("campaign", "smtp", campaign_smtp, NULL, "the smarthost letters go through (smtp[s]://HOST:PORT): send's --smtp"),
	STRING("campaign", "smtp_ca", campaign_smtp_ca, NULL,
	       "CA file (PEM) the smarthost's TLS certificate must chain to (none: the system's CAs): send's --smtp-ca"),
	STRING("campaign", "dkim_key", dkim_key, NULL,
	       "PEM RSA private key: letters are DKIM-signed (rsa-sha256, relaxed/relaxed) when set"),
	STRING("campaign", "dkim_selector", dkim_selector, "plughole", "the DKIM selector (s=): its key is in SELECTOR._domainkey.DOMAIN"),
	STRING("campaign", "dkim_domain", dkim_domain, NULL, "the DKIM signing domain (d=; none: the domain of the agency's sender)"),
	STRING("web", "public_url", web_public_url, "https://plughole.invalid",
	       "where the owners' web answers: each letter's evidence and unsubscribe links start here"),
};

static int apply(struct config *config, const struct setting *s, const char *value, const char **why)
{
	char *field = (char *)config + s->offset;
	if (s->type == SETTING_STRING) {
		char **slot = (char **)(void *)field;
		char *copy = value ? strdup(value) : NULL;
		if (value && !copy) {
			*why = "out of memory";
			return -1;
		}
		free(*slot);
		*slot = copy;
		return 0;
	}
	long number;
	if (s->type == SETTING_DURATION) {
		double seconds;
		if (duration_parse(value, strlen(value), &seconds, why) != 0)
			return -1;
		if (seconds != floor(seconds)) {
			*why = "not a whole number of seconds";
			return -1;
		}
		number = seconds > (double)s->max ? s->max + 1 : (long)seconds;
	} else {
		char *end = NULL;
		errno = 0;
		number = strtol(value, &end, 10);
		if (errno != 0 || end == value || *end != '\0') {
			*why = "not a number";
			return -1;
		}
	}
	if (number < s->min || number > s->max) {
		*why = "out of range";
		return -1;
	}
	*(long *)(void *)field = number;
	return 0;
}

static const struct setting *find_setting(const char *section, const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(settings); i++)
		if (strcmp(settings[i].name, name) == 0 &&
		    (section == NULL || strcmp(settings[i].section, section) == 0))
			return &settings[i];
	return NULL;
}

void config_defaults(struct config *config)
{
	memset(config, 0, sizeof *config);
	for (size_t i = 0; i < ARRAY_SIZE(settings); i++) {
		const char *why;
		apply(config, &settings[i], settings[i].default_value, &why);
	}
}

int config_set(struct config *config, const char *section, const char *name, const char *value)
{
	const struct setting *s = find_setting(section, name);
	const char *why = NULL;
	if (s == NULL) {
		log_error("unknown setting [%s] %s", section ? section : "", name);
		return -1;
	}
	if (apply(config, s, value, &why) != 0) {
		log_error("setting [%s] %s = \"%s\": %s (allowed %ld..%ld%s)", s->section, name, value, why,
			  s->min, s->max, s->type == SETTING_DURATION ? " seconds" : "");
		return -1;
	}
	return 0;
}

struct load_context {
	struct config *config;
	char first_error[512]; /* inih reports only the line of the first error */
};

static int on_ini_entry(void *user, const char *section, const char *name, const char *value)
{
	struct load_context *ctx = user;
	const struct setting *s = find_setting(section, name);
	const char *why = "unknown setting";
	if (s != NULL && apply(ctx->config, s, value, &why) == 0)
		return 1;
	if (ctx->first_error[0] == '\0')
		snprintf(ctx->first_error, sizeof ctx->first_error, "[%s] %s = \"%s\": %s", section, name,
			 value, why);
	return 0;
}

int config_load(struct config *config, const char *path)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		log_error("%s: %s", path, strerror(errno));
		return -1;
	}
	struct load_context ctx = {.config = config};
	int rc = ini_parse_file(f, on_ini_entry, &ctx);
	fclose(f);
	if (rc > 0)
		log_error("%s:%d: %s", path, rc, ctx.first_error[0] ? ctx.first_error : "not an INI line");
	return rc == 0 ? 0 : -1;
}

void config_free(struct config *config)
{
	for (size_t i = 0; i < ARRAY_SIZE(settings); i++)
		if (settings[i].type == SETTING_STRING)
			free(*(char **)(void *)((char *)config + settings[i].offset));
	memset(config, 0, sizeof *config);
}

void config_write_example(FILE *out)
{
	fputs("; plughole settings (INI). Give the file with --config FILE; options on the\n"
	      "; command line override it. Every key is shown with its default; a key\n"
	      "; commented out has none. Durations take units: 500ms, 30s, 5m, 2h, 1d\n"
	      "; (a plain number is seconds). Generated by 'plughole help --config-example'.\n",
	      out);
	const char *section = "";
	for (size_t i = 0; i < ARRAY_SIZE(settings); i++) {
		const struct setting *s = &settings[i];
		if (strcmp(s->section, section) != 0)
			fprintf(out, "\n[%s]\n", section = s->section);
		fprintf(out, "; %s\n", s->help);
		if (s->type != SETTING_STRING)
			fprintf(out, "; %ld..%ld%s\n", s->min, s->max, s->type == SETTING_DURATION ? " seconds" : "");
		if (s->default_value != NULL)
			fprintf(out, "%s = %s\n", s->name, s->default_value);
		else
			fprintf(out, ";%s =\n", s->name);
	}
}

const char *config_secret_path(const struct config *config, char *buf, unsigned buflen)
{
	if (config->secret != NULL)
		snprintf(buf, buflen, "%s", config->secret);
	else
		snprintf(buf, buflen, "%s.secret", config->db);
	return buf;
}
