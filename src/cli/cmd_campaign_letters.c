/*
 * plughole campaign preview|send: a campaign's letters made into messages
 * (notify/compose.h), written for review or submitted to a smarthost.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "attrib/agencies.h"
#include "cli/campaign_letters.h"
#include "cli/cli.h"
#include "cli/interrupt.h"
#include "core/escape.h"
#include "core/log.h"
#include "core/paths.h"
#include "notify/compose.h"
#include "notify/ratelimit.h"
#include "notify/send.h"
#include "notify/signature.h"
#include "track/followup.h"
#include "track/letters.h"

#define PREVIEW_STDOUT_LETTERS 2 /* without --maildir or --eml: the first letters, on stdout */

int campaign_letters_open(struct cli *cli, const char *verb, const char *name, struct campaign_letters *cl)
{
	memset(cl, 0, sizeof *cl);
	char path[4096], guides[4096];
	char shown[ESCAPE_SIZE(64)];
	escape_text(shown, sizeof shown, name, strlen(name));
	if (agencies_load(&cl->agencies, data_path("agencies.conf", path, sizeof path)) != 0)
		return -1;
	if ((cl->store = cli_open_store(cli)) == NULL) {
		agencies_free(&cl->agencies);
		return -1;
	}
	cl->campaign_id = store_campaign_id(cl->store, name);
	if (cl->campaign_id <= 0) {
		if (cl->campaign_id == 0)
			log_error("%s: no campaign '%s' ('plughole campaign list' lists them)", verb, shown);
		campaign_letters_close(cl);
		return -1;
	}
	cl->composer = composer_open(cl->store, &cl->agencies, data_path("templates", path, sizeof path),
				     data_path("guides", guides, sizeof guides), cli->config.web_public_url);
	if (cl->composer == NULL) {
		log_error("%s: cannot open the templates and guides", verb);
		campaign_letters_close(cl);
		return -1;
	}
	if (cli->config.dkim_key != NULL) {
		char why[512], shown_why[ESCAPE_SIZE(512)];
		struct signer *signer = signer_new(cli->config.dkim_key, cli->config.dkim_selector,
						   cli->config.dkim_domain, why, sizeof why);
		if (signer == NULL) {
			log_error("%s: [campaign] dkim_key: %s", verb,
				  escape_text(shown_why, sizeof shown_why, why, strlen(why)));
			campaign_letters_close(cl);
			return -1;
		}
		composer_set_signer(cl->composer, signer);
	}
	return 0;
}

void campaign_letters_close(struct campaign_letters *cl)
{
	composer_close(cl->composer);
	if (cl->store)
		store_close(cl->store);
	agencies_free(&cl->agencies);
	memset(cl, 0, sizeof *cl);
}

/* --owner X: the owner's organisation (any case), its ticket, or its row number in 'campaign show'. */
static bool owner_matches(const struct outbox_letter *l, const char *owner)
{
	if (owner == NULL)
		return true;
	char *end;
	long long id = strtoll(owner, &end, 10);
	if (*owner && *end == '\0')
		return id == l->campaign_owner_id;
	return (l->organisation && strcasecmp(l->organisation, owner) == 0) ||
	       (l->ticket && strcasecmp(l->ticket, owner) == 0);
}

static int write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		log_error("%s: %s", path, strerror(errno));
		return -1;
	}
	size_t done = 0;
	while (done < len) {
		ssize_t w = write(fd, data + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			log_error("%s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		done += (size_t)w;
	}
	/* no fsync: a preview is for reading, and thousands of fsyncs would dominate it */
	if (close(fd) != 0) {
		log_error("%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int make_dir(const char *path)
{
	if (mkdir(path, 0755) != 0 && errno != EEXIST) {
		log_error("%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Maildir delivery: tmp/ then rename into new/. */
static int write_maildir(const char *dir, const struct outbox_letter *l, const char *data, size_t len)
{
	char tmp[4096], final[4096], name[512], host[256] = "localhost";
	const char *subs[] = {"", "/tmp", "/new", "/cur"};
	for (int i = 0; i < 4; i++) {
		if (snprintf(tmp, sizeof tmp, "%s%s", dir, subs[i]) >= (int)sizeof tmp) {
			log_error("%s: path too long", dir);
			return -1;
		}
		if (make_dir(tmp) != 0)
			return -1;
	}
	gethostname(host, sizeof host - 1);
	host[strcspn(host, "/:")] = '\0';
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(name, sizeof name, "%lld.M%ldP%d_%.16s.%.64s", (long long)ts.tv_sec, ts.tv_nsec / 1000,
		 (int)getpid(), l->ticket, host);
	if (snprintf(tmp, sizeof tmp, "%s/tmp/%s", dir, name) >= (int)sizeof tmp ||
	    snprintf(final, sizeof final, "%s/new/%s", dir, name) >= (int)sizeof final) {
		log_error("%s: path too long", dir);
		return -1;
	}
	if (write_file(tmp, data, len) != 0)
		return -1;
	if (rename(tmp, final) != 0) {
		log_error("%s: %s", final, strerror(errno));
		return -1;
	}
	return 0;
}

/* A letter on stdout, for reading: the message's header, then its text decoded. */
static void print_readable(const struct outbox_letter *l, const char *msg, size_t len,
			   const struct letter_text *text)
{
	const char *end = strstr(msg, "\n\n");
	size_t header = end ? (size_t)(end - msg) + 1 : len;
	printf("==== letter %s to %s (%s) ====\n", l->ticket, l->recipient, l->organisation);
	fwrite(msg, 1, header, stdout);
	printf("---- text (decoded) ----\n");
	fwrite(text->body, 1, text->body_len, stdout);
	if (text->body_len && text->body[text->body_len - 1] != '\n')
		putchar('\n');
	printf("---- + hosts-%s.csv attached ----\n\n", l->ticket);
}

enum { OPT_OWNER = 1, OPT_MAILDIR, OPT_EML, OPT_ALL };

int campaign_preview(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
	    {"owner", required_argument, NULL, OPT_OWNER},
	    {"maildir", required_argument, NULL, OPT_MAILDIR},
	    {"eml", required_argument, NULL, OPT_EML},
	    {NULL, 0, NULL, 0},
	};
	const char *verb = "campaign preview", *owner = NULL, *maildir = NULL, *eml = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (c) {
		case OPT_OWNER:
			owner = optarg;
			break;
		case OPT_MAILDIR:
			maildir = optarg;
			break;
		case OPT_EML:
			eml = optarg;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc)
		return command_usage_error(verb, "give one campaign NAME");
	if (maildir && eml)
		return command_usage_error(verb, "give --maildir or --eml, not both");
	struct campaign_letters cl;
	if (campaign_letters_open(cli, verb, argv[optind], &cl) != 0)
		return EXIT_FAILURE_;
	struct outbox_letter *letters = NULL;
	size_t count = 0, written = 0, failed = 0;
	int rc = EXIT_FAILURE_;
	if (outbox_load(cl.store, cl.campaign_id, NULL, &letters, &count) != 0)
		goto out;
	if (eml && make_dir(eml) != 0)
		goto out;
	time_t now = time(NULL);
	for (size_t i = 0; i < count; i++) {
		const struct outbox_letter *l = &letters[i];
		/* what send would send: letters still to go (or --owner's, whatever their state) */
		bool pending = strcmp(l->state, "queued") == 0 || strcmp(l->state, "deferred") == 0;
		if (!owner_matches(l, owner) || (owner == NULL && !pending))
			continue;
		if (!maildir && !eml && written == PREVIEW_STDOUT_LETTERS)
			break;
		char *msg = NULL, why[512];
		size_t len = 0;
		struct letter_text text = {0};
		if (compose_message(cl.composer, l, (int64_t)now, MIME_LF, &msg, &len, &text, why,
				    sizeof why) != 0) {
			char shown[ESCAPE_SIZE(512)];
			log_error("%s: %s", verb, escape_text(shown, sizeof shown, why, strlen(why)));
			failed++;
			continue;
		}
		int w = 0;
		if (maildir)
			w = write_maildir(maildir, l, msg, len);
		else if (eml) {
			char path[4096];
			w = snprintf(path, sizeof path, "%s/%.16s.eml", eml, l->ticket) >= (int)sizeof path
				? -1
				: write_file(path, msg, len);
		} else
			print_readable(l, msg, len, &text);
		free(msg);
		letter_text_free(&text);
		if (w != 0) {
			failed++;
			break;
		}
		written++;
	}
	if (maildir || eml)
		printf("%zu letters written to %s%s\n", written, maildir ? maildir : eml,
		       maildir ? "/new" : "");
	if (written == 0 && failed == 0)
		log_warn("%s: no letter%s to preview", verb, owner ? " of that owner" : " queued");
	rc = failed ? EXIT_FAILURE_ : EXIT_OK;
out:
	outbox_free(letters, count);
	campaign_letters_close(&cl);
	return rc;
}

/* ---- send ---- */

#define SEND_MAX_ATTEMPTS 10	  /* tempfails before a letter fails for good */
#define SEND_RETRY_AFTER 300	  /* seconds after the first tempfail; doubled each time */
#define SEND_RETRY_CAP (6 * 3600) /* the longest back-off */

/* Back-off after the n-th tempfail (n >= 1): base, 2 base, 4 base, ... capped. */
static time_t backoff(long base, int64_t n)
{
	double wait = (double)base;
	for (int64_t i = 1; i < n && wait < SEND_RETRY_CAP; i++)
		wait *= 2;
	return (time_t)(wait < SEND_RETRY_CAP ? wait : SEND_RETRY_CAP);
}

struct send_counts {
	size_t sent, deferred, failed, suppressed, unknown, skipped, total;
};

static double monotonic(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void progress(const struct send_counts *c, bool tty, bool final)
{
	if (!tty)
		return;
	fprintf(stderr, "\r  %zu/%zu: %zu sent, %zu deferred, %zu failed, %zu suppressed%s",
		c->sent + c->deferred + c->failed + c->suppressed + c->unknown + c->skipped, c->total,
		c->sent, c->deferred, c->failed, c->suppressed, final ? "\n" : "");
	fflush(stderr);
}

/* The letter's hosts' addresses suppressed now? A contact or domain rule, or every host under a network rule.
 */
struct host_check {
	struct store *store;
	const char *contact;
	size_t hosts, suppressed;
	char rule[320];
};

static void check_host(void *ctx, const struct store_row *row)
{
	if (row->values == NULL)
		return; /* the names alone, before the rows */
	struct host_check *h = ctx;
	const char *address = store_row_value(row, "address");
	struct addr a;
	h->hosts++;
	if (address && addr_parse(address, strlen(address), &a) == 0 &&
	    store_suppressed(h->store, "", &a, h->rule, sizeof h->rule) == 1)
		h->suppressed++;
}

/* 1 with the rule when the letter must not go now, 0, -1 error. */
static int suppressed_now(struct store *store, const struct outbox_letter *l, char *rule, size_t rulelen)
{
	int s = store_suppressed(store, l->recipient, NULL, rule, rulelen);
	if (s != 0)
		return s;
	struct host_check h = {.store = store, .contact = l->recipient};
	if (store_letter_hosts_each(store, l->id, check_host, &h) != 0)
		return -1;
	if (h.hosts > 0 && h.suppressed == h.hosts) {
		snprintf(rule, rulelen, "%s", h.rule);
		return 1;
	}
	return 0;
}

/* A letter's move and its attempt's record, in one transaction. 0, or -1 (logged). */
static int commit_move(struct store *store, const struct outbox_letter *l, enum letter_event ev,
		       const char *reason, time_t now)
{
	int to = letter_apply(store, l->id, ev, reason, now);
	if (to >= 0)
		return 0;
	log_error("letter %s: cannot move it from %s (%s): %s", l->ticket, l->state, letter_event_name(ev),
		  to == LETTER_APPLY_RACED ? "another process moved it" : "not allowed or store error");
	return -1;
}

static const char *const outcome_names[] = {[SMTP_ACCEPTED] = "accepted",
					    [SMTP_TEMPFAIL] = "tempfail",
					    [SMTP_PERMFAIL] = "permfail",
					    [SMTP_UNKNOWN] = "unknown"};

struct send_run {
	struct store *store;
	const struct agencies *agencies;
	struct token_secret secret; /* the follow-ups' ticket keys */
	struct composer *composer;
	struct smtp_sender *smtp;
	const char *smarthost;
	long retry_after;
	struct send_counts counts;
};

/* A 5xx: the owner's next rung gets a letter (in the transaction of the move). 0, or -1. */
static int next_rung(struct send_run *run, const struct outbox_letter *l, time_t now)
{
	struct store_letter_ref ref;
	if (store_letter_by_ticket(run->store, l->ticket, &ref) != 1)
		return -1;
	const struct agency *agency = ref.agency[0] ? agencies_find(run->agencies, ref.agency) : NULL;
	char to[320], note[256];
	int64_t id = letter_next_rung(run->store, &run->secret, &ref, agency ? agency->contact : NULL, now, to,
				      sizeof to, note, sizeof note);
	if (id > 0)
		log_info("letter %s refused: the next letter of its owner is queued to %s", l->ticket, to);
	else if (id == 0)
		log_info("letter %s refused: %s", l->ticket, note);
	return id < 0 ? -1 : 0;
}

/* Sends one letter: 0 on (any) outcome, -1 when the store failed (the run stops). */
static int send_one(struct send_run *run, const struct outbox_letter *l)
{
	char why[512], shown[ESCAPE_SIZE(512)], rule[320];
	time_t now = time(NULL);
	int s = suppressed_now(run->store, l, rule, sizeof rule);
	if (s < 0)
		return -1;
	if (s == 1) {
		run->counts.suppressed++;
		return store_begin(run->store) != 0 ||
			       commit_move(run->store, l, LETTER_EV_SUPPRESS, rule, now) != 0 ||
			       store_commit(run->store) != 0
			   ? -1
			   : 0;
	}
	char *msg = NULL, return_path[320];
	size_t len = 0;
	if (letter_return_path(l->ticket, l->domain, return_path, sizeof return_path) != 0 ||
	    compose_message(run->composer, l, (int64_t)now, MIME_CRLF, &msg, &len, NULL, why, sizeof why) !=
		0) {
		log_error("letter %s not sent: %s", l->ticket,
			  escape_text(shown, sizeof shown, why, strlen(why)));
		run->counts.skipped++;
		return 0;
	}
	/* committed before the first byte goes: a crash from here on leaves it in sending */
	int64_t attempt = -1;
	if (store_begin(run->store) != 0 || commit_move(run->store, l, LETTER_EV_CLAIM, NULL, now) != 0 ||
	    (attempt = store_letter_attempt_begin(run->store, l->id, run->smarthost, now)) < 0 ||
	    store_commit(run->store) != 0) {
		store_rollback(run->store);
		free(msg);
		return -1;
	}
	struct smtp_result r;
	smtp_submit(run->smtp, return_path, l->recipient, msg, len, &r);
	free(msg);
	now = time(NULL);
	escape_text(shown, sizeof shown, r.reply, strlen(r.reply));
	enum letter_event ev = LETTER_EV_ACCEPTED;
	int64_t tempfails = 0;
	bool give_up = false;
	if (r.outcome == SMTP_TEMPFAIL) {
		tempfails = store_letter_attempts_count(run->store, l->id, "tempfail") + 1;
		give_up = tempfails >= SEND_MAX_ATTEMPTS;
	}
	ev = r.outcome == SMTP_PERMFAIL || give_up ? LETTER_EV_PERMFAIL
	     : r.outcome == SMTP_TEMPFAIL	   ? LETTER_EV_TEMPFAIL
						   : LETTER_EV_ACCEPTED;
	char reason[sizeof shown + 32];
	snprintf(reason, sizeof reason, "%s%s", give_up ? "gave up after tempfails: " : "", shown);
	if (store_begin(run->store) != 0 ||
	    store_letter_attempt_end(run->store, attempt, r.code, r.reply, outcome_names[r.outcome], now) !=
		0 ||
	    (r.outcome != SMTP_UNKNOWN &&
	     commit_move(run->store, l, ev, r.outcome == SMTP_ACCEPTED ? NULL : reason, now) != 0) ||
	    (r.outcome == SMTP_PERMFAIL && next_rung(run, l, now) != 0) ||
	    (ev == LETTER_EV_TEMPFAIL &&
	     store_letter_schedule(run->store, l->id, now + backoff(run->retry_after, tempfails)) != 0) ||
	    store_commit(run->store) != 0) {
		store_rollback(run->store);
		return -1;
	}
	if (r.outcome == SMTP_UNKNOWN) {
		run->counts.unknown++;
		log_error("letter %s (%s): the message went but no final reply came (%s): left in 'sending'",
			  l->ticket, l->message_id, shown);
	} else if (ev == LETTER_EV_ACCEPTED)
		run->counts.sent++;
	else if (ev == LETTER_EV_TEMPFAIL)
		run->counts.deferred++;
	else {
		run->counts.failed++;
		log_warn("letter %s to %s failed: %s", l->ticket, l->recipient, reason);
	}
	return 0;
}

/* Letters left in 'sending' by a crash (or an unanswered submission): listed, or resolved as told. */
static int resolve_sending(struct store *store, int64_t campaign_id, const char *resolve)
{
	struct outbox_letter *list = NULL;
	size_t count = 0;
	if (outbox_load(store, campaign_id, "sending", &list, &count) != 0)
		return -1;
	int rc = 0;
	time_t now = time(NULL);
	for (size_t i = 0; i < count && rc == 0; i++) {
		const struct outbox_letter *l = &list[i];
		if (resolve == NULL) {
			time_t started = 0;
			char outcome[32] = "";
			store_letter_last_attempt(store, l->id, &started, outcome, sizeof outcome);
			struct tm tm;
			char when[32] = "?";
			if (gmtime_r(&started, &tm))
				strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
			fprintf(stderr, "  %s  %s  to %s, attempt started %s (%s)\n", l->ticket,
				l->message_id, l->recipient, when, outcome[0] ? outcome : "no attempt");
			continue;
		}
		bool sent = strcmp(resolve, "sent") == 0;
		if (store_begin(store) != 0 ||
		    commit_move(store, l, sent ? LETTER_EV_RESOLVE_SENT : LETTER_EV_RESOLVE_UNSENT,
				sent ? "resolved by the operator: it went"
				     : "resolved by the operator: send again",
				now) != 0 ||
		    store_commit(store) != 0) {
			store_rollback(store);
			rc = -1;
		}
	}
	if (resolve == NULL && count > 0) {
		log_error("campaign send: %zu letter%s left in 'sending' (a send was killed or got no final "
			  "reply): "
			  "nothing sent. Look for each Message-ID above in the smarthost's log, then run "
			  "send again "
			  "with --resolve-sending=sent (it went) or --resolve-sending=resend (it never went)",
			  count, count == 1 ? " is" : "s are");
		rc = 1;
	} else if (count > 0)
		log_info("campaign send: %zu letter%s in 'sending' resolved as %s", count,
			 count == 1 ? "" : "s", resolve);
	outbox_free(list, count);
	return rc;
}

static int read_password(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		log_error("--password-file %s: %s", path, strerror(errno));
		return -1;
	}
	bool ok = fgets(buf, (int)len, f) != NULL;
	fclose(f);
	if (!ok) {
		log_error("--password-file %s: empty", path);
		return -1;
	}
	buf[strcspn(buf, "\r\n")] = '\0';
	return 0;
}

static int parse_rate(const char *verb, const char *name, const char *text, double *out)
{
	char *end;
	errno = 0;
	*out = strtod(text, &end);
	if (errno || end == text || *end || !isfinite(*out) || *out < 0) {
		char shown[ESCAPE_SIZE(64)];
		log_error("%s: %s wants letters per minute (0: no limit), not '%s'", verb, name,
			  escape_text(shown, sizeof shown, text, strlen(text)));
		return -1;
	}
	return 0;
}

enum {
	OPT_SMTP = 1,
	OPT_USER,
	OPT_PASSWORD_FILE,
	OPT_RATE,
	OPT_PER_DOMAIN,
	OPT_REQUIRE_TLS,
	OPT_CACERT,
	OPT_RESOLVE,
	OPT_RETRY_AFTER,
	OPT_HELO,
};

int campaign_send(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
	    {"smtp", required_argument, NULL, OPT_SMTP},
	    {"user", required_argument, NULL, OPT_USER},
	    {"password-file", required_argument, NULL, OPT_PASSWORD_FILE},
	    {"rate", required_argument, NULL, OPT_RATE},
	    {"per-domain", required_argument, NULL, OPT_PER_DOMAIN},
	    {"require-tls", no_argument, NULL, OPT_REQUIRE_TLS},
	    {"smtp-ca", required_argument, NULL, OPT_CACERT},
	    {"cacert", required_argument, NULL, OPT_CACERT}, /* its earlier name */
	    {"resolve-sending", required_argument, NULL, OPT_RESOLVE},
	    {"retry-after", required_argument, NULL, OPT_RETRY_AFTER},
	    {"helo", required_argument, NULL, OPT_HELO},
	    {NULL, 0, NULL, 0},
	};
	const char *verb = "campaign send", *password_file = NULL, *resolve = NULL;
	struct smtp_options so = {.url = cli->config.campaign_smtp, .cacert = cli->config.campaign_smtp_ca};
	double rate = 0, per_domain = 0;
	long retry_after = SEND_RETRY_AFTER;
	int c;
	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (c) {
		case OPT_SMTP:
			so.url = optarg;
			break;
		case OPT_USER:
			so.user = optarg;
			break;
		case OPT_PASSWORD_FILE:
			password_file = optarg;
			break;
		case OPT_RATE:
			if (parse_rate(verb, "--rate", optarg, &rate) != 0)
				return EXIT_FAILURE_;
			break;
		case OPT_PER_DOMAIN:
			if (parse_rate(verb, "--per-domain", optarg, &per_domain) != 0)
				return EXIT_FAILURE_;
			break;
		case OPT_REQUIRE_TLS:
			so.require_tls = true;
			break;
		case OPT_CACERT:
			so.cacert = optarg;
			break;
		case OPT_RESOLVE:
			if (strcmp(optarg, "sent") != 0 && strcmp(optarg, "resend") != 0)
				return command_usage_error(verb, "--resolve-sending is sent or resend");
			resolve = optarg;
			break;
		case OPT_RETRY_AFTER: {
			char *end;
			retry_after = strtol(optarg, &end, 10);
			if (*end || end == optarg || retry_after < 1 || retry_after > 86400)
				return command_usage_error(verb, "--retry-after wants 1-86400 seconds");
			break;
		}
		case OPT_HELO:
			so.helo_name = optarg;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc)
		return command_usage_error(verb, "give one campaign NAME");
	if (so.url == NULL)
		return command_usage_error(verb, "give --smtp smtp[s]://HOST:PORT (or [campaign] smtp)");
	if (!smtp_url_valid(so.url)) {
		char shown[ESCAPE_SIZE(128)];
		log_error("%s: --smtp '%s' is not smtp://HOST:PORT or smtps://HOST:PORT", verb,
			  escape_text(shown, sizeof shown, so.url, strlen(so.url)));
		return EXIT_FAILURE_;
	}
	if ((so.user == NULL) != (password_file == NULL))
		return command_usage_error(verb, "--user and --password-file go together");
	char password[512] = "";
	if (password_file && read_password(password_file, password, sizeof password) != 0)
		return EXIT_FAILURE_;
	so.password = password;

	/* one sender per store at a time: under the lock a letter found in 'sending' is an orphan */
	char lock_path[4200];
	snprintf(lock_path, sizeof lock_path, "%s.send-lock", cli->config.db);
	int lock = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) != 0) {
		log_error("%s: %s: %s", verb, lock_path,
			  lock < 0 ? strerror(errno) : "another campaign send is running on this store");
		if (lock >= 0)
			close(lock);
		return EXIT_FAILURE_;
	}
	struct campaign_letters cl;
	if (campaign_letters_open(cli, verb, argv[optind], &cl) != 0) {
		close(lock);
		return EXIT_FAILURE_;
	}
	int rc = EXIT_FAILURE_;
	struct outbox_letter *queued = NULL, *deferred = NULL;
	size_t nqueued = 0, ndeferred = 0;
	struct send_run run = {.store = cl.store,
			       .agencies = &cl.agencies,
			       .composer = cl.composer,
			       .smarthost = so.url,
			       .retry_after = retry_after};
	struct ratelimit limit = {0};
	char secret_path[4096];
	if (token_secret_load(&run.secret,
			      config_secret_path(&cli->config, secret_path, sizeof secret_path)) != 0)
		goto out;
	int resolved = resolve_sending(cl.store, cl.campaign_id, resolve);
	if (resolved != 0)
		goto out;
	if (outbox_load(cl.store, cl.campaign_id, "queued", &queued, &nqueued) != 0 ||
	    outbox_load(cl.store, cl.campaign_id, "deferred", &deferred, &ndeferred) != 0)
		goto out;
	/* the due ones: queued, then deferred whose back-off is over */
	const struct outbox_letter **due = calloc(nqueued + ndeferred + 1, sizeof *due);
	size_t ndue = 0;
	time_t start = time(NULL);
	if (due == NULL)
		goto out;
	for (size_t i = 0; i < nqueued; i++)
		due[ndue++] = &queued[i];
	for (size_t i = 0; i < ndeferred; i++)
		if (deferred[i].next_attempt <= start)
			due[ndue++] = &deferred[i];
	if ((run.smtp = smtp_sender_new(&so)) == NULL ||
	    ratelimit_init(&limit, rate, per_domain, monotonic()) != 0) {
		free(due);
		goto out;
	}
	char why[600], shown_why[ESCAPE_SIZE(600)], shown_url[ESCAPE_SIZE(256)];
	if (ndue > 0 && smtp_sender_check(run.smtp, why, sizeof why) != 0) {
		log_error("%s: smarthost %s: %s: nothing sent, the letters stay as they were", verb,
			  escape_text(shown_url, sizeof shown_url, so.url, strlen(so.url)),
			  escape_text(shown_why, sizeof shown_why, why, strlen(why)));
		free(due);
		goto out;
	}
	run.counts.total = ndue;
	bool tty = isatty(STDERR_FILENO);
	cli_signals_catch();
	volatile sig_atomic_t *stop = cli_stop_flag();
	int failed_store = 0;
	size_t next = 0; /* due[] before next are done (NULL) */
	while (next < ndue && !*stop && !failed_store) {
		/* the first due letter whose domain the limits let through; else wait for the nearest */
		double wait = INFINITY;
		bool went = false;
		for (size_t i = next; i < ndue && !*stop; i++) {
			if (due[i] == NULL)
				continue;
			const char *at = strrchr(due[i]->recipient, '@');
			double w = ratelimit_take(&limit, at ? at + 1 : "", monotonic());
			if (w > 0) {
				wait = w < wait ? w : wait;
				if (per_domain <= 0)
					break; /* only the global limit: every letter waits alike */
				continue;
			}
			failed_store = send_one(&run, due[i]) != 0;
			due[i] = NULL;
			went = true;
			progress(&run.counts, tty, false);
			break;
		}
		while (next < ndue && due[next] == NULL)
			next++;
		if (!went && next < ndue && isfinite(wait)) {
			struct timespec ts = {.tv_sec = (time_t)wait,
					      .tv_nsec = (long)((wait - floor(wait)) * 1e9)};
			nanosleep(&ts, NULL);
		}
	}
	progress(&run.counts, tty, true);
	free(due);
	struct send_counts *n = &run.counts;
	printf("campaign send: %zu sent, %zu deferred, %zu failed, %zu suppressed at send", n->sent,
	       n->deferred, n->failed, n->suppressed);
	if (n->unknown)
		printf(", %zu unanswered (left in sending: see above)", n->unknown);
	if (n->skipped)
		printf(", %zu not built (see above)", n->skipped);
	if (next < ndue)
		printf(", %zu left queued (stopped)", ndue - next);
	printf("\n");
	if (ndeferred + n->deferred > 0)
		printf(
		    "  deferred letters go again on a later 'campaign send' once their back-off is over\n");
	rc = failed_store || n->unknown || n->skipped ? EXIT_FAILURE_ : EXIT_OK;
out:
	ratelimit_free(&limit);
	smtp_sender_free(run.smtp);
	outbox_free(queued, nqueued);
	outbox_free(deferred, ndeferred);
	campaign_letters_close(&cl);
	close(lock);
	return rc;
}
