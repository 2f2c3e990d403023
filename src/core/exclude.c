#include "core/exclude.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/paths.h"

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
		.loopback = strstr(reason, "loopback") != NULL,
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
		char reason[1200];
		snprintf(reason, sizeof reason, "%s:%u: %.*s", path, lineno, (int)text_len, text);
		if (add_rule(list, &range, reason) != 0) {
			rc = -1;
			break;
		}
	}
	fclose(f);
	rangeset_build(&list->set);
	return rc;
}

const char *exclusion_match(const struct exclusion_list *list, const struct addr *addr)
{
	int32_t i = rangeset_lookup(&list->set, addr);
	if (i < 0)
		return NULL;
	const struct exclusion_rule *rule = &list->rules[rangeset_entry(&list->set, i)->value];
	if (rule->loopback && list->allow_loopback)
		return NULL;
	return rule->reason;
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
