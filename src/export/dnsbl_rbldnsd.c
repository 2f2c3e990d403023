/*
 * The DNSBL as an rbldnsd "combined" dataset (rbldnsd(8)): $SOA and $NS for
 * the zone, then an ip4set dataset of the IPv4 hosts and an ip6trie dataset
 * of the IPv6 ones, both at the zone's apex, each host with its own A and TXT
 * (":127.0.0.2:reason"). One file serves both families:
 *   rbldnsd ... ZONE:combined:FILE
 * The rows come in address order, IPv4 and IPv6 mixed; IPv6 entries (few)
 * wait in memory for their dataset, after the IPv4 one.
 */
#include "export/dnsbl.h"

#include <stdlib.h>
#include <string.h>

#include "export/dnsbl_rbldnsd.h"

/* Per host, stdio without its lock (_unlocked: one thread writes the zone). */
int dnsbl_rbldnsd_text(FILE *out, const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c == '$') /* a single '$' stands for the queried address */
			fputs_unlocked("$$", out);
		else if (c >= 0x20 && c < 0x7f)
			putc_unlocked(c, out);
		else /* a line holds no newline; no byte outside ASCII either */
			fprintf(out, "\\x%02x", c);
	}
	return ferror(out) ? -1 : 0;
}

static int rbldnsd_begin(struct dnsbl_writer *w)
{
	const struct dnsbl_zone *z = w->zone;
	char when[32];
	struct tm tm;
	w->later = open_memstream(&w->later_buf, &w->later_len);
	if (w->later == NULL)
		return -1;
	if (gmtime_r(&z->generated, &tm) == NULL ||
	    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		strcpy(when, "(no time)");
	fprintf(w->out,
		"# plughole DNSBL export: the hosts whose latest verdict proves them open.\n"
		"# Zone %s, serial %u, written %s. An rbldnsd combined dataset:\n"
		"#   rbldnsd ... %s:combined:FILE\n"
		"$SOA %d %s hostmaster.%s %u %d %d %d %d\n"
		"$NS %d %s\n"
		"$TTL %d\n"
		"$DATASET ip4set:plughole-ipv4 @\n",
		z->name, z->serial, when, z->name, DNSBL_TTL, z->ns, z->name, z->serial, DNSBL_REFRESH,
		DNSBL_RETRY, DNSBL_EXPIRE, DNSBL_NEGATIVE_TTL, DNSBL_TTL, z->ns, DNSBL_TTL);
	return ferror(w->out) ? -1 : 0;
}

static int rbldnsd_entry(struct dnsbl_writer *w, const struct dnsbl_entry *entry)
{
	char text[ADDR_STRLEN];
	FILE *out = addr_is_v4(&entry->address) ? w->out : w->later;
	fputs_unlocked(addr_format(&entry->address, text), out);
	fputs_unlocked(" :" DNSBL_LISTED_A ":", out);
	dnsbl_rbldnsd_text(out, entry->reason, strlen(entry->reason));
	putc_unlocked('\n', out);
	w->entries++;
	return ferror(out) ? -1 : 0;
}

static int rbldnsd_end(struct dnsbl_writer *w)
{
	if (fclose(w->later) != 0) {
		w->later = NULL;
		return -1;
	}
	w->later = NULL;
	fputs("$DATASET ip6trie:plughole-ipv6 @\n", w->out);
	fwrite(w->later_buf, 1, w->later_len, w->out);
	fprintf(w->out, "# %llu listed\n", (unsigned long long)w->entries);
	return ferror(w->out) ? -1 : 0;
}

static void rbldnsd_release(struct dnsbl_writer *w)
{
	if (w->later != NULL)
		fclose(w->later);
	w->later = NULL;
	free(w->later_buf);
	w->later_buf = NULL;
	w->later_len = 0;
}

const struct dnsbl_format dnsbl_format_rbldnsd = {
    .name = "rbldnsd",
    .summary = "an rbldnsd combined dataset: ip4set and ip6trie, ':127.0.0.2:reason' entries",
    .begin = rbldnsd_begin,
    .entry = rbldnsd_entry,
    .end = rbldnsd_end,
    .release = rbldnsd_release,
};
