#include "core/config.h"

#include <errno.h>
#include <ini.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "sink/sink.h" /* its defaults: one source for the code, this table and the help */

enum setting_type { SETTING_STRING, SETTING_LONG };

struct setting {
	const char *section;
	const char *name;
	enum setting_type type;
	size_t offset;
	const char *default_value;
	long min, max;
};

#define STRING(sec, nm, field, def) {sec, nm, SETTING_STRING, offsetof(struct config, field), def, 0, 0}
/* def may be a macro: SINK_STR expands it before making it text. */
#define NUMBER(sec, nm, field, def, lo, hi) {sec, nm, SETTING_LONG, offsetof(struct config, field), SINK_STR(def), lo, hi}

static const struct setting settings[] = {
	STRING("store", "db", db, "plughole.db"),
	STRING("store", "secret", secret, NULL),
	STRING("safety", "optout", optout, NULL),
	NUMBER("ingest", "max_range", max_range, 256, 1, 16777216),
	STRING("sink", "listen", sink_listen, NULL),
	STRING("sink", "domain", sink_domain, NULL),
	STRING("sink", "target", sink_target, NULL),
	NUMBER("sink", "max_message", sink_max_message, SINK_DEFAULT_MAX_MESSAGE, 1024, 104857600),
	NUMBER("sink", "max_bodies", sink_max_bodies, SINK_DEFAULT_MAX_BODIES, 1024, 17179869184),
	NUMBER("sink", "max_sessions", sink_max_sessions, SINK_DEFAULT_MAX_SESSIONS, 1, 100000),
	NUMBER("sink", "max_per_peer", sink_max_per_peer, SINK_DEFAULT_MAX_PER_PEER, 1, 100000),
	NUMBER("sink", "idle_timeout", sink_idle_timeout, SINK_DEFAULT_IDLE_TIMEOUT, 1, 3600),
	NUMBER("sink", "session_timeout", sink_session_timeout, SINK_DEFAULT_SESSION_TIMEOUT, 1, 86400),
	NUMBER("sink", "target_rows_per_peer", sink_target_rows_per_peer, SINK_DEFAULT_TARGET_ROWS_PER_PEER, 1, 1000000),
	NUMBER("sink", "target_bytes_per_peer", sink_target_bytes_per_peer, SINK_DEFAULT_TARGET_BYTES_PER_PEER, 1024, 1073741824),
	NUMBER("sink", "target_rows", sink_target_rows, SINK_DEFAULT_TARGET_ROWS, 1, 100000000),
	NUMBER("sink", "target_bytes", sink_target_bytes, SINK_DEFAULT_TARGET_BYTES, 1024, 17179869184),
	NUMBER("campaign", "number", campaign, 1, 1, 65535),
	STRING("campaign", "operator", operator_name, "a plughole \"Secure Your Server\" campaign"),
	STRING("campaign", "contact", operator_contact, NULL),
	STRING("campaign", "smtp", campaign_smtp, NULL),
	STRING("web", "public_url", web_public_url, "https://plughole.invalid"),
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
	char *end = NULL;
	errno = 0;
	long number = strtol(value, &end, 10);
	if (errno != 0 || end == value || *end != '\0') {
		*why = "not a number";
		return -1;
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
	for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++)
		if (strcmp(settings[i].name, name) == 0 &&
		    (section == NULL || strcmp(settings[i].section, section) == 0))
			return &settings[i];
	return NULL;
}

void config_defaults(struct config *config)
{
	memset(config, 0, sizeof *config);
	for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
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
		log_error("setting [%s] %s = \"%s\": %s (allowed %ld..%ld)", s->section, name, value, why,
			  s->min, s->max);
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
	for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++)
		if (settings[i].type == SETTING_STRING)
			free(*(char **)(void *)((char *)config + settings[i].offset));
	memset(config, 0, sizeof *config);
}

const char *config_secret_path(const struct config *config, char *buf, unsigned buflen)
{
	if (config->secret != NULL)
		snprintf(buf, buflen, "%s", config->secret);
	else
		snprintf(buf, buflen, "%s.secret", config->db);
	return buf;
}
