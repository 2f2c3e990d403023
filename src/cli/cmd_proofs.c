/* plughole proofs [--format tsv|json]: what the sink has recorded. */
#include <stdio.h>

#include "cli/cli.h"
#include "cli/output.h"

const char usage_proofs[] =
	"usage: plughole proofs [--format " OUTPUT_FORMATS "]\n"
	"\n"
	"Lists every proof the sink recorded: the token, the candidate it was made\n"
	"for, who delivered it, the envelope, and when (UTC); then the test message\n"
	"(probe) and verify run it belongs to, and its status: 'bound' proofs come\n"
	"first; 'unmatched' ones, whose token no recorded test message carried (a\n"
	"token made with 'plughole token', say, or one that came too late), follow\n"
	"them and prove nothing.\n";

int cmd_proofs(struct cli *cli, int argc, char **argv)
{
	return cli_print_rows(cli, "proofs", argc, argv, store_proofs_each);
}
