#include "attrib/index.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"

void attrib_index_init(struct attrib_index *index)
{
	index->snapshots = NULL;
	index->count = 0;
}

void attrib_index_free(struct attrib_index *index)
{
	for (size_t i = 0; i < index->count; i++)
		snapshot_free(&index->snapshots[i]);
	free(index->snapshots);
	attrib_index_init(index);
}

static struct snapshot *append(struct attrib_index *index)
{
	struct snapshot *grown = realloc(index->snapshots, (index->count + 1) * sizeof *grown);
	if (grown == NULL)
		return NULL;
	index->snapshots = grown;
	struct snapshot *s = &grown[index->count];
	memset(s, 0, sizeof *s);
	return s;
}

static int find_part(const struct store_snapshot *stored, const char *name)
{
	for (size_t p = 0; p < stored->part_count; p++)
		if (strcmp(stored->parts[p].name, name) == 0)
			return (int)p;
	return -1;
}

int attrib_index_load(struct attrib_index *index, struct store *store)
{
	struct store_snapshot *stored;
	size_t count;
	if (store_registry_read(store, &stored, &count) != 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < count && rc == 0; i++) {
		struct store_snapshot *st = &stored[i];
		struct snap_blob parts[SNAP_PART_LAST];
		void *owned[SNAP_PART_LAST] = {NULL};
		for (int p = 0; p < SNAP_PART_LAST; p++) {
			int at = find_part(st, snap_part_names[p]);
			parts[p] = at < 0 ? (struct snap_blob){NULL, 0}
					  : (struct snap_blob){st->parts[at].data, st->parts[at].len};
			if (at >= 0 && (p == SNAP_PART_POOL || p == SNAP_PART_KEYS)) {
				owned[p] = st->parts[at].data;
				st->parts[at].data = NULL; /* the snapshot keeps these */
			}
		}
		struct snapshot *s = append(index);
		const char *why = "out of memory";
		if (s == NULL ||
		    snapshot_build(s, parts, owned[SNAP_PART_POOL], owned[SNAP_PART_KEYS], &why) != 0) {
			log_error("registry snapshot %s: %s", st->info.source, why);
			if (s != NULL)
				snapshot_free(s);
			else {
				free(owned[SNAP_PART_POOL]);
				free(owned[SNAP_PART_KEYS]);
			}
			rc = -1;
			break;
		}
		s->id = st->info.id;
		s->source = strdup(st->info.source);
		s->file = strdup(st->info.file);
		s->registry = strdup(st->info.registry);
		s->loaded = (time_t)st->info.loaded;
		if (snap_kind_parse(st->info.format, &s->kind) != 0 || !s->source || !s->file ||
		    !s->registry) {
			log_error("registry snapshot %s: unknown format '%s'", st->info.source,
				  st->info.format);
			snapshot_free(s);
			rc = -1;
			break;
		}
		index->count++;
	}
	store_registry_free(stored, count);
	if (rc != 0)
		attrib_index_free(index);
	return rc;
}

int attrib_index_add(struct attrib_index *index, struct snap_builder *b, const char *source,
		     const char *registry)
{
	struct snap_meta meta;
	struct snap_blob parts[SNAP_PART_LAST];
	struct snapshot *s = append(index);
	const char *why = "out of memory";
	if (s == NULL)
		return -1;
	snap_builder_parts(b, &meta, parts);
	void *pool = b->pool.data, *keys = b->keys;
	b->pool.data = NULL;
	b->keys = NULL;
	int rc = snapshot_build(s, parts, pool, keys, &why);
	s->kind = b->kind;
	s->source = strdup(source);
	s->file = strdup(source);
	s->registry = strdup(registry ? registry : "");
	snap_builder_free(b);
	if (rc != 0 || !s->source || !s->file || !s->registry) {
		log_error("snapshot %s: %s", source, why);
		snapshot_free(s);
		return -1;
	}
	index->count++;
	return 0;
}

size_t attrib_index_memory(const struct attrib_index *index)
{
	size_t total = index->count * sizeof *index->snapshots;
	for (size_t i = 0; i < index->count; i++)
		total += snapshot_memory(&index->snapshots[i]);
	return total;
}

size_t attrib_index_range_count(const struct attrib_index *index)
{
	size_t total = 0;
	for (size_t i = 0; i < index->count; i++)
		total += index->snapshots[i].ranges.count;
	return total;
}

/* last - first, as two 64-bit halves, compared: the smaller range is the more specific. */
static int width_cmp(const struct range *a, const struct range *b)
{
	uint64_t w[2][2];
	const struct range *r[2] = {a, b};
	for (int k = 0; k < 2; k++) {
		uint64_t fh = 0, fl = 0, lh = 0, ll = 0;
		for (int i = 0; i < 8; i++) {
			fh = fh << 8 | r[k]->first.bytes[i];
			fl = fl << 8 | r[k]->first.bytes[8 + i];
			lh = lh << 8 | r[k]->last.bytes[i];
			ll = ll << 8 | r[k]->last.bytes[8 + i];
		}
		w[k][1] = ll - fl;
		w[k][0] = lh - fh - (ll < fl);
	}
	if (w[0][0] != w[1][0])
		return w[0][0] < w[1][0] ? -1 : 1;
	return (w[0][1] > w[1][1]) - (w[0][1] < w[1][1]);
}

size_t attrib_index_chain(const struct attrib_index *index, enum snap_kind kind, const struct addr *a,
			  struct attrib_ref *out, size_t max)
{
	size_t n = 0;
	if (max == 0)
		return 0;
	/* Newest snapshot first, so that of two equal ranges the later load's comes first. */
	for (size_t i = index->count; i-- > 0;) {
		const struct snapshot *s = &index->snapshots[i];
		if (s->kind != kind)
			continue;
		for (int32_t e = rangeset_lookup(&s->ranges, a); e >= 0;
		     e = rangeset_entry(&s->ranges, e)->parent) {
			const struct rangeset_entry *entry = rangeset_entry(&s->ranges, e);
			/* a partial overlap's parent is no holder, nor an IPv6 range spanning the IPv4-mapped
			 * block */
			if (!range_contains(&entry->range, a) ||
			    addr_is_v4(&entry->range.first) != addr_is_v4(a))
				continue;
			/* insertion keeps the chain ordered by width; when full, a wider range than all
			 * held (and so its parents) is not wanted, and a narrower one pushes out the widest */
			struct attrib_ref ref = {s, (uint32_t)entry->value, &entry->range};
			size_t at = n;
			while (at > 0 && width_cmp(out[at - 1].range, ref.range) > 0)
				at--;
			if (at == max)
				break;
			size_t kept = n < max ? n : max - 1;
			memmove(&out[at + 1], &out[at], (kept - at) * sizeof *out);
			out[at] = ref;
			n = kept + 1;
		}
	}
	return n;
}

int attrib_index_key(const struct attrib_index *index, enum snap_keyspace space, const char *handle,
		     size_t len, const char *registry, struct attrib_ref *out)
{
	/* A handle named in one registry's object is that registry's: another registry's object of the
	 * same name belongs to someone else. Without a registry, any snapshot answers. */
	bool own = registry && *registry;
	for (size_t i = 0; i < index->count; i++) {
		const struct snapshot *s = &index->snapshots[i];
		if (s->key_count == 0 || (own && strcasecmp(s->registry, registry) != 0))
			continue;
		int64_t record = snapshot_key_find(s, space, handle, len);
		if (record >= 0) {
			*out = (struct attrib_ref){s, (uint32_t)record, NULL};
			return 0;
		}
	}
	return -1;
}

const char *attrib_ref_where(const struct attrib_ref *ref, char *buf, size_t buflen)
{
	snprintf(buf, buflen, "%s:%u", ref->snap->source, snap_record_line(ref->snap, ref->record));
	return buf;
}
