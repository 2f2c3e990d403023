#include "attrib/snapshot.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>

#include "core/grow.h"

const char *const snap_kind_names[SNAP_KIND_LAST] = {
    [SNAP_KIND_RPSL] = "rpsl",
    [SNAP_KIND_DELEGATED] = "delegated",
    [SNAP_KIND_PFX2AS] = "pfx2as",
    [SNAP_KIND_ASNAMES] = "asnames",
};

const char *const snap_class_names[SNAP_CLASS_LAST] = {
    [SNAP_INETNUM] = "inetnum", [SNAP_INET6NUM] = "inet6num",	[SNAP_ORGANISATION] = "organisation",
    [SNAP_ROLE] = "role",	[SNAP_PERSON] = "person",	[SNAP_IRT] = "irt",
    [SNAP_AUT_NUM] = "aut-num", [SNAP_DELEGATED] = "delegated", [SNAP_DELEGATED_ASN] = "delegated-asn",
    [SNAP_ROUTE] = "pfx2as",	[SNAP_ASNAME] = "as-name",
};

const char *const snap_field_names[SNAP_F_LAST] = {
    [SNAP_F_END] = "end",	    [SNAP_F_KEY] = "key",
    [SNAP_F_NAME] = "name",	    [SNAP_F_DESCR] = "descr",
    [SNAP_F_COUNTRY] = "country",   [SNAP_F_STATUS] = "status",
    [SNAP_F_ORG] = "org",	    [SNAP_F_ABUSE_C] = "abuse-c",
    [SNAP_F_MNT_IRT] = "mnt-irt",   [SNAP_F_ABUSE_MAILBOX] = "abuse-mailbox",
    [SNAP_F_EMAIL] = "e-mail",	    [SNAP_F_ORIGIN] = "origin",
    [SNAP_F_REGISTRY] = "registry", [SNAP_F_HOLDER] = "holder",
    [SNAP_F_DATE] = "date",	    [SNAP_F_OBJECT_EMAIL] = "object-e-mail",
};

const char *const snap_part_names[SNAP_PART_LAST] = {
    [SNAP_PART_META] = "meta", [SNAP_PART_V4] = "v4",	  [SNAP_PART_V6] = "v6",
    [SNAP_PART_KEYS] = "keys", [SNAP_PART_POOL] = "pool",
};

#define SNAP_MAGIC "PHSNAP1"
#define SNAP_VERSION 1
#define SNAP_ENDIAN 0x01020304u
#define RECORD_HEADER 5 /* class, line (4 bytes, little-endian) */
#define POOL_LIMIT ((size_t)INT32_MAX)

int snap_kind_parse(const char *name, enum snap_kind *out)
{
	for (int k = 0; k < SNAP_KIND_LAST; k++) {
		if (strcmp(name, snap_kind_names[k]) == 0) {
			*out = (enum snap_kind)k;
			return 0;
		}
	}
	return -1;
}

void snap_builder_init(struct snap_builder *b, enum snap_kind kind)
{
	memset(b, 0, sizeof *b);
	b->kind = kind;
}

void snap_builder_free(struct snap_builder *b)
{
	free(b->pool.data);
	free(b->v4);
	free(b->v6);
	free(b->keys);
	memset(b, 0, sizeof *b);
}

/*
 * Page faults are dear (very much so in virtual machines): the pool is
 * prefaulted a slice at a time, one call for thousands of pages, just ahead
 * of the records written into it.
 */
#define PREFAULT_SLICE ((size_t)16 << 20)

static void pool_prefault(struct snap_buffer *pool, size_t upto)
{
	size_t page = 4096, from = pool->ready;
	size_t to = upto + PREFAULT_SLICE < pool->cap ? upto + PREFAULT_SLICE : pool->cap;
	uintptr_t start = ((uintptr_t)pool->data + from + page - 1) & ~(uintptr_t)(page - 1);
	uintptr_t end = ((uintptr_t)pool->data + to) & ~(uintptr_t)(page - 1);
	if (end > start)
		madvise((void *)start, end - start,
			MADV_POPULATE_WRITE); /* a hint: faults still work without it */
	pool->ready = to;
}

static bool pool_grow(struct snap_builder *b, size_t len)
{
	struct snap_buffer *pool = &b->pool;
	if (b->failed)
		return false;
	if (pool->len + len > POOL_LIMIT) {
		b->failed = true;
		return false;
	}
	uint8_t *grown = grow_array(pool->data, &pool->cap, pool->len, len, 1);
	if (grown == NULL) {
		b->failed = true;
		return false;
	}
	if (grown != pool->data)
		pool->ready = pool->len; /* moved: what was copied is faulted in */
	pool->data = grown;
	pool_prefault(pool, pool->len + len);
	return true;
}

static inline void pool_append(struct snap_builder *b, const void *data, size_t len)
{
	struct snap_buffer *pool = &b->pool;
	if (pool->len + len > pool->ready && !pool_grow(b, len))
		return;
	memcpy(pool->data + pool->len, data, len);
	pool->len += len;
}

void snap_builder_reserve(struct snap_builder *b, size_t pool_bytes, size_t ranges)
{
	if (pool_bytes > POOL_LIMIT)
		pool_bytes = POOL_LIMIT;
	if (pool_bytes > b->pool.cap) {
		uint8_t *grown = realloc(b->pool.data, pool_bytes);
		if (grown != NULL) {
			if (grown != b->pool.data)
				b->pool.ready = b->pool.len;
			b->pool.data = grown;
			b->pool.cap = pool_bytes;
		}
	}
	if (ranges > b->v4_cap) {
		struct snap_v4 *grown = realloc(b->v4, ranges * sizeof *grown);
		if (grown != NULL) {
			b->v4 = grown;
			b->v4_cap = ranges;
		}
	}
}

void snap_builder_append(struct snap_builder *to, struct snap_builder *from, uint32_t line_offset)
{
	uint8_t *pool = from->pool.data;
	size_t len = from->pool.len, pos = 0;
	uint32_t base = (uint32_t)to->pool.len;
	/* records run one after another: header, fields, END */
	while (line_offset != 0 && pos + RECORD_HEADER <= len) {
		uint8_t *line = pool + pos + 1;
		uint32_t value = (uint32_t)line[0] | (uint32_t)line[1] << 8 | (uint32_t)line[2] << 16 |
				 (uint32_t)line[3] << 24;
		value += line_offset;
		line[0] = (uint8_t)value;
		line[1] = (uint8_t)(value >> 8);
		line[2] = (uint8_t)(value >> 16);
		line[3] = (uint8_t)(value >> 24);
		pos += RECORD_HEADER;
		while (pos < len && pool[pos] != SNAP_F_END)
			pos += 2 + (size_t)pool[pos + 1];
		pos++;
	}
	to->failed |= from->failed;
	pool_append(to, pool, len);
	/* room for all of from's rows first: then the copies cannot fail */
	struct snap_v4 *v4 = grow_array(to->v4, &to->v4_cap, to->v4_count, from->v4_count, sizeof *v4);
	if (v4 != NULL)
		to->v4 = v4;
	struct snap_v6 *v6 = grow_array(to->v6, &to->v6_cap, to->v6_count, from->v6_count, sizeof *v6);
	if (v6 != NULL)
		to->v6 = v6;
	struct snap_key *keys =
	    grow_array(to->keys, &to->key_cap, to->key_count, from->key_count, sizeof *keys);
	if (keys != NULL)
		to->keys = keys;
	to->failed |= v4 == NULL || v6 == NULL || keys == NULL;
	for (size_t i = 0; i < from->v4_count && !to->failed; i++)
		to->v4[to->v4_count++] =
		    (struct snap_v4){from->v4[i].first, from->v4[i].last, from->v4[i].record + base};
	for (size_t i = 0; i < from->v6_count && !to->failed; i++) {
		to->v6[to->v6_count] = from->v6[i];
		to->v6[to->v6_count++].record += base;
	}
	for (size_t i = 0; i < from->key_count && !to->failed; i++) {
		to->keys[to->key_count] = from->keys[i];
		to->keys[to->key_count++].record += base;
	}
	enum snap_kind kind = from->kind;
	snap_builder_free(from);
	from->kind = kind;
}

uint32_t snap_record_begin(struct snap_builder *b, enum snap_class cls, uint32_t line)
{
	uint32_t offset = (uint32_t)b->pool.len;
	uint8_t header[RECORD_HEADER] = {(uint8_t)cls, (uint8_t)line, (uint8_t)(line >> 8),
					 (uint8_t)(line >> 16), (uint8_t)(line >> 24)};
	pool_append(b, header, sizeof header);
	return offset;
}

void snap_record_add(struct snap_builder *b, enum snap_field field, const char *value, size_t len)
{
	if (len > SNAP_MAX_VALUE) {
		len = SNAP_MAX_VALUE;
		while (len > 0 && ((unsigned char)value[len] & 0xc0) == 0x80)
			len--; /* never cut a UTF-8 sequence in two */
	}
	struct snap_buffer *pool = &b->pool;
	if (pool->len + 2 + len > pool->ready && !pool_grow(b, 2 + len))
		return;
	uint8_t *out = pool->data + pool->len;
	out[0] = (uint8_t)field;
	out[1] = (uint8_t)len;
	memcpy(out + 2, value, len);
	pool->len += 2 + len;
}

void snap_record_end(struct snap_builder *b)
{
	uint8_t end = SNAP_F_END;
	pool_append(b, &end, 1);
}

void snap_add_range(struct snap_builder *b, const struct range *range, uint32_t record)
{
	if (b->failed)
		return;
	if (addr_is_v4(&range->first) && addr_is_v4(&range->last)) {
		struct snap_v4 *v4 = grow_array(b->v4, &b->v4_cap, b->v4_count, 1, sizeof *v4);
		if (v4 == NULL) {
			b->failed = true;
			return;
		}
		b->v4 = v4;
		b->v4[b->v4_count++] =
		    (struct snap_v4){addr_v4(&range->first), addr_v4(&range->last), record};
	} else {
		struct snap_v6 *v6 = grow_array(b->v6, &b->v6_cap, b->v6_count, 1, sizeof *v6);
		if (v6 == NULL) {
			b->failed = true;
			return;
		}
		b->v6 = v6;
		struct snap_v6 *e = &b->v6[b->v6_count++];
		memcpy(e->first, range->first.bytes, 16);
		memcpy(e->last, range->last.bytes, 16);
		e->record = record;
	}
}

/* FNV-1a over the key space and the upper-cased handle: RPSL handles ignore case. */
static uint64_t key_hash(enum snap_keyspace space, const char *handle, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;
	h = (h ^ (uint64_t)space) * 0x100000001b3ull;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)handle[i];
		if (c >= 'a' && c <= 'z')
			c = (unsigned char)(c - 32);
		h = (h ^ c) * 0x100000001b3ull;
	}
	return h;
}

void snap_add_key(struct snap_builder *b, enum snap_keyspace space, const char *handle, size_t len,
		  uint32_t record)
{
	if (b->failed)
		return;
	struct snap_key *keys = grow_array(b->keys, &b->key_cap, b->key_count, 1, sizeof *keys);
	if (keys == NULL) {
		b->failed = true;
		return;
	}
	b->keys = keys;
	b->keys[b->key_count++] = (struct snap_key){key_hash(space, handle, len), record, (uint32_t)space};
}

/*
 * Least-significant-digit radix sort of n elements of size bytes on a 64-bit
 * key, 16 bits a pass, passes where every key has the same digit skipped: a
 * 4-million-range dump sorts in a fraction of what qsort takes. Inlined into
 * each caller so that the key and the copies are compiled for its type.
 */
static inline __attribute__((always_inline)) int radix_sort(void *items, size_t n, size_t size,
							    uint64_t (*key)(const void *e))
{
	uint8_t *tmp = malloc(n * size);
	size_t(*counts)[65536] = calloc(4, sizeof *counts);
	if (tmp == NULL || counts == NULL) {
		free(tmp);
		free(counts);
		return -1;
	}
	uint8_t *src = items, *dst = tmp;
	for (size_t i = 0; i < n; i++) {
		uint64_t k = key(src + i * size);
		for (int d = 0; d < 4; d++)
			counts[d][(k >> (16 * d)) & 0xffff]++;
	}
	for (int d = 0; d < 4; d++) {
		size_t *c = counts[d], sum = 0;
		if (c[(key(src) >> (16 * d)) & 0xffff] == n)
			continue;
		for (size_t v = 0; v < 65536; v++) {
			size_t here = c[v];
			c[v] = sum;
			sum += here;
		}
		for (size_t i = 0; i < n; i++)
			memcpy(dst + c[(key(src + i * size) >> (16 * d)) & 0xffff]++ * size, src + i * size,
			       size);
		uint8_t *swap = src;
		src = dst;
		dst = swap;
	}
	if (src != items)
		memcpy(items, src, n * size);
	free(tmp);
	free(counts);
	return 0;
}

/* Ranges by start ascending, then by end descending (outer ranges first). */
static uint64_t v4_sort_key(const void *e)
{
	const struct snap_v4 *r = e;
	return (uint64_t)r->first << 32 | (uint32_t)~r->last;
}

static uint64_t key_sort_key(const void *e)
{
	return ((const struct snap_key *)e)->hash;
}

static int v6_order(const void *pa, const void *pb)
{
	const struct snap_v6 *a = pa, *b = pb;
	int c = memcmp(a->first, b->first, 16);
	return c != 0 ? c : memcmp(b->last, a->last, 16);
}

int snap_builder_finish(struct snap_builder *b)
{
	if (b->failed)
		return -1;
	if (b->v4_count > 1 && radix_sort(b->v4, b->v4_count, sizeof *b->v4, v4_sort_key) != 0)
		return -1;
	if (b->v6_count > 1)
		qsort(b->v6, b->v6_count, sizeof *b->v6, v6_order);
	if (b->key_count > 1 && radix_sort(b->keys, b->key_count, sizeof *b->keys, key_sort_key) != 0)
		return -1;
	return 0;
}

void snap_builder_parts(const struct snap_builder *b, struct snap_meta *meta,
			struct snap_blob parts[SNAP_PART_LAST])
{
	memset(meta, 0, sizeof *meta);
	memcpy(meta->magic, SNAP_MAGIC, sizeof meta->magic);
	meta->version = SNAP_VERSION;
	meta->endian = SNAP_ENDIAN;
	meta->v4_count = b->v4_count;
	meta->v6_count = b->v6_count;
	meta->key_count = b->key_count;
	meta->pool_len = b->pool.len;
	parts[SNAP_PART_META] = (struct snap_blob){meta, sizeof *meta};
	parts[SNAP_PART_V4] = (struct snap_blob){b->v4, b->v4_count * sizeof *b->v4};
	parts[SNAP_PART_V6] = (struct snap_blob){b->v6, b->v6_count * sizeof *b->v6};
	parts[SNAP_PART_KEYS] = (struct snap_blob){b->keys, b->key_count * sizeof *b->keys};
	parts[SNAP_PART_POOL] = (struct snap_blob){b->pool.data, b->pool.len};
}

static void v4_range(const struct snap_v4 *e, struct range *r)
{
	addr_from_v4(&r->first, e->first);
	addr_from_v4(&r->last, e->last);
}

static void v6_range(const struct snap_v6 *e, struct range *r)
{
	memcpy(r->first.bytes, e->first, 16);
	memcpy(r->last.bytes, e->last, 16);
}

static int range_order(const struct range *a, const struct range *b)
{
	int c = addr_cmp(&a->first, &b->first);
	return c != 0 ? c : addr_cmp(&b->last, &a->last);
}

int snapshot_build(struct snapshot *s, const struct snap_blob parts[SNAP_PART_LAST], void *pool_owned,
		   void *keys_owned, const char **why)
{
	struct snap_meta meta;
	s->pool = pool_owned;
	s->pool_len = parts[SNAP_PART_POOL].len;
	s->keys = keys_owned;
	s->key_count = parts[SNAP_PART_KEYS].len / sizeof *s->keys;
	rangeset_init(&s->ranges);
	if (parts[SNAP_PART_META].len != sizeof meta) {
		*why = "snapshot header missing or of another size";
		return -1;
	}
	memcpy(&meta, parts[SNAP_PART_META].data, sizeof meta);
	if (memcmp(meta.magic, SNAP_MAGIC, sizeof meta.magic) != 0 || meta.version != SNAP_VERSION ||
	    meta.endian != SNAP_ENDIAN) {
		*why = "snapshot written by another plughole version or machine: load the file again";
		return -1;
	}
	if (meta.v4_count * sizeof(struct snap_v4) != parts[SNAP_PART_V4].len ||
	    meta.v6_count * sizeof(struct snap_v6) != parts[SNAP_PART_V6].len ||
	    meta.key_count * sizeof(struct snap_key) != parts[SNAP_PART_KEYS].len ||
	    meta.pool_len != parts[SNAP_PART_POOL].len || meta.pool_len > POOL_LIMIT) {
		*why = "snapshot parts do not match its header";
		return -1;
	}
	const struct snap_v4 *v4 = parts[SNAP_PART_V4].data;
	const struct snap_v6 *v6 = parts[SNAP_PART_V6].data;
	size_t n4 = (size_t)meta.v4_count, n6 = (size_t)meta.v6_count, i = 0, j = 0;
	for (size_t k = 0; k < s->key_count; k++) {
		if (s->keys[k].record + RECORD_HEADER >= s->pool_len) {
			*why = "snapshot key points outside its records";
			return -1;
		}
	}
	if (rangeset_reserve(&s->ranges, n4 + n6) != 0) {
		*why = "out of memory";
		return -1;
	}
	/* Both lists are sorted; merging keeps the set sorted, so building skips the sort. */
	while (i < n4 || j < n6) {
		struct range a, b;
		uint32_t record;
		if (i < n4)
			v4_range(&v4[i], &a);
		if (j < n6)
			v6_range(&v6[j], &b);
		if (j == n6 || (i < n4 && range_order(&a, &b) <= 0)) {
			record = v4[i++].record;
		} else {
			a = b;
			record = v6[j++].record;
		}
		if ((size_t)record + RECORD_HEADER >= s->pool_len) {
			*why = "snapshot range points outside its records";
			return -1;
		}
		rangeset_add(&s->ranges, &a, (int32_t)record);
	}
	rangeset_build(&s->ranges);
	return 0;
}

void snapshot_free(struct snapshot *s)
{
	free(s->source);
	free(s->file);
	free(s->registry);
	free(s->pool);
	free(s->keys);
	rangeset_free(&s->ranges);
	memset(s, 0, sizeof *s);
}

size_t snapshot_memory(const struct snapshot *s)
{
	return rangeset_memory(&s->ranges) + s->pool_len + s->key_count * sizeof *s->keys;
}

int64_t snapshot_key_find(const struct snapshot *s, enum snap_keyspace space, const char *handle, size_t len)
{
	uint64_t hash = key_hash(space, handle, len);
	size_t lo = 0, hi = s->key_count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->keys[mid].hash < hash)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < s->key_count && s->keys[lo].hash == hash; lo++) {
		if (s->keys[lo].space != (uint32_t)space)
			continue;
		uint32_t cursor = 0;
		size_t klen;
		const char *key = snap_record_next(s, s->keys[lo].record, SNAP_F_KEY, &cursor, &klen);
		if (key != NULL && klen == len && strncasecmp(key, handle, len) == 0)
			return s->keys[lo].record;
	}
	return -1;
}

enum snap_class snap_record_class(const struct snapshot *s, uint32_t record)
{
	uint8_t cls = s->pool[record];
	return cls < SNAP_CLASS_LAST ? (enum snap_class)cls : SNAP_INETNUM;
}

uint32_t snap_record_line(const struct snapshot *s, uint32_t record)
{
	const uint8_t *p = s->pool + record + 1;
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

const char *snap_record_next(const struct snapshot *s, uint32_t record, enum snap_field field,
			     uint32_t *cursor, size_t *len)
{
	size_t pos = *cursor ? *cursor : (size_t)record + RECORD_HEADER;
	while (pos + 2 <= s->pool_len && s->pool[pos] != SNAP_F_END) {
		uint8_t id = s->pool[pos];
		size_t n = s->pool[pos + 1];
		if (pos + 2 + n > s->pool_len)
			break;
		pos += 2 + n;
		if (id == field) {
			*cursor = (uint32_t)pos;
			*len = n;
			return (const char *)s->pool + pos - n;
		}
	}
	*cursor = (uint32_t)pos;
	return NULL;
}

const char *snap_record_get(const struct snapshot *s, uint32_t record, enum snap_field field, char *buf,
			    size_t buflen)
{
	uint32_t cursor = 0;
	size_t len = 0;
	const char *value = snap_record_next(s, record, field, &cursor, &len);
	if (value == NULL || buflen == 0)
		len = 0;
	else if (len >= buflen)
		len = buflen - 1;
	if (buflen > 0) {
		memcpy(buf, value ? value : "", len);
		buf[len] = '\0';
	}
	return buf;
}
