/* What the DNSBL formats share: their table, an entry's reason, the zone's serial and names. */
#include "export/dnsbl.h"

#include <stdbool.h>
#include <string.h>

#include "core/escape.h"
#include "core/util.h"

static const struct dnsbl_format *const formats[] = {&dnsbl_format_rbldnsd, &dnsbl_format_bind};

const struct dnsbl_format *dnsbl_format_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(formats); i++)
		if (strcmp(formats[i]->name, name) == 0)
			return formats[i];
	return NULL;
}

const struct dnsbl_format *dnsbl_format_at(size_t i)
{
	return i < ARRAY_SIZE(formats) ? formats[i] : NULL;
}

/* Days since 1970-01-01 to a civil date (H. Hinnant's algorithm): no gmtime, no locale, per row. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

size_t dnsbl_utc(char out[DNSBL_UTC_SIZE], time_t t)
{
	int64_t days = (int64_t)t / 86400, secs = (int64_t)t % 86400, y;
	unsigned m, d;
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999)
		y = 0;
	unsigned v[] = {(unsigned)y,	      m, d, (unsigned)(secs / 3600), (unsigned)(secs / 60 % 60),
			(unsigned)(secs % 60)};
	char *p = out;
	for (int k = 3; k >= 0; k--)
		*p++ = (char)('0' + v[0] / (k == 3 ? 1000 : k == 2 ? 100 : k == 1 ? 10 : 1) % 10);
	static const char seps[] = "--T::Z";
	for (size_t i = 1; i < 6; i++) {
		*p++ = seps[i - 1];
		*p++ = (char)('0' + v[i] / 10 % 10);
		*p++ = (char)('0' + v[i] % 10);
	}
	*p++ = 'Z';
	*p = '\0';
	return (size_t)(p - out);
}

/* Appends len bytes of src at *at, within end (room for the NUL kept). */
static void put(char **at, char *end, const char *src, size_t len)
{
	if (len > (size_t)(end - *at))
		len = (size_t)(end - *at);
	memcpy(*at, src, len);
	*at += len;
}

static bool plain(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] < 0x20 || s[i] >= 0x7f || s[i] == '\\' || s[i] == '"')
			return false;
	return true;
}

size_t dnsbl_reason(char *buf, size_t size, const char *verdict, uint16_t port, const char *software,
		    size_t software_len, time_t proved, unsigned more_ports)
{
	char shown[ESCAPE_SIZE(DNSBL_SOFTWARE_MAX)];
	char when[DNSBL_UTC_SIZE], number[32];
	if (size > DNSBL_REASON_MAX + 1)
		size = DNSBL_REASON_MAX + 1;
	char *at = buf, *end = buf + size - 1;
	if (software == NULL)
		software_len = 0;
	if (software_len > DNSBL_SOFTWARE_MAX)
		software_len = DNSBL_SOFTWARE_MAX;
	/* peer bytes escaped (the common case needs none), then cut again: an
	 * escape never grows the reason past the software's share */
	if (!plain(software, software_len)) {
		escape_text(shown, DNSBL_SOFTWARE_MAX + 1, software, software_len);
		software = shown;
		software_len = strlen(shown);
	}
	put(&at, end, verdict, strlen(verdict));
	put(&at, end, " on port ", 9);
	put(&at, end, number, (size_t)snprintf(number, sizeof number, "%u", port));
	if (software_len > 0) {
		put(&at, end, " (", 2);
		put(&at, end, software, software_len);
		put(&at, end, ")", 1);
	}
	put(&at, end, ", last proven ", 14);
	put(&at, end, when, dnsbl_utc(when, proved));
	if (more_ports > 0) {
		put(&at, end, "; ", 2);
		put(&at, end, number, (size_t)snprintf(number, sizeof number, "%u", more_ports));
		put(&at, end, more_ports == 1 ? " more open port" : " more open ports",
		    more_ports == 1 ? 15 : 16);
	}
	*at = '\0';
	return (size_t)(at - buf);
}

uint32_t dnsbl_serial_next(uint32_t previous, time_t now)
{
	struct tm tm;
	uint32_t today = 0;
	if (gmtime_r(&now, &tm) != NULL)
		today = ((uint32_t)(tm.tm_year + 1900) * 10000u + (uint32_t)(tm.tm_mon + 1) * 100u +
			 (uint32_t)tm.tm_mday) *
			100u;
	return today > previous ? today : previous + 1;
}

int dnsbl_name_check(const char *name, size_t *len, const char **why)
{
	size_t n = strlen(name);
	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n == 0 || n > 253) {
		*why = "a domain name has 1 to 253 characters";
		return -1;
	}
	size_t label = 0;
	for (size_t i = 0; i <= n; i++) {
		char c = i < n ? name[i] : '.';
		if (c == '.') {
			if (label == 0 || label > 63) {
				*why = "each label of a domain name has 1 to 63 characters";
				return -1;
			}
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			   c == '-' || c == '_') {
			label++;
		} else {
			*why = "a domain name has letters, digits, '-' and '_' between its dots";
			return -1;
		}
	}
	*len = n;
	return 0;
}

static size_t copy_cut(char *dst, size_t size, const char *src, size_t len)
{
	if (len > size)
		len = size;
	memcpy(dst, src, len);
	return len;
}

int dnsbl_host_add(struct dnsbl_host *host, const char *address, size_t address_len, const char *verdict,
		   uint16_t port, const char *software, size_t software_len, time_t proved)
{
	if (host->held) {
		if (address_len != host->address_len || memcmp(address, host->address, address_len) != 0)
			return 1;
		host->ports++;
		if (proved <= host->proved)
			return 0;
	} else {
		/* cut, an address longer than any real one still does not parse */
		host->address_len = copy_cut(host->address, sizeof host->address, address, address_len);
		host->held = true;
		host->ports = 1;
	}
	size_t n = copy_cut(host->verdict, sizeof host->verdict - 1, verdict, strlen(verdict));
	host->verdict[n] = '\0';
	host->port = port;
	host->software_len =
	    software ? copy_cut(host->software, sizeof host->software, software, software_len) : 0;
	host->proved = proved;
	return 0;
}

void dnsbl_host_clear(struct dnsbl_host *host)
{
	host->held = false;
}

int dnsbl_host_entry(const struct dnsbl_host *host, struct dnsbl_entry *entry, char *reason, size_t size)
{
	if (!host->held || addr_parse(host->address, host->address_len, &entry->address) != 0)
		return -1;
	dnsbl_reason(reason, size, host->verdict, host->port, host->software, host->software_len,
		     host->proved, host->ports - 1);
	entry->reason = reason;
	return 0;
}
