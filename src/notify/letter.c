#include "notify/letter.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "notify/csv.h"
#include "core/util.h"

/* ---- small formatting helpers ---- */

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

/* "2004-01-29 14:05 UTC" in letters; "2004-01-29T14:05:00Z" in the CSV. */
static void format_time(int64_t t, const char *format, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, len, format, &tm) == 0)
		snprintf(buf, len, "%" PRId64, t);
}

/* "192.0.2.1:25", "[2001:db8::1]:25" */
static void endpoint(const struct letter_host *h, char *buf, size_t len)
{
	bool v6 = strchr(or_empty(h->address), ':') != NULL;
	snprintf(buf, len, "%s%s%s:%u", v6 ? "[" : "", or_empty(h->address), v6 ? "]" : "", h->port);
}

static const char *host_ticket(const struct letter *l, const struct letter_host *h)
{
	return h->ticket && h->ticket[0] ? h->ticket : or_empty(l->ticket);
}

int letter_evidence_url(const struct letter *l, const char *ticket, char *buf, size_t len)
{
	const char *base = or_empty(l->public_url);
	size_t n = strlen(base);
	while (n > 0 && base[n - 1] == '/')
		n--;
	bool key = l->ticket_key && l->ticket_key[0];
	/* issue 14's ticket page: PUBLIC_URL/t/<ticket>/<key> */
	int w = snprintf(buf, len, "%.*s/t/%s%s%s", (int)n, base, or_empty(ticket), key ? "/" : "",
			 key ? l->ticket_key : "");
	return w < 0 || (size_t)w >= len ? -1 : 0;
}

int letter_return_path(const char *ticket, const char *campaign_domain, char *buf, size_t len)
{
	if (ticket == NULL || ticket[0] == '\0' || campaign_domain == NULL || campaign_domain[0] == '\0')
		return -1;
	for (const char *p = ticket; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '-' || *p == '_' || *p == '.'))
			return -1;
	int w = snprintf(buf, len, "bounces+%s@%s", ticket, campaign_domain);
	return w < 0 || (size_t)w >= len ? -1 : 0;
}

/* ---- templates ---- */

int letter_templates_load(struct letter_templates *t, const char *templates_dir, const char *agency_id,
			  const char *language, struct tpl_error *err)
{
	memset(t, 0, sizeof *t);
	memset(err, 0, sizeof *err);
	char primary[16];
	snprintf(primary, sizeof primary, "%.*s", (int)strcspn(language, "-_"), language);
	const char *tries[] = {language, primary};
	for (size_t i = 0; i < 2; i++) {
		char subject[sizeof t->dir + 16], body[sizeof t->dir + 16];
		snprintf(t->dir, sizeof t->dir, "%s/%s/%s", templates_dir, agency_id, tries[i]);
		snprintf(subject, sizeof subject, "%s/subject.txt", t->dir);
		snprintf(body, sizeof body, "%s/body.txt", t->dir);
		FILE *probe = fopen(subject, "r");
		if (probe == NULL)
			continue;
		fclose(probe);
		if ((t->subject = tpl_load(subject, err)) == NULL ||
		    (t->body = tpl_load(body, err)) == NULL) {
			letter_templates_free(t);
			return -1;
		}
		return 0;
	}
	snprintf(err->message, sizeof err->message,
		 "%.200s/%.31s/%.15s: no letter template (subject.txt, body.txt)", templates_dir, agency_id,
		 language);
	return -1;
}

void letter_templates_free(struct letter_templates *t)
{
	tpl_free(t->subject);
	tpl_free(t->body);
	t->subject = t->body = NULL;
}

/* ---- the data a letter template sees (letter.h lists it) ---- */

static void set_agency(struct tpl_data *d, struct tpl_value *v, const struct letter_agency *a)
{
	tpl_set_string(d, v, "name", a->name);
	tpl_set_string(d, v, "short", a->short_name);
	tpl_set_string(d, v, "sender", a->sender);
	tpl_set_string(d, v, "reply_to", a->reply_to && a->reply_to[0] ? a->reply_to : a->sender);
	tpl_set_string(d, v, "language", a->language);
}

static const struct {
	const char *verdict, *key;
} verdict_keys[] = {
    {"open-relay", "open_relay"},
    {"relay-accepted", "relay_accepted"},
    {"open-proxy-mail", "open_proxy_mail"},
    {"open-proxy-web", "open_proxy_web"},
};

static void set_host(struct tpl_data *d, struct tpl_value *v, const struct letter *l,
		     const struct letter_host *h)
{
	char buf[512];
	tpl_set_string(d, v, "address", h->address);
	snprintf(buf, sizeof buf, "%u", h->port);
	tpl_set_string(d, v, "port", buf);
	endpoint(h, buf, sizeof buf);
	tpl_set_string(d, v, "endpoint", buf);
	tpl_set_string(d, v, "verdict", h->verdict);
	for (size_t i = 0; i < ARRAY_SIZE(verdict_keys); i++)
		tpl_set_bool(d, v, verdict_keys[i].key,
			     strcmp(or_empty(h->verdict), verdict_keys[i].verdict) == 0);
	enum guide_family family = GUIDE_PROXY;
	bool known = guide_family_of_verdict(h->verdict, &family) == 0;
	tpl_set_bool(d, v, "relay", known && family == GUIDE_RELAY);
	tpl_set_bool(d, v, "proxy", known && family == GUIDE_PROXY);
	tpl_set_string(d, v, "variant", h->variant);
	format_time(h->proven_at, "%Y-%m-%d %H:%M UTC", buf, sizeof buf);
	tpl_set_string(d, v, "when", buf);
	tpl_set_string(d, v, "software", h->software);
	if (h->asn)
		snprintf(buf, sizeof buf, "AS%" PRIu32, h->asn);
	tpl_set_string(d, v, "asn", h->asn ? buf : "");
	tpl_set_string(d, v, "country", h->country);
	tpl_set_string(d, v, "ticket", host_ticket(l, h));
	letter_evidence_url(l, host_ticket(l, h), buf, sizeof buf);
	tpl_set_string(d, v, "evidence_url", buf);
}

static const char *host_guide(const struct letter_host *h)
{
	enum guide_family family = GUIDE_RELAY;
	if (guide_family_of_verdict(h->verdict, &family) != 0)
		family = GUIDE_PROXY;
	return guide_for(h->software, h->variant, family);
}

/* Appends ", item" (or "item") to a list kept in buf, unless it is there already. */
static void join_once(char *buf, size_t len, const char *item)
{
	if (item == NULL || item[0] == '\0')
		return;
	size_t n = strlen(item);
	for (const char *p = buf; (p = strstr(p, item)) != NULL; p += n)
		if ((p == buf || p[-1] == ' ') && (p[n] == '\0' || p[n] == ','))
			return;
	size_t used = strlen(buf);
	snprintf(buf + used, len - used, "%s%s", used ? ", " : "", item);
}

#define GUIDE_ENDPOINTS_NAMED 4 /* a guide's heading names this many hosts, then "+N" */

/* One guide for the hosts of l that need guide name: its title, text, software and hosts. */
static int add_guide(struct tpl_data *d, struct tpl_value *list, const struct letter *l,
		     const char *const *names, const char *name, struct guides *guides, struct tpl_error *err)
{
	char software[256] = "", endpoints[512] = "", buf[80], port[8], title[GUIDE_MAX_TITLE];
	size_t first = l->host_count, count = 0;
	for (size_t k = 0; k < l->host_count; k++) {
		if (names[k] != name)
			continue;
		first = first < k ? first : k;
		join_once(software, sizeof software, l->hosts[k].software);
		if (count++ < GUIDE_ENDPOINTS_NAMED) {
			endpoint(&l->hosts[k], buf, sizeof buf);
			join_once(endpoints, sizeof endpoints, buf);
		}
	}
	struct textbuf text;
	textbuf_init(&text, LETTER_MAX_BODY);
	snprintf(port, sizeof port, "%u", l->hosts[first].port);
	if (guides_render(guides, name, GUIDE_TEXT, GUIDE_ACTIONS_ONLY, or_empty(l->hosts[first].address),
			  port, &text, title, err) != 0) {
		textbuf_free(&text);
		return -1;
	}
	struct tpl_value *g = tpl_list_add_object(d, list);
	tpl_set_string(d, g, "title", title);
	size_t len = text.len;
	while (len > 0 && text.data[len - 1] == '\n') /* the template's line ends it */
		len--;
	tpl_set_stringn(d, g, "text", text.data ? text.data : "", len);
	tpl_set_string(d, g, "software", software);
	tpl_set_string(d, g, "endpoints", endpoints);
	if (count > GUIDE_ENDPOINTS_NAMED)
		snprintf(buf, sizeof buf, "%zu", count - GUIDE_ENDPOINTS_NAMED);
	tpl_set_string(d, g, "more", count > GUIDE_ENDPOINTS_NAMED ? buf : "");
	textbuf_free(&text);
	return 0;
}

/* One guide per distinct guide among the hosts, in the order the hosts first need them. */
static int set_guides(struct tpl_data *d, struct tpl_value *list, const struct letter *l,
		      struct guides *guides, struct tpl_error *err)
{
	const char **names = calloc(l->host_count ? l->host_count : 1, sizeof *names);
	if (names == NULL) {
		snprintf(err->message, sizeof err->message, "out of memory");
		return -1;
	}
	/* guide_for returns the table's own strings, so a name compares by pointer */
	for (size_t i = 0; i < l->host_count; i++)
		names[i] = host_guide(&l->hosts[i]);
	const char *done[64];
	size_t ndone = 0;
	int rc = 0;
	for (size_t i = 0; i < l->host_count && rc == 0; i++) {
		bool seen = false;
		for (size_t k = 0; k < ndone && !seen; k++)
			seen = done[k] == names[i];
		if (seen || ndone == ARRAY_SIZE(done))
			continue;
		done[ndone++] = names[i];
		rc = add_guide(d, list, l, names, names[i], guides, err);
	}
	free(names);
	return rc;
}

static int letter_data(const struct letter *l, struct guides *guides, struct tpl_data *d,
		       struct tpl_error *err)
{
	struct tpl_value *root = tpl_root(d);
	char buf[512];
	tpl_set_string(d, root, "campaign", l->campaign);
	set_agency(d, tpl_set_object(d, root, "agency"), &l->agency);
	tpl_set_bool(d, root, "lead", l->lead);
	struct tpl_value *participants = tpl_set_list(d, root, "participants");
	for (size_t i = 0; i < l->participant_count; i++)
		set_agency(d, tpl_list_add_object(d, participants), &l->participants[i]);
	struct tpl_value *owner = tpl_set_object(d, root, "owner");
	tpl_set_string(d, owner, "name", l->owner);
	tpl_set_string(d, owner, "handle", l->owner_handle);
	tpl_set_string(d, root, "contact", l->contact);
	tpl_set_string(d, root, "ticket", l->ticket);
	letter_evidence_url(l, l->ticket, buf, sizeof buf);
	tpl_set_string(d, root, "evidence_url", buf);
	tpl_set_string(d, root, "unsubscribe_url", l->unsubscribe_url);
	tpl_set_string(d, root, "unsubscribe_mailto", l->unsubscribe_mailto);
	snprintf(buf, sizeof buf, "%zu", l->host_count);
	tpl_set_string(d, root, "host_count", buf);
	tpl_set_bool(d, root, "several_hosts", l->host_count > 1);
	bool relay = false, proxy = false;
	size_t listed =
	    l->max_hosts_listed && l->max_hosts_listed < l->host_count ? l->max_hosts_listed : l->host_count;
	struct tpl_value *hosts = tpl_set_list(d, root, "hosts");
	for (size_t i = 0; i < l->host_count; i++) {
		enum guide_family family;
		if (guide_family_of_verdict(l->hosts[i].verdict, &family) == 0) {
			relay |= family == GUIDE_RELAY;
			proxy |= family == GUIDE_PROXY;
		}
		if (i < listed)
			set_host(d, tpl_list_add_object(d, hosts), l, &l->hosts[i]);
	}
	snprintf(buf, sizeof buf, "%zu", l->host_count - listed);
	tpl_set_string(d, root, "unlisted", listed < l->host_count ? buf : "");
	tpl_set_bool(d, root, "has_relay", relay);
	tpl_set_bool(d, root, "has_proxy", proxy);
	return set_guides(d, tpl_set_list(d, root, "guides"), l, guides, err);
}

/* The subject on one line: runs of whitespace (newlines too) become one space, none at the ends. */
static void one_line(char *s)
{
	char *w = s;
	bool pending = false;
	for (const char *r = s; *r; r++) {
		if (*r == ' ' || *r == '\t' || *r == '\n' || *r == '\r') {
			pending = w != s;
			continue;
		}
		if (pending)
			*w++ = ' ';
		pending = false;
		*w++ = *r;
	}
	*w = '\0';
}

int letter_render(const struct letter *l, const struct letter_templates *t, struct guides *guides,
		  struct letter_text *out, struct tpl_error *err)
{
	memset(out, 0, sizeof *out);
	memset(err, 0, sizeof *err);
	struct tpl_data *d = tpl_data_new();
	if (d == NULL) {
		snprintf(err->message, sizeof err->message, "out of memory");
		return -1;
	}
	struct textbuf subject, body;
	textbuf_init(&subject, 4096);
	textbuf_init(&body, LETTER_MAX_BODY);
	int rc = letter_data(l, guides, d, err);
	if (rc == 0)
		rc = tpl_render(t->subject, d, tpl_escape_text, TPL_STRICT, &subject, err);
	if (rc == 0)
		rc = tpl_render(t->body, d, tpl_escape_text, TPL_STRICT, &body, err);
	tpl_data_free(d);
	if (rc == 0) {
		out->subject = textbuf_take(&subject, NULL);
		out->body = textbuf_take(&body, &out->body_len);
		if (out->subject == NULL || out->body == NULL) {
			snprintf(err->message, sizeof err->message, "out of memory");
			letter_text_free(out);
			rc = -1;
		} else {
			one_line(out->subject);
		}
	}
	textbuf_free(&subject);
	textbuf_free(&body);
	return rc;
}

void letter_text_free(struct letter_text *text)
{
	free(text->subject);
	free(text->body);
	memset(text, 0, sizeof *text);
}

/* ---- the hosts as CSV ---- */

/* The protocol column: smtp for a relay, else the proxy protocol that proved it. */
static const char *csv_protocol(const struct letter_host *h)
{
	enum guide_family family;
	if (guide_family_of_verdict(h->verdict, &family) == 0 && family == GUIDE_RELAY)
		return "smtp";
	return h->variant && h->variant[0] ? h->variant : "proxy";
}

int letter_csv(const struct letter *l, struct textbuf *out)
{
	static const char *const header[] = {"timestamp", "ip",	     "port",	 "protocol", "verdict",
					     "asn",	  "country", "software", "ticket"};
	if (csv_record(out, header, ARRAY_SIZE(header)) != 0)
		return -1;
	for (size_t i = 0; i < l->host_count; i++) {
		const struct letter_host *h = &l->hosts[i];
		char when[32], port[8], asn[16] = "";
		format_time(h->proven_at, "%Y-%m-%dT%H:%M:%SZ", when, sizeof when);
		snprintf(port, sizeof port, "%u", h->port);
		if (h->asn)
			snprintf(asn, sizeof asn, "%" PRIu32, h->asn);
		const char *fields[] = {when, h->address, port,	       csv_protocol(h),	 h->verdict,
					asn,  h->country, h->software, host_ticket(l, h)};
		if (csv_record(out, fields, ARRAY_SIZE(fields)) != 0)
			return -1;
	}
	return 0;
}
