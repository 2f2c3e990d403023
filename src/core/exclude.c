#include "core/exclude.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/escape.h"
#include "core/log.h"
#include "core/paths.h"
#include "core/util.h"

/*
 * The ranges --allow-loopback lifts, by what they are: a rule is lifted when
 * its range is exactly one of these (IPv4 is stored mapped, so
 * ::ffff:127.0.0.0/104 is 127.0.0.0/8). Never by the words of a reason.
 */
static const struct range loopback_ranges[] = {
	{{{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 0}},
	 {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0xff, 0xff, 0xff}}},
	{{{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}}, {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}}},
};

static bool is_loopback_range(const struct range *range)
{
	for (size_t i = 0; i < ARRAY_SIZE(loopback_ranges); i++)
		if (addr_cmp(&range->first, &loopback_ranges[i].first) == 0 &&
		    addr_cmp(&range->last, &loopback_ranges[i].last) == 0)
			return true;
	return false;
}

/*
 * IPv6 blocks whose last 32 bits are an IPv4 address that a translator (NAT64)
 * or the stack (IPv4-compatible) would reach: the embedded address obeys the
 * list as if it were named itself, as the mapped form ::ffff:0:0/96 does.
 */
static const struct embedding {
	uint8_t prefix[12];
	size_t len;      /* bytes of prefix that must match */
	uint32_t lowest; /* smaller values are not embedded addresses */
} embeddings[] = {
	/* 64:ff9b::/96, NAT64 well-known prefix (RFC 6052) */
	{{0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0}, 12, 0},
	/* 64:ff9b:1::/48, local-use NAT64 (RFC 8215); excluded whole by the
	 * default list, its /96 translators' addresses are checked too */
	{{0, 0x64, 0xff, 0x9b, 0, 1}, 6, 0},
	/* ::/96, IPv4-compatible (RFC 4291); :: and ::1 are not such addresses */
	{{0}, 12, 2},
};

/* The IPv4 address addr carries in its last 32 bits, if it is in one of the blocks above. */
static bool embedded_v4(const struct addr *addr, struct addr *v4)
{
	for (size_t i = 0; i < ARRAY_SIZE(embeddings); i++) {
		const struct embedding *e = &embeddings[i];
		if (memcmp(addr->bytes, e->prefix, e->len) == 0 && addr_v4(addr) >= e->lowest) {
			addr_from_v4(v4, addr_v4(addr));
			return true;
		}
	}
	return false;
}

void exclusion_init(struct exclusion_list *list)
{
	rangeset_init(&list->set);
	list->rules = NULL;
	list->count = 0;
	list->allow_loopback = false;
}

void exclusion_free(struct exclusion_list *list)
{
	for (size_t i = 0; i < list->count; i++)
		free(list->rules[i].reason);
	free(list->rules);
	rangeset_free(&list->set);
	exclusion_init(list);
}

static int add_rule(struct exclusion_list *list, const struct range *range, const char *reason)
{
	struct exclusion_rule *grown = realloc(list->rules, (list->count + 1) * sizeof *grown);
	if (grown == NULL)
		return -1;
	list->rules = grown;
	char *copy = strdup(reason);
	if (copy == NULL || rangeset_add(&list->set, range, (int32_t)list->count) != 0) {
		free(copy);
		return -1;
	}
	list->rules[list->count++] = (struct exclusion_rule){
		.reason = copy,
		.loopback = is_loopback_range(range),
	};
	return 0;
}

int exclusion_load(struct exclusion_list *list, const char *path)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		log_error("%s: %s", path, strerror(errno));
		return -1;
	}
	char line[1024];
	unsigned lineno = 0;
	int rc = 0;
	while (fgets(line, sizeof line, f) != NULL) {
		lineno++;
		size_t len = strcspn(line, "#\r\n");
		const char *start = line + strspn(line, " \t");
		if (start >= line + len)
			continue;
		size_t range_len = strcspn(start, " \t#\r\n");
		const char *text = start + range_len;
		text += strspn(text, " \t");
		size_t text_len = strcspn(text, "\r\n");
		struct range range;
		const char *why = NULL;
		if (range_parse(start, range_len, &range, &why) != 0) {
			log_error("%s:%u: %s", path, lineno, why);
			rc = -1;
			break;
		}
		/* the reason is shown to whoever runs plughole: the file's bytes escaped */
		char text_shown[ESCAPE_SIZE(sizeof line)], reason[sizeof text_shown + 4200];
		escape_text(text_shown, sizeof text_shown, text, text_len);
		snprintf(reason, sizeof reason, "%s:%u: %s", path, lineno, text_shown);
		if (add_rule(list, &range, reason) != 0) {
			rc = -1;
			break;
		}
	}
	fclose(f);
	rangeset_build(&list->set);
	return rc;
}

static const struct exclusion_rule *rule_for(const struct exclusion_list *list, const struct addr *addr)
{
	int32_t i = rangeset_lookup(&list->set, addr);
	return i < 0 ? NULL : &list->rules[rangeset_entry(&list->set, i)->value];
}

const char *exclusion_match(const struct exclusion_list *list, const struct addr *addr)
{
	const struct exclusion_rule *rule = rule_for(list, addr);
	if (rule != NULL && !(rule->loopback && list->allow_loopback))
		return rule->reason;
	/* An embedded address is another host's (the translator's) view: its
	 * loopback is never ours, so --allow-loopback does not lift it. */
	struct addr inner;
	if (embedded_v4(addr, &inner) && (rule = rule_for(list, &inner)) != NULL)
		return rule->reason;
	return NULL;
}

int exclusion_load_defaults(struct exclusion_list *list, const char *optout_path, bool allow_loopback)
{
	char path[4096];
	list->allow_loopback = allow_loopback;
	if (exclusion_load(list, data_path("exclude.conf", path, sizeof path)) != 0)
		return -1;
	if (optout_path != NULL && exclusion_load(list, optout_path) != 0)
		return -1;
	return 0;
}

int exclusion_load_files(struct exclusion_list *list, const char *const *paths, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (exclusion_load(list, paths[i]) != 0)
			return -1;
	return 0;
}

int exclusion_check_destination(const struct exclusion_list *list, const char *option, const char *text,
				const struct addr *addr)
{
	const char *why = exclusion_match(list, addr);
	if (why == NULL)
		return 0;
	struct exclusion_list lifted = *list; /* would --allow-loopback admit it? then say so */
	lifted.allow_loopback = true;
	log_error("%s %s: the address is excluded (%s)%s", option, text, why,
		  exclusion_match(&lifted, addr) == NULL ? "; loopback only with --allow-loopback, for tests" : "");
	return -1;
}
