/* The report as a terminal summary, JSON and CSV (report.h). */
#include <inttypes.h>
#include <jansson.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "notify/csv.h"
#include "report/report.h"

/* "2026-12-04 10:00 UTC", or "-" for 0 (not yet). */
static const char *utc(char *buf, size_t len, int64_t t, bool iso)
{
	if (t <= 0)
		return iso ? NULL : "-";
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(buf, len, iso ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%d %H:%M UTC", &tm);
	return buf;
}

/* ---- terminal ---- */

static void print_outcomes(FILE *out, const char *what, const struct report_cell *c)
{
	fprintf(out, "  %-8s", what);
	for (int o = 0; o < OUTCOME_COUNT; o++)
		fprintf(out, "%s%" PRIu64 " %s", o ? ", " : "", c->outcomes[o], report_outcome_names[o]);
	fputc('\n', out);
}

static void print_comparison(FILE *out, const char *what, const struct report_row *row)
{
	char t[96], c[96], d[96], z[96];
	fprintf(out, "  %s: treatment %s, control %s\n    difference %s; %s\n", what,
		stats_format(t, sizeof t, &row->group[GROUP_TREATMENT].rate),
		stats_format(c, sizeof c, &row->group[GROUP_CONTROL].rate),
		stats_format_difference(d, sizeof d, &row->difference),
		stats_format_ztest(z, sizeof z, &row->group[GROUP_TREATMENT].rate,
				   &row->group[GROUP_CONTROL].rate, &row->test));
}

int report_write_summary(const struct report *r, FILE *out)
{
	char when[64];
	fprintf(out,
		"campaign %s (created %s): %" PRIu64 " hosts of %" PRIu64 " owners; treatment %" PRIu64
		" owners (%" PRIu64 " hosts), control %" PRIu64 " owners (%" PRIu64 " hosts)\n",
		r->campaign, utc(when, sizeof when, r->created, false), r->hosts, r->owners,
		r->owners_in[GROUP_TREATMENT], r->hosts_in[GROUP_TREATMENT], r->owners_in[GROUP_CONTROL],
		r->hosts_in[GROUP_CONTROL]);
	/* The second line is the headline: the latest round's owners, treatment against control. */
	if (r->round_count == 0) {
		fprintf(out, "no recheck round yet: plughole recheck %s\n", r->campaign);
	} else {
		const struct report_round *last = &r->rounds[r->round_count - 1];
		const struct report_row *row = &last->rows[LEVEL_OWNER][BREAKDOWN_ALL][0];
		char t[96], c[96], d[96], z[96];
		fprintf(out, "round %" PRId64 " (latest): owners remediated, treatment %s against control %s: %s; %s\n",
			last->seq, stats_format(t, sizeof t, &row->group[GROUP_TREATMENT].rate),
			stats_format(c, sizeof c, &row->group[GROUP_CONTROL].rate),
			stats_format_difference(d, sizeof d, &row->difference),
			stats_format_ztest(z, sizeof z, &row->group[GROUP_TREATMENT].rate,
					   &row->group[GROUP_CONTROL].rate, &row->test));
	}
	fprintf(out, "owners were randomised into treatment (a letter) and control (none): compare the owner "
		     "rates.\n");
	for (size_t i = 0; i < r->round_count; i++) {
		const struct report_round *round = &r->rounds[i];
		const struct report_row *owners = &round->rows[LEVEL_OWNER][BREAKDOWN_ALL][0];
		const struct report_row *hosts = &round->rows[LEVEL_HOST][BREAKDOWN_ALL][0];
		fprintf(out, "\nround %" PRId64 " (started %s, %s):\n", round->seq,
			utc(when, sizeof when, round->started, false), round->status);
		print_outcomes(out, "owners:", &owners->total);
		print_outcomes(out, "hosts:", &hosts->total);
		print_comparison(out, "owners remediated", owners);
		print_comparison(out, "hosts fixed", hosts);
		if (i + 1 < r->round_count)
			continue;
		fprintf(out, "  owners remediated by letter outcome:\n");
		for (size_t k = 0; k < r->key_count[BREAKDOWN_LETTER]; k++) {
			const struct report_row *row = &round->rows[LEVEL_OWNER][BREAKDOWN_LETTER][k];
			const struct proportion *p = k == LETTER_CONTROL ? &row->group[GROUP_CONTROL].rate
									 : &row->group[GROUP_TREATMENT].rate;
			char rate[96];
			fprintf(out, "    %-42s %s\n", r->keys[BREAKDOWN_LETTER][k],
				stats_format(rate, sizeof rate, p));
		}
	}
	fprintf(out, "\n(per country, agency, verdict, software and AS: --html, --json or --csv)\n");
	return ferror(out) ? -1 : 0;
}

/* ---- JSON ---- */

static json_t *real_or_null(bool defined, double v)
{
	return defined ? json_real(v) : json_null();
}

static json_t *json_cell(const struct report_cell *c)
{
	json_t *o = json_object();
	json_object_set_new(o, "n", json_integer((json_int_t)c->n));
	for (int i = 0; i < OUTCOME_COUNT; i++)
		json_object_set_new(o, report_outcome_names[i], json_integer((json_int_t)c->outcomes[i]));
	json_object_set_new(o, "remediated", json_integer((json_int_t)c->remediated));
	json_object_set_new(o, "rate", real_or_null(c->rate.defined, c->rate.rate));
	json_object_set_new(o, "low", real_or_null(c->rate.defined, c->rate.low));
	json_object_set_new(o, "high", real_or_null(c->rate.defined, c->rate.high));
	return o;
}

static json_t *json_row(const char *key, const struct report_row *row)
{
	json_t *o = json_object();
	json_object_set_new(o, "key", json_string(key));
	for (int g = 0; g < GROUP_COUNT; g++)
		json_object_set_new(o, report_group_names[g], json_cell(&row->group[g]));
	json_object_set_new(o, "total", json_cell(&row->total));
	json_t *d = json_null();
	if (row->difference.defined)
		d = json_pack("{s:f, s:f, s:f}", "value", row->difference.value, "low", row->difference.low,
			      "high", row->difference.high);
	json_object_set_new(o, "difference", d);
	json_t *t = json_null();
	if (row->test.defined)
		t = json_pack("{s:f, s:f}", "z", row->test.z, "p", row->test.p);
	json_object_set_new(o, "test", t);
	return o;
}

int report_write_json(const struct report *r, FILE *out)
{
	char when[64];
	json_t *root = json_object();
	json_t *campaign = json_object();
	json_object_set_new(campaign, "name", json_string(r->campaign));
	json_object_set_new(campaign, "created", json_string(utc(when, sizeof when, r->created, true)));
	json_object_set_new(campaign, "control_fraction", json_real(r->control_fraction));
	json_object_set_new(campaign, "seed", json_integer(r->seed));
	json_object_set_new(campaign, "hosts", json_integer((json_int_t)r->hosts));
	json_object_set_new(campaign, "owners", json_integer((json_int_t)r->owners));
	for (int g = 0; g < GROUP_COUNT; g++)
		json_object_set_new(campaign, report_group_names[g],
				    json_pack("{s:I, s:I}", "owners", (json_int_t)r->owners_in[g], "hosts",
					      (json_int_t)r->hosts_in[g]));
	json_object_set_new(root, "campaign", campaign);
	json_t *definitions = json_object();
	for (size_t i = 0; i < report_definition_count; i++)
		json_object_set_new(definitions, report_definitions[i].term,
				    json_string(report_definitions[i].meaning));
	json_object_set_new(root, "definitions", definitions);
	json_t *rounds = json_array();
	for (size_t i = 0; i < r->round_count; i++) {
		const struct report_round *round = &r->rounds[i];
		json_t *o = json_object();
		json_object_set_new(o, "seq", json_integer(round->seq));
		const char *started = utc(when, sizeof when, round->started, true);
		json_object_set_new(o, "started", started ? json_string(started) : json_null());
		const char *finished = utc(when, sizeof when, round->finished, true);
		json_object_set_new(o, "finished", finished ? json_string(finished) : json_null());
		json_object_set_new(o, "status", json_string(round->status));
		for (int l = 0; l < LEVEL_COUNT; l++) {
			json_t *level = json_object();
			for (int b = 0; b < BREAKDOWN_COUNT; b++) {
				json_t *rows = json_array();
				for (size_t k = 0; k < r->key_count[b]; k++)
					json_array_append_new(rows,
							      json_row(r->keys[b][k], &round->rows[l][b][k]));
				json_object_set_new(level, report_breakdowns[b].name, rows);
			}
			json_object_set_new(o, report_level_names[l], level);
		}
		json_array_append_new(rounds, o);
	}
	json_object_set_new(root, "rounds", rounds);
	int rc = json_dumpf(root, out, JSON_INDENT(1) | JSON_REAL_PRECISION(17) | JSON_PRESERVE_ORDER);
	fputc('\n', out);
	json_decref(root);
	return rc == 0 && !ferror(out) ? 0 : -1;
}

/* ---- CSV: one row per (round, level, breakdown, key, group) ---- */

/* A key as a CSV field (notify/csv.c's quoting), whole however long. */
static void csv_text(FILE *out, const char *s)
{
	struct textbuf b;
	textbuf_init(&b, SIZE_MAX);
	if (csv_field(&b, s, strlen(s)) == 0)
		fwrite(b.data, 1, b.len, out);
	else
		fputc('?', out); /* out of memory: the row stays a row */
	textbuf_free(&b);
}

static void csv_real(FILE *out, bool defined, double v)
{
	if (defined)
		fprintf(out, "%.10g", v);
}

static void csv_prefix(FILE *out, const struct report *r, const struct report_round *round, int l, int b,
		       size_t k, const char *group)
{
	fprintf(out, "%" PRId64 ",%s,%s,", round->seq, report_level_names[l], report_breakdowns[b].name);
	csv_text(out, r->keys[b][k]);
	fprintf(out, ",%s,", group);
}

static void csv_cell(FILE *out, const struct report_cell *c)
{
	fprintf(out, "%" PRIu64, c->n);
	for (int o = 0; o < OUTCOME_COUNT; o++)
		fprintf(out, ",%" PRIu64, c->outcomes[o]);
	fprintf(out, ",%" PRIu64 ",", c->remediated);
	csv_real(out, c->rate.defined, c->rate.rate);
	fputc(',', out);
	csv_real(out, c->rate.defined, c->rate.low);
	fputc(',', out);
	csv_real(out, c->rate.defined, c->rate.high);
	fputs(",,\r\n", out);
}

int report_write_csv(const struct report *r, FILE *out)
{
	fputs("round,level,breakdown,key,group,n", out);
	for (int o = 0; o < OUTCOME_COUNT; o++)
		fprintf(out, ",%s", report_outcome_names[o]);
	fputs(",remediated,rate,low,high,z,p\r\n", out);
	for (size_t i = 0; i < r->round_count; i++) {
		const struct report_round *round = &r->rounds[i];
		for (int l = 0; l < LEVEL_COUNT; l++)
			for (int b = 0; b < BREAKDOWN_COUNT; b++)
				for (size_t k = 0; k < r->key_count[b]; k++) {
					const struct report_row *row = &round->rows[l][b][k];
					for (int g = 0; g < GROUP_COUNT; g++) {
						csv_prefix(out, r, round, l, b, k, report_group_names[g]);
						csv_cell(out, &row->group[g]);
					}
					csv_prefix(out, r, round, l, b, k, "total");
					csv_cell(out, &row->total);
					/* The difference: treatment - control as the rate, its interval, the
					 * test. */
					csv_prefix(out, r, round, l, b, k, "difference");
					fputs(",,,,,,,,", out);
					csv_real(out, row->difference.defined, row->difference.value);
					fputc(',', out);
					csv_real(out, row->difference.defined, row->difference.low);
					fputc(',', out);
					csv_real(out, row->difference.defined, row->difference.high);
					fputc(',', out);
					csv_real(out, row->test.defined, row->test.z);
					fputc(',', out);
					csv_real(out, row->test.defined, row->test.p);
					fputs("\r\n", out);
				}
	}
	return ferror(out) ? -1 : 0;
}
