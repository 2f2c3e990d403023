/*
 * attribute_gen: writes a synthetic RPSL inetnum dump shaped like RIPE's
 * split dump (ripe.db.inetnum): allocations (ALLOCATED PA, with org:) in
 * RIPE-like /8s, assignments nested inside them (CIDR blocks and odd
 * start-end ranges, some sub-allocations), dummified attributes, the
 * "THIS OBJECT IS MODIFIED" remarks block on many objects, the occasional
 * abuse-c, mnt-irt or e-mail in remarks, in a shuffled order as a dump's
 * object order has nothing to do with addresses. Deterministic for a seed.
 *
 * usage: bench-attribute_gen OBJECTS FILE [SEED]
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct object {
	uint32_t first, last;
	uint32_t parent_org; /* the allocation's number: its org and maintainer */
	uint8_t kind;	     /* 0 allocation, 1 sub-allocation, 2 assignment */
};

static uint64_t state;
static uint64_t next_random(void)
{
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return state;
}
static uint32_t below(uint32_t n)
{
	return (uint32_t)(next_random() % n);
}

/* /8s the RIPE NCC serves: where the dump's space lies. */
static const uint8_t slash8[] = {2,   5,   25,	31,  37,  46,  51,  53,	 57,  62,  77,	78,  79, 80, 81,
				 82,  83,  84,	85,  86,  87,  88,  89,	 90,  91,  92,	93,  94, 95, 109,
				 141, 145, 151, 176, 178, 185, 188, 193, 194, 195, 212, 213, 217};

static const char *const countries[] = {"DE", "GB", "FR", "NL", "IT", "ES", "RU", "UA", "PL", "SE",
					"NO", "CH", "AT", "BE", "DK", "FI", "CZ", "RO", "BG", "HU",
					"GR", "PT", "IE", "TR", "IR", "SA", "AE", "IL", "KZ", "LT",
					"LV", "EE", "RS", "HR", "SI", "SK", "EU"};
static const char *const words[] = {"Telecom",	      "Networks", "Hosting", "Cable",	  "Broadband",
				    "Internet",	      "Data",	  "Systems", "Solutions", "Media",
				    "Communications", "Services", "Digital", "Cloud",	  "Connect",
				    "Online",	      "Net",	  "Link",    "Fiber",	  "Wireless"};

static void ip(char *buf, uint32_t a)
{
	sprintf(buf, "%u.%u.%u.%u", a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s OBJECTS FILE [SEED]\n", argv[0]);
		return 2;
	}
	size_t want = strtoul(argv[1], NULL, 10);
	state = argc > 3 ? strtoull(argv[3], NULL, 10) | 1 : 0x2004012920040129ull;
	struct object *objects = malloc(want * sizeof *objects);
	if (objects == NULL)
		return 1;
	size_t n = 0;
	uint32_t allocation = 0;
	/* Walk the /8s in rounds, carving allocations (/13../22) and filling each
	 * with assignments until enough objects exist. */
	uint32_t cursor[sizeof slash8];
	for (size_t i = 0; i < sizeof slash8; i++)
		cursor[i] = (uint32_t)slash8[i] << 24;
	size_t full = 0;
	bool is_full[sizeof slash8] = {false};
	while (n < want && full < sizeof slash8) {
		size_t s = below(sizeof slash8);
		uint32_t end8 = ((uint32_t)slash8[s] << 24) | 0xffffff;
		int len = 13 + (int)below(10);
		uint32_t size = 1u << (32 - len);
		while (size > 1024 && (cursor[s] & (size - 1)) != 0)
			size >>= 1; /* the largest block aligned where the /8 is filled up to */
		uint32_t first = (cursor[s] + size - 1) & ~(size - 1);
		if (first < cursor[s] || first + size - 1 > end8 || first + size - 1 < first) {
			if (len == 22 && !is_full[s]) { /* not even the smallest fits: this /8 is full */
				is_full[s] = true;
				full++;
			}
			continue;
		}
		cursor[s] = first + size + (below(8) == 0 ? size : 0); /* some space left unallocated */
		allocation++;
		objects[n++] = (struct object){first, first + size - 1, allocation, 0};
		/* assignments: mostly /24../29, some odd ranges, some sub-allocations holding more */
		uint32_t at = first;
		while (n < want && at < first + size - 1) {
			int alen = 25 + (int)below(5);
			if (below(40) == 0)
				alen = 21 + (int)below(3);
			uint32_t asize = 1u << (32 - alen);
			if (asize > size / 2)
				asize = size / 2;
			at = (at + asize - 1) & ~(asize - 1);
			if (at + asize - 1 > first + size - 1 || at + asize - 1 < at)
				break;
			uint32_t alast = at + asize - 1;
			if (below(10) == 0 && asize >= 16)
				alast = at + asize / 2 + below(asize / 2) - 1; /* not CIDR-aligned */
			uint8_t kind = asize >= 4096 && below(3) == 0 ? 1 : 2;
			objects[n++] = (struct object){at, alast, allocation, kind};
			if (kind == 1) /* a sub-allocation: its own assignments inside */
				for (uint32_t in = at; n < want && in + 255 <= alast;
				     in += 256 * (1 + below(4)))
					objects[n++] = (struct object){in, in + 255, allocation, 2};
			at = alast + 1 + (below(5) == 0 ? asize * below(3) : 0);
		}
	}
	if (n < want)
		fprintf(stderr, "the /8s are full: %zu objects, not %zu\n", n, want);
	/* dump order has nothing to do with addresses */
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = (size_t)(next_random() % (i + 1));
		struct object t = objects[i];
		objects[i] = objects[j];
		objects[j] = t;
	}
	FILE *f = fopen(argv[2], "w");
	if (f == NULL) {
		perror(argv[2]);
		return 1;
	}
	static char buffer[1 << 20];
	setvbuf(f, buffer, _IOFBF, sizeof buffer);
	fputs("#\n# The contents of this file are subject to\n# RIPE Database Terms and Conditions\n#\n"
	      "# http://www.ripe.net/db/support/db-terms-conditions.pdf\n#\n\n",
	      f);
	static const char *const status[] = {"ALLOCATED PA", "SUB-ALLOCATED PA", "ASSIGNED PA"};
	for (size_t i = 0; i < n; i++) {
		const struct object *o = &objects[i];
		char a[16], b[16];
		ip(a, o->first);
		ip(b, o->last);
		uint32_t org = o->parent_org;
		const char *cc = countries[org % (sizeof countries / sizeof countries[0])];
		fprintf(f, "inetnum:        %s - %s\n", a, b);
		if (o->kind == 0) {
			fprintf(f, "netname:        %s-%s-%u\n", cc, words[org % 20], org);
			fprintf(f, "descr:          %s %s %s\n", words[org % 20], words[org / 20 % 20],
				"Ltd");
			fprintf(f, "org:            ORG-%c%c%u-RIPE\n", 'A' + org % 26, 'A' + org / 26 % 26,
				org);
		} else {
			uint32_t customer = (uint32_t)(next_random() & 0xffffff);
			fprintf(f, "netname:        %s-%s-%u\n", cc, words[customer % 20], customer);
			fprintf(f, "descr:          %s %s customer %u\n", words[customer % 20],
				words[customer / 20 % 20], customer);
			if (below(10) == 0)
				fprintf(f, "org:            ORG-%c%c%u-RIPE\n", 'A' + customer % 26,
					'A' + customer / 26 % 26, customer);
		}
		fprintf(f, "country:        %s\n", cc);
		if (below(20) == 0)
			fprintf(f, "abuse-c:        AR%u-RIPE\n", org);
		fprintf(f, "admin-c:        DUMY-RIPE\ntech-c:         DUMY-RIPE\nstatus:         %s\n",
			status[o->kind]);
		fprintf(f, "mnt-by:         %s-%u-MNT\n", words[org % 20], org);
		if (o->kind == 0)
			fprintf(f, "mnt-lower:      %s-%u-MNT\n", words[org % 20], org);
		if (below(100) == 0)
			fprintf(f, "mnt-irt:        IRT-%s-%u\n", words[org % 20], org);
		if (below(50) == 0)
			fprintf(f, "remarks:        abuse reports to abuse@%s%u.example\n", words[org % 20],
				org);
		fprintf(f, "created:        20%02u-%02u-%02uT%02u:%02u:%02uZ\n", 4 + below(19), 1 + below(12),
			1 + below(28), below(24), below(60), below(60));
		fprintf(f, "last-modified:  2024-%02u-%02uT%02u:%02u:%02uZ\nsource:         RIPE\n",
			1 + below(12), 1 + below(28), below(24), below(60), below(60));
		if (below(2) == 0)
			fputs("remarks:        ****************************\n"
			      "remarks:        * THIS OBJECT IS MODIFIED\n"
			      "remarks:        * Please note that all data that is generally regarded as "
			      "personal\n"
			      "remarks:        * data has been removed from this object.\n"
			      "remarks:        * To view the original object, please query the RIPE Database "
			      "at:\n"
			      "remarks:        * http://www.ripe.net/whois\n"
			      "remarks:        ****************************\n",
			      f);
		fputc('\n', f);
	}
	if (fclose(f) != 0) {
		perror(argv[2]);
		return 1;
	}
	fprintf(stderr, "%zu objects, %u allocations\n", n, allocation);
	free(objects);
	return 0;
}
