/* What the DNSBL formats share: their table, an entry's reason, the zone's serial and names. */
#include "export/dnsbl.h"

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

const struct dnsbl_format *dnsbl_format_at(size_t i) { return i < ARRAY_SIZE(formats) ? formats[i] : NULL; }

size_t dnsbl_reason(char *buf, size_t size, const char *verdict, uint16_t port, const char *software,
		    size_t software_len, time_t proved, unsigned more_ports)
{
	char shown[ESCAPE_SIZE(DNSBL_SOFTWARE_MAX)];
	char when[32];
	char more[48] = "";
	struct tm tm;
	if (software_len > DNSBL_SOFTWARE_MAX)
		software_len = DNSBL_SOFTWARE_MAX;
	/* escaped, then cut again: an escape never grows the reason past its share */
	escape_text(shown, DNSBL_SOFTWARE_MAX + 1, software ? software : "", software ? software_len : 0);
	if (gmtime_r(&proved, &tm) == NULL || strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		strcpy(when, "(no time)");
	if (more_ports > 0)
		snprintf(more, sizeof more, "; %u more open port%s", more_ports, more_ports == 1 ? "" : "s");
	if (size > DNSBL_REASON_MAX + 1)
		size = DNSBL_REASON_MAX + 1;
	int n = shown[0] ? snprintf(buf, size, "%s on port %u (%s), last proven %s%s", verdict, port, shown, when, more)
			 : snprintf(buf, size, "%s on port %u, last proven %s%s", verdict, port, when, more);
	if (n < 0) {
		buf[0] = '\0';
		return 0;
	}
	return (size_t)n < size ? (size_t)n : size - 1;
}

uint32_t dnsbl_serial_next(uint32_t previous, time_t now)
{
	struct tm tm;
	uint32_t today = 0;
	if (gmtime_r(&now, &tm) != NULL)
		today = ((uint32_t)(tm.tm_year + 1900) * 10000u + (uint32_t)(tm.tm_mon + 1) * 100u +
			 (uint32_t)tm.tm_mday) * 100u;
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
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
			   c == '_') {
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
	host->software_len = software ? copy_cut(host->software, sizeof host->software, software, software_len) : 0;
	host->proved = proved;
	return 0;
}

void dnsbl_host_clear(struct dnsbl_host *host) { host->held = false; }

int dnsbl_host_entry(const struct dnsbl_host *host, struct dnsbl_entry *entry, char *reason, size_t size)
{
	if (!host->held || addr_parse(host->address, host->address_len, &entry->address) != 0)
		return -1;
	dnsbl_reason(reason, size, host->verdict, host->port, host->software, host->software_len, host->proved,
		     host->ports - 1);
	entry->reason = reason;
	return 0;
}
