/*
 * The DNSBL export (plughole export dnsbl): hosts whose latest verdict proves
 * them open, written as a zone a DNS server loads. One file per format
 * (dnsbl_rbldnsd.c, dnsbl_bind.c), each a struct dnsbl_format of functions
 * that only write to the stream they are given; this file holds what they
 * share: the reason text of an entry, the zone's parameters and its serial.
 */
#ifndef PLUGHOLE_DNSBL_H
#define PLUGHOLE_DNSBL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "core/addr.h"

/* The A record of every listed host (the DNSBL convention for "listed"). */
#define DNSBL_LISTED_A "127.0.0.2"
/* The default zone: a reserved name (RFC 2606), to be replaced by the operator's own. */
#define DNSBL_ZONE_DEFAULT "dnsbl.example"
/* The default name server of the zone (SOA and NS): a placeholder that loads anywhere. */
#define DNSBL_NS_DEFAULT "localhost"
/* One DNS character-string: a reason is never longer. */
#define DNSBL_REASON_MAX 255
/* Of a reason, what the peer-derived software name may take (escaped). */
#define DNSBL_SOFTWARE_MAX 64

/* The zone's timers, in seconds: the one source for both formats. */
enum {
	DNSBL_TTL = 900,
	DNSBL_REFRESH = 3600,
	DNSBL_RETRY = 600,
	DNSBL_EXPIRE = 604800,
	DNSBL_NEGATIVE_TTL = 300,
};

struct dnsbl_zone {
	const char *name; /* without the final dot, checked by dnsbl_name_check */
	const char *ns;	  /* likewise */
	uint32_t serial;  /* dnsbl_serial_next */
	time_t generated;
};

struct dnsbl_entry {
	struct addr address;
	const char *reason; /* printable ASCII (dnsbl_reason), at most DNSBL_REASON_MAX bytes */
};

/*
 * A format writes a zone as: begin once, entry per listed host (each address
 * once), end once. Each returns 0, or -1 when the stream failed (the caller
 * names the file). struct dnsbl_writer carries what a format keeps between
 * calls.
 */
struct dnsbl_writer {
	FILE *out;
	const struct dnsbl_zone *zone;
	uint64_t entries;
	/* rbldnsd: IPv6 entries wait here for their dataset after the IPv4 one */
	FILE *later;
	char *later_buf;
	size_t later_len;
};

struct dnsbl_format {
	const char *name;
	const char *summary; /* for --help */
	int (*begin)(struct dnsbl_writer *w);
	int (*entry)(struct dnsbl_writer *w, const struct dnsbl_entry *entry);
	int (*end)(struct dnsbl_writer *w);
	/* Releases what begin took, written or not. */
	void (*release)(struct dnsbl_writer *w);
};

extern const struct dnsbl_format dnsbl_format_rbldnsd, dnsbl_format_bind;
/* The format called name; NULL when none is. */
const struct dnsbl_format *dnsbl_format_find(const char *name);
/* The formats' table, row i; NULL past its end (usage and errors list them). */
const struct dnsbl_format *dnsbl_format_at(size_t i);

/* Room for a UTC time as "YYYY-MM-DDTHH:MM:SSZ" and its NUL. */
#define DNSBL_UTC_SIZE 21
/* t as "YYYY-MM-DDTHH:MM:SSZ" (years 0..9999; others as year 0000), fast
 * (once per listed host); returns its length, 20. */
size_t dnsbl_utc(char out[DNSBL_UTC_SIZE], time_t t);

/*
 * The reason of a listed host, into buf (size > 0): "VERDICT on port PORT
 * (SOFTWARE), last proven YYYY-MM-DDTHH:MM:SSZ" and, when the host is open on
 * other ports too, "; N more open port(s)". The software is peer-derived: it
 * is escaped (core/escape.h) and cut to DNSBL_SOFTWARE_MAX, so the reason is
 * printable ASCII; software NULL or empty leaves out the parenthesis. The
 * whole is cut to DNSBL_REASON_MAX and size - 1 bytes. Returns its length.
 */
size_t dnsbl_reason(char *buf, size_t size, const char *verdict, uint16_t port, const char *software,
		    size_t software_len, time_t proved, unsigned more_ports);

/*
 * One host gathered from its rows, one per open port, which come adjacent
 * (address order). The entry keeps the most recent proof (on a tie, the first
 * row: the lower port) and counts the other ports in its reason.
 */
struct dnsbl_host {
	bool held;
	char address[ADDR_STRLEN];
	size_t address_len;
	char verdict[32];
	uint16_t port;
	char software[DNSBL_SOFTWARE_MAX];
	size_t software_len;
	time_t proved;
	unsigned ports;
};

/*
 * Adds one open port's row to the host held: 0 taken (the same host, or none
 * was held), 1 when the row is another host's, not taken: the held host is
 * complete (write it, dnsbl_host_clear, add the row again). Over-long
 * strings are cut (an address: never the same as another).
 */
int dnsbl_host_add(struct dnsbl_host *host, const char *address, size_t address_len, const char *verdict,
		   uint16_t port, const char *software, size_t software_len, time_t proved);
void dnsbl_host_clear(struct dnsbl_host *host);
/* The held host as an entry, its reason in reason (size bytes): 0, or -1 when its address does not parse. */
int dnsbl_host_entry(const struct dnsbl_host *host, struct dnsbl_entry *entry, char *reason, size_t size);

/*
 * The next serial: YYYYMMDDnn of now (UTC, nn from 00), or previous + 1 when
 * that is not above previous (a second export the same day, the same second,
 * or a clock set back), so the serial increases on every export.
 */
uint32_t dnsbl_serial_next(uint32_t previous, time_t now);

/* A domain name for the zone or its name server: labels of letters, digits,
 * '-' and '_', 1..63 bytes each, 253 in all, an optional final dot (dropped
 * from *len). 0, or -1 with *why. */
int dnsbl_name_check(const char *name, size_t *len, const char **why);

#endif
