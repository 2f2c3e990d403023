/* plughole suppress add|list|remove: addresses, domains and networks that never get letters. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/output.h"
#include "core/escape.h"
#include "core/log.h"
#include "notify/suppress.h"
#include "core/util.h"

const char usage_suppress[] = "usage: plughole suppress add ADDRESS|@DOMAIN|NETWORK --reason TEXT\n"
			      "       plughole suppress list [--format tsv|csv|json]\n"
			      "       plughole suppress remove ADDRESS|@DOMAIN|NETWORK\n"
			      "\n"
			      "Who never gets a letter: an e-mail address (any case), a domain with its\n"
			      "subdomains (@example.net), or a network (CIDR, FIRST-LAST or one address:\n"
			      "its hosts are left out of letters). Honoured when a campaign is created (the\n"
			      "letter is suppressed, naming the rule) and again when letters are sent.\n"
			      "  --reason TEXT   why (an opt-out, a complaint, ...): required\n"
			      "list: TSV columns: kind, value, reason, added (UTC seconds).\n";

static int parse_rule(const char *verb, const char *text, struct suppress_rule *rule)
{
	const char *why = NULL;
	if (suppress_parse(text, strlen(text), rule, &why) != 0) {
		char shown[ESCAPE_SIZE(64)];
		/* a malformed operand: exit 1, as README says (usage errors are 2) */
		fprintf(stderr, "plughole %s: '%s': %s\n", verb,
			escape_text(shown, sizeof shown, text, strlen(text)), why);
		return EXIT_FAILURE_;
	}
	return 0;
}

static const char *shown_value(const struct suppress_rule *rule, char *buf, size_t buflen)
{
	snprintf(buf, buflen, "%s%s", rule->kind == SUPPRESS_DOMAIN ? "@" : "", rule->value);
	return buf;
}

static int suppress_add(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {{"reason", required_argument, NULL, 'r'}, {NULL, 0, NULL, 0}};
	const char *reason = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (c != 'r')
			return EXIT_USAGE;
		reason = optarg;
	}
	if (optind + 1 != argc)
		return command_usage_error("suppress add", "give one ADDRESS, @DOMAIN or NETWORK");
	if (reason == NULL || reason[0] == '\0')
		return command_usage_error("suppress add", "say why with --reason TEXT");
	struct suppress_rule rule;
	if (parse_rule("suppress add", argv[optind], &rule) != 0)
		return EXIT_FAILURE_;
	struct store *store = cli_open_store(cli);
	if (store == NULL)
		return EXIT_FAILURE_;
	int rc =
	    store_suppression_add(store, suppress_kind_names[rule.kind], rule.value,
				  rule.kind == SUPPRESS_NETWORK ? &rule.range : NULL, reason, time(NULL));
	store_close(store);
	char shown[SUPPRESS_VALUE_MAX + 2];
	if (rc == 1)
		printf("suppressed %s %s\n", suppress_kind_names[rule.kind],
		       shown_value(&rule, shown, sizeof shown));
	else if (rc == 0)
		printf("%s %s was suppressed already\n", suppress_kind_names[rule.kind],
		       shown_value(&rule, shown, sizeof shown));
	return rc < 0 ? EXIT_FAILURE_ : EXIT_OK;
}

static int suppress_remove(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {{NULL, 0, NULL, 0}};
	if (getopt_long(argc, argv, "", options, NULL) != -1)
		return EXIT_USAGE;
	if (optind + 1 != argc)
		return command_usage_error("suppress remove", "give one ADDRESS, @DOMAIN or NETWORK");
	struct suppress_rule rule;
	if (parse_rule("suppress remove", argv[optind], &rule) != 0)
		return EXIT_FAILURE_;
	struct store *store = cli_open_store(cli);
	if (store == NULL)
		return EXIT_FAILURE_;
	int rc = store_suppression_remove(store, suppress_kind_names[rule.kind], rule.value);
	store_close(store);
	char shown[SUPPRESS_VALUE_MAX + 2];
	if (rc == 0)
		log_error("suppress remove: no rule for %s %s ('plughole suppress list' lists them)",
			  suppress_kind_names[rule.kind], shown_value(&rule, shown, sizeof shown));
	else if (rc == 1)
		printf("removed %s %s\n", suppress_kind_names[rule.kind],
		       shown_value(&rule, shown, sizeof shown));
	return rc == 1 ? EXIT_OK : EXIT_FAILURE_;
}

static int suppress_list(struct cli *cli, int argc, char **argv)
{
	return cli_print_rows(cli, "suppress list", argc, argv, store_suppressions_each);
}

int cmd_suppress(struct cli *cli, int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(struct cli *, int, char **);
		enum store_mode store;
	} subs[] = {
	    /* rules may come before any finding: add makes the store */
	    {"add", suppress_add, STORE_CREATE},
	    {"list", suppress_list, STORE_READ},
	    {"remove", suppress_remove, STORE_UPDATE},
	};
	if (argc < 2)
		return command_usage_error("suppress", "give add, list or remove");
	cli_reset_getopt();
	for (size_t i = 0; i < ARRAY_SIZE(subs); i++)
		if (strcmp(argv[1], subs[i].name) == 0) {
			cli->store_mode = subs[i].store;
			return subs[i].run(cli, argc - 1, argv + 1);
		}
	char shown[ESCAPE_SIZE(16)];
	return command_usage_error("suppress", "'%s' is not add, list or remove",
				   escape_text(shown, sizeof shown, argv[1], strlen(argv[1])));
}
