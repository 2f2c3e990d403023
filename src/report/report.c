/* Gathers a campaign's remediation report from the store (report.h). */
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "report/report.h"
#include "store/store_report.h"

const char *const report_outcome_names[OUTCOME_COUNT] = {
    [OUTCOME_OPEN] = "open", [OUTCOME_CHANGED] = "changed",	      [OUTCOME_FIXED] = "fixed",
    [OUTCOME_GONE] = "gone", [OUTCOME_INCONCLUSIVE] = "inconclusive", [OUTCOME_UNTESTED] = "untested",
};
const char *const report_group_names[GROUP_COUNT] = {
    [GROUP_TREATMENT] = "treatment", [GROUP_CONTROL] = "control"};
const char *const report_level_names[LEVEL_COUNT] = {[LEVEL_OWNER] = "owner", [LEVEL_HOST] = "host"};
const char *const report_letter_names[LETTER_COUNT] = {
    [LETTER_DELIVERED] = "delivered",
    [LETTER_FALLBACK] = "bounced, then reached a fallback contact",
    [LETTER_NEVER_REACHED] = "never reached",
    [LETTER_CONTROL] = "control (no letter)",
};
const struct report_breakdown_info report_breakdowns[BREAKDOWN_COUNT] = {
    [BREAKDOWN_ALL] = {"all", "All", 0},
    [BREAKDOWN_LETTER] = {"letter", "By letter outcome", 0},
    [BREAKDOWN_COUNTRY] = {"country", "By country", 0},
    [BREAKDOWN_AGENCY] = {"agency", "By agency", 0},
    [BREAKDOWN_VERDICT] = {"verdict", "By verdict", 0},
    [BREAKDOWN_SOFTWARE] = {"software", "By detected software", 20},
    [BREAKDOWN_ASN] = {"asn", "By AS (top 10)", 10},
};

const struct report_definition report_definitions[] = {
    {"randomised unit",
     "Owners (an organisation with its abuse contact) were drawn into treatment (a letter) "
     "or control (no letter), so the per-owner comparison is the one the design supports; "
     "one owner's hosts are not independent, and the per-host figures are descriptive."},
    {"open", "the host proved the same verdict again (proof bound to this round's test message)"},
    {"changed", "the host proved another open verdict (still open, in another way)"},
    {"fixed", "the host speaks its protocol and refuses to relay"},
    {"gone", "the host was unreachable for the whole round; never counted as fixed"},
    {"inconclusive", "no usable answer (accepted without proof, tempfail, timeout); never counted as fixed"},
    {"untested", "no verdict for the host in this round yet"},
    {"remediated host", "a host that is fixed"},
    {"remediated owner", "an owner none of whose hosts is still open or changed, and at least one of whose "
			 "hosts is fixed"},
    {"remediation rate", "remediated of all frozen hosts or owners of the group (gone, inconclusive and "
			 "untested stay in the denominator), with its 95 % Wilson score interval"},
    {"difference", "treatment rate minus control rate in percentage points, with Newcombe's hybrid score "
		   "95 % interval (from the two Wilson intervals)"},
    {"test", "two-sided pooled two-proportion z test of treatment against control"},
    {"small groups", "under 10, a group shows its counts (3 of 7), not a percentage"},
    {"letter outcome",
     "delivered: the first letter was sent and did not bounce; bounced, then reached a "
     "fallback contact: a later letter to another contact was sent and did not bounce; never "
     "reached: no letter reached the owner (bounced, failed, suppressed, skipped or unsent)"},
    {"breakdowns",
     "an owner whose hosts differ in country, agency, verdict, software or AS counts once per "
     "value, judged on its hosts with that value; the largest 20 software names and 10 ASes are "
     "shown, the rest as other"},
};
const size_t report_definition_count = ARRAY_SIZE(report_definitions);

#define UNKNOWN_KEY "(unknown)"
#define OTHER_KEY "other"

/* Interned keys of one breakdown: an open-addressing table of names to indexes. */
struct keyset {
	char **names, **labels;
	uint64_t *hosts;
	size_t count, cap;
	uint32_t *slots; /* index + 1, 0 empty */
	size_t slot_cap;
};

static uint64_t hash_text(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static int keyset_grow(struct keyset *k)
{
	size_t cap = k->slot_cap ? k->slot_cap * 2 : 64;
	uint32_t *slots = calloc(cap, sizeof *slots);
	if (slots == NULL)
		return -1;
	for (size_t i = 0; i < k->count; i++) {
		size_t at = hash_text(k->names[i]) & (cap - 1);
		while (slots[at])
			at = (at + 1) & (cap - 1);
		slots[at] = (uint32_t)i + 1;
	}
	free(k->slots);
	k->slots = slots;
	k->slot_cap = cap;
	return 0;
}

/* The index of name, added (with its label) when new; -1 when out of memory. */
static int64_t keyset_intern(struct keyset *k, const char *name, const char *label)
{
	if ((k->count + 1) * 2 > k->slot_cap && keyset_grow(k) != 0)
		return -1;
	size_t at = hash_text(name) & (k->slot_cap - 1);
	while (k->slots[at]) {
		uint32_t i = k->slots[at] - 1;
		if (strcmp(k->names[i], name) == 0)
			return i;
		at = (at + 1) & (k->slot_cap - 1);
	}
	if (k->count == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 16;
		char **names = realloc(k->names, cap * sizeof *names);
		if (names == NULL)
			return -1;
		k->names = names;
		char **labels = realloc(k->labels, cap * sizeof *labels);
		if (labels == NULL)
			return -1;
		k->labels = labels;
		uint64_t *hosts = realloc(k->hosts, cap * sizeof *hosts);
		if (hosts == NULL)
			return -1;
		k->hosts = hosts;
		k->cap = cap;
	}
	k->names[k->count] = strdup(name);
	k->labels[k->count] = strdup(label ? label : name);
	k->hosts[k->count] = 0;
	if (k->names[k->count] == NULL || k->labels[k->count] == NULL)
		return -1;
	k->slots[at] = (uint32_t)k->count + 1;
	return (int64_t)k->count++;
}

static void keyset_free(struct keyset *k)
{
	for (size_t i = 0; i < k->count; i++) {
		free(k->names[i]);
		free(k->labels[i]);
	}
	free(k->names);
	free(k->labels);
	free(k->hosts);
	free(k->slots);
}

struct gather {
	struct report *report;
	struct keyset keys[BREAKDOWN_COUNT];
	size_t hosts, host_cap;
	int64_t *host_id, *host_owner_id;    /* host_id: the candidate id, ascending */
	uint32_t *host_owner;		     /* owner index */
	uint32_t *host_key[BREAKDOWN_COUNT]; /* key index */
	uint8_t *host_outcome;
	int64_t *owner_ids; /* sorted */
	size_t owners;
	uint8_t *owner_group, *owner_letter;
	/* Units of the owner level: an owner, or an owner with one value of a host attribute. */
	uint32_t *host_unit[BREAKDOWN_COUNT], *unit_key[BREAKDOWN_COUNT];
	uint8_t *unit_group[BREAKDOWN_COUNT], *unit_mask[BREAKDOWN_COUNT];
	size_t units[BREAKDOWN_COUNT];
	/* AS numbers to their key, so a host's AS is a look-up, not a formatted name. */
	int64_t *asn_of_slot;
	uint32_t *asn_key_of_slot;
	size_t asn_slots, asn_count;
	bool failed;
};

static int asn_grow(struct gather *g)
{
	size_t cap = g->asn_slots ? g->asn_slots * 2 : 1024;
	int64_t *asns = calloc(cap, sizeof *asns);
	uint32_t *keys = calloc(cap, sizeof *keys);
	if (asns == NULL || keys == NULL) {
		free(asns);
		free(keys);
		return -1;
	}
	for (size_t i = 0; i < g->asn_slots; i++) {
		if (g->asn_of_slot[i] == 0)
			continue;
		size_t at = (uint64_t)g->asn_of_slot[i] * 11400714819323198485ULL >> 20 & (cap - 1);
		while (asns[at])
			at = (at + 1) & (cap - 1);
		asns[at] = g->asn_of_slot[i];
		keys[at] = g->asn_key_of_slot[i];
	}
	free(g->asn_of_slot);
	free(g->asn_key_of_slot);
	g->asn_of_slot = asns;
	g->asn_key_of_slot = keys;
	g->asn_slots = cap;
	return 0;
}

/* The key of an AS number (> 0), interned with its label on first sight. */
static int64_t asn_key(struct gather *g, int64_t asn, const char *as_name)
{
	if ((g->asn_count + 1) * 2 > g->asn_slots && asn_grow(g) != 0)
		return -1;
	size_t at = (uint64_t)asn * 11400714819323198485ULL >> 20 & (g->asn_slots - 1);
	while (g->asn_of_slot[at]) {
		if (g->asn_of_slot[at] == asn)
			return g->asn_key_of_slot[at];
		at = (at + 1) & (g->asn_slots - 1);
	}
	char name[32], label[512];
	snprintf(name, sizeof name, "AS%" PRId64, asn);
	snprintf(label, sizeof label, "AS%" PRId64 "%s%s", asn, as_name ? " " : "", as_name ? as_name : "");
	int64_t k = keyset_intern(&g->keys[BREAKDOWN_ASN], name, label);
	if (k < 0)
		return -1;
	g->asn_of_slot[at] = asn;
	g->asn_key_of_slot[at] = (uint32_t)k;
	g->asn_count++;
	return k;
}

/* The key name of a host attribute; NULL text is unknown. */
static const char *key_text(const char *text)
{
	return text && *text ? text : UNKNOWN_KEY;
}

static int take_host(void *ctx, const struct store_report_host *h)
{
	struct gather *g = ctx;
	if (g->hosts == g->host_cap) {
		size_t cap = g->host_cap ? g->host_cap * 2 : 1024;
		int64_t *ids = realloc(g->host_id, cap * sizeof *ids);
		if (ids == NULL)
			return -1;
		g->host_id = ids;
		int64_t *owners = realloc(g->host_owner_id, cap * sizeof *owners);
		if (owners == NULL)
			return -1;
		g->host_owner_id = owners;
		uint8_t *groups = realloc(g->host_outcome, cap);
		if (groups == NULL)
			return -1;
		g->host_outcome = groups;
		for (int b = 0; b < BREAKDOWN_COUNT; b++) {
			uint32_t *keys = realloc(g->host_key[b], cap * sizeof *keys);
			if (keys == NULL)
				return -1;
			g->host_key[b] = keys;
		}
		g->host_cap = cap;
	}
	size_t i = g->hosts++;
	g->host_id[i] = h->candidate_id;
	g->host_owner_id[i] = h->owner_id;
	const char *name[BREAKDOWN_COUNT] = {
	    [BREAKDOWN_ALL] = "all",
	    [BREAKDOWN_LETTER] = NULL, /* an owner's, set later */
	    [BREAKDOWN_COUNTRY] = key_text(h->country),
	    [BREAKDOWN_AGENCY] = key_text(h->agency),
	    [BREAKDOWN_VERDICT] = key_text(h->verdict),
	    [BREAKDOWN_SOFTWARE] = key_text(h->software),
	    [BREAKDOWN_ASN] = h->asn > 0 ? NULL : UNKNOWN_KEY, /* a known AS: asn_key() */
	};
	for (int b = 0; b < BREAKDOWN_COUNT; b++) {
		if (name[b] == NULL && (b != BREAKDOWN_ASN))
			continue;
		int64_t k =
		    name[b] ? keyset_intern(&g->keys[b], name[b], NULL) : asn_key(g, h->asn, h->as_name);
		if (k < 0)
			return -1;
		g->keys[b].hosts[k]++;
		g->host_key[b][i] = (uint32_t)k;
	}
	return 0;
}

static int compare_int64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* The index of id in a sorted array, -1 when absent. */
static int64_t find_id(const int64_t *ids, size_t count, int64_t id)
{
	size_t lo = 0, hi = count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < count && ids[lo] == id ? (int64_t)lo : -1;
}

static int index_owners(struct gather *g)
{
	g->owner_ids = malloc((g->hosts ? g->hosts : 1) * sizeof *g->owner_ids);
	g->host_owner = malloc((g->hosts ? g->hosts : 1) * sizeof *g->host_owner);
	if (g->owner_ids == NULL || g->host_owner == NULL)
		return -1;
	memcpy(g->owner_ids, g->host_owner_id, g->hosts * sizeof *g->owner_ids);
	qsort(g->owner_ids, g->hosts, sizeof *g->owner_ids, compare_int64);
	size_t n = 0;
	for (size_t i = 0; i < g->hosts; i++)
		if (n == 0 || g->owner_ids[n - 1] != g->owner_ids[i])
			g->owner_ids[n++] = g->owner_ids[i];
	g->owners = n;
	g->owner_group = calloc(n ? n : 1, 1);
	g->owner_letter = calloc(n ? n : 1, 1);
	if (g->owner_group == NULL || g->owner_letter == NULL)
		return -1;
	for (size_t i = 0; i < g->hosts; i++)
		g->host_owner[i] = (uint32_t)find_id(g->owner_ids, n, g->host_owner_id[i]);
	return 0;
}

static int take_owner(void *ctx, int64_t owner_id, bool control)
{
	struct gather *g = ctx;
	int64_t o = find_id(g->owner_ids, g->owners, owner_id);
	if (o >= 0) /* an owner without hosts has no outcome to count */
		g->owner_group[o] = control ? GROUP_CONTROL : GROUP_TREATMENT;
	return 0;
}

static void default_letters(struct gather *g)
{
	for (size_t o = 0; o < g->owners; o++)
		g->owner_letter[o] =
		    g->owner_group[o] == GROUP_CONTROL ? LETTER_CONTROL : LETTER_NEVER_REACHED;
}

/* Hosts by candidate id, the order the round outcomes come in (frozen so already, as a rule). */
static const int64_t *sorting_ids;
static int by_candidate(const void *a, const void *b)
{
	int64_t x = sorting_ids[*(const uint32_t *)a], y = sorting_ids[*(const uint32_t *)b];
	return (x > y) - (x < y);
}

static int permute64(int64_t *v, const uint32_t *order, size_t n)
{
	int64_t *copy = malloc((n ? n : 1) * sizeof *copy);
	if (copy == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		copy[i] = v[order[i]];
	memcpy(v, copy, n * sizeof *copy);
	free(copy);
	return 0;
}

static int permute32(uint32_t *v, const uint32_t *order, size_t n)
{
	uint32_t *copy = malloc((n ? n : 1) * sizeof *copy);
	if (copy == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		copy[i] = v[order[i]];
	memcpy(v, copy, n * sizeof *copy);
	free(copy);
	return 0;
}

static int sort_hosts(struct gather *g)
{
	size_t i = 1;
	while (i < g->hosts && g->host_id[i - 1] < g->host_id[i])
		i++;
	if (i >= g->hosts)
		return 0;
	uint32_t *order = malloc(g->hosts * sizeof *order);
	if (order == NULL)
		return -1;
	for (i = 0; i < g->hosts; i++)
		order[i] = (uint32_t)i;
	sorting_ids = g->host_id;
	qsort(order, g->hosts, sizeof *order, by_candidate);
	int rc = permute64(g->host_id, order, g->hosts) | permute64(g->host_owner_id, order, g->hosts);
	for (int b = 0; b < BREAKDOWN_COUNT; b++)
		if (b != BREAKDOWN_LETTER)
			rc |= permute32(g->host_key[b], order, g->hosts);
	free(order);
	return rc;
}

static int take_letters(void *ctx, int64_t owner_id, bool first_reached, bool later_reached)
{
	struct gather *g = ctx;
	int64_t o = find_id(g->owner_ids, g->owners, owner_id);
	if (o < 0 || g->owner_group[o] == GROUP_CONTROL)
		return 0; /* an owner without hosts has no outcome to count */
	g->owner_letter[o] = first_reached   ? LETTER_DELIVERED
			     : later_reached ? LETTER_FALLBACK
					     : LETTER_NEVER_REACHED;
	return 0;
}

/*
 * Orders a breakdown's keys largest first (by hosts; names break ties),
 * keeping the top ones and folding the rest into "other"; renumbers the hosts'
 * keys and hands the labels to the report.
 */
static const struct keyset *sorting;
static int by_hosts(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	if (sorting->hosts[x] != sorting->hosts[y])
		return sorting->hosts[x] < sorting->hosts[y] ? 1 : -1;
	return strcmp(sorting->labels[x], sorting->labels[y]);
}

static int order_keys(struct gather *g, int b)
{
	struct keyset *k = &g->keys[b];
	struct report *r = g->report;
	size_t count = k->count, top = report_breakdowns[b].top;
	uint32_t *order = malloc((count ? count : 1) * sizeof *order),
		 *renumber = malloc((count ? count : 1) * sizeof *renumber);
	if (order == NULL || renumber == NULL) {
		free(order);
		free(renumber);
		return -1;
	}
	for (size_t i = 0; i < count; i++)
		order[i] = (uint32_t)i;
	sorting = k;
	qsort(order, count, sizeof *order, by_hosts);
	size_t kept = top && count > top ? top : count;
	size_t shown = kept + (kept < count);
	r->keys[b] = calloc(shown ? shown : 1, sizeof *r->keys[b]);
	if (r->keys[b] == NULL) {
		free(order);
		free(renumber);
		return -1;
	}
	r->key_count[b] = shown;
	for (size_t i = 0; i < count; i++)
		renumber[order[i]] = (uint32_t)(i < kept ? i : kept);
	for (size_t i = 0; i < kept; i++)
		r->keys[b][i] = strdup(k->labels[order[i]]);
	if (kept < count)
		r->keys[b][kept] = strdup(OTHER_KEY);
	for (size_t i = 0; i < shown; i++)
		if (r->keys[b][i] == NULL)
			g->failed = true;
	for (size_t h = 0; h < g->hosts; h++)
		g->host_key[b][h] = renumber[g->host_key[b][h]];
	free(order);
	free(renumber);
	return g->failed ? -1 : 0;
}

static int letter_keys(struct gather *g)
{
	struct report *r = g->report;
	r->keys[BREAKDOWN_LETTER] = calloc(LETTER_COUNT, sizeof *r->keys[BREAKDOWN_LETTER]);
	if (r->keys[BREAKDOWN_LETTER] == NULL)
		return -1;
	r->key_count[BREAKDOWN_LETTER] = LETTER_COUNT;
	for (int l = 0; l < LETTER_COUNT; l++)
		if ((r->keys[BREAKDOWN_LETTER][l] = strdup(report_letter_names[l])) == NULL)
			return -1;
	for (size_t h = 0; h < g->hosts; h++)
		g->host_key[BREAKDOWN_LETTER][h] = g->owner_letter[g->host_owner[h]];
	return 0;
}

/*
 * The owner-level units of each breakdown: an owner with one key. Hosts are
 * visited owner by owner (a counting sort), and a key's last owner says
 * whether that (owner, key) unit exists yet.
 */
static int make_units(struct gather *g)
{
	size_t *start = calloc(g->owners + 1, sizeof *start);
	uint32_t *by_owner = malloc((g->hosts ? g->hosts : 1) * sizeof *by_owner);
	int rc = -1;
	if (start == NULL || by_owner == NULL)
		goto out;
	for (size_t h = 0; h < g->hosts; h++)
		start[g->host_owner[h] + 1]++;
	for (size_t o = 0; o < g->owners; o++)
		start[o + 1] += start[o];
	for (size_t h = 0; h < g->hosts; h++)
		by_owner[start[g->host_owner[h]]++] = (uint32_t)h;
	for (int b = 0; b < BREAKDOWN_COUNT; b++) {
		size_t keys = g->report->key_count[b];
		int64_t *last_owner = malloc((keys ? keys : 1) * sizeof *last_owner);
		uint32_t *last_unit = malloc((keys ? keys : 1) * sizeof *last_unit);
		g->host_unit[b] = malloc((g->hosts ? g->hosts : 1) * sizeof *g->host_unit[b]);
		g->unit_key[b] = malloc((g->hosts ? g->hosts : 1) * sizeof *g->unit_key[b]);
		g->unit_group[b] = malloc(g->hosts ? g->hosts : 1);
		g->unit_mask[b] = malloc(g->hosts ? g->hosts : 1);
		if (last_owner == NULL || last_unit == NULL || !g->host_unit[b] || !g->unit_key[b] ||
		    !g->unit_group[b] || !g->unit_mask[b]) {
			free(last_owner);
			free(last_unit);
			goto out;
		}
		for (size_t k = 0; k < keys; k++)
			last_owner[k] = -1;
		size_t units = 0;
		for (size_t i = 0; i < g->hosts; i++) {
			uint32_t h = by_owner[i], o = g->host_owner[h], k = g->host_key[b][h];
			if (last_owner[k] != o) {
				last_owner[k] = o;
				last_unit[k] = (uint32_t)units;
				g->unit_key[b][units] = k;
				g->unit_group[b][units] = g->owner_group[o];
				units++;
			}
			g->host_unit[b][h] = last_unit[k];
		}
		g->units[b] = units;
		free(last_owner);
		free(last_unit);
	}
	rc = 0;
out:
	free(start);
	free(by_owner);
	return rc;
}

static enum report_outcome outcome_from_name(const char *name)
{
	for (int o = 0; o < OUTCOME_COUNT; o++)
		if (name && strcmp(name, report_outcome_names[o]) == 0)
			return (enum report_outcome)o;
	return OUTCOME_COUNT;
}

/*
 * The rounds' outcomes are the bulk of the reading (a million hosts a round,
 * each looked up in campaign_round_outcomes): threads read them, each round
 * on a connection of its own, while the caller reads the hosts.
 */
struct round_fetch {
	int64_t round_id;
	int64_t *ids; /* candidate ids, as they came */
	uint8_t *outcomes;
	size_t n, cap;
};

struct fetcher {
	struct store *store;
	struct round_fetch *fetches;
	size_t count, next;
	pthread_mutex_t lock;
	int rc;
};

static int take_fetched(void *ctx, int64_t candidate_id, const char *outcome)
{
	struct round_fetch *f = ctx;
	enum report_outcome o = outcome_from_name(outcome);
	if (o == OUTCOME_COUNT) {
		log_error("report: candidate %" PRId64 ": unknown outcome '%s'", candidate_id,
			  outcome ? outcome : "(null)");
		return -1;
	}
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 4096;
		int64_t *ids = realloc(f->ids, cap * sizeof *ids);
		if (ids == NULL)
			return -1;
		f->ids = ids;
		uint8_t *outcomes = realloc(f->outcomes, cap);
		if (outcomes == NULL)
			return -1;
		f->outcomes = outcomes;
		f->cap = cap;
	}
	f->ids[f->n] = candidate_id;
	f->outcomes[f->n++] = (uint8_t)o;
	return 0;
}

static void *fetch_rounds(void *arg)
{
	struct fetcher *f = arg;
	struct store *store = store_report_reopen(f->store);
	int rc = store != NULL ? store_report_begin(store) : -1;
	for (;;) {
		pthread_mutex_lock(&f->lock);
		size_t i = f->next++;
		pthread_mutex_unlock(&f->lock);
		if (i >= f->count)
			break;
		if (rc == 0)
			rc = store_report_outcomes_each(store, f->fetches[i].round_id, take_fetched,
							&f->fetches[i]);
	}
	if (store != NULL) {
		store_report_end(store);
		store_close(store);
	}
	if (rc != 0) {
		pthread_mutex_lock(&f->lock);
		f->rc = -1;
		pthread_mutex_unlock(&f->lock);
	}
	return NULL;
}

#define FETCH_THREADS_MAX 4

struct fetch_pool {
	struct fetcher f;
	pthread_t threads[FETCH_THREADS_MAX];
	size_t started;
	bool ready; /* the lock made */
};

/* Starts threads reading the rounds' outcomes: as many as there are processors, at most one a round. */
static int fetch_start(struct fetch_pool *pool, struct store *store, const struct report *r)
{
	memset(pool, 0, sizeof *pool);
	pool->f.store = store;
	pthread_mutex_init(&pool->f.lock, NULL);
	pool->ready = true;
	pool->f.count = r->round_count;
	pool->f.fetches = calloc(r->round_count ? r->round_count : 1, sizeof *pool->f.fetches);
	if (pool->f.fetches == NULL)
		return -1;
	for (size_t i = 0; i < r->round_count; i++)
		pool->f.fetches[i].round_id = r->rounds[i].id;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t want = cpus > 0 ? (size_t)cpus : 1;
	if (want > FETCH_THREADS_MAX)
		want = FETCH_THREADS_MAX;
	if (want > r->round_count)
		want = r->round_count;
	while (pool->started < want &&
	       pthread_create(&pool->threads[pool->started], NULL, fetch_rounds, &pool->f) == 0)
		pool->started++;
	return 0;
}

/* Waits for the threads (reading what is left itself when none started); 0 or -1. */
static int fetch_wait(struct fetch_pool *pool)
{
	if (pool->started == 0 && pool->f.fetches != NULL)
		fetch_rounds(&pool->f);
	for (size_t i = 0; i < pool->started; i++)
		pthread_join(pool->threads[i], NULL);
	pool->started = 0;
	return pool->f.fetches != NULL ? pool->f.rc : -1;
}

static void fetch_free(struct fetch_pool *pool)
{
	if (!pool->ready)
		return;
	fetch_wait(pool);
	for (size_t i = 0; pool->f.fetches != NULL && i < pool->f.count; i++) {
		free(pool->f.fetches[i].ids);
		free(pool->f.fetches[i].outcomes);
	}
	free(pool->f.fetches);
	pthread_mutex_destroy(&pool->f.lock);
}

/* Each host's outcome in a fetched round: both come by candidate id, so mostly the next host. */
static void outcomes_of(struct gather *g, const struct round_fetch *f)
{
	memset(g->host_outcome, OUTCOME_UNTESTED, g->hosts);
	size_t cursor = 0;
	for (size_t i = 0; i < f->n; i++) {
		int64_t h = cursor < g->hosts && g->host_id[cursor] == f->ids[i]
				? (int64_t)cursor
				: find_id(g->host_id, g->hosts, f->ids[i]);
		if (h < 0)
			continue;
		g->host_outcome[h] = f->outcomes[i];
		cursor = (size_t)h + 1;
	}
}

/* An owner's (a unit's) outcome from the outcomes of its hosts: the first that applies. */
static enum report_outcome unit_outcome(unsigned mask)
{
	static const enum report_outcome precedence[] = {OUTCOME_OPEN,	   OUTCOME_CHANGED,
							 OUTCOME_FIXED,	   OUTCOME_INCONCLUSIVE,
							 OUTCOME_UNTESTED, OUTCOME_GONE};
	for (size_t i = 0; i < ARRAY_SIZE(precedence); i++)
		if (mask & (1u << precedence[i]))
			return precedence[i];
	return OUTCOME_UNTESTED;
}

static void finish_row(struct report_row *row)
{
	for (int gr = 0; gr < GROUP_COUNT; gr++) {
		struct report_cell *c = &row->group[gr];
		c->n = 0;
		for (int o = 0; o < OUTCOME_COUNT; o++) {
			c->n += c->outcomes[o];
			row->total.outcomes[o] += c->outcomes[o];
		}
		c->remediated = c->outcomes[OUTCOME_FIXED];
		c->rate = stats_wilson(c->remediated, c->n);
		row->total.n += c->n;
	}
	row->total.remediated = row->total.outcomes[OUTCOME_FIXED];
	row->total.rate = stats_wilson(row->total.remediated, row->total.n);
	row->difference =
	    stats_difference(&row->group[GROUP_TREATMENT].rate, &row->group[GROUP_CONTROL].rate);
	row->test = stats_ztest(&row->group[GROUP_TREATMENT].rate, &row->group[GROUP_CONTROL].rate);
}

static int count_round(struct gather *g, const struct round_fetch *fetched, struct report_round *round)
{
	struct report *r = g->report;
	outcomes_of(g, fetched);
	for (int l = 0; l < LEVEL_COUNT; l++)
		for (int b = 0; b < BREAKDOWN_COUNT; b++)
			if ((round->rows[l][b] = calloc(r->key_count[b] ? r->key_count[b] : 1,
							sizeof(struct report_row))) == NULL)
				return -1;
	for (int b = 0; b < BREAKDOWN_COUNT; b++) {
		struct report_row *hosts = round->rows[LEVEL_HOST][b], *owners = round->rows[LEVEL_OWNER][b];
		memset(g->unit_mask[b], 0, g->units[b]);
		for (size_t h = 0; h < g->hosts; h++) {
			uint8_t o = g->host_outcome[h];
			hosts[g->host_key[b][h]].group[g->owner_group[g->host_owner[h]]].outcomes[o]++;
			g->unit_mask[b][g->host_unit[b][h]] |= (uint8_t)(1u << o);
		}
		for (size_t u = 0; u < g->units[b]; u++)
			owners[g->unit_key[b][u]]
			    .group[g->unit_group[b][u]]
			    .outcomes[unit_outcome(g->unit_mask[b][u])]++;
		for (size_t k = 0; k < r->key_count[b]; k++) {
			finish_row(&hosts[k]);
			finish_row(&owners[k]);
		}
	}
	return 0;
}

struct round_list {
	struct report *report;
	size_t cap;
};

static int take_round(void *ctx, const struct store_report_round *sr)
{
	struct round_list *list = ctx;
	struct report *r = list->report;
	if (r->round_count == list->cap) {
		size_t cap = list->cap ? list->cap * 2 : 8;
		struct report_round *rounds = realloc(r->rounds, cap * sizeof *rounds);
		if (rounds == NULL)
			return -1;
		r->rounds = rounds;
		list->cap = cap;
	}
	struct report_round *round = &r->rounds[r->round_count++];
	memset(round, 0, sizeof *round);
	round->id = sr->id;
	round->seq = sr->seq;
	round->started = sr->started;
	round->finished = sr->finished;
	snprintf(round->status, sizeof round->status, "%s", sr->status ? sr->status : "");
	return 0;
}

static void gather_free(struct gather *g)
{
	for (int b = 0; b < BREAKDOWN_COUNT; b++) {
		keyset_free(&g->keys[b]);
		free(g->host_key[b]);
		free(g->host_unit[b]);
		free(g->unit_key[b]);
		free(g->unit_group[b]);
		free(g->unit_mask[b]);
	}
	free(g->host_id);
	free(g->host_owner_id);
	free(g->host_owner);
	free(g->host_outcome);
	free(g->owner_ids);
	free(g->owner_group);
	free(g->owner_letter);
	free(g->asn_of_slot);
	free(g->asn_key_of_slot);
}

int report_build(struct store *store, const char *campaign, struct report *report)
{
	memset(report, 0, sizeof *report);
	if (store_report_begin(store) != 0)
		return -1;
	struct store_report_campaign c;
	int found = store_report_campaign(store, campaign, &c);
	if (found <= 0) {
		store_report_end(store);
		return found < 0 ? -1 : 1;
	}
	report->campaign = strdup(campaign);
	report->created = c.created;
	report->seed = c.seed;
	report->control_fraction = c.control_fraction;
	struct gather g = {.report = report};
	struct round_list rounds = {.report = report};
	struct fetch_pool pool = {0};
	int rc = -1;
	if (report->campaign == NULL || store_report_rounds_each(store, c.id, take_round, &rounds) != 0 ||
	    fetch_start(&pool, store, report) != 0)
		goto out;
	if (store_report_hosts_each(store, c.id, take_host, &g) != 0 || sort_hosts(&g) != 0 ||
	    index_owners(&g) != 0 || store_report_owners_each(store, c.id, take_owner, &g) != 0)
		goto out;
	default_letters(&g);
	if (store_report_letters_each(store, c.id, take_letters, &g) != 0)
		goto out;
	for (int b = 0; b < BREAKDOWN_COUNT; b++)
		if (b == BREAKDOWN_LETTER ? letter_keys(&g) != 0 : order_keys(&g, b) != 0)
			goto out;
	if (make_units(&g) != 0)
		goto out;
	report->hosts = g.hosts;
	report->owners = g.owners;
	for (size_t h = 0; h < g.hosts; h++)
		report->hosts_in[g.owner_group[g.host_owner[h]]]++;
	for (size_t o = 0; o < g.owners; o++)
		report->owners_in[g.owner_group[o]]++;
	if (fetch_wait(&pool) != 0)
		goto out;
	for (size_t i = 0; i < report->round_count; i++)
		if (count_round(&g, &pool.f.fetches[i], &report->rounds[i]) != 0)
			goto out;
	rc = 0;
out:
	fetch_free(&pool);
	store_report_end(store);
	if (rc != 0)
		log_error("report: campaign '%s': could not gather the report", campaign);
	gather_free(&g);
	return rc;
}

void report_free(struct report *report)
{
	for (size_t i = 0; i < report->round_count; i++)
		for (int l = 0; l < LEVEL_COUNT; l++)
			for (int b = 0; b < BREAKDOWN_COUNT; b++)
				free(report->rounds[i].rows[l][b]);
	free(report->rounds);
	for (int b = 0; b < BREAKDOWN_COUNT; b++) {
		for (size_t k = 0; k < report->key_count[b]; k++)
			free(report->keys[b][k]);
		free(report->keys[b]);
	}
	free(report->campaign);
	memset(report, 0, sizeof *report);
}
