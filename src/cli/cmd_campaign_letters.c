/*
 * plughole campaign preview|send: a campaign's letters made into messages
 * (notify/compose.h), written for review or submitted to a smarthost.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "attrib/agencies.h"
#include "cli/campaign_letters.h"
#include "cli/cli.h"
#include "core/escape.h"
#include "core/log.h"
#include "core/paths.h"
#include "notify/compose.h"

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
	if (fsync(fd) != 0 || close(fd) != 0) {
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
		if (compose_message(cl.composer, l, (int64_t)now, MIME_LF, &msg, &len, &text, why, sizeof why) !=
		    0) {
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
		printf("%zu letters written to %s%s\n", written, maildir ? maildir : eml, maildir ? "/new" : "");
	if (written == 0 && failed == 0)
		log_warn("%s: no letter%s to preview", verb, owner ? " of that owner" : " queued");
	rc = failed ? EXIT_FAILURE_ : EXIT_OK;
out:
	outbox_free(letters, count);
	campaign_letters_close(&cl);
	return rc;
}
