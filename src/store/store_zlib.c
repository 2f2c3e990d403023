/*
 * Transcripts are kept deflated: a closed server's is ~3.7 KB of much the
 * same reply sixteen times, ~650 bytes deflated, so a finding fits one page
 * and a run writes a sixth of the bytes. The form is the sqlite3 shell's
 * SQL archive one (zlib data in a BLOB beside its inflated size; short text
 * stays TEXT with no size), so an operator reads them there with
 *     SELECT sqlar_uncompress(transcript, transcript_size) FROM findings;
 * and this file gives the store's own connection the same function.
 */
#include "store/store_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define DEFLATE_MIN 256		/* shorter text is kept as it is: too little to gain */
#define INFLATE_MAX (1u << 20)	/* a bigger "size" is a damaged row, not a transcript */

int store_deflate(struct store *store, const char *text, size_t len, const void **out, size_t *out_len)
{
	if (len < DEFLATE_MIN || len > UINT32_MAX / 2)
		return 0; /* too short to gain; or too long for one zlib call (uInt) */
	if (store->deflater == NULL) {
		/* One stream for the store's life: deflateInit allocates ~270 KB, deflateReset nothing. */
		z_stream *z = calloc(1, sizeof *z);
		if (z == NULL || deflateInit(z, Z_BEST_SPEED) != Z_OK) {
			free(z);
			return 0;
		}
		store->deflater = z;
	} else if (deflateReset(store->deflater) != Z_OK) {
		return 0;
	}
	uLong bound = deflateBound(store->deflater, (uLong)len);
	if (bound > store->deflated_cap) {
		unsigned char *grown = realloc(store->deflated, bound);
		if (grown == NULL)
			return 0;
		store->deflated = grown;
		store->deflated_cap = bound;
	}
	z_stream *z = store->deflater;
	z->next_in = (Bytef *)text;
	z->avail_in = (uInt)len;
	z->next_out = store->deflated;
	z->avail_out = (uInt)store->deflated_cap;
	if (deflate(z, Z_FINISH) != Z_STREAM_END || z->total_out >= len)
		return 0;
	*out = store->deflated;
	*out_len = z->total_out;
	return 1;
}

void store_deflate_free(struct store *store)
{
	if (store->deflater != NULL)
		deflateEnd(store->deflater);
	free(store->deflater);
	free(store->deflated);
	store->deflater = NULL;
	store->deflated = NULL;
	store->deflated_cap = 0;
}

/*
 * sqlar_uncompress(data, size): data as it is when size is NULL, 0 or its
 * length, or when data is not a BLOB (deflated data always is: a text whose
 * size a writer from before migration 4 left behind still reads); else inflated.
 */
static void sqlar_uncompress(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	sqlite3_int64 size = sqlite3_value_int64(argv[1]);
	int have = sqlite3_value_bytes(argv[0]);
	if (size <= 0 || size == have || sqlite3_value_type(argv[0]) != SQLITE_BLOB) {
		sqlite3_result_value(ctx, argv[0]);
		return;
	}
	if (size > INFLATE_MAX) {
		sqlite3_result_error(ctx, "sqlar_uncompress: size out of range", -1);
		return;
	}
	uLongf got = (uLongf)size;
	unsigned char *text = sqlite3_malloc64((sqlite3_uint64)size);
	if (text == NULL) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	if (uncompress(text, &got, sqlite3_value_blob(argv[0]), (uLong)have) != Z_OK || got != (uLongf)size) {
		sqlite3_free(text);
		sqlite3_result_error(ctx, "sqlar_uncompress: damaged data", -1);
		return;
	}
	sqlite3_result_text(ctx, (const char *)text, (int)got, sqlite3_free);
}

int store_register_functions(struct store *store)
{
	return sqlite3_create_function(store->db, "sqlar_uncompress", 2,
				       SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
				       sqlar_uncompress, NULL, NULL) == SQLITE_OK
		   ? 0
		   : store_error(store, "registering sqlar_uncompress");
}
