/* plughole passwd FILE: the admin password file of 'serve --admin-password-file' (a yescrypt hash). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cli/cli.h"
#include "core/log.h"
#include "web/web.h"

#define PASSWORD_MIN 12

const char usage_passwd[] =
	"usage: plughole passwd FILE\n"
	"\n"
	"Writes the admin password's hash (yescrypt, salted) to FILE (mode 0600),\n"
	"for 'plughole serve --admin-password-file FILE'. The password is asked for\n"
	"twice on a terminal, else read from the first line of standard input; at\n"
	"least 12 characters.\n";

/* One line of input, without echo on a terminal; 0 or -1. */
static int read_password(const char *prompt, char *buf, size_t len)
{
	bool tty = isatty(STDIN_FILENO);
	struct termios old, quiet;
	if (tty) {
		fputs(prompt, stderr);
		tcgetattr(STDIN_FILENO, &old);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	bool ok = fgets(buf, (int)len, stdin) != NULL;
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputs("\n", stderr);
	}
	if (ok)
		buf[strcspn(buf, "\r\n")] = '\0';
	return ok ? 0 : -1;
}

int cmd_passwd(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {{NULL, 0, NULL, 0}};
	if (getopt_long(argc, argv, "", options, NULL) != -1)
		return EXIT_USAGE;
	if (optind + 1 != argc)
		return command_usage_error("passwd", "give the password FILE");
	const char *file = argv[optind];
	char password[256], again[256], hash[256];
	int rc = EXIT_FAILURE_;
	if (read_password("Admin password: ", password, sizeof password) != 0) {
		log_error("passwd: no password given");
		return EXIT_FAILURE_;
	}
	if (isatty(STDIN_FILENO) &&
	    (read_password("Again: ", again, sizeof again) != 0 || strcmp(password, again) != 0)) {
		log_error("passwd: the two passwords differ");
		goto out;
	}
	if (strlen(password) < PASSWORD_MIN) {
		log_error("passwd: a password has at least %d characters", PASSWORD_MIN);
		goto out;
	}
	if (web_password_hash(password, hash, sizeof hash) != 0) {
		log_error("passwd: hashing failed (libcrypt without yescrypt?)");
		goto out;
	}
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.tmp", file);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (f == NULL || fprintf(f, "%s\n", hash) < 0 || fclose(f) != 0 || rename(tmp, file) != 0) {
		log_error("passwd: %s: %s", file, strerror(errno));
		if (f == NULL && fd >= 0)
			close(fd);
		unlink(tmp);
		goto out;
	}
	rc = EXIT_OK;
out:
	OPENSSL_cleanse(password, sizeof password);
	OPENSSL_cleanse(again, sizeof again);
	return rc;
}
