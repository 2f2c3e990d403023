/* plughole recheck: a campaign's hosts verified again, into a round of their own. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>

#include "cli/cli.h"
#include "cli/verify.h"
#include "core/duration.h"
#include "core/log.h"
#include "core/util.h"
#include "probe/probe.h"
#include "track/owner_check.h"
#include "track/recheck.h"
#include "track/rounds.h"

const char usage_recheck[] =
	"usage: plughole recheck NAME [--at-least-after DURATION] [VERIFY OPTIONS]\n"
	"       plughole recheck NAME --every DURATION --rounds N [--at-least-after DURATION]\n"
	"       plughole recheck --due [VERIFY OPTIONS]\n"
	"       plughole recheck --ticket T | --address A [--until-done] [VERIFY OPTIONS]\n"
	"       plughole recheck --ticket T | --address A --round ID [VERIFY OPTIONS]\n"
	"       plughole recheck --status ID\n"
	"\n"
	"Verifies every host of campaign NAME again, treatment and control alike,\n"
	"with the test of its frozen verdict (a relay the relay test, a proxy the\n"
	"proxy protocols), fresh tokens and verify's engine, limits, sink and\n"
	"exclusions (VERIFY OPTIONS: see 'plughole verify --help'), and records a\n"
	"round: recheck 1, 2, ... of the campaign. Open again needs a new proof sent\n"
	"in this round. Each host's outcome (campaign_round_outcomes) is printed by\n"
	"group: open, changed (another open verdict), fixed (speaks the protocol\n"
	"and refuses), gone (unreachable; never counted as fixed), inconclusive.\n"
	"A round that did not finish (a crash, a stop) is continued by the next\n"
	"recheck of the campaign: hosts with a verdict in it are not tested again.\n"
	"\n"
	"  --at-least-after D  refuse (exit 1) when the campaign's previous round (or\n"
	"                      the campaign itself) began less than D ago\n"
	"  --every D --rounds N  store the campaign's schedule: N rounds, each D after\n"
	"                      the previous one (the first D after the campaign); runs\n"
	"                      nothing itself\n"
	"  --due               run, for every campaign with a schedule, the round that is\n"
	"                      due (or left unfinished); nothing when none is: for cron or\n"
	"                      a systemd timer, e.g. hourly\n"
	"  --ticket T, --address A\n"
	"                      an owner-requested check, as the web server starts one\n"
	"                      (track/owner_check.h): refused (exit 1, the reason said)\n"
	"                      within 10 minutes of the last check of the ticket, the\n"
	"                      address or its /24 (/64), or of one of its hosts however\n"
	"                      asked, when 4 run at once, or for an\n"
	"                      excluded address; else a round of kind 'owner' (never a\n"
	"                      campaign's recheck) is begun, its id printed, and run by\n"
	"                      a plughole of its own (the --round form below);\n"
	"                      --until-done waits for it and prints its --status\n"
	"  --round ID          (with --ticket or --address) runs owner round ID here:\n"
	"                      the ticket's hosts with their frozen tests, or address A on\n"
	"                      the relay port and the common proxy ports\n"
	"  --status ID         an owner round's hosts: pending, open, fixed, gone,\n"
	"                      inconclusive, or not-tested when the check stopped early\n"
	"  --check-ports LIST  (tests) an address check's ports instead of the table's:\n"
	"                      the relay test on the first, the proxy tests on the rest\n"
	"\n"
	"Durations take units: 30m, 12h, 7d.\n";

struct recheck {
	const char *name; /* the campaign */
	int64_t at_least_after;
	const struct store_schedule *schedule; /* --due */
	const char *ticket, *address;          /* an owner check */
	int64_t round_id;                      /* an owner check's round, made by owner_check_start */
	const char *db_path;
	int64_t campaign_id, seq;
	uint16_t ports[17]; /* --check-ports, 0-terminated; ports[0] == 0: the table's */
};

static int parse_duration(const char *option, const char *text, int64_t *out)
{
	double seconds;
	const char *why = NULL;
	if (duration_parse(text, strlen(text), &seconds, &why) != 0 || seconds < 1) {
		command_usage_error("recheck", "%s '%s': %s", option, text, why ? why : "at least a second");
		return -1;
	}
	*out = (int64_t)seconds;
	return 0;
}

static int parse_positive(const char *option, const char *text, int64_t *out)
{
	char *end;
	errno = 0;
	long long n = strtoll(text, &end, 10);
	if (errno || *end || end == text || n < 1) {
		command_usage_error("recheck", "%s '%s': a whole number, 1 or more", option, text);
		return -1;
	}
	*out = n;
	return 0;
}

static void when_text(time_t t, char *buf, size_t size)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- a campaign's round ---- */

static int64_t campaign_prepare(void *ctx, struct store *store)
{
	struct recheck *r = ctx;
	if ((r->campaign_id = store_campaign_id(store, r->name)) <= 0) {
		if (r->campaign_id == 0)
			log_error("recheck: no campaign '%s' (see 'plughole campaign list')", r->name);
		return r->campaign_id == 0 ? -2 : -1;
	}
	struct store_round last;
	int have = store_recheck_last(store, r->campaign_id, &last);
	int64_t created = store_campaign_created(store, r->campaign_id);
	if (have < 0 || created < 0)
		return -1;
	int64_t at_least_after = r->at_least_after;
	if (r->schedule != NULL && r->schedule->at_least_after > at_least_after)
		at_least_after = r->schedule->at_least_after;
	time_t now = time(NULL);
	struct recheck_next next = recheck_next(now, (time_t)created, have ? &last : NULL, at_least_after, r->schedule);
	char previous[32], due[32];
	when_text(next.previous, previous, sizeof previous);
	when_text(next.due_at, due, sizeof due);
	switch (next.step) {
	case RECHECK_FINISHED:
		log_info("recheck: %s: all %lld rounds of its schedule ran", r->name, (long long)r->schedule->rounds);
		return 0;
	case RECHECK_NOT_DUE:
		log_info("recheck: %s: round %lld is due at %s", r->name, (long long)next.next_seq, due);
		return 0;
	case RECHECK_TOO_SOON:
		log_error("recheck: %s: its previous round began at %s, less than --at-least-after ago: not before %s",
			  r->name, previous, due);
		return -2;
	case RECHECK_RESUME: {
		int locked = round_lock(r->db_path, last.id);
		if (locked != 0) {
			if (locked == 1)
				log_error("recheck: %s: round %lld is being run by another process", r->name,
					  (long long)last.id);
			return locked == 1 ? -2 : -1;
		}
		r->seq = last.seq;
		log_info("recheck: %s: continuing recheck %lld (round %lld), left unfinished", r->name,
			 (long long)last.seq, (long long)last.id);
		return last.id;
	}
	case RECHECK_NEW:
		break;
	}
	int64_t round = store_round_begin(store, ROUND_KIND_RECHECK, r->campaign_id, next.next_seq, NULL, now);
	if (round < 0 || round_lock(r->db_path, round) != 0)
		return -1;
	r->seq = next.next_seq;
	return round;
}

static int add_host(void *ctx, int64_t candidate_id, const char *address, uint16_t port, const char *test)
{
	unsigned families = test != NULL && strcmp(test, "proxy") == 0 ? PROBE_PROXY : PROBE_RELAY;
	return verify_add_target(ctx, address, port, candidate_id, families) < 0 ? -1 : 0;
}

static int campaign_targets(void *ctx, struct verify_run *run, struct store *store, int64_t round)
{
	struct recheck *r = ctx;
	/* only the hosts without a verdict in the round: a resumed round tests no host twice */
	return store_recheck_hosts_each(store, r->campaign_id, round, add_host, run);
}

static void print_outcome(void *ctx, const struct store_row *row)
{
	if (row->values == NULL)
		return;
	printf("  %-10s %-13s %s\n", store_row_value(row, "grp"), store_row_value(row, "outcome"),
	       store_row_value(row, "hosts"));
}

static int campaign_finish(void *ctx, struct store *store, int64_t round, bool complete)
{
	struct recheck *r = ctx;
	if (complete && store_round_end(store, round, ROUND_DONE, time(NULL)) != 0)
		return EXIT_FAILURE_;
	printf("recheck %s: recheck %lld (round %lld) %s\n", r->name, (long long)r->seq, (long long)round,
	       complete ? "done" : "unfinished: the next 'plughole recheck' of the campaign continues it");
	return store_round_outcomes_each(store, round, print_outcome, NULL) == 0 ? EXIT_OK : EXIT_FAILURE_;
}

/* ---- an owner check's round (made by owner_check_start, run here in a process of its own) ---- */

static int64_t owner_prepare(void *ctx, struct store *store)
{
	struct recheck *r = ctx;
	struct store_round round;
	int found = store_round_get(store, r->round_id, &round);
	if (found <= 0) {
		if (found == 0)
			log_error("recheck: no round %lld", (long long)r->round_id);
		return found == 0 ? -2 : -1;
	}
	char wanted[sizeof round.requested_by];
	owner_check_requested_by(r->ticket, r->address, wanted, sizeof wanted);
	if (strcmp(round.kind, ROUND_KIND_OWNER) != 0 || strcmp(round.requested_by, wanted) != 0 ||
	    strcmp(round.status, ROUND_RUNNING) != 0) {
		log_error("recheck: round %lld is not a running owner check of %s", (long long)r->round_id, wanted);
		return -2;
	}
	int locked = round_lock(r->db_path, r->round_id);
	if (locked == 1)
		log_error("recheck: round %lld is being run by another process", (long long)r->round_id);
	return locked == 0 ? r->round_id : locked == 1 ? -2 : -1;
}

static int owner_add(void *ctx, int64_t candidate_id, const char *address, uint16_t port, const char *test)
{
	return add_host(ctx, candidate_id, address, port, test);
}

static int owner_targets(void *ctx, struct verify_run *run, struct store *store, int64_t round)
{
	struct recheck *r = ctx;
	return owner_check_targets_each(store, r->ticket, r->address, r->ports[0] ? r->ports : NULL, round, owner_add,
					run);
}

static int owner_finish(void *ctx, struct store *store, int64_t round, bool complete)
{
	struct recheck *r = ctx;
	if (store_round_end(store, round, complete ? ROUND_DONE : ROUND_INTERRUPTED, time(NULL)) != 0)
		return EXIT_FAILURE_;
	return owner_check_print(store, NULL, round, r->ports[0] ? r->ports : NULL, stdout) == 0 ? EXIT_OK
												 : EXIT_FAILURE_;
}

static int parse_ports(const char *text, uint16_t *ports, size_t max)
{
	size_t n = 0;
	for (const char *p = text; *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (n + 1 == max || port_parse(p, len, &ports[n]) != 0 || ports[n] == 0)
			return command_usage_error("recheck", "--check-ports '%s': up to %zu ports, comma separated", text,
						   max - 1);
		n++;
		p += len + (end ? 1 : 0);
	}
	ports[n] = 0;
	return 0;
}

/* The web server's call, from the command line: start a check in a process of its own. */
static int owner_start(struct cli *cli, struct recheck *r, int argc, char **argv, bool wait_for_it)
{
	/* the child applies verify's exclusions to each host; an excluded address is refused here, untested */
	bool allow_loopback = false;
	const char *exclude_files[EXCLUDE_FILES_MAX];
	size_t exclude_count = 0;
	for (int i = 1; i < argc; i++) {
		allow_loopback |= strcmp(argv[i], "--allow-loopback") == 0;
		if (strcmp(argv[i], "--exclude-file") == 0 && i + 1 < argc && exclude_count < EXCLUDE_FILES_MAX)
			exclude_files[exclude_count++] = argv[i + 1];
	}
	struct exclusion_list exclusions;
	exclusion_init(&exclusions);
	struct store *store = NULL;
	int rc = EXIT_FAILURE_;
	if (exclusion_load_defaults(&exclusions, cli->config.optout, allow_loopback) != 0 ||
	    exclusion_load_files(&exclusions, exclude_files, exclude_count) != 0 ||
	    (store = cli_open_store(cli)) == NULL)
		goto out;
	struct owner_check_options o = {
		.db_path = cli->config.db,
		.config_path = cli->config_path,
		.verify_args = (const char *const *)argv + 1,
		.exclusions = &exclusions,
		.ports = r->ports[0] ? r->ports : NULL,
	};
	char reason[256];
	pid_t child;
	int64_t round = owner_check_start(store, &o, r->ticket, r->address, time(NULL), &child, reason, sizeof reason);
	if (round <= 0) {
		log_error("recheck: %s", reason);
		goto out;
	}
	printf("round %lld\n", (long long)round);
	fflush(stdout);
	int status = 0;
	if (!wait_for_it) {
		rc = EXIT_OK;
		goto out;
	}
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	rc = owner_check_print(store, cli->config.db, round, o.ports, stdout) == 0 &&
			     WIFEXITED(status) && WEXITSTATUS(status) == 0
		     ? EXIT_OK
		     : EXIT_FAILURE_;
out:
	store_close(store);
	exclusion_free(&exclusions);
	return rc;
}

/* ---- the verb ---- */

/* An option of recheck's own: its value (or "" for --due) taken out of argv, which keeps verify's. */
struct own_option {
	const char *name;
	bool has_value;
	const char **value;
};

static int take_own_options(int *argc, char **argv, const struct own_option *own, size_t count)
{
	int kept = 1;
	for (int i = 1; i < *argc; i++) {
		const struct own_option *o = NULL;
		const char *inline_value = NULL;
		for (size_t k = 0; k < count && o == NULL; k++) {
			size_t len = strlen(own[k].name);
			if (strncmp(argv[i], own[k].name, len) == 0 && (argv[i][len] == '\0' || argv[i][len] == '=')) {
				o = &own[k];
				inline_value = argv[i][len] == '=' ? argv[i] + len + 1 : NULL;
			}
		}
		if (o == NULL) {
			if (strcmp(argv[i], "--") == 0)
				break;
			argv[kept++] = argv[i];
			continue;
		}
		if (!o->has_value)
			*o->value = "";
		else if (inline_value != NULL)
			*o->value = inline_value;
		else if (i + 1 < *argc)
			*o->value = argv[++i];
		else
			return command_usage_error("recheck", "%s wants a value", o->name);
	}
	argv[kept] = NULL;
	*argc = kept;
	return 0;
}

static int run_due(struct cli *cli, int argc, char **argv, struct recheck *base)
{
	struct store *store = cli_open_store(cli);
	struct store_schedule *schedules = NULL;
	size_t count = 0;
	if (store == NULL || store_schedules_read(store, &schedules, &count) != 0) {
		store_close(store);
		return EXIT_FAILURE_;
	}
	store_close(store);
	int rc = EXIT_OK;
	/* Cron starts --due on a timer: a long round still running is nothing due for this process, not an
	 * error (cron would mail it). The lock taken here is kept for every campaign below. */
	int locked = count == 0 ? 0 : verify_lock_store(cli->config.db, true);
	if (locked == -2) {
		log_info("recheck --due: another verify or recheck is running on %s: nothing due for this process",
			 cli->config.db);
		free(schedules);
		return EXIT_OK;
	}
	if (locked < 0) {
		free(schedules);
		return EXIT_FAILURE_;
	}
	if (count == 0)
		log_info("recheck: no campaign has a schedule ('plughole recheck NAME --every D --rounds N')");
	/* each campaign its own run: its round decided again under the verify lock (prepare) */
	for (size_t i = 0; i < count; i++) {
		struct recheck r = *base;
		r.name = schedules[i].name;
		r.schedule = &schedules[i];
		struct verify_hooks hooks = {.prepare = campaign_prepare, .add_targets = campaign_targets,
					     .finish = campaign_finish, .store_lock = true, .ctx = &r};
		cli_reset_getopt();
		int one = verify_main(cli, argc, argv, &hooks);
		round_unlock_all(); /* this campaign's round is written: its lock is not needed for the next */
		if (one != EXIT_OK)
			rc = one;
	}
	free(schedules);
	return rc;
}

int cmd_recheck(struct cli *cli, int argc, char **argv)
{
	const char *at_least_after = NULL, *every = NULL, *rounds = NULL, *due = NULL, *ticket = NULL,
		   *address = NULL, *round = NULL, *status = NULL, *wait = NULL, *check_ports = NULL;
	const struct own_option own[] = {
		{"--at-least-after", true, &at_least_after}, {"--every", true, &every}, {"--rounds", true, &rounds},
		{"--due", false, &due}, {"--ticket", true, &ticket}, {"--address", true, &address},
		{"--round", true, &round}, {"--status", true, &status}, {"--until-done", false, &wait},
		{"--check-ports", true, &check_ports},
	};
	struct recheck r = {.db_path = cli->config.db};
	/* NAME comes first: verify's options take values, so it is not looked for among them */
	if (argc > 1 && argv[1][0] != '-') {
		r.name = argv[1];
		argv[1] = argv[0];
		argv++;
		argc--;
	}
	if (take_own_options(&argc, argv, own, ARRAY_SIZE(own)) != 0)
		return EXIT_USAGE;
	int64_t every_s = 0, rounds_n = 0, status_round = 0;
	if ((check_ports && parse_ports(check_ports, r.ports, ARRAY_SIZE(r.ports)) != 0) ||
	    (status && parse_positive("--status", status, &status_round) != 0))
		return EXIT_USAGE;
	if (status != NULL) {
		struct store *store = cli_open_store(cli);
		int rc = store && owner_check_print(store, cli->config.db, status_round, r.ports[0] ? r.ports : NULL,
						    stdout) == 0
				 ? EXIT_OK
				 : EXIT_FAILURE_;
		store_close(store);
		return rc;
	}
	if ((at_least_after && parse_duration("--at-least-after", at_least_after, &r.at_least_after) != 0) ||
	    (every && parse_duration("--every", every, &every_s) != 0) ||
	    (rounds && parse_positive("--rounds", rounds, &rounds_n) != 0) ||
	    (round && parse_positive("--round", round, &r.round_id) != 0))
		return EXIT_USAGE;
	int forms = (r.name != NULL) + (due != NULL) + (ticket != NULL || address != NULL);
	if (forms != 1 || (ticket && address))
		return command_usage_error("recheck", "name one campaign, or --due, or one --ticket or --address");
	if ((every != NULL) != (rounds != NULL) || (every && r.name == NULL))
		return command_usage_error("recheck", "--every and --rounds go together, with a campaign's NAME");
	if (round != NULL && !(ticket || address))
		return command_usage_error("recheck", "--round goes with --ticket or --address");
	if (every != NULL) {
		struct store *store = cli_open_store(cli);
		int64_t id = store ? store_campaign_id(store, r.name) : -1;
		int rc = EXIT_FAILURE_;
		if (id == 0)
			log_error("recheck: no campaign '%s' (see 'plughole campaign list')", r.name);
		else if (id > 0 && store_schedule_set(store, id, every_s, rounds_n, r.at_least_after) == 0) {
			printf("recheck %s: %lld rounds, every %s; 'plughole recheck --due' runs each when it is due\n",
			       r.name, (long long)rounds_n, every);
			rc = EXIT_OK;
		}
		store_close(store);
		return rc;
	}
	if (due != NULL)
		return run_due(cli, argc, argv, &r);
	struct verify_hooks hooks = {.prepare = campaign_prepare, .add_targets = campaign_targets,
				     .finish = campaign_finish, .store_lock = true, .ctx = &r};
	r.ticket = ticket;
	r.address = address;
	if ((ticket || address) && round == NULL)
		return owner_start(cli, &r, argc, argv, wait != NULL);
	if (ticket || address) {
		/* beside a running verify or recheck: only its own round, the lock of that round */
		hooks = (struct verify_hooks){.prepare = owner_prepare, .add_targets = owner_targets,
					      .finish = owner_finish, .ctx = &r};
	}
	cli_reset_getopt();
	return verify_main(cli, argc, argv, &hooks);
}
