/* plughole help [VERB] */
#include <stdio.h>

#include "cli/cli.h"


const char usage_help[] = "usage: plughole help [VERB]\n";

int cmd_help(struct cli *cli, int argc, char **argv)
{
	if (argc < 2) {
		commands_print_all(stdout);
		return EXIT_OK;
	}
	const struct command *command = command_find(argv[1]);
	if (command == NULL)
		return command_usage_error("help", "'%s' is not a verb", argv[1]);
	command_print_usage(command, stdout);
	return EXIT_OK;
}
