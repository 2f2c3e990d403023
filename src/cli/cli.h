/*
 * The command table and what every subcommand shares. Each verb lives in
 * its own cmd_<verb>.c with its usage text; main.c applies the global
 * options (--db, --config, -v, -q) once, then dispatches.
 */
#ifndef PLUGHOLE_CLI_H
#define PLUGHOLE_CLI_H

#include <getopt.h>
#include <stdio.h>

#include "core/config.h"
#include "store/store.h"

/* EXIT_INTERRUPTED: stopped by SIGINT (128 + SIGINT, as a shell reports it). */
enum { EXIT_OK = 0, EXIT_FAILURE_ = 1, EXIT_USAGE = 2, EXIT_INTERRUPTED = 130 };

struct cli {
	struct config config;
	enum store_mode store_mode; /* the verb's, from its row of the command table */
	const char *config_path;    /* --config, NULL when none: a child plughole gets it too */
};

struct command {
	const char *name;
	int (*run)(struct cli *cli, int argc, char **argv);
	const char *summary;
	const char *usage; /* options and operands, shown by --help */
	enum store_mode store; /* how cli_open_store opens the store: verbs that only read want it to exist */
	/* may be NULL: the rest of the usage, printed from the verb's own table (ingest's formats,
	 * verify's modules), so --help and the man page list a new row without a second edit */
	void (*usage_tables)(FILE *out);
};

/* The global options' usage: main.c's, shown by --help and the man page. */
extern const char global_usage[];
/* The command table's row i, NULL past its end. */
const struct command *command_at(size_t i);
const struct command *command_find(const char *name);
void command_print_usage(const struct command *command, FILE *out);
/* The global usage and every verb with its summary. */
void commands_print_all(FILE *out);
/* Prints "plughole VERB: message" and the usage line; returns EXIT_USAGE. */
int command_usage_error(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Opens the configured store as cli->store_mode says, logging why not. */
struct store *cli_open_store(struct cli *cli);
/*
 * The body of a listing verb: takes [--format tsv|csv|json] and no operands,
 * opens the store and prints what each() yields.
 */
int cli_print_rows(struct cli *cli, const char *verb, int argc, char **argv,
		   int (*each)(struct store *store, store_row_fn fn, void *ctx));
/* getopt_long loop helper: resets getopt for a verb's own argv. */
void cli_reset_getopt(void);

#define DECLARE_COMMAND(verb) \
	int cmd_##verb(struct cli *cli, int argc, char **argv); \
	extern const char usage_##verb[]

/* The rows of ingest's format table, as its usage lists them. */
void ingest_usage_formats(FILE *out);
/* The probe modules --protocols and --ports take, from the module table. */
void verify_usage_modules(FILE *out);

DECLARE_COMMAND(help);
DECLARE_COMMAND(ingest);
DECLARE_COMMAND(verify);
DECLARE_COMMAND(findings);
DECLARE_COMMAND(attribute);
DECLARE_COMMAND(owners);
DECLARE_COMMAND(whois);
DECLARE_COMMAND(token);
DECLARE_COMMAND(proofs);
DECLARE_COMMAND(sink);
DECLARE_COMMAND(campaign);
DECLARE_COMMAND(suppress);
DECLARE_COMMAND(bounces);
DECLARE_COMMAND(recheck);
DECLARE_COMMAND(serve);
DECLARE_COMMAND(passwd);
DECLARE_COMMAND(export);
DECLARE_COMMAND(report);

#endif
