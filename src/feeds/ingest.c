#include "feeds/ingest.h"

#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/escape.h"
#include "core/linereader.h"
#include "core/log.h"

/*
 * Candidates per transaction. A feed in random order dirties pages all over
 * the (address, port) index in every transaction, and each commit writes them
 * all again: fewer, bigger batches (sorted in the index's order) bring 1M
 * random addresses from ~3x to within 1.5x of the same sorted (bench/ingest.sh).
 * One batch holds the store's write lock well under a second; the sink waits
 * up to 10 s for it.
 */
#define COMMIT_EVERY 100000
#define INGEST_CACHE_KIB (64 * 1024) /* the page cache while ingesting: a 1M-candidate index */

struct ingest_run {
	const struct ingest_options *options;
	const struct feed_format *format;
	struct feed_state state;
	struct rangeset file_exclusions; /* rbldnsd "!" entries */
	const char *name;
	int64_t source_id;
	struct store_candidate *batch; /* COMMIT_EVERY candidates, stored sorted in one transaction */
	size_t pending;
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

/* Stores the batch; with more to come, commits it and opens the next transaction. */
static int flush_batch(struct ingest_run *run, bool more)
{
	struct store *store = run->options->store;
	size_t n = run->pending;
	run->pending = 0;
	if (store_candidates_put(store, run->batch, n, run->source_id, time(NULL), run->counts) != 0)
		return -1;
	return more && (store_commit(store) != 0 || store_begin(store) != 0) ? -1 : 0;
}

static int store_one(struct ingest_run *run, const struct addr *address, uint16_t port)
{
	if (exclusion_match(run->options->exclusions, address) != NULL ||
	    (run->file_exclusions.count > 0 && rangeset_lookup(&run->file_exclusions, address) >= 0)) {
		run->counts->excluded++;
		return 0;
	}
	run->batch[run->pending++] = (struct store_candidate){.address = *address, .port = port};
	return run->pending == COMMIT_EVERY ? flush_batch(run, true) : 0;
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
 * collect them first when the input can be read twice (not a pipe). */
static void collect_exclusions(struct ingest_run *run, struct linereader *reader)
{
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
	run->counts->not_open += run->state.not_open;
	if (rc < 0)
		log_error("%s: read error after line %lu: %s", run->name, reader->lineno,
			  reader->why ? reader->why : "unknown");
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
	run.batch = malloc(COMMIT_EVERY * sizeof *run.batch);
	if (reader == NULL || run.batch == NULL) {
		free(reader);
		free(run.batch);
		return -1;
	}
	rangeset_init(&run.file_exclusions);
	feed_state_init(&run.state);
	run.format = options->format;
	if (linereader_open(reader, fileno(in)) != 0) {
		log_error("%s: %s", name, strerror(errno));
		free(run.batch);
		free(reader);
		return -1;
	}
	const char *why = "forced by --format";
	size_t sample_len;
	const char *sample = linereader_peek(reader, &sample_len); /* also tells gzip */
	if (run.format == NULL)
		run.format = feed_format_detect(sample, sample_len, &why);
	log_info("%s: format %s (%s)%s", name, run.format->name, why,
		 linereader_is_gzip(reader) ? ", gzip" : "");
	if (run.format == &feed_rbldnsd && linereader_rewind(reader) == 0) {
		collect_exclusions(&run, reader);
		if (linereader_rewind(reader) != 0) {
			log_error("%s: cannot read it a second time", name);
			linereader_close(reader);
			free(run.batch);
			free(reader);
			return -1;
		}
	}
	int rc = -1;
	/* A feed in random order touches the whole (address, port) index in every
	 * transaction: the cache keeps it in memory instead of re-reading it. */
	if (store_cache_size(options->store, INGEST_CACHE_KIB) == 0 &&
	    (run.source_id = store_source_id(options->store, source, run.format->name)) >= 0 &&
	    store_begin(options->store) == 0) {
		rc = ingest_lines(&run, reader);
		if (rc == 0 && (flush_batch(&run, false) != 0 || store_commit(options->store) != 0))
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
		.not_open = counts->not_open - before.not_open,
	};
	if (rc == 0)
		rc = store_ingest_run_put(options->store, run.source_id, run.format->name, started, time(NULL), &delta);
	if (rc == 0 && delta.bad > 0 && delta.taken + delta.excluded + delta.duplicate + delta.not_open == 0) {
		/* nothing read but bad lines: the wrong file or the wrong --format, not a feed with a few typos */
		log_error("%s: every entry is a bad line as %s (%llu bad): not this format? (--format)", name,
			  run.format->name, (unsigned long long)delta.bad);
		rc = -1;
	}
	rangeset_free(&run.file_exclusions);
	linereader_close(reader);
	free(run.batch);
	free(reader);
	return rc;
}
