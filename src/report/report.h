/*
 * The remediation report of a campaign (plughole report): per recheck round,
 * what became of every frozen host and owner, and whether the owners who got
 * a letter (treatment) remediated more than those who did not (control).
 *
 * Counted twice: per host, and per owner. Owners are the unit that was
 * randomised into treatment and control, so the owner comparison is the one
 * the design supports; hosts of one owner are not independent. An owner is
 * remediated in a round when none of its hosts is still open (or open in
 * another way: changed) and at least one is fixed. A host is remediated when
 * it is fixed. Gone, inconclusive and untested are never remediated; every
 * frozen host and owner stays in the denominator (the rates are of all that
 * were frozen, not of those that answered).
 *
 * The same is broken down by letter outcome, country, agency, verdict,
 * detected software and AS (the REPORT_BREAKDOWNS table). A host attribute
 * that differs between one owner's hosts counts the owner once per value,
 * judged on its hosts with that value.
 */
#ifndef PLUGHOLE_REPORT_H
#define PLUGHOLE_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "report/stats.h"
#include "store/store.h"

/* What became of a frozen host in a round: the names campaign_round_outcomes gives. */
enum report_outcome {
	OUTCOME_OPEN,
	OUTCOME_CHANGED,
	OUTCOME_FIXED,
	OUTCOME_GONE,
	OUTCOME_INCONCLUSIVE,
	OUTCOME_UNTESTED,
	OUTCOME_COUNT
};
extern const char *const report_outcome_names[OUTCOME_COUNT];

enum report_group { GROUP_TREATMENT, GROUP_CONTROL, GROUP_COUNT };
extern const char *const report_group_names[GROUP_COUNT];

enum report_level { LEVEL_OWNER, LEVEL_HOST, LEVEL_COUNT };
extern const char *const report_level_names[LEVEL_COUNT];

enum report_breakdown {
	BREAKDOWN_ALL,
	BREAKDOWN_LETTER,
	BREAKDOWN_COUNTRY,
	BREAKDOWN_AGENCY,
	BREAKDOWN_VERDICT,
	BREAKDOWN_SOFTWARE,
	BREAKDOWN_ASN,
	BREAKDOWN_COUNT
};
struct report_breakdown_info {
	const char *name;  /* in JSON and CSV */
	const char *title; /* in the HTML and the terminal */
	unsigned top;	   /* keep the largest this many keys, the rest as one "other" key; 0: all */
};
extern const struct report_breakdown_info report_breakdowns[BREAKDOWN_COUNT];

/* The letter outcomes, an owner's key in BREAKDOWN_LETTER. */
enum report_letter { LETTER_DELIVERED, LETTER_FALLBACK, LETTER_NEVER_REACHED, LETTER_CONTROL, LETTER_COUNT };
extern const char *const report_letter_names[LETTER_COUNT];

/* One group's units (hosts or owners) in a cell: each outcome and the remediated. */
struct report_cell {
	uint64_t n, outcomes[OUTCOME_COUNT], remediated;
	struct proportion rate; /* remediated of n */
};

/* One key of a breakdown in one round at one level. */
struct report_row {
	struct report_cell group[GROUP_COUNT], total;
	struct difference difference; /* treatment - control */
	struct ztest test;
};

struct report_round {
	int64_t id, seq, started, finished;
	char status[16];
	/* rows[level][breakdown][key], keys as in report.keys[breakdown] */
	struct report_row *rows[LEVEL_COUNT][BREAKDOWN_COUNT];
};

struct report {
	char *campaign;
	int64_t created, seed;
	double control_fraction;
	uint64_t hosts, owners, owners_in[GROUP_COUNT], hosts_in[GROUP_COUNT];
	/* Each breakdown's keys (the label shown; peer text as stored: escape it), largest first. */
	char **keys[BREAKDOWN_COUNT];
	size_t key_count[BREAKDOWN_COUNT];
	struct report_round *rounds;
	size_t round_count;
};

/* Gathers the campaign's report: 0, 1 when no campaign has that name, -1 on error (logged);
 * report_free() after any of them. */
int report_build(struct store *store, const char *campaign, struct report *report);
void report_free(struct report *report);

/* The definitions the report prints, one source for every format: {term, meaning} pairs. */
struct report_definition {
	const char *term, *meaning;
};
extern const struct report_definition report_definitions[];
extern const size_t report_definition_count;

/* The writers (report_write.c, report_html.c): 0, or -1 on a write error. */
int report_write_summary(const struct report *report, FILE *out);
int report_write_json(const struct report *report, FILE *out);
int report_write_csv(const struct report *report, FILE *out);
int report_write_html(const struct report *report, FILE *out);
/* The CSP source that allows the HTML's one inline style block: 'sha256-...' (a page that serves
 * the report keeps its strict policy otherwise). 0, or -1 when out is too small. */
int report_html_style_source(char *out, size_t size);

#endif
