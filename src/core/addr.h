/*
 * IPv4 and IPv6 addresses and address ranges.
 *
 * Every address lives in one 128-bit space: IPv4 is stored IPv4-mapped
 * (::ffff:a.b.c.d), so one range set and one comparison serve both families.
 * Parsers take (buffer, length), need no NUL terminator, and never allocate.
 */
#ifndef PLUGHOLE_ADDR_H
#define PLUGHOLE_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ADDR_STRLEN 46 /* INET6_ADDRSTRLEN */
#define ADDR_PORT_STRLEN (ADDR_STRLEN + 8)

struct addr {
	uint8_t bytes[16]; /* network order; IPv4 as ::ffff:a.b.c.d */
};

struct range {
	struct addr first;
	struct addr last; /* inclusive */
};

bool addr_is_v4(const struct addr *a);
int addr_cmp(const struct addr *a, const struct addr *b);
/* A hash of (address, port) whose low bits mix every input bit: for open-addressing tables. */
uint64_t addr_hash(const struct addr *a, uint16_t port);
void addr_from_v4(struct addr *a, uint32_t host_order);
uint32_t addr_v4(const struct addr *a);

/* "192.0.2.1" or "2001:db8::1"; 0 on success, -1 if not an address. */
int addr_parse(const char *s, size_t len, struct addr *out);
/* Canonical text (dotted quad for IPv4); returns buf. */
const char *addr_format(const struct addr *a, char buf[ADDR_STRLEN]);
/* "a.b.c.d:port" or "[v6]:port"; returns buf. */
const char *addr_port_format(const struct addr *a, uint16_t port, char buf[ADDR_PORT_STRLEN]);

/*
 * "ADDR", "ADDR:PORT", "[V6]", "[V6]:PORT" (a bare IPv6 address has no port).
 * [V6] is IPv6 notation, the mapped "[::ffff:a.b.c.d]:port" included.
 * *port is set to 0 when none is given. 0 on success, -1 with *why set.
 */
int addr_port_parse(const char *s, size_t len, struct addr *out, uint16_t *port, const char **why);

/* A decimal port 1..65535; 0 on success, -1 otherwise. */
int port_parse(const char *s, size_t len, uint16_t *port);

/* Adds one; returns false when the address wrapped around. */
bool addr_next(struct addr *a);

/* Prefix length in the family's own terms (0..32 for IPv4, 0..128 for IPv6). */
int range_from_prefix(struct range *r, const struct addr *base, int prefix_len);
/* "ADDR", "ADDR/LEN" or "FIRST-LAST" (spaces around '-' allowed). LEN counts
 * in the notation's family: "10.0.0.0/8" over 32 bits, "::ffff:0:0/96" over 128. */
int range_parse(const char *s, size_t len, struct range *out, const char **why);
bool range_contains(const struct range *r, const struct addr *a);
/* Number of addresses, saturated at UINT64_MAX. */
uint64_t range_size(const struct range *r);
const char *range_format(const struct range *r, char *buf, size_t buflen);

#endif
