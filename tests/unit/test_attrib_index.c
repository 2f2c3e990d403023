/*
 * The index: the range set's bucketed lookup against a brute-force search
 * over random nested ranges (IPv4 and IPv6), snapshots through their stored
 * form and back, handles, and a store round trip.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attrib/index.h"
#include "attrib/snapshot.h"
#include "core/rangeset.h"
#include "store/store.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t next_random(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Laminar families: each range split into a few children, some left as gaps. */
static void split(struct range *out, size_t *n, size_t max, uint32_t first, uint32_t last, int depth)
{
	if (*n == max || depth == 0 || last - first < 8)
		return;
	uint32_t span = last - first;
	uint32_t at = first + (uint32_t)(next_random() % (span / 4 + 1));
	for (int child = 0; child < 4 && at < last && *n < max; child++) {
		uint32_t size = 1 + (uint32_t)(next_random() % (span / 3 + 1));
		uint32_t end = at + size > last || at + size < at ? last : at + size;
		if (next_random() % 4 != 0) {
			addr_from_v4(&out[*n].first, at);
			addr_from_v4(&out[*n].last, end);
			(*n)++;
			split(out, n, max, at, end, depth - 1);
		}
		if (end == last)
			break;
		at = end + 1 + (uint32_t)(next_random() % (size / 2 + 1));
	}
}

static int32_t brute_force(const struct rangeset *set, const struct addr *a)
{
	int32_t best = -1;
	for (size_t i = 0; i < set->count; i++) {
		const struct range *r = &set->entries[i].range;
		if (!range_contains(r, a))
			continue;
		if (best < 0 || range_size(r) < range_size(&set->entries[best].range))
			best = (int32_t)i;
	}
	return best;
}

static void buckets_agree_with_brute_force(void **state)
{
	enum { MAX = 3000 };
	struct range *ranges = malloc(MAX * sizeof *ranges);
	size_t n = 0;
	split(ranges, &n, MAX / 2, 0x0a000000u, 0x0affffffu, 5);
	split(ranges, &n, MAX - 40, 0xc0000000u, 0xc0ffffffu, 6);
	assert_true(n > 200);
	struct rangeset set;
	rangeset_init(&set);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(rangeset_add(&set, &ranges[i], (int32_t)i), 0);
	/* IPv6 ranges around and above the IPv4-mapped block */
	const char *v6[] = {"2001:db8::/32", "2001:db8:1::/48", "2001:db8:1:2::/64",
			    "2a00::/12",     "::1/128",		"fe80::/10",
			    "::/0",	     "::fffe:0:0/95"}; /* the last two hold every IPv4 address too */
	for (size_t i = 0; i < sizeof v6 / sizeof v6[0]; i++) {
		struct range r;
		const char *why;
		assert_int_equal(range_parse(v6[i], strlen(v6[i]), &r, &why), 0);
		assert_int_equal(rangeset_add(&set, &r, (int32_t)(n + i)), 0);
	}
	rangeset_build(&set);
	assert_non_null(set.buckets);
	assert_true(rangeset_memory(&set) >= set.count * sizeof(struct rangeset_entry));
	for (int i = 0; i < 20000; i++) {
		struct addr a;
		uint64_t r = next_random();
		if (i % 10 == 0) {
			memset(a.bytes, 0, 16);
			memcpy(a.bytes,
			       (uint8_t[]){0x20, 0x01, 0x0d, 0xb8, 0, (uint8_t)(r & 1), 0,
					   (uint8_t)(r >> 8 & 3)},
			       8);
			a.bytes[15] = (uint8_t)(r >> 16);
		} else if (i % 10 == 1) {
			addr_from_v4(&a, (uint32_t)(r >> 8)); /* anywhere, mostly outside every IPv4 range */
		} else {
			uint32_t base = r & 1 ? 0x0a000000u : 0xc0000000u;
			addr_from_v4(&a, base + (uint32_t)((r >> 8) % 0x01000000u));
		}
		int32_t got = rangeset_lookup(&set, &a), want = brute_force(&set, &a);
		if (got != want &&
		    (got < 0 || want < 0 ||
		     range_size(&set.entries[got].range) != range_size(&set.entries[want].range))) {
			char text[ADDR_STRLEN];
			fail_msg("%s: lookup %d, brute force %d", addr_format(&a, text), got, want);
		}
	}
	/* sorted input is not sorted again, and still right */
	struct rangeset copy;
	rangeset_init(&copy);
	for (size_t i = 0; i < set.count; i++)
		rangeset_add(&copy, &set.entries[i].range, set.entries[i].value);
	rangeset_build(&copy);
	for (size_t i = 0; i < set.count; i++)
		assert_int_equal(copy.entries[i].parent, set.entries[i].parent);
	rangeset_free(&copy);
	rangeset_free(&set);
	free(ranges);
}

static struct range R(const char *text) {
	struct range r;
	const char *why;
	assert_int_equal(range_parse(text, strlen(text), &r, &why), 0);
	return r;
}

static void
build_sample(struct snap_builder *b)
{
	static const char *const ranges[] = {"10.0.0.0/8", "10.1.0.0/16", "2001:db8::/32", "10.1.2.0/24",
					     "9.0.0.0/8"};
	snap_builder_init(b, SNAP_KIND_RPSL);
	for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
		struct range r = R(ranges[i]);
		uint32_t rec = snap_record_begin(b, SNAP_INETNUM, (uint32_t)(10 * i + 1));
		snap_record_add(b, SNAP_F_NAME, ranges[i], strlen(ranges[i]));
		snap_record_add(b, SNAP_F_EMAIL, "a@x.example", 11);
		snap_record_add(b, SNAP_F_EMAIL, "b@x.example", 11);
		snap_record_end(b);
		snap_add_range(b, &r, rec);
	}
	uint32_t org = snap_record_begin(b, SNAP_ORGANISATION, 99);
	snap_record_add(b, SNAP_F_KEY, "ORG-X1-TEST", 11);
	char long_value[400];
	memset(long_value, 'n', sizeof long_value);
	snap_record_add(b, SNAP_F_NAME, long_value, sizeof long_value); /* cut to SNAP_MAX_VALUE */
	snap_record_end(b);
	snap_add_key(b, SNAP_KEY_ORG, "ORG-X1-TEST", 11, org);
	assert_int_equal(snap_builder_finish(b), 0);
}

static void check_sample(const struct attrib_index *index)
{
	struct attrib_ref chain[8];
	char buf[512];
	struct addr a;
	assert_int_equal(addr_parse("10.1.2.3", 8, &a), 0);
	assert_int_equal(attrib_index_chain(index, SNAP_KIND_RPSL, &a, chain, 8), 3);
	assert_string_equal(snap_record_get(chain[0].snap, chain[0].record, SNAP_F_NAME, buf, sizeof buf),
			    "10.1.2.0/24");
	assert_int_equal(snap_record_line(chain[0].snap, chain[0].record), 31);
	assert_string_equal(snap_record_get(chain[2].snap, chain[2].record, SNAP_F_NAME, buf, sizeof buf),
			    "10.0.0.0/8");
	uint32_t cursor = 0;
	size_t len;
	int emails = 0;
	while (snap_record_next(chain[0].snap, chain[0].record, SNAP_F_EMAIL, &cursor, &len) != NULL)
		emails++;
	assert_int_equal(emails, 2);
	assert_int_equal(attrib_index_chain(index, SNAP_KIND_DELEGATED, &a, chain, 8), 0);
	struct attrib_ref org;
	assert_int_equal(attrib_index_key(index, SNAP_KEY_ORG, "org-x1-test", 11, NULL, &org), 0);
	assert_int_equal(strlen(snap_record_get(org.snap, org.record, SNAP_F_NAME, buf, sizeof buf)),
			 SNAP_MAX_VALUE);
	assert_int_equal(attrib_index_key(index, SNAP_KEY_CONTACT, "ORG-X1-TEST", 11, NULL, &org), -1);
	assert_int_equal(attrib_index_key(index, SNAP_KEY_ORG, "ORG-X2-TEST", 11, NULL, &org), -1);
}

static void snapshots_survive_their_stored_form(void **state)
{
	struct snap_builder b;
	build_sample(&b);
	struct snap_meta meta;
	struct snap_blob parts[SNAP_PART_LAST];
	snap_builder_parts(&b, &meta, parts);
	assert_int_equal(meta.v4_count, 4);
	assert_int_equal(meta.v6_count, 1);
	/* copies, as a store read would give */
	struct snap_blob copies[SNAP_PART_LAST];
	void *buffers[SNAP_PART_LAST];
	for (int i = 0; i < SNAP_PART_LAST; i++) {
		buffers[i] = malloc(parts[i].len + 1);
		memcpy(buffers[i], parts[i].data, parts[i].len);
		copies[i] = (struct snap_blob){buffers[i], parts[i].len};
	}
	struct attrib_index index;
	attrib_index_init(&index);
	index.snapshots = calloc(1, sizeof *index.snapshots);
	const char *why;
	assert_int_equal(snapshot_build(&index.snapshots[0], copies, buffers[SNAP_PART_POOL],
					buffers[SNAP_PART_KEYS], &why),
			 0);
	index.snapshots[0].kind = SNAP_KIND_RPSL;
	index.snapshots[0].source = strdup("sample");
	index.count = 1;
	check_sample(&index);
	for (int i = 0; i < SNAP_PART_LAST; i++)
		if (i != SNAP_PART_POOL && i != SNAP_PART_KEYS)
			free(buffers[i]);
	attrib_index_free(&index);

	/* a header that does not match its parts is refused */
	struct snapshot s;
	memset(&s, 0, sizeof s);
	parts[SNAP_PART_V4].len -= 1;
	assert_int_equal(snapshot_build(&s, parts, NULL, NULL, &why), -1);
	assert_string_equal(why, "snapshot parts do not match its header");
	rangeset_free(&s.ranges);
	snap_builder_free(&b);
}

static void store_round_trip(void **state)
{
	char path[] = "/tmp/plughole-attrib-store-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	struct store *store = store_open(path);
	assert_non_null(store);
	struct snap_builder b;
	build_sample(&b);
	struct snap_meta meta;
	struct snap_blob blobs[SNAP_PART_LAST];
	struct store_blob parts[SNAP_PART_LAST];
	snap_builder_parts(&b, &meta, blobs);
	for (int i = 0; i < SNAP_PART_LAST; i++)
		parts[i] = (struct store_blob){snap_part_names[i], (void *)blobs[i].data, blobs[i].len};
	struct store_snapshot_info info = {.loaded = 1, .objects = 6, .ranges = 5, .keys = 1};
	snprintf(info.source, sizeof info.source, "sample");
	snprintf(info.format, sizeof info.format, "rpsl");
	snprintf(info.registry, sizeof info.registry, "TEST");
	snprintf(info.file, sizeof info.file, "/nowhere/sample");
	assert_int_equal(store_registry_replace(store, &info, parts, SNAP_PART_LAST), 0);
	assert_int_equal(store_registry_replace(store, &info, parts, SNAP_PART_LAST), 0); /* replaces */
	snap_builder_free(&b);
	struct attrib_index index;
	attrib_index_init(&index);
	assert_int_equal(attrib_index_load(&index, store), 0);
	assert_int_equal(index.count, 1);
	assert_string_equal(index.snapshots[0].registry, "TEST");
	check_sample(&index);
	attrib_index_free(&index);
	assert_int_equal(store_registry_remove(store, "sample"), 1);
	assert_int_equal(store_registry_remove(store, "sample"), 0);
	assert_int_equal(attrib_index_load(&index, store), 0);
	assert_int_equal(index.count, 0);
	/* the RDAP cache: smallest unexpired network holding the address */
	struct store_rdap_net net = {.range = R("10.0.0.0/8"), .status = 200, .fetched = 1, .expires = 100};
	snprintf(net.registry, sizeof net.registry, "r.example");
	snprintf(net.abuse, sizeof net.abuse, "wide@x.example");
	assert_int_equal(store_rdap_put(store, &net), 0);
	net.range = R("10.1.0.0/16");
	snprintf(net.abuse, sizeof net.abuse, "narrow@x.example");
	assert_int_equal(store_rdap_put(store, &net), 0);
	struct store_rdap_net got;
	struct addr a;
	assert_int_equal(addr_parse("10.1.2.3", 8, &a), 0);
	assert_int_equal(store_rdap_get(store, &a, 50, &got), 1);
	assert_string_equal(got.abuse, "narrow@x.example");
	assert_int_equal(store_rdap_get(store, &a, 100, &got), 0); /* expired */
	assert_int_equal(addr_parse("11.0.0.1", 8, &a), 0);
	assert_int_equal(store_rdap_get(store, &a, 50, &got), 0);
	store_close(store);
	char side[64];
	unlink(path);
	snprintf(side, sizeof side, "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof side, "%s-shm", path);
	unlink(side);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(buckets_agree_with_brute_force),
	    cmocka_unit_test(snapshots_survive_their_stored_form),
	    cmocka_unit_test(store_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
