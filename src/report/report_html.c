/*
 * The report as one self-contained HTML page (report.h): inline CSS, inline
 * SVG charts, no script, nothing fetched. Every number it shows is in a
 * <data value> element or an SVG data-value attribute, at full precision, so
 * a test can find it in the JSON. Peer text (software names, organisations,
 * AS names) is escaped.
 */
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "report/report.h"

#define TREATMENT_COLOUR "#0072b2"
#define CONTROL_COLOUR "#d55e00"
/* Bars per chart: the largest keys. */
#define CHART_KEYS 12

static const char *const group_colour[GROUP_COUNT] = {TREATMENT_COLOUR, CONTROL_COLOUR};

static const char style[] =
    "*{box-sizing:border-box}"
    "body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1b1b1b;background:#fff;"
    "margin:0 auto;padding:.75rem;max-width:62rem}"
    "h1{font-size:1.4rem;margin:.5rem 0}h2{font-size:1.15rem;margin:1.5rem 0 .5rem;border-bottom:1px solid "
    "#ccc}"
    "h3{font-size:1rem;margin:1rem 0 .3rem}"
    ".note{background:#f3f6fa;border-left:4px solid " TREATMENT_COLOUR ";padding:.4rem .6rem}"
    ".scroll{overflow-x:auto;max-width:100%}"
    "table{border-collapse:collapse;font-size:.85rem;margin:.3rem 0}"
    "th,td{border-bottom:1px solid #e2e2e2;padding:.25rem .45rem;text-align:left;vertical-align:top}"
    "td{font-variant-numeric:tabular-nums}thead th{background:#f5f5f5}"
    ".ci,.k{color:#555;font-size:.8em;white-space:nowrap}"
    ".t{color:" TREATMENT_COLOUR ";font-weight:600}.c{color:" CONTROL_COLOUR ";font-weight:600}"
    "figure{margin:.5rem 0}figcaption{font-size:.85rem;color:#444}"
    "svg{width:100%;height:auto;max-width:40rem;display:block}"
    "svg text{font:11px system-ui,sans-serif;fill:#222}svg .axis{fill:#666}"
    "dt{font-weight:600}dd{margin:0 0 .4rem 1rem}"
    "details{margin:.5rem 0}summary{cursor:pointer;font-weight:600}";

/* Text into HTML: markup characters as entities, control bytes visible as \xNN. */
static void text(FILE *out, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		switch (c) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		case '\'':
			fputs("&#39;", out);
			break;
		default:
			if (c < 0x20 || c == 0x7f)
				fprintf(out, "\\x%02x", c);
			else
				fputc(c, out);
		}
	}
}

static void number(FILE *out, double value, const char *shown)
{
	fprintf(out, "<data value=\"%.17g\">%s</data>", value, shown);
}

static void count(FILE *out, uint64_t n)
{
	fprintf(out, "<data value=\"%" PRIu64 "\">%" PRIu64 "</data>", n, n);
}

static void percent(FILE *out, double value, const char *class)
{
	fprintf(out, "<data class=\"%s\" value=\"%.17g\">%.1f</data>", class, value, 100 * value);
}

/* A rate as the report shows it: no rate, counts under STATS_SMALL_N, else percent, interval, counts. */
static void rate(FILE *out, const struct proportion *p)
{
	if (!p->defined) {
		fputs("no rate (n = ", out);
		count(out, 0);
		fputs(")", out);
		return;
	}
	if (p->n < STATS_SMALL_N) {
		count(out, p->k);
		fputs(" of ", out);
		count(out, p->n);
		return;
	}
	percent(out, p->rate, "pct");
	fputs(" %<br><span class=\"ci\">(", out);
	percent(out, p->low, "pct");
	fputs("&ndash;", out);
	percent(out, p->high, "pct");
	fputs(" %)</span> <span class=\"k\">", out);
	count(out, p->k);
	fputs(" of ", out);
	count(out, p->n);
	fputs("</span>", out);
}

static bool comparable(const struct report_row *row)
{
	return row->group[GROUP_TREATMENT].n >= STATS_SMALL_N && row->group[GROUP_CONTROL].n >= STATS_SMALL_N;
}

static void difference(FILE *out, const struct report_row *row)
{
	if (!row->difference.defined) {
		fputs("&ndash;", out); /* a group is empty (the letter outcomes: control has no letter) */
		return;
	}
	if (!comparable(row)) {
		fputs("too few to compare", out);
		return;
	}
	char shown[32];
	snprintf(shown, sizeof shown, "%+.1f", 100 * row->difference.value);
	number(out, row->difference.value, shown);
	fputs(" pp<br><span class=\"ci\">(", out);
	snprintf(shown, sizeof shown, "%+.1f", 100 * row->difference.low);
	number(out, row->difference.low, shown);
	fputs(" to ", out);
	snprintf(shown, sizeof shown, "%+.1f", 100 * row->difference.high);
	number(out, row->difference.high, shown);
	fputs(")</span>", out);
}

static void test(FILE *out, const struct report_row *row)
{
	const struct proportion *a = &row->group[GROUP_TREATMENT].rate, *b = &row->group[GROUP_CONTROL].rate;
	if (!a->defined || !b->defined || !comparable(row)) {
		fputs("&ndash;", out);
		return;
	}
	if (!row->test.defined) {
		fprintf(out, "no test (%s remediated in both groups)", a->k == 0 ? "none" : "all");
		return;
	}
	char shown[32];
	snprintf(shown, sizeof shown, "%.2f", row->test.z);
	fputs("z = ", out);
	number(out, row->test.z, shown);
	if (row->test.p < 0.0001) {
		fputs(", p &lt; ", out);
		fprintf(out, "<data class=\"below\" value=\"%.17g\">0.0001</data>", row->test.p);
	} else {
		snprintf(shown, sizeof shown, "%.4f", row->test.p);
		fputs(", p = ", out);
		number(out, row->test.p, shown);
	}
}

/* The comparison table of one breakdown at one level: a row per key. */
static void comparison(FILE *out, const struct report *r, const struct report_round *round, int level, int b)
{
	fputs("<div class=\"scroll\"><table><thead><tr><th scope=\"col\">", out);
	text(out, b == BREAKDOWN_ALL ? report_level_names[level] : report_breakdowns[b].name);
	fputs("</th><th scope=\"col\" class=\"t\">treatment</th><th scope=\"col\" class=\"c\">control</th>"
	      "<th scope=\"col\">difference</th><th scope=\"col\">test</th></tr></thead><tbody>",
	      out);
	for (size_t k = 0; k < r->key_count[b]; k++) {
		const struct report_row *row = &round->rows[level][b][k];
		if (row->total.n == 0)
			continue;
		fputs("<tr><th scope=\"row\">", out);
		text(out, b == BREAKDOWN_ALL ? (level == LEVEL_OWNER ? "owners remediated" : "hosts fixed")
					     : r->keys[b][k]);
		fputs("</th><td>", out);
		rate(out, &row->group[GROUP_TREATMENT].rate);
		fputs("</td><td>", out);
		rate(out, &row->group[GROUP_CONTROL].rate);
		fputs("</td><td>", out);
		difference(out, row);
		fputs("</td><td>", out);
		test(out, row);
		fputs("</td></tr>", out);
	}
	fputs("</tbody></table></div>\n", out);
}

/* What became of the owners and hosts in a round, by group. */
static void outcomes(FILE *out, const struct report_round *round)
{
	fputs("<div class=\"scroll\"><table><thead><tr><th scope=\"col\"></th>", out);
	for (int o = 0; o < OUTCOME_COUNT; o++)
		fprintf(out, "<th scope=\"col\">%s</th>", report_outcome_names[o]);
	fputs("<th scope=\"col\">all</th></tr></thead><tbody>", out);
	for (int l = 0; l < LEVEL_COUNT; l++) {
		const struct report_row *row = &round->rows[l][BREAKDOWN_ALL][0];
		for (int g = 0; g <= GROUP_COUNT; g++) {
			const struct report_cell *c = g < GROUP_COUNT ? &row->group[g] : &row->total;
			fprintf(out, "<tr><th scope=\"row\">%ss, %s</th>", report_level_names[l],
				g < GROUP_COUNT ? report_group_names[g] : "all");
			for (int o = 0; o < OUTCOME_COUNT; o++) {
				fputs("<td>", out);
				count(out, c->outcomes[o]);
				fputs("</td>", out);
			}
			fputs("<td>", out);
			count(out, c->n);
			fputs("</td></tr>", out);
		}
	}
	fputs("</tbody></table></div>\n", out);
}

/* ---- charts ---- */

static void legend(FILE *out, double x, double y)
{
	for (int g = 0; g < GROUP_COUNT; g++) {
		double gx = x + g * 110;
		fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"%s\"/>", gx,
			y - 10, group_colour[g]);
		fprintf(out, "<text x=\"%.1f\" y=\"%.1f\">%s</text>", gx + 16, y, report_group_names[g]);
	}
}

/* Remediation over the rounds, treatment against control, with the intervals as bars. */
static void chart_over_rounds(FILE *out, const struct report *r, int level)
{
	const double w = 400, h = 230, left = 38, right = 12, top = 28, bottom = 36;
	const double pw = w - left - right, ph = h - top - bottom;
	size_t n = r->round_count;
	fprintf(
	    out,
	    "<figure><svg viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"%s remediation per round\">", w,
	    h, report_level_names[level]);
	legend(out, left, 14);
	for (int t = 0; t <= 4; t++) {
		double y = top + ph - ph * t / 4;
		fprintf(out, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>", left,
			left + pw, y, y);
		fprintf(out, "<text class=\"axis\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%d %%</text>",
			left - 4, y + 4, t * 25);
	}
	for (size_t i = 0; i < n; i++) {
		double x = left + pw * (i + 0.5) / (double)n;
		fprintf(out,
			"<text class=\"axis\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">round %" PRId64
			"</text>",
			x, top + ph + 18, r->rounds[i].seq);
	}
	for (int g = 0; g < GROUP_COUNT; g++) {
		double shift = g == GROUP_TREATMENT ? -5 : 5;
		fprintf(out, "<g stroke=\"%s\" fill=\"%s\">", group_colour[g], group_colour[g]);
		fputs("<polyline fill=\"none\" stroke-width=\"2\" points=\"", out);
		for (size_t i = 0; i < n; i++) {
			const struct proportion *p =
			    &r->rounds[i].rows[level][BREAKDOWN_ALL][0].group[g].rate;
			if (p->defined)
				fprintf(out, "%.1f,%.1f ", left + pw * (i + 0.5) / (double)n + shift,
					top + ph * (1 - p->rate));
		}
		fputs("\"/>", out);
		for (size_t i = 0; i < n; i++) {
			const struct proportion *p =
			    &r->rounds[i].rows[level][BREAKDOWN_ALL][0].group[g].rate;
			if (!p->defined)
				continue;
			double x = left + pw * (i + 0.5) / (double)n + shift;
			double ylo = top + ph * (1 - p->low), yhi = top + ph * (1 - p->high);
			fprintf(
			    out,
			    "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" data-value=\"%.17g\"/>", x,
			    x, ylo, yhi, p->low);
			fprintf(
			    out,
			    "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" data-value=\"%.17g\"/>",
			    x - 4, x + 4, yhi, yhi, p->high);
			fprintf(out, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", x - 4, x + 4,
				ylo, ylo);
			fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" data-value=\"%.17g\"/>", x,
				top + ph * (1 - p->rate), p->rate);
		}
		fputs("</g>", out);
	}
	fprintf(out,
		"</svg><figcaption>%s remediated per recheck round: treatment and control, with 95 %% "
		"intervals.</figcaption></figure>\n",
		level == LEVEL_OWNER ? "Owners" : "Hosts");
}

static void bar_label(FILE *out, double x, double y, const struct proportion *p)
{
	fprintf(out, "<text x=\"%.1f\" y=\"%.1f\">", x, y);
	if (!p->defined) {
		fputs("no rate</text>", out);
	} else if (p->n < STATS_SMALL_N) {
		fprintf(out,
			"<tspan data-value=\"%" PRIu64 "\">%" PRIu64
			"</tspan> of <tspan data-value=\"%" PRIu64 "\">%" PRIu64 "</tspan></text>",
			p->k, p->k, p->n, p->n);
	} else {
		fprintf(out, "<tspan data-value=\"%.17g\">%.1f</tspan> %%</text>", p->rate, 100 * p->rate);
	}
}

/* Owners remediated per key of a breakdown in one round: a label line, then a bar per group. */
static void chart_bars(FILE *out, const struct report *r, const struct report_round *round, int b)
{
	const struct report_row *rows = round->rows[LEVEL_OWNER][b];
	size_t shown = 0;
	for (size_t k = 0; k < r->key_count[b] && shown < CHART_KEYS; k++)
		shown += rows[k].total.n > 0;
	if (shown == 0)
		return;
	const double w = 400, left = 4, label_w = 70, bar_h = 11, row_h = 44, top = 24;
	const double pw = w - left - label_w - 8, h = top + row_h * (double)shown + 6;
	fprintf(out,
		"<figure><svg viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"owners remediated %s\">", w,
		h, report_breakdowns[b].title);
	legend(out, left, 14);
	size_t i = 0;
	for (size_t k = 0; k < r->key_count[b] && i < CHART_KEYS; k++) {
		if (rows[k].total.n == 0)
			continue;
		double y = top + row_h * (double)i++;
		fprintf(out, "<text x=\"%.1f\" y=\"%.1f\">", left, y + 11);
		text(out, r->keys[b][k]);
		fputs("</text>", out);
		for (int g = 0; g < GROUP_COUNT; g++) {
			const struct proportion *p = &rows[k].group[g].rate;
			double by = y + 15 + g * (bar_h + 2);
			fprintf(out,
				"<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#eee\"/>",
				left, by, pw, bar_h);
			if (p->defined) {
				fprintf(out,
					"<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
					"fill=\"%s\"/>",
					left, by, pw * p->rate, bar_h, group_colour[g]);
				fprintf(
				    out,
				    "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#222\"/>",
				    left + pw * p->low, left + pw * p->high, by + bar_h / 2, by + bar_h / 2);
			}
			bar_label(out, left + pw + 6, by + bar_h - 1, p);
		}
	}
	fputs("</svg><figcaption>Owners remediated by ", out);
	text(out, report_breakdowns[b].name);
	fputs(
	    " in the last round (the largest groups; the lines are 95 % intervals).</figcaption></figure>\n",
	    out);
}

static void utc(FILE *out, int64_t t)
{
	if (t <= 0) {
		fputs("not yet", out);
		return;
	}
	char iso[64], shown[64];
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%SZ", &tm);
	strftime(shown, sizeof shown, "%Y-%m-%d %H:%M UTC", &tm);
	fprintf(out, "<time datetime=\"%s\">%s</time>", iso, shown);
}

int report_write_html(const struct report *r, FILE *out)
{
	fputs("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Remediation "
	      "report: ",
	      out);
	text(out, r->campaign);
	fprintf(out, "</title><style>%s</style></head><body>\n<h1>Remediation report: ", style);
	text(out, r->campaign);
	fputs("</h1>\n<p>Campaign created ", out);
	utc(out, r->created);
	fputs(": ", out);
	count(out, r->hosts);
	fputs(" hosts of ", out);
	count(out, r->owners);
	fputs(" owners. <span class=\"t\">Treatment</span> (a letter): ", out);
	count(out, r->owners_in[GROUP_TREATMENT]);
	fputs(" owners, ", out);
	count(out, r->hosts_in[GROUP_TREATMENT]);
	fputs(" hosts; <span class=\"c\">control</span> (no letter): ", out);
	count(out, r->owners_in[GROUP_CONTROL]);
	fputs(" owners, ", out);
	count(out, r->hosts_in[GROUP_CONTROL]);
	fputs(" hosts.</p>\n<p class=\"note\">", out);
	text(out, report_definitions[0].meaning);
	fputs("</p>\n", out);
	if (r->round_count == 0) {
		fputs("<p>No recheck round yet.</p>\n", out);
	} else {
		fputs("<h2>Remediation over rounds</h2>\n", out);
		chart_over_rounds(out, r, LEVEL_OWNER);
		chart_over_rounds(out, r, LEVEL_HOST);
	}
	for (size_t i = r->round_count; i-- > 0;) {
		const struct report_round *round = &r->rounds[i];
		bool last = i + 1 == r->round_count;
		fprintf(out, "<section><h2>Round %" PRId64 "%s</h2>\n<p>Started ", round->seq,
			last ? " (latest)" : "");
		utc(out, round->started);
		fputs(", finished ", out);
		utc(out, round->finished);
		fputs(" (", out);
		text(out, round->status);
		fputs(").</p>\n<h3>Outcomes</h3>\n", out);
		outcomes(out, round);
		fputs("<h3>Remediation, treatment against control</h3>\n", out);
		comparison(out, r, round, LEVEL_OWNER, BREAKDOWN_ALL);
		comparison(out, r, round, LEVEL_HOST, BREAKDOWN_ALL);
		if (last) {
			chart_bars(out, r, round, BREAKDOWN_COUNTRY);
			chart_bars(out, r, round, BREAKDOWN_SOFTWARE);
		}
		fprintf(out, "<details%s><summary>Breakdowns of round %" PRId64 "</summary>\n",
			last ? " open" : "", round->seq);
		for (int b = BREAKDOWN_ALL + 1; b < BREAKDOWN_COUNT; b++) {
			for (int l = 0; l < LEVEL_COUNT; l++) {
				fprintf(out, "<h3>%s, per %s</h3>\n", report_breakdowns[b].title,
					report_level_names[l]);
				comparison(out, r, round, l, b);
			}
		}
		fputs("</details></section>\n", out);
	}
	fputs("<h2>What the numbers mean</h2>\n<dl>", out);
	for (size_t i = 0; i < report_definition_count; i++) {
		fputs("<dt>", out);
		text(out, report_definitions[i].term);
		fputs("</dt><dd>", out);
		text(out, report_definitions[i].meaning);
		fputs("</dd>", out);
	}
	fputs("</dl>\n</body></html>\n", out);
	return ferror(out) ? -1 : 0;
}

int report_html_style_source(char *out, size_t size)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int digest_len = 0;
	char b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
	if (EVP_Digest(style, sizeof style - 1, digest, &digest_len, EVP_sha256(), NULL) != 1)
		return -1;
	EVP_EncodeBlock((unsigned char *)b64, digest, (int)digest_len);
	int n = snprintf(out, size, "'sha256-%s'", b64);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}
