#include "attrib/assign.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/paths.h"

#define BATCH 512 /* findings resolved, then written in one transaction */
#define PROGRESS_EVERY 256 /* findings between progress reports: a clock read is dearer than a lookup */

/* What one finding's attribution writes: the parts of an owner_result kept. */
struct resolved {
	int64_t candidate_id;
	enum owner_rung rung;
	bool rdap;
	uint32_t asn;
	char contact[256], organisation[256], org_handle[64], range[100], object[200], as_name[128];
	char country[3], agency[32];
	char further[OWNER_MAX_FURTHER * 300]; /* JSON, "" when none */
};

/* The further contacts as the store keeps them: [{"rung": NAME, "contact": MAILBOX}, ...]. */
static void further_json(const struct owner_result *o, char *buf, size_t len)
{
	buf[0] = '\0';
	if (o->further_count == 0)
		return;
	json_t *list = json_array();
	for (size_t i = 0; list && i < o->further_count; i++)
		json_array_append_new(list,
				      json_pack("{s:s, s:s}", "rung", owner_rung_names[o->further[i].rung],
						"contact", o->further[i].contact));
	char *text = list ? json_dumps(list, JSON_COMPACT) : NULL;
	if (text && strlen(text) < len)
		memcpy(buf, text, strlen(text) + 1);
	free(text);
	json_decref(list);
}

static void keep(struct resolved *r, int64_t candidate_id, const struct owner_result *o)
{
	r->candidate_id = candidate_id;
	r->rung = o->rung;
	r->rdap = o->rdap_used;
	r->asn = o->asn;
	memcpy(r->contact, o->contact, sizeof r->contact);
	memcpy(r->organisation, o->organisation, sizeof r->organisation);
	memcpy(r->org_handle, o->org_handle, sizeof r->org_handle);
	memcpy(r->range, o->range, sizeof r->range);
	memcpy(r->object, o->object, sizeof r->object);
	memcpy(r->as_name, o->as_name, sizeof r->as_name);
	memcpy(r->country, o->country, sizeof r->country);
	snprintf(r->agency, sizeof r->agency, "%s", o->agency->short_name);
	further_json(o, r->further, sizeof r->further);
}

static const char *or_null(const char *s)
{
	return s[0] ? s : NULL;
}

static int write_batch(struct store *store, const struct resolved *batch, size_t n, time_t when)
{
	if (store_begin(store) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const struct resolved *r = &batch[i];
		struct store_attribution a = {
		    .candidate_id = r->candidate_id,
		    .organisation = r->organisation,
		    .org_handle = or_null(r->org_handle),
		    .contact = r->contact,
		    .rung = owner_rung_names[r->rung],
		    .range = or_null(r->range),
		    .object = or_null(r->object),
		    .asn = r->asn,
		    .as_name = or_null(r->as_name),
		    .country = or_null(r->country),
		    .agency = r->agency,
		    .method = r->rdap ? "rdap" : "bulk",
		    .when = when,
		    .further = or_null(r->further),
		};
		if (store_attribution_put(store, &a) < 0) {
			store_rollback(store);
			return -1;
		}
	}
	return store_commit(store);
}

static double since(const struct timespec *start)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

int attrib_assign(struct store *store, const struct attrib_assign_options *options,
		  struct attrib_assign_report *report)
{
	struct agencies agencies;
	struct attrib_index index;
	struct store_pending *pending = NULL;
	struct resolved *batch = NULL;
	struct owner_result *result = NULL;
	struct rdap_client *rdap = NULL;
	struct timespec start;
	char path[4096];
	size_t count = 0;
	int rc = -1;

	memset(report, 0, sizeof *report);
	attrib_index_init(&index);
	const char *agencies_path =
	    options->agencies_path ? options->agencies_path : data_path("agencies.conf", path, sizeof path);
	if (agencies_load(&agencies, agencies_path) != 0)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &start);
	if (attrib_index_load(&index, store) != 0)
		goto done;
	report->index_seconds = since(&start);
	report->index_ranges = attrib_index_range_count(&index);
	report->index_bytes = attrib_index_memory(&index);
	if (index.count == 0 && !options->rdap) {
		log_error("no registry data loaded: 'plughole attribute load FILE...' first (or use --rdap)");
		goto done;
	}
	if (options->rdap && (rdap = rdap_client_new(store, &options->rdap_options)) == NULL)
		goto done;
	if (store_attribution_pending(store, options->all, &pending, &count) != 0)
		goto done;
	report->findings = count;
	batch = malloc(BATCH * sizeof *batch);
	result = malloc(sizeof *result);
	if (batch == NULL || result == NULL)
		goto done;
	struct owner_context ctx = {&index, &agencies, rdap};
	time_t now = time(NULL);
	size_t filled = 0;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (size_t i = 0; i < count; i++) {
		/* findings of one address on several ports resolve once */
		if (i == 0 || addr_cmp(&pending[i].address, &pending[i - 1].address) != 0)
			if (owner_resolve(&ctx, &pending[i].address, result) != 0)
				goto done;
		/* a stop may have cut the RDAP question short: that finding waits for the next run */
		if (options->stop != NULL && *options->stop) {
			report->stopped = true;
			break;
		}
		keep(&batch[filled++], pending[i].candidate_id, result);
		report->by_rung[result->rung]++;
		if (options->on_progress != NULL && (i % PROGRESS_EVERY == 0 || i + 1 == count))
			options->on_progress(options->progress_ctx, i + 1, count);
		if (filled == BATCH) {
			if (write_batch(store, batch, filled, now) != 0)
				goto done;
			report->attributed += filled;
			filled = 0;
		}
	}
	if (filled > 0) {
		if (write_batch(store, batch, filled, now) != 0)
			goto done;
		report->attributed += filled;
	}
	report->resolve_seconds = since(&start);
	rc = 0;
done:
	if (rdap != NULL) {
		report->rdap = *rdap_client_counters(rdap);
		rdap_client_free(rdap);
	}
	free(result);
	free(batch);
	free(pending);
	attrib_index_free(&index);
	agencies_free(&agencies);
	return rc;
}
