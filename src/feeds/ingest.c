#include "feeds/ingest.h"

#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/escape.h"
#include "core/linereader.h"
#include "core/log.h"

#define COMMIT_EVERY 20000 /* candidates per transaction: short locks for the sink */

struct ingest_run {
	const struct ingest_options *options;
	const struct feed_format *format;
	struct feed_state state;
	struct rangeset file_exclusions; /* rbldnsd "!" entries */
	const char *name;
	int64_t source_id;
	uint64_t pending; /* candidates since the last commit */
	unsigned reported;
	struct ingest_counts *counts;
};

static void report_bad_line(struct ingest_run *run, unsigned long lineno, const char *line, size_t len,
			    const char *why)
{
	run->counts->bad++;
	if (run->reported++ >= INGEST_MAX_REPORTED)
		return;
	char shown[ESCAPE_SIZE(80)]; /* the file's bytes, never raw to the terminal */
	escape_text(shown, sizeof shown, line, len > 80 ? 80 : len);
	log_warn("%s:%lu: %s: \"%s%s\"", run->name, lineno, why, shown, len > 80 ? "..." : "");
}

static int store_one(struct ingest_run *run, const struct addr *address, uint16_t port)
{
	if (exclusion_match(run->options->exclusions, address) != NULL ||
	    (run->file_exclusions.count > 0 && rangeset_lookup(&run->file_exclusions, address) >= 0)) {
		run->counts->excluded++;
		return 0;
	}
	int is_new = store_candidate_put(run->options->store, address, port, run->source_id, time(NULL));
	if (is_new < 0)
		return -1;
	if (is_new)
		run->counts->taken++;
	else
		run->counts->duplicate++;
	if (++run->pending >= COMMIT_EVERY) {
		run->pending = 0;
		if (store_commit(run->options->store) != 0 || store_begin(run->options->store) != 0)
			return -1;
	}
	return 0;
}

static int store_item(struct ingest_run *run, const struct feed_item *item)
{
	const struct ingest_options *o = run->options;
	struct addr address = item->range.first;
	for (;;) {
		if (item->port != 0) {
			if (store_one(run, &address, item->port) != 0)
				return -1;
		} else {
			for (size_t i = 0; i < o->port_count; i++)
				if (store_one(run, &address, o->ports[i]) != 0)
					return -1;
		}
		if (addr_cmp(&address, &item->range.last) == 0 || !addr_next(&address))
			return 0;
	}
}

/* rbldnsd exclusions apply to the whole file, whatever their position:
 * collect them first when the input can be read twice. */
static void collect_exclusions(struct ingest_run *run, FILE *in)
{
	struct linereader *reader = malloc(sizeof *reader);
	if (reader == NULL)
		return;
	linereader_init(reader, in);
	const char *line;
	size_t len;
	bool too_long;
	struct feed_state state;
	feed_state_init(&state);
	while (linereader_next(reader, &line, &len, &too_long) == 1) {
		struct feed_item items[FEED_MAX_ITEMS];
		const char *why;
		const char *p = feed_skip_space(line, line + len);
		if (too_long || p >= line + len || *p != '!')
			continue;
		if (run->format->parse_line(&state, line, len, items, &why) == 1)
			rangeset_add(&run->file_exclusions, &items[0].range, 0);
	}
	free(reader);
	rangeset_build(&run->file_exclusions);
}

static int ingest_lines(struct ingest_run *run, struct linereader *reader)
{
	const struct ingest_options *o = run->options;
	const char *line;
	size_t len;
	bool too_long;
	int rc;
	while ((rc = linereader_next(reader, &line, &len, &too_long)) == 1) {
		run->counts->lines++;
		if (too_long) {
			report_bad_line(run, reader->lineno, line, len, "line too long");
			continue;
		}
		struct feed_item items[FEED_MAX_ITEMS];
		const char *why = "unreadable";
		int n = run->format->parse_line(&run->state, line, len, items, &why);
		if (n < 0) {
			report_bad_line(run, reader->lineno, line, len, why);
			continue;
		}
		for (int i = 0; i < n; i++) {
			if (items[i].exclude) {
				if (rangeset_lookup(&run->file_exclusions, &items[i].range.first) < 0) {
					rangeset_add(&run->file_exclusions, &items[i].range, 0);
					rangeset_build(&run->file_exclusions);
				}
				continue;
			}
			uint64_t size = range_size(&items[i].range);
			if (size > o->max_range) {
				char message[128];
				snprintf(message, sizeof message,
					 "range of %llu addresses is larger than the limit (%llu; see --max-range)",
					 (unsigned long long)size, (unsigned long long)o->max_range);
				report_bad_line(run, reader->lineno, line, len, message);
				continue;
			}
			if (store_item(run, &items[i]) != 0)
				return -1;
		}
	}
	if (rc < 0)
		log_error("%s: read error after line %lu", run->name, reader->lineno);
	return rc;
}

int ingest_stream(const struct ingest_options *options, FILE *in, const char *name, struct ingest_counts *counts)
{
	struct ingest_run run = {.options = options, .name = name, .counts = counts};
	struct ingest_counts before = *counts;
	time_t started = time(NULL);
	char base[4096];
	snprintf(base, sizeof base, "%s", name);
	const char *source = options->source ? options->source : basename(base);
	struct linereader *reader = malloc(sizeof *reader);
	if (reader == NULL)
		return -1;
	rangeset_init(&run.file_exclusions);
	feed_state_init(&run.state);
	run.format = options->format;
	long start = ftell(in); /* -1 for pipes: no second pass there */
	linereader_init(reader, in);
	const char *why = "forced by --format";
	if (run.format == NULL) {
		size_t sample_len;
		const char *sample = linereader_peek(reader, &sample_len);
		run.format = feed_format_detect(sample, sample_len, &why);
	}
	log_info("%s: format %s (%s)", name, run.format->name, why);
	if (run.format == &feed_rbldnsd && start >= 0 && fseek(in, start, SEEK_SET) == 0) {
		collect_exclusions(&run, in);
		fseek(in, start, SEEK_SET);
		linereader_init(reader, in);
	}
	int rc = -1;
	if ((run.source_id = store_source_id(options->store, source, run.format->name)) >= 0 &&
	    store_begin(options->store) == 0) {
		rc = ingest_lines(&run, reader);
		if (rc == 0 && store_commit(options->store) != 0)
			rc = -1;
		if (rc != 0)
			store_rollback(options->store);
	}
	if (run.reported > INGEST_MAX_REPORTED)
		log_warn("%s: %u more bad lines not shown", name, run.reported - INGEST_MAX_REPORTED);
	struct ingest_counts delta = {
		.lines = counts->lines - before.lines,
		.taken = counts->taken - before.taken,
		.excluded = counts->excluded - before.excluded,
		.duplicate = counts->duplicate - before.duplicate,
		.bad = counts->bad - before.bad,
	};
	if (rc == 0)
		rc = store_ingest_run_put(options->store, run.source_id, run.format->name, started, time(NULL), &delta);
	rangeset_free(&run.file_exclusions);
	free(reader);
	return rc;
}
