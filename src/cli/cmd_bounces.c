/*
 * plughole bounces FILE|MAILDIR...: what came back for letters, read from
 * files (the sink applies the same to mail it receives for a VERP address):
 * DSNs bounce their letter and queue one to the owner's next contact,
 * unsubscribe mail suppresses the contact, auto-replies are recorded.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "attrib/agencies.h"
#include "cli/cli.h"
#include "core/escape.h"
#include "core/log.h"
#include "core/paths.h"
#include "notify/bounce.h"

const char usage_bounces[] = "usage: plughole bounces [--agencies FILE] FILE|MAILDIR...\n"
			     "\n"
			     "Reads returned mail for the campaigns' letters: a message file, or a Maildir\n"
			     "(its new/ messages, moved to cur/ once read). The letter is found by the\n"
			     "ticket in the VERP address (bounces+TICKET@domain) or unsubscribe address\n"
			     "(unsubscribe+TICKET@domain) in Delivered-To, X-Original-To, Envelope-To, To\n"
			     "or Cc, else in the returned original's Message-ID. A DSN (RFC 3464, or the\n"
			     "bounce texts of Exim, qmail and Postfix) of a sent letter makes it bounced\n"
			     "and queues a letter to the owner's next contact: the agency's national\n"
			     "contact (agencies.conf 'contact'), the last rung of the fallbacks. Mail to\n"
			     "the unsubscribe address suppresses the letter's contact. Auto-replies (RFC\n"
			     "3834), delay warnings and other mail are recorded only. Every message is\n"
			     "kept in the store (at most 64 KiB of it). One line per message:\n"
			     "  FILE  KIND  TICKET  EFFECT  [status diagnostic | note]\n";

struct bounces_run {
	struct store *store;
	struct agencies agencies;
	struct token_secret secret;
	size_t messages, errors;
};

static const char *const effect_names[] = {[BOUNCE_NO_LETTER] = "no-letter",
					   [BOUNCE_RECORDED] = "recorded",
					   [BOUNCE_BOUNCED] = "bounced",
					   [BOUNCE_UNSUBSCRIBED] = "unsubscribed"};

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		log_error("%s: %s", path, strerror(errno));
		return NULL;
	}
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);
	while (buf) {
		size_t r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (n < cap)
			break;
		if (cap >= DSN_MAX_MESSAGE) {
			n = cap; /* larger is not parsed; the first part is kept */
			break;
		}
		char *grown = realloc(buf, cap * 2);
		if (grown == NULL) {
			free(buf);
			buf = NULL;
			break;
		}
		buf = grown;
		cap *= 2;
	}
	fclose(f);
	*len = n;
	return buf;
}

static int one_file(struct bounces_run *run, const char *path)
{
	size_t len = 0;
	char *msg = slurp(path, &len);
	if (msg == NULL)
		return -1;
	struct bounce_result r;
	int rc = store_begin(run->store);
	if (rc == 0)
		rc = bounce_handle(run->store, &run->agencies, &run->secret, NULL, msg, len, NULL, time(NULL),
				   &r);
	if (rc == 0)
		rc = store_commit(run->store);
	else
		store_rollback(run->store);
	free(msg);
	if (rc != 0)
		return -1;
	run->messages++;
	char diag[ESCAPE_SIZE(512)], shown_path[ESCAPE_SIZE(256)];
	escape_text(diag, sizeof diag, r.dsn.diagnostic, strlen(r.dsn.diagnostic));
	escape_text(shown_path, sizeof shown_path, path, strlen(path));
	printf("%s\t%s\t%s\t%s", shown_path, r.dsn.to_unsubscribe ? "unsubscribe" : dsn_kind_name(r.dsn.kind),
	       r.dsn.ticket[0] ? r.dsn.ticket : "-", effect_names[r.effect]);
	if (r.effect == BOUNCE_BOUNCED)
		printf("\t%s %s", r.dsn.status, diag);
	if (r.followup_id > 0)
		printf("\tnext letter queued to %s", r.followup_to);
	if (r.note[0])
		printf("\t%s", r.note);
	printf("\n");
	return 0;
}

/* A Maildir's new/ messages, each moved to cur/ (flag S) once handled. */
static int maildir(struct bounces_run *run, const char *dir)
{
	char path[4096], done[4096];
	snprintf(path, sizeof path, "%s/new", dir);
	DIR *d = opendir(path);
	if (d == NULL) {
		log_error("%s: %s", path, strerror(errno));
		return -1;
	}
	struct dirent *e;
	int rc = 0;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof path, "%s/new/%s", dir, e->d_name) >= (int)sizeof path ||
		    snprintf(done, sizeof done, "%s/cur/%s:2,S", dir, e->d_name) >= (int)sizeof done)
			continue;
		if (one_file(run, path) != 0) {
			rc = -1;
			continue;
		}
		if (rename(path, done) != 0)
			log_warn("%s: not moved to cur/: %s", path, strerror(errno));
	}
	closedir(d);
	return rc;
}

int cmd_bounces(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {{"agencies", required_argument, NULL, 'a'},
						{NULL, 0, NULL, 0}};
	const char *agencies_path = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (c != 'a')
			return EXIT_USAGE;
		agencies_path = optarg;
	}
	if (optind >= argc)
		return command_usage_error("bounces", "give a FILE or MAILDIR");
	struct bounces_run run = {0};
	char path[4096];
	if (agencies_load(&run.agencies,
			  agencies_path ? agencies_path : data_path("agencies.conf", path, sizeof path)) != 0)
		return EXIT_FAILURE_;
	if (token_secret_load(&run.secret, config_secret_path(&cli->config, path, sizeof path)) != 0 ||
	    (run.store = cli_open_store(cli)) == NULL) {
		agencies_free(&run.agencies);
		return EXIT_FAILURE_;
	}
	int rc = 0;
	for (int i = optind; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			log_error("%s: %s", argv[i], strerror(errno));
			rc = -1;
		} else if (S_ISDIR(st.st_mode))
			rc |= maildir(&run, argv[i]);
		else
			rc |= one_file(&run, argv[i]);
	}
	store_close(run.store);
	agencies_free(&run.agencies);
	return rc == 0 ? EXIT_OK : EXIT_FAILURE_;
}
