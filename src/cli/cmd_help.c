/* plughole help [VERB | --config-example | --man] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/paths.h"

const char usage_help[] =
	"usage: plughole help [VERB | --config-example | --man]\n"
	"\n"
	"  VERB              that verb's options\n"
	"  --config-example  every setting of the INI file (--config) with its default:\n"
	"                    the text of plughole.conf.example in the data directory\n"
	"  --man             this manual as a man page (roff), from the same usage texts\n";

/* A usage text as roff lines of a no-fill block: backslashes and leading dots made literal. */
static void put_roff_text(FILE *out, const char *text)
{
	bool line_start = true;
	for (const char *p = text; *p; p++) {
		if (line_start && (*p == '.' || *p == '\''))
			fputs("\\&", out);
		if (*p == '\\')
			fputs("\\e", out);
		else if (*p == '-')
			fputs("\\-", out);
		else
			fputc(*p, out);
		line_start = *p == '\n';
	}
	if (!line_start)
		fputc('\n', out);
}

/* A verb's tables, printed as --help prints them, then escaped for roff. */
static void put_roff_tables(FILE *out, const struct command *command)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	if (mem == NULL)
		return;
	command->usage_tables(mem);
	if (fclose(mem) == 0 && text != NULL)
		put_roff_text(out, text);
	free(text);
}

static void print_man(FILE *out)
{
	char example[4096];
	fprintf(out,
		".TH PLUGHOLE 1 \"\" \"plughole %s\" \"User Commands\"\n"
		".SH NAME\n"
		"plughole \\- prove open mail relays and proxies, and find whom to tell\n"
		".SH SYNOPSIS\n"
		".nf\n",
		PLUGHOLE_VERSION);
	put_roff_text(out, global_usage);
	fputs(".fi\n.SH VERBS\n", out);
	const struct command *command;
	for (size_t i = 0; (command = command_at(i)) != NULL; i++) {
		fprintf(out, ".SS %s\n", command->name);
		put_roff_text(out, command->summary);
		fputs(".PP\n.nf\n", out);
		put_roff_text(out, command->usage);
		if (command->usage_tables != NULL)
			put_roff_tables(out, command);
		fputs(".fi\n", out);
	}
	fputs(".SH FILES\n.TP\n", out);
	put_roff_text(out, data_path("plughole.conf.example", example, sizeof example));
	fputs("every setting with its default ('plughole help \\-\\-config\\-example')\n.TP\n", out);
	put_roff_text(out, data_path("exclude.conf", example, sizeof example));
	fputs("ranges never probed; add your own with [safety] optout or \\-\\-exclude\\-file\n", out);
}

int cmd_help(struct cli *cli, int argc, char **argv)
{
	if (argc < 2) {
		commands_print_all(stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--config-example") == 0) {
		config_write_example(stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--man") == 0) {
		print_man(stdout);
		return EXIT_OK;
	}
	const struct command *command = command_find(argv[1]);
	if (command == NULL) {
		char names[512];
		size_t len = 0;
		for (size_t i = 0; (command = command_at(i)) != NULL && len < sizeof names; i++)
			len += (size_t)snprintf(names + len, sizeof names - len, "%s%s", i ? ", " : "", command->name);
		return command_usage_error("help", "'%s' is not a verb (%s)", argv[1], names);
	}
	command_print_usage(command, stdout);
	return EXIT_OK;
}
