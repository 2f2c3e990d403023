/*
 * Loading big files: a plain file past the parallel threshold is cut into
 * parts parsed by several threads, a gzip file is streamed chunk by chunk;
 * both must give what one pass over the whole text gives, line numbers
 * and malformed objects included.
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
#include <zlib.h>

#include "attrib/index.h"
#include "attrib/load.h"

#define OBJECTS 420000 /* about 42 MB: over the 32 MB a file needs to be parsed in parts */
#define BROKEN_EVERY 70001

static char *text;
static size_t text_len;

/* Object i starts on line 4 * i + 1; every BROKEN_EVERY-th is malformed. */
static int make_text(void **state)
{
	size_t cap = (size_t)OBJECTS * 110;
	text = malloc(cap);
	for (size_t i = 0; i < OBJECTS; i++) {
		unsigned a = (unsigned)(i >> 16) & 255, b = (unsigned)(i >> 8) & 255, c = (unsigned)i & 255;
		if (i % BROKEN_EVERY == BROKEN_EVERY - 1)
			text_len += (size_t)sprintf(text + text_len,
						    "inetnum:   10.%u.%u.%u - 10.%u.%u.300\n", a, b, c, a, b);
		else
			text_len += (size_t)sprintf(text + text_len, "inetnum:   10.%u.%u.%u - 10.%u.%u.%u\n",
						    a, b, c, a, b, c);
		text_len +=
		    (size_t)sprintf(text + text_len, "netname:   NET-%zu\nremarks:   object %zu\n\n", i, i);
	}
	return 0;
}

static int free_text(void **state)
{
	free(text);
	return 0;
}

static void check(const char *name, struct snap_builder *b, const struct attrib_load_stats *stats)
{
	size_t broken = OBJECTS / BROKEN_EVERY;
	assert_int_equal(stats->ranges, OBJECTS - broken);
	assert_int_equal(stats->malformed, broken);
	assert_int_equal(stats->lines, (uint64_t)OBJECTS * 4);
	struct attrib_index index;
	attrib_index_init(&index);
	assert_int_equal(attrib_index_add(&index, b, name, NULL), 0);
	static const size_t probes[] = {0, 1, 65535, 200000, 300001, OBJECTS - 1};
	for (size_t k = 0; k < sizeof probes / sizeof probes[0]; k++) {
		size_t i = probes[k];
		struct addr a;
		addr_from_v4(&a, 0x0a000000u | (uint32_t)i);
		struct attrib_ref ref;
		char buf[64], want[64];
		assert_int_equal(attrib_index_chain(&index, SNAP_KIND_RPSL, &a, &ref, 1), 1);
		snprintf(want, sizeof want, "NET-%zu", i);
		assert_string_equal(snap_record_get(ref.snap, ref.record, SNAP_F_NAME, buf, sizeof buf),
				    want);
		assert_int_equal(snap_record_line(ref.snap, ref.record), 4 * i + 1);
	}
	attrib_index_free(&index);
}

static void one_pass(void **state)
{
	struct snap_builder b;
	struct attrib_load_stats stats;
	snap_builder_init(&b, SNAP_KIND_RPSL);
	assert_int_equal(attrib_parse_buffer("buffer", text, text_len, SNAP_KIND_RPSL, &b, &stats), 0);
	assert_int_equal(snap_builder_finish(&b), 0);
	check("buffer", &b, &stats);
}

static void parallel_parts(void **state)
{
	char path[] = "/tmp/plughole-attrib-big-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, text_len), (ssize_t)text_len);
	close(fd);
	struct snap_builder b;
	struct attrib_load_stats stats;
	assert_int_equal(attrib_parse_file(path, NULL, &b, &stats), 0);
	unlink(path);
	assert_int_equal(stats.bytes, text_len);
	check("plain", &b, &stats);
}

static void gzip_chunks(void **state)
{
	char path[] = "/tmp/plughole-attrib-big-XXXXXX.gz";
	int fd = mkstemps(path, 3);
	assert_true(fd >= 0);
	close(fd);
	gzFile gz = gzopen(path, "wb1");
	assert_non_null(gz);
	assert_int_equal(gzwrite(gz, text, (unsigned)text_len), (int)text_len);
	gzclose(gz);
	struct snap_builder b;
	struct attrib_load_stats stats;
	assert_int_equal(attrib_parse_file(path, "rpsl", &b, &stats), 0);
	unlink(path);
	check("gzip", &b, &stats);
}

#define READ_CHUNK (2u << 20) /* load.c's read size: where a gzip stream is cut */

/*
 * A CRLF dump whose first read ends between the CR and the LF of the empty
 * line after an object (it hung: the lone CR measured as an empty object of
 * no bytes), and a buffer that ends on a lone CR.
 */
static void crlf_cut_between_cr_and_lf(void **state)
{
	char *crlf = malloc(READ_CHUNK + 4096);
	size_t len = 0, objects = 0;
	while (len + 200 < READ_CHUNK - 1) {
		len += (size_t)sprintf(crlf + len, "inetnum: 10.2.%zu.%zu - 10.2.%zu.%zu\r\nnetname: N%zu\r\n\r\n",
				       objects >> 8 & 255, objects & 255, objects >> 8 & 255, objects & 255,
				       objects);
		objects++;
	}
	/* the last object before the cut: padded so that its empty line's CR is the chunk's last byte */
	len += (size_t)sprintf(crlf + len, "inetnum: 10.3.0.0 - 10.3.0.255\r\nremarks: ");
	while (len < READ_CHUNK - 3)
		crlf[len++] = 'x';
	len += (size_t)sprintf(crlf + len, "\r\n\r\ninetnum: 10.4.0.0 - 10.4.0.255\r\n");
	assert_int_equal(crlf[READ_CHUNK - 1], '\r');
	assert_int_equal(crlf[READ_CHUNK], '\n');
	objects += 2;
	char path[] = "/tmp/plughole-attrib-crlf-XXXXXX.gz";
	int fd = mkstemps(path, 3);
	assert_true(fd >= 0);
	close(fd);
	gzFile gz = gzopen(path, "wb1");
	assert_int_equal(gzwrite(gz, crlf, (unsigned)len), (int)len);
	gzclose(gz);
	struct snap_builder b;
	struct attrib_load_stats stats;
	assert_int_equal(attrib_parse_file(path, "rpsl", &b, &stats), 0);
	unlink(path);
	assert_int_equal(stats.ranges, objects);
	assert_int_equal(stats.malformed, 0);
	snap_builder_free(&b);
	free(crlf);

	static const char lone_cr[] = "inetnum: 192.0.2.0 - 192.0.2.255\r\n\r";
	snap_builder_init(&b, SNAP_KIND_RPSL);
	assert_int_equal(attrib_parse_buffer("lone-cr", lone_cr, sizeof lone_cr - 1, SNAP_KIND_RPSL, &b, &stats), 0);
	assert_int_equal(stats.ranges, 1);
	snap_builder_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(one_pass),
	    cmocka_unit_test(parallel_parts),
	    cmocka_unit_test(gzip_chunks),
	    cmocka_unit_test(crlf_cut_between_cr_and_lf),
	};
	return cmocka_run_group_tests(tests, make_text, free_text);
}
