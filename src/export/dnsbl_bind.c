/*
 * The DNSBL as a BIND zone file (RFC 1035 master format): SOA and NS, then per
 * listed host its reversed name under the zone (IPv4 octets, IPv6 nibbles, as
 * DNSBL clients query them) with an A record of DNSBL_LISTED_A and a TXT
 * record of its reason.
 */
#include "export/dnsbl.h"

#include <string.h>

#include "export/dnsbl_bind.h"

/* Per host, stdio without its lock (_unlocked: one thread writes the zone). */

/* A character-string holds at most 255 bytes: longer text is split into several. */
#define CHARSTRING_MAX 255

int dnsbl_bind_txt(FILE *out, const char *text, size_t len)
{
	size_t i = 0;
	do {
		size_t end = len - i > CHARSTRING_MAX ? i + CHARSTRING_MAX : len;
		if (i > 0)
			putc_unlocked(' ', out);
		putc_unlocked('"', out);
		for (; i < end; i++) {
			unsigned char c = (unsigned char)text[i];
			if (c == '"' || c == '\\')
				fprintf(out, "\\%c", c);
			else if (c >= 0x20 && c < 0x7f)
				putc_unlocked(c, out);
			else /* RFC 1035 5.1: \DDD, the byte in decimal */
				fprintf(out, "\\%03u", c);
		}
		putc_unlocked('"', out);
	} while (i < len);
	return ferror(out) ? -1 : 0;
}

int dnsbl_bind_reversed(FILE *out, const struct addr *address)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *b = address->bytes;
	if (addr_is_v4(address))
		for (int i = 15; i >= 12; i--) {
			if (b[i] >= 100)
				putc_unlocked('0' + b[i] / 100, out);
			if (b[i] >= 10)
				putc_unlocked('0' + b[i] / 10 % 10, out);
			putc_unlocked('0' + b[i] % 10, out);
			if (i > 12)
				putc_unlocked('.', out);
		}
	else
		for (int i = 15; i >= 0; i--) {
			putc_unlocked(hex[b[i] & 15], out);
			putc_unlocked('.', out);
			putc_unlocked(hex[b[i] >> 4], out);
			if (i > 0)
				putc_unlocked('.', out);
		}
	return ferror(out) ? -1 : 0;
}

static int bind_begin(struct dnsbl_writer *w)
{
	const struct dnsbl_zone *z = w->zone;
	char when[32];
	struct tm tm;
	if (gmtime_r(&z->generated, &tm) == NULL ||
	    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		strcpy(when, "(no time)");
	fprintf(w->out,
		"; plughole DNSBL export: the hosts whose latest verdict proves them open.\n"
		"; Zone %s, serial %u, written %s.\n"
		"$ORIGIN %s.\n"
		"$TTL %d\n"
		"@\tIN\tSOA\t%s. hostmaster.%s. ( %u %d %d %d %d )\n"
		"@\tIN\tNS\t%s.\n",
		z->name, z->serial, when, z->name, DNSBL_TTL, z->ns, z->name, z->serial, DNSBL_REFRESH,
		DNSBL_RETRY, DNSBL_EXPIRE, DNSBL_NEGATIVE_TTL, z->ns);
	return ferror(w->out) ? -1 : 0;
}

static int bind_entry(struct dnsbl_writer *w, const struct dnsbl_entry *entry)
{
	dnsbl_bind_reversed(w->out, &entry->address);
	fputs_unlocked("\tIN\tA\t" DNSBL_LISTED_A "\n\tIN\tTXT\t", w->out);
	dnsbl_bind_txt(w->out, entry->reason, strlen(entry->reason));
	putc_unlocked('\n', w->out);
	w->entries++;
	return ferror(w->out) ? -1 : 0;
}

static int bind_end(struct dnsbl_writer *w)
{
	fprintf(w->out, "; %llu listed\n", (unsigned long long)w->entries);
	return ferror(w->out) ? -1 : 0;
}

static void bind_release(struct dnsbl_writer *w) {}

const struct dnsbl_format dnsbl_format_bind = {
    .name = "bind",
    .summary = "a BIND zone file: SOA, NS, reversed names with A and TXT",
    .begin = bind_begin,
    .entry = bind_entry,
    .end = bind_end,
    .release = bind_release,
};
