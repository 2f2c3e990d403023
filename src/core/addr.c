#include "core/addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static const uint8_t v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool addr_is_v4(const struct addr *a)
{
	return memcmp(a->bytes, v4_mapped_prefix, sizeof v4_mapped_prefix) == 0;
}

int addr_cmp(const struct addr *a, const struct addr *b)
{
	return memcmp(a->bytes, b->bytes, sizeof a->bytes);
}

/* MurmurHash3's finaliser: every input bit reaches the low bits the tables
 * mask with (an IPv4 address's last octet lands in the top byte of lo). */
static uint64_t mix64(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ull;
	return k ^ (k >> 33);
}

uint64_t addr_hash(const struct addr *a, uint16_t port)
{
	uint64_t hi, lo;
	memcpy(&hi, a->bytes, 8);
	memcpy(&lo, a->bytes + 8, 8);
	return mix64(hi ^ mix64(lo ^ port));
}

void addr_from_v4(struct addr *a, uint32_t host_order)
{
	memcpy(a->bytes, v4_mapped_prefix, sizeof v4_mapped_prefix);
	a->bytes[12] = (uint8_t)(host_order >> 24);
	a->bytes[13] = (uint8_t)(host_order >> 16);
	a->bytes[14] = (uint8_t)(host_order >> 8);
	a->bytes[15] = (uint8_t)host_order;
}

uint32_t addr_v4(const struct addr *a)
{
	return (uint32_t)a->bytes[12] << 24 | (uint32_t)a->bytes[13] << 16 |
	       (uint32_t)a->bytes[14] << 8 | a->bytes[15];
}

/* Strict dotted quad: four decimal octets, no leading '+', at most 3 digits. */
static int parse_v4(const char *s, size_t len, uint32_t *out)
{
	uint32_t value = 0;
	size_t i = 0;
	for (int part = 0; part < 4; part++) {
		if (part > 0) {
			if (i >= len || s[i] != '.')
				return -1;
			i++;
		}
		unsigned octet = 0, digits = 0;
		while (i < len && s[i] >= '0' && s[i] <= '9' && digits < 4) {
			octet = octet * 10 + (unsigned)(s[i] - '0');
			i++;
			digits++;
		}
		if (digits == 0 || digits > 3 || octet > 255)
			return -1;
		value = value << 8 | octet;
	}
	if (i != len)
		return -1;
	*out = value;
	return 0;
}

int addr_parse(const char *s, size_t len, struct addr *out)
{
	uint32_t v4;
	if (len == 0 || len >= ADDR_STRLEN)
		return -1;
	if (parse_v4(s, len, &v4) == 0) {
		addr_from_v4(out, v4);
		return 0;
	}
	char copy[ADDR_STRLEN];
	memcpy(copy, s, len);
	copy[len] = '\0';
	if (memchr(copy, ':', len) == NULL || inet_pton(AF_INET6, copy, out->bytes) != 1)
		return -1;
	return 0;
}

const char *addr_format(const struct addr *a, char buf[ADDR_STRLEN])
{
	if (addr_is_v4(a))
		inet_ntop(AF_INET, a->bytes + 12, buf, ADDR_STRLEN);
	else
		inet_ntop(AF_INET6, a->bytes, buf, ADDR_STRLEN);
	return buf;
}

const char *addr_port_format(const struct addr *a, uint16_t port, char buf[ADDR_PORT_STRLEN])
{
	char text[ADDR_STRLEN];
	addr_format(a, text);
	if (addr_is_v4(a))
		snprintf(buf, ADDR_PORT_STRLEN, "%s:%u", text, port);
	else
		snprintf(buf, ADDR_PORT_STRLEN, "[%s]:%u", text, port);
	return buf;
}

int port_parse(const char *s, size_t len, uint16_t *port)
{
	unsigned value = 0;
	if (len == 0 || len > 5)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		value = value * 10 + (unsigned)(s[i] - '0');
	}
	if (value == 0 || value > 65535)
		return -1;
	*port = (uint16_t)value;
	return 0;
}

int addr_port_parse(const char *s, size_t len, struct addr *out, uint16_t *port, const char **why)
{
	*port = 0;
	if (len > 0 && s[0] == '[') {
		const char *close = memchr(s, ']', len);
		if (close == NULL) {
			*why = "missing ']'";
			return -1;
		}
		size_t inner = (size_t)(close - s) - 1;
		/* IPv6 notation inside, which includes the mapped form [::ffff:a.b.c.d] */
		if (memchr(s + 1, ':', inner) == NULL || addr_parse(s + 1, inner, out) != 0) {
			*why = "not an IPv6 address inside []";
			return -1;
		}
		size_t rest = len - inner - 2;
		if (rest == 0)
			return 0;
		if (close[1] != ':' || port_parse(close + 2, rest - 1, port) != 0) {
			*why = "bad port after ]";
			return -1;
		}
		return 0;
	}
	const char *colon = memchr(s, ':', len);
	if (colon != NULL && memchr(colon + 1, ':', len - (size_t)(colon - s) - 1) == NULL) {
		/* exactly one colon: IPv4 with a port */
		if (addr_parse(s, (size_t)(colon - s), out) != 0 || !addr_is_v4(out)) {
			*why = "not an IPv4 address before ':'";
			return -1;
		}
		if (port_parse(colon + 1, len - (size_t)(colon - s) - 1, port) != 0) {
			*why = "bad port";
			return -1;
		}
		return 0;
	}
	if (addr_parse(s, len, out) != 0) {
		*why = "not an IP address";
		return -1;
	}
	return 0;
}

bool addr_next(struct addr *a)
{
	for (int i = 15; i >= 0; i--)
		if (++a->bytes[i] != 0)
			return true;
	return false;
}

/* bits: the prefix length over all 128 bits of the one address space. */
static int range_from_bits(struct range *r, const struct addr *base, int bits)
{
	if (bits < 0 || bits > 128)
		return -1;
	r->first = *base;
	r->last = *base;
	for (int i = 0; i < 16; i++) {
		int keep = bits - i * 8; /* bits of this byte that belong to the prefix */
		uint8_t mask = keep >= 8 ? 0xff : keep <= 0 ? 0 : (uint8_t)(0xff << (8 - keep));
		r->first.bytes[i] &= mask;
		r->last.bytes[i] |= (uint8_t)~mask;
	}
	return 0;
}

int range_from_prefix(struct range *r, const struct addr *base, int prefix_len)
{
	if (addr_is_v4(base))
		return prefix_len < 0 || prefix_len > 32 ? -1 : range_from_bits(r, base, prefix_len + 96);
	return range_from_bits(r, base, prefix_len);
}

static size_t trim_len(const char *s, size_t len)
{
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	return len;
}

int range_parse(const char *s, size_t len, struct range *out, const char **why)
{
	const char *slash = memchr(s, '/', len);
	const char *dash = memchr(s, '-', len);
	struct addr base;
	if (slash != NULL) {
		size_t alen = (size_t)(slash - s);
		if (addr_parse(s, alen, &base) != 0) {
			*why = "not an IP address before '/'";
			return -1;
		}
		int prefix = 0;
		size_t plen = len - alen - 1;
		if (plen == 0 || plen > 3) {
			*why = "bad prefix length";
			return -1;
		}
		for (size_t i = 0; i < plen; i++) {
			char c = slash[1 + i];
			if (c < '0' || c > '9') {
				*why = "bad prefix length";
				return -1;
			}
			prefix = prefix * 10 + (c - '0');
		}
		/* The notation sets the family: "::ffff:0:0/96" counts over 128 bits, "10.0.0.0/8" over 32. */
		bool v6_notation = memchr(s, ':', alen) != NULL;
		if ((v6_notation ? range_from_bits(out, &base, prefix) : range_from_prefix(out, &base, prefix)) != 0) {
			*why = "prefix length out of range";
			return -1;
		}
		return 0;
	}
	if (dash != NULL) {
		size_t flen = trim_len(s, (size_t)(dash - s));
		const char *second = dash + 1;
		size_t slen = len - (size_t)(second - s);
		while (slen > 0 && (*second == ' ' || *second == '\t')) {
			second++;
			slen--;
		}
		if (addr_parse(s, flen, &out->first) != 0 || addr_parse(second, slen, &out->last) != 0) {
			*why = "not an address range FIRST-LAST";
			return -1;
		}
		if (addr_is_v4(&out->first) != addr_is_v4(&out->last)) {
			*why = "range mixes IPv4 and IPv6";
			return -1;
		}
		if (addr_cmp(&out->first, &out->last) > 0) {
			*why = "range ends before it starts";
			return -1;
		}
		return 0;
	}
	if (addr_parse(s, len, &base) != 0) {
		*why = "not an IP address or range";
		return -1;
	}
	out->first = out->last = base;
	return 0;
}

bool range_contains(const struct range *r, const struct addr *a)
{
	return addr_cmp(&r->first, a) <= 0 && addr_cmp(a, &r->last) <= 0;
}

uint64_t range_size(const struct range *r)
{
	/* last - first + 1 over 128 bits, saturated. */
	uint64_t hi_f = 0, lo_f = 0, hi_l = 0, lo_l = 0;
	for (int i = 0; i < 8; i++) {
		hi_f = hi_f << 8 | r->first.bytes[i];
		hi_l = hi_l << 8 | r->last.bytes[i];
		lo_f = lo_f << 8 | r->first.bytes[8 + i];
		lo_l = lo_l << 8 | r->last.bytes[8 + i];
	}
	uint64_t hi = hi_l - hi_f - (lo_l < lo_f);
	uint64_t lo = lo_l - lo_f;
	if (hi != 0 || lo == UINT64_MAX)
		return UINT64_MAX;
	return lo + 1;
}

const char *range_format(const struct range *r, char *buf, size_t buflen)
{
	char first[ADDR_STRLEN], last[ADDR_STRLEN];
	addr_format(&r->first, first);
	if (addr_cmp(&r->first, &r->last) == 0)
		snprintf(buf, buflen, "%s", first);
	else
		snprintf(buf, buflen, "%s-%s", first, addr_format(&r->last, last));
	return buf;
}
