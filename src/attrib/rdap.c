#include "attrib/rdap.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/duration.h"
#include "core/log.h"
#include "core/paths.h"

#define MAX_REGISTRIES 32
#define MAX_ENTITY_DEPTH 4

/* ---- bootstrap ---- */

static int add_service(struct rdap_bootstrap *bs, const struct range *range, const char *base)
{
	struct rdap_service *grown = realloc(bs->services, (bs->count + 1) * sizeof *grown);
	if (grown == NULL)
		return -1;
	bs->services = grown;
	struct rdap_service *s = &grown[bs->count++];
	s->range = *range;
	size_t n = strlen(base);
	snprintf(s->base, sizeof s->base, "%s%s", base, n > 0 && base[n - 1] == '/' ? "" : "/");
	return 0;
}

/* The https URL when a service offers one, else its first. */
static const char *pick_url(json_t *urls)
{
	const char *first = NULL;
	size_t i;
	json_t *u;
	json_array_foreach(urls, i, u)
	{
		const char *s = json_string_value(u);
		if (s == NULL || (strncmp(s, "https://", 8) != 0 && strncmp(s, "http://", 7) != 0) ||
		    strlen(s) > 200)
			continue;
		if (strncmp(s, "https://", 8) == 0)
			return s;
		if (first == NULL)
			first = s;
	}
	return first;
}

int rdap_bootstrap_parse(struct rdap_bootstrap *bs, const char *json, size_t len, const char **why)
{
	json_error_t error;
	json_t *root = json_loadb(json, len, 0, &error);
	json_t *services = json_object_get(root, "services");
	int rc = 0;
	if (!json_is_array(services)) {
		*why = root ? "no \"services\" array" : "not JSON";
		json_decref(root);
		return -1;
	}
	size_t i;
	json_t *service;
	json_array_foreach(services, i, service)
	{
		json_t *prefixes = json_array_get(service, 0);
		const char *url = pick_url(json_array_get(service, 1));
		if (!json_is_array(prefixes) || url == NULL) {
			*why = "a service without prefixes or an http(s) URL";
			rc = -1;
			break;
		}
		size_t j;
		json_t *prefix;
		json_array_foreach(prefixes, j, prefix)
		{
			const char *text = json_string_value(prefix);
			const char *bad;
			struct range range;
			if (text == NULL || range_parse(text, strlen(text), &range, &bad) != 0) {
				*why = "a prefix that is not one";
				rc = -1;
				break;
			}
			if (add_service(bs, &range, url) != 0) {
				*why = "out of memory";
				rc = -1;
				break;
			}
		}
		if (rc != 0)
			break;
	}
	json_decref(root);
	return rc;
}

static int load_file(struct rdap_bootstrap *bs, const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		log_error("%s: %s", path, strerror(errno));
		return -1;
	}
	char *text = malloc(RDAP_MAX_BOOTSTRAP);
	size_t len = text ? fread(text, 1, RDAP_MAX_BOOTSTRAP, f) : 0;
	bool too_long = text && len == RDAP_MAX_BOOTSTRAP;
	fclose(f);
	const char *why = "out of memory";
	int rc = -1;
	if (text != NULL && !too_long)
		rc = rdap_bootstrap_parse(bs, text, len, &why);
	if (too_long)
		why = "longer than a bootstrap file can be";
	if (rc != 0)
		log_error("%s: RDAP bootstrap: %s", path, why);
	free(text);
	return rc;
}

int rdap_bootstrap_load(struct rdap_bootstrap *bs, const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		log_error("%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return load_file(bs, path);
	char file[4096];
	static const char *const names[] = {"ipv4.json", "ipv6.json"};
	for (size_t i = 0; i < 2; i++) {
		snprintf(file, sizeof file, "%s/%s", path, names[i]);
		if (load_file(bs, file) != 0)
			return -1;
	}
	return 0;
}

void rdap_bootstrap_free(struct rdap_bootstrap *bs)
{
	free(bs->services);
	bs->services = NULL;
	bs->count = 0;
}

const char *rdap_bootstrap_find(const struct rdap_bootstrap *bs, const struct addr *a)
{
	const struct rdap_service *best = NULL;
	for (size_t i = 0; i < bs->count; i++) {
		const struct rdap_service *s = &bs->services[i];
		if (!range_contains(&s->range, a))
			continue;
		/* nested prefixes: the later start (or earlier end) is the more specific */
		if (best == NULL || addr_cmp(&s->range.first, &best->range.first) > 0 ||
		    (addr_cmp(&s->range.first, &best->range.first) == 0 &&
		     addr_cmp(&s->range.last, &best->range.last) < 0))
			best = s;
	}
	return best ? best->base : NULL;
}

/* ---- answers ---- */

static void copy_string(json_t *value, char *out, size_t outlen)
{
	const char *s = json_string_value(value);
	snprintf(out, outlen, "%s", s ? s : "");
}

static bool has_role(json_t *entity, const char *role)
{
	size_t i;
	json_t *r;
	json_array_foreach(json_object_get(entity, "roles"), i, r)
	{
		const char *s = json_string_value(r);
		if (s != NULL && strcasecmp(s, role) == 0)
			return true;
	}
	return false;
}

/* A vCard property's text value: ["email", {}, "text", "abuse@example.net"]. */
static const char *vcard_value(json_t *entity, const char *property)
{
	json_t *properties = json_array_get(json_object_get(entity, "vcardArray"), 1);
	size_t i;
	json_t *p;
	json_array_foreach(properties, i, p)
	{
		const char *name = json_string_value(json_array_get(p, 0));
		const char *value = json_string_value(json_array_get(p, 3));
		if (name != NULL && value != NULL && strcasecmp(name, property) == 0 && value[0] != '\0')
			return value;
	}
	return NULL;
}

/* Breadth before depth: the network's own abuse entity wins over one nested in its registrant. */
static const char *find_entity_value(json_t *entities, const char *role, const char *property, int depth)
{
	size_t i;
	json_t *e;
	if (depth > MAX_ENTITY_DEPTH)
		return NULL;
	json_array_foreach(entities, i, e)
	{
		const char *value = has_role(e, role) ? vcard_value(e, property) : NULL;
		if (value != NULL)
			return value;
	}
	json_array_foreach(entities, i, e)
	{
		const char *value =
		    find_entity_value(json_object_get(e, "entities"), role, property, depth + 1);
		if (value != NULL)
			return value;
	}
	return NULL;
}

int rdap_parse_ip(const char *json, size_t len, struct store_rdap_net *out, const char **why)
{
	json_error_t error;
	json_t *root = json_loadb(json, len, 0, &error);
	memset(out, 0, sizeof *out);
	if (!json_is_object(root)) {
		*why = root ? "answer is not a JSON object" : "answer is not JSON";
		json_decref(root);
		return -1;
	}
	int rc = -1;
	const char *start = json_string_value(json_object_get(root, "startAddress"));
	const char *end = json_string_value(json_object_get(root, "endAddress"));
	const char *cls = json_string_value(json_object_get(root, "objectClassName"));
	if (json_object_get(root, "errorCode") != NULL) {
		*why = "answer is an error object";
	} else if (cls != NULL && strcmp(cls, "ip network") != 0) {
		*why = "answer is not an ip network";
	} else if (start == NULL || end == NULL || addr_parse(start, strlen(start), &out->range.first) != 0 ||
		   addr_parse(end, strlen(end), &out->range.last) != 0 ||
		   addr_is_v4(&out->range.first) != addr_is_v4(&out->range.last) ||
		   addr_cmp(&out->range.first, &out->range.last) > 0) {
		*why = "answer has no valid startAddress/endAddress";
	} else {
		json_t *entities = json_object_get(root, "entities");
		const char *abuse = find_entity_value(entities, "abuse", "email", 0);
		const char *org = find_entity_value(entities, "registrant", "fn", 0);
		copy_string(json_object_get(root, "handle"), out->handle, sizeof out->handle);
		copy_string(json_object_get(root, "name"), out->name, sizeof out->name);
		copy_string(json_object_get(root, "parentHandle"), out->parent, sizeof out->parent);
		const char *country = json_string_value(json_object_get(root, "country"));
		if (country != NULL && strlen(country) == 2)
			snprintf(out->country, sizeof out->country, "%s", country);
		snprintf(out->abuse, sizeof out->abuse, "%s", abuse && strchr(abuse, '@') ? abuse : "");
		snprintf(out->org, sizeof out->org, "%s", org ? org : "");
		out->status = 200;
		rc = 0;
	}
	json_decref(root);
	return rc;
}

/* ---- the client ---- */

void rdap_options_default(struct rdap_options *o)
{
	o->bootstrap = NULL;
	o->ttl = 7 * 86400;
	o->rate = 1.0;
	o->timeout = 20;
	o->retries = 3;
	o->max_wait = 60;
	o->stop = NULL;
}

int rdap_option_set(struct rdap_options *o, const char *name, const char *value, const char **why)
{
	char *end;
	if (strcmp(name, "rdap-bootstrap") == 0) {
		o->bootstrap = value;
		return 0;
	}
	long *duration = strcmp(name, "rdap-ttl") == 0 ? &o->ttl : strcmp(name, "rdap-timeout") == 0 ? &o->timeout : NULL;
	if (duration != NULL) {
		/* durations, with units (7d, 20s) like every other; whole seconds, at least one */
		double seconds;
		if (duration_parse(value, strlen(value), &seconds, why) != 0)
			return -1;
		if (!(seconds >= 1) || seconds > 1e9) {
			*why = "wants a duration of at least 1s";
			return -1;
		}
		*duration = (long)seconds;
		return 0;
	}
	double number = strtod(value, &end);
	if (end == value || *end != '\0' || !(number > 0) || number > 1e9) {
		*why = "wants a positive number";
		return -1;
	}
	if (strcmp(name, "rdap-rate") == 0)
		o->rate = number;
	else {
		*why = "is not an RDAP option";
		return -1;
	}
	return 0;
}

struct registry_state {
	char base[256];
	struct timespec next; /* when this registry may be asked again */
};

struct rdap_client {
	struct store *store;
	struct rdap_options options;
	struct rdap_bootstrap bootstrap;
	CURL *curl;
	struct registry_state registries[MAX_REGISTRIES];
	size_t registry_count;
	struct rdap_counters counters;
	char *body;
	size_t body_len, body_cap;
	bool overflow;
	long retry_after;
};

static size_t on_body(char *data, size_t size, size_t count, void *user)
{
	struct rdap_client *c = user;
	size_t n = size * count;
	if (c->body_len + n > c->body_cap) {
		c->overflow = true;
		return 0; /* aborts the transfer */
	}
	memcpy(c->body + c->body_len, data, n);
	c->body_len += n;
	return n;
}

static size_t on_header(char *data, size_t size, size_t count, void *user)
{
	struct rdap_client *c = user;
	size_t n = size * count;
	static const char name[] = "retry-after:";
	if (n > sizeof name && strncasecmp(data, name, sizeof name - 1) == 0) {
		char value[32];
		size_t len =
		    n - (sizeof name - 1) < sizeof value - 1 ? n - (sizeof name - 1) : sizeof value - 1;
		memcpy(value, data + sizeof name - 1, len);
		value[len] = '\0';
		char *end;
		long seconds = strtol(value, &end, 10);
		/* an HTTP-date instead of seconds: leave it to the default back-off */
		if (end != value && seconds >= 0)
			c->retry_after = seconds;
	}
	return n;
}

static bool stopping(const struct rdap_client *c) { return c->options.stop != NULL && *c->options.stop; }

/* Called about once a second during a transfer: non-zero ends it. */
static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	return stopping(arg);
}

static CURL *make_curl(struct rdap_client *c, long timeout)
{
	CURL *curl = curl_easy_init();
	if (curl == NULL)
		return NULL;
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, timeout);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, timeout < 5 ? timeout : 5L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "plughole-attribution/1 (+RDAP; bulk first)");
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(curl, CURLOPT_XFERINFODATA, c);
	curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
	return curl;
}

struct rdap_client *rdap_client_new(struct store *store, const struct rdap_options *options)
{
	struct rdap_client *c = calloc(1, sizeof *c);
	char path[4096];
	if (c == NULL)
		return NULL;
	c->store = store;
	c->options = *options;
	c->body_cap = RDAP_MAX_BODY;
	c->body = malloc(c->body_cap);
	const char *bootstrap =
	    options->bootstrap ? options->bootstrap : data_path("rdap", path, sizeof path);
	if (c->body == NULL || rdap_bootstrap_load(&c->bootstrap, bootstrap) != 0 ||
	    curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		rdap_bootstrap_free(&c->bootstrap);
		free(c->body);
		free(c);
		return NULL;
	}
	c->curl = make_curl(c, options->timeout);
	if (c->curl == NULL) {
		rdap_client_free(c);
		return NULL;
	}
	return c;
}

void rdap_client_free(struct rdap_client *c)
{
	if (c == NULL)
		return;
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	curl_global_cleanup();
	rdap_bootstrap_free(&c->bootstrap);
	free(c->body);
	free(c);
}

const struct rdap_counters *rdap_client_counters(const struct rdap_client *c)
{
	return &c->counters;
}

static struct registry_state *registry_for(struct rdap_client *c, const char *base)
{
	for (size_t i = 0; i < c->registry_count; i++)
		if (strcmp(c->registries[i].base, base) == 0)
			return &c->registries[i];
	/* more registries than slots: the last slot is shared, which only slows them */
	struct registry_state *r =
	    &c->registries[c->registry_count < MAX_REGISTRIES ? c->registry_count++ : MAX_REGISTRIES - 1];
	snprintf(r->base, sizeof r->base, "%s", base);
	clock_gettime(CLOCK_MONOTONIC, &r->next);
	return r;
}

static void timespec_add(struct timespec *t, double seconds)
{
	double whole = floor(seconds);
	t->tv_sec += (time_t)whole;
	t->tv_nsec += (long)((seconds - whole) * 1e9);
	if (t->tv_nsec >= 1000000000L) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000L;
	}
}

/* Sleeps until the registry may be asked, then books its next slot. */
static void wait_turn(struct rdap_client *c, struct registry_state *r)
{
	struct timespec now;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &r->next, NULL) == EINTR && !stopping(c))
		;
	clock_gettime(CLOCK_MONOTONIC, &now);
	r->next = now;
	timespec_add(&r->next, c->options.rate > 0 ? 1.0 / c->options.rate : 0);
}

/* "host[:port]" of a URL. */
static void url_host(const char *url, char *out, size_t outlen)
{
	const char *p = strstr(url, "://");
	p = p ? p + 3 : url;
	size_t n = strcspn(p, "/?#");
	snprintf(out, outlen, "%.*s", (int)n, p);
}

/* One GET; the status, -1 when no HTTP answer came (worth a retry), -2 for an answer refused. */
static long fetch(struct rdap_client *c, CURL *curl, const char *url)
{
	c->body_len = 0;
	c->overflow = false;
	c->retry_after = -1;
	curl_easy_setopt(curl, CURLOPT_URL, url);
	struct curl_slist *headers =
	    curl_slist_append(NULL, "Accept: application/rdap+json, application/json");
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	CURLcode rc = curl_easy_perform(curl);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(headers);
	if (c->overflow) {
		log_warn("%s: answer longer than %u bytes", url, RDAP_MAX_BODY);
		return -2;
	}
	if (rc != CURLE_OK) {
		log_warn("%s: %s", url, curl_easy_strerror(rc));
		return -1;
	}
	long status = 0;
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	return status;
}

int rdap_lookup(struct rdap_client *c, const struct addr *a, struct store_rdap_net *out)
{
	time_t now = time(NULL);
	int cached = store_rdap_get(c->store, a, now, out);
	if (cached < 0)
		return -1;
	if (cached == 1) {
		c->counters.cache_hits++;
		return out->status == 200;
	}
	char text[ADDR_STRLEN], url[512];
	const char *base = rdap_bootstrap_find(&c->bootstrap, a);
	if (base == NULL) {
		log_debug("rdap: no registry in the bootstrap serves %s", addr_format(a, text));
		return 0;
	}
	snprintf(url, sizeof url, "%sip/%s", base, addr_format(a, text));
	struct registry_state *registry = registry_for(c, base);
	long status = -1;
	for (int attempt = 0; attempt <= c->options.retries; attempt++) {
		wait_turn(c, registry);
		c->counters.queries++;
		status = fetch(c, c->curl, url);
		if ((status != 429 && status != -1) || stopping(c))
			break;
		/* back off: as long as the registry says, else doubling from one second */
		double wait =
		    status == 429 && c->retry_after >= 0 ? (double)c->retry_after : (double)(1L << attempt);
		if (wait > (double)c->options.max_wait)
			wait = (double)c->options.max_wait;
		if (status == 429) {
			c->counters.rate_limited++;
			log_info("rdap: %s asks us to slow down; waiting %.0f s", base, wait);
		}
		clock_gettime(CLOCK_MONOTONIC, &registry->next);
		timespec_add(&registry->next, wait);
	}
	memset(out, 0, sizeof *out);
	char *effective = NULL;
	curl_easy_getinfo(c->curl, CURLINFO_EFFECTIVE_URL, &effective);
	snprintf(out->url, sizeof out->url, "%s", effective ? effective : url);
	url_host(out->url, out->registry, sizeof out->registry);
	out->fetched = (int64_t)now;
	out->expires = (int64_t)now + c->options.ttl;
	if (status == 404) {
		/* remembered for this address alone: the registry named no range */
		c->counters.not_found++;
		out->status = 404;
		out->range.first = out->range.last = *a;
		return store_rdap_put(c->store, out) == 0 ? 0 : -1;
	}
	if (status != 200) {
		c->counters.errors++;
		if (status > 0)
			log_warn("rdap: %s: HTTP %ld", out->url, status);
		return -1;
	}
	struct store_rdap_net parsed;
	const char *why;
	if (rdap_parse_ip(c->body, c->body_len, &parsed, &why) != 0 || !range_contains(&parsed.range, a)) {
		c->counters.errors++;
		log_warn("rdap: %s: %s", out->url,
			 parsed.status ? "answer's range does not hold the address" : why);
		return -1;
	}
	snprintf(parsed.url, sizeof parsed.url, "%s", out->url);
	snprintf(parsed.registry, sizeof parsed.registry, "%s", out->registry);
	parsed.fetched = out->fetched;
	parsed.expires = out->expires;
	*out = parsed;
	return store_rdap_put(c->store, out) == 0 ? 1 : -1;
}

int rdap_bootstrap_fetch(const char *base_url, const char *dir, long timeout)
{
	static const char *const names[] = {"ipv4.json", "ipv6.json"};
	struct rdap_client c;
	memset(&c, 0, sizeof c);
	c.body_cap = RDAP_MAX_BOOTSTRAP;
	c.body = malloc(c.body_cap);
	if (c.body == NULL || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		free(c.body);
		return -1;
	}
	CURL *curl = make_curl(&c, timeout);
	int rc = curl ? 0 : -1;
	for (size_t i = 0; rc == 0 && i < 2; i++) {
		char url[1024], path[4096], tmp[4200];
		struct rdap_bootstrap check = {NULL, 0};
		const char *why = NULL;
		size_t n = strlen(base_url);
		snprintf(url, sizeof url, "%s%s%s", base_url, n && base_url[n - 1] == '/' ? "" : "/",
			 names[i]);
		long status = fetch(&c, curl, url);
		if (status != 200 || rdap_bootstrap_parse(&check, c.body, c.body_len, &why) != 0 ||
		    check.count == 0) {
			log_error("%s: %s", url,
				  status != 200 ? "no bootstrap file here"
				  : why		? why
						: "no services");
			rc = -1;
		}
		size_t services = check.count;
		rdap_bootstrap_free(&check);
		if (rc != 0)
			break;
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		snprintf(tmp, sizeof tmp, "%s.tmp", path);
		FILE *f = fopen(tmp, "wb");
		if (f == NULL || fwrite(c.body, 1, c.body_len, f) != c.body_len || fflush(f) != 0 ||
		    fsync(fileno(f)) != 0) {
			log_error("%s: %s", tmp, strerror(errno));
			rc = -1;
		}
		if (f != NULL && fclose(f) != 0)
			rc = -1;
		if (rc == 0 && rename(tmp, path) != 0) {
			log_error("%s: %s", path, strerror(errno));
			rc = -1;
		}
		if (rc != 0)
			unlink(tmp);
		else
			log_info("%s: %zu prefixes from %s", path, services, url);
	}
	if (curl != NULL)
		curl_easy_cleanup(curl);
	curl_global_cleanup();
	free(c.body);
	return rc;
}
