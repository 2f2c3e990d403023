#include "track/owner_check.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "probe/probe.h"
#include "track/rounds.h"

extern char **environ;

/* The relay's port, and the proxy ports most often found open (HTTP, SOCKS). */
const struct owner_check_port owner_check_ports[] = {
    {25, PROBE_RELAY},	 {80, PROBE_PROXY},   {1080, PROBE_PROXY}, {3128, PROBE_PROXY},
    {8000, PROBE_PROXY}, {8080, PROBE_PROXY}, {8118, PROBE_PROXY}, {8888, PROBE_PROXY},
};
const size_t owner_check_port_count = ARRAY_SIZE(owner_check_ports);

#define OWNER_SOURCE "owner-check" /* the candidates an address check makes */
#define TICKET_PREFIX "ticket:"
#define ADDRESS_PREFIX "address:"

void owner_check_requested_by(const char *ticket, const char *address, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s", ticket ? TICKET_PREFIX : ADDRESS_PREFIX, ticket ? ticket : address);
}

static const char *const state_names[] = {
    [OWNER_PENDING] = "pending",
    [OWNER_OPEN] = "open",
    [OWNER_FIXED] = "fixed",
    [OWNER_GONE] = "gone",
    [OWNER_INCONCLUSIVE] = "inconclusive",
    [OWNER_NOT_TESTED] = "not-tested",
};
const char *owner_check_state_name(enum owner_check_state state)
{
	return state_names[state];
}

/* As campaign_round_outcomes (store_schema.c) says for a recheck, without 'changed': an owner asks "still
 * open?". */
enum owner_check_state owner_check_state_of(const char *verdict)
{
	static const char *const open[] = {"open-relay", "open-proxy-mail", "open-proxy-web"};
	for (size_t i = 0; i < ARRAY_SIZE(open); i++)
		if (strcmp(verdict, open[i]) == 0)
			return OWNER_OPEN;
	if (strcmp(verdict, "closed") == 0)
		return OWNER_FIXED;
	if (strcmp(verdict, "unreachable") == 0)
		return OWNER_GONE;
	return OWNER_INCONCLUSIVE;
}

/* ---- the check's hosts ---- */

struct target {
	char address[ADDR_STRLEN];
	uint16_t port;
	unsigned families;
	int64_t candidate_id; /* 0: not a candidate yet */
};
struct targets {
	struct target *items;
	size_t count, cap;
	int failed;
};

static struct target *target_push(struct targets *t)
{
	if (t->count == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct target *grown = realloc(t->items, cap * sizeof *grown);
		if (grown == NULL) {
			t->failed = 1;
			return NULL;
		}
		t->items = grown;
		t->cap = cap;
	}
	struct target *item = &t->items[t->count++];
	memset(item, 0, sizeof *item);
	return item;
}

static void ticket_host(void *ctx, const struct store_row *row)
{
	struct targets *t = ctx;
	const char *address = row->values ? store_row_value(row, "address") : NULL;
	if (address == NULL)
		return;
	struct target *item = target_push(t);
	if (item == NULL)
		return;
	const char *test = store_row_value(row, "test");
	snprintf(item->address, sizeof item->address, "%s", address);
	item->port = (uint16_t)atoi(store_row_value(row, "port"));
	item->families = test != NULL && strcmp(test, "proxy") == 0 ? PROBE_PROXY : PROBE_RELAY;
}

/*
 * The check's hosts with their candidate ids: the ticket's frozen hosts, or
 * the address on each port (create: made candidates when missing). 1, 0 no
 * such ticket, -1 error.
 */
static int targets_of(struct store *store, const char *ticket, const char *address, const uint16_t *ports,
		      bool create, struct targets *t)
{
	memset(t, 0, sizeof *t);
	if (ticket != NULL) {
		struct store_letter_ref letter;
		int found = store_letter_by_ticket(store, ticket, &letter);
		if (found <= 0)
			return found;
		if (store_letter_hosts_each(store, letter.id, ticket_host, t) != 0 || t->failed)
			return -1;
	} else {
		struct addr parsed;
		char canonical[ADDR_STRLEN];
		if (addr_parse(address, strlen(address), &parsed) != 0)
			return 0;
		addr_format(&parsed, canonical);
		size_t n = ports ? 0 : owner_check_port_count;
		while (ports && ports[n])
			n++;
		for (size_t i = 0; i < n; i++) {
			struct target *item = target_push(t);
			if (item == NULL)
				return -1;
			snprintf(item->address, sizeof item->address, "%s", canonical);
			item->port = ports ? ports[i] : owner_check_ports[i].port;
			item->families =
			    ports ? (i == 0 ? PROBE_RELAY : PROBE_PROXY) : owner_check_ports[i].families;
		}
	}
	int64_t source = create && address != NULL ? store_source_id(store, OWNER_SOURCE, "plain") : 0;
	if (source < 0)
		return -1;
	for (size_t i = 0; i < t->count; i++) {
		struct target *item = &t->items[i];
		struct addr parsed;
		if (addr_parse(item->address, strlen(item->address), &parsed) != 0)
			continue;
		if (source > 0 && store_candidate_put(store, &parsed, item->port, source, time(NULL)) < 0)
			return -1;
		if ((item->candidate_id = store_candidate_id(store, &parsed, item->port)) < 0)
			return -1;
	}
	return 1;
}

struct seen {
	int64_t *ids;
	char (*verdicts)[24];
	size_t count, cap;
	int failed;
};

static void seen_row(void *ctx, int64_t candidate_id, const char *verdict)
{
	struct seen *s = ctx;
	if (s->count == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		int64_t *ids = realloc(s->ids, cap * sizeof *ids);
		if (ids != NULL)
			s->ids = ids;
		char(*verdicts)[24] = realloc(s->verdicts, cap * sizeof *verdicts);
		if (verdicts != NULL)
			s->verdicts = verdicts;
		if (ids == NULL || verdicts == NULL) {
			s->failed = 1;
			return;
		}
		s->cap = cap;
	}
	s->ids[s->count] = candidate_id;
	snprintf(s->verdicts[s->count], sizeof s->verdicts[0], "%s", verdict ? verdict : "");
	s->count++;
}

static const char *seen_verdict(const struct seen *s, int64_t candidate_id)
{
	for (size_t i = 0; i < s->count; i++)
		if (s->ids[i] == candidate_id)
			return s->verdicts[i];
	return NULL;
}

/* Parses "ticket:T" / "address:A" back; false when it is neither. */
static bool requested(const char *requested_by, const char **ticket, const char **address)
{
	*ticket = *address = NULL;
	if (strncmp(requested_by, TICKET_PREFIX, strlen(TICKET_PREFIX)) == 0)
		*ticket = requested_by + strlen(TICKET_PREFIX);
	else if (strncmp(requested_by, ADDRESS_PREFIX, strlen(ADDRESS_PREFIX)) == 0)
		*address = requested_by + strlen(ADDRESS_PREFIX);
	return *ticket || *address;
}

int owner_check_targets_each(struct store *store, const char *ticket, const char *address,
			     const uint16_t *ports, int64_t round, store_host_fn fn, void *ctx)
{
	struct targets t;
	struct seen seen = {0};
	int rc = targets_of(store, ticket, address, ports, true, &t);
	if (rc == 0)
		log_error("owner check: no ticket '%s' or address '%s'", ticket ? ticket : "",
			  address ? address : "");
	if (rc == 1 && (store_round_verdicts_each(store, round, seen_row, &seen) != 0 || seen.failed))
		rc = -1;
	for (size_t i = 0; rc == 1 && i < t.count; i++) {
		const struct target *item = &t.items[i];
		if (item->candidate_id <= 0 || seen_verdict(&seen, item->candidate_id) != NULL)
			continue;
		if (fn(ctx, item->candidate_id, item->address, item->port,
		       item->families == PROBE_PROXY ? "proxy" : "relay") != 0)
			rc = -1;
	}
	free(t.items);
	free(seen.ids);
	free(seen.verdicts);
	return rc == 1 ? 0 : -1;
}

/* ---- status ---- */

int owner_check_status(struct store *store, const char *db_path, int64_t round, const uint16_t *ports,
		       struct owner_check_status *out)
{
	memset(out, 0, sizeof *out);
	struct store_round r;
	int found = store_round_get(store, round, &r);
	const char *ticket, *address;
	if (found <= 0 || strcmp(r.kind, ROUND_KIND_OWNER) != 0 ||
	    !requested(r.requested_by, &ticket, &address))
		return found < 0 ? -1 : 0;
	out->round = round;
	snprintf(out->requested_by, sizeof out->requested_by, "%s", r.requested_by);
	out->finished = strcmp(r.status, ROUND_RUNNING) != 0;
	out->interrupted = strcmp(r.status, ROUND_INTERRUPTED) == 0;
	if (!out->finished && db_path != NULL && r.started < time(NULL) - OWNER_CHECK_START_GRACE) {
		int locked = round_locked(db_path, round);
		if (locked < 0)
			return -1;
		out->finished = out->interrupted = locked == 0; /* its process is gone */
	}
	struct targets t;
	struct seen seen = {0};
	int rc = targets_of(store, ticket, address, ports, false, &t);
	if (rc == 1 && (store_round_verdicts_each(store, round, seen_row, &seen) != 0 || seen.failed))
		rc = -1;
	if (rc == 1 && (out->hosts = calloc(t.count ? t.count : 1, sizeof *out->hosts)) == NULL)
		rc = -1;
	for (size_t i = 0; rc == 1 && i < t.count; i++) {
		struct owner_check_host *h = &out->hosts[out->count++];
		const char *verdict =
		    t.items[i].candidate_id > 0 ? seen_verdict(&seen, t.items[i].candidate_id) : NULL;
		snprintf(h->address, sizeof h->address, "%s", t.items[i].address);
		h->port = t.items[i].port;
		snprintf(h->verdict, sizeof h->verdict, "%s", verdict ? verdict : "");
		/* a host the check never came to is not called inconclusive: it was not tested */
		h->state = verdict	      ? owner_check_state_of(verdict)
			   : out->interrupted ? OWNER_NOT_TESTED
			   : out->finished    ? OWNER_INCONCLUSIVE
					      : OWNER_PENDING;
	}
	free(t.items);
	free(seen.ids);
	free(seen.verdicts);
	if (rc != 1)
		owner_check_status_free(out);
	return rc == 1 ? 1 : rc < 0 ? -1 : 0;
}

void owner_check_status_free(struct owner_check_status *status)
{
	free(status->hosts);
	status->hosts = NULL;
	status->count = 0;
}

int owner_check_print(struct store *store, const char *db_path, int64_t round, const uint16_t *ports,
		      FILE *out)
{
	struct owner_check_status s;
	int found = owner_check_status(store, db_path, round, ports, &s);
	if (found <= 0) {
		if (found == 0)
			log_error("owner check: no owner round %lld", (long long)round);
		return -1;
	}
	fprintf(out, "round %lld %s %s\n", (long long)round, s.requested_by,
		s.interrupted ? "interrupted" : s.finished ? "finished" : "running");
	for (size_t i = 0; i < s.count; i++)
		fprintf(out, "%s:%u %s %s\n", s.hosts[i].address, s.hosts[i].port,
			owner_check_state_name(s.hosts[i].state),
			s.hosts[i].verdict[0] ? s.hosts[i].verdict : "-");
	owner_check_status_free(&s);
	return 0;
}

/* ---- starting one ---- */

static void refuse(char *reason, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void refuse(char *reason, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, size, fmt, ap);
	va_end(ap);
}

/* Whether a and b share their /24 (IPv4) or /64 (IPv6). */
static bool same_network(const struct addr *a, const struct addr *b)
{
	if (addr_is_v4(a) != addr_is_v4(b))
		return false;
	int bits = addr_is_v4(a) ? 96 + OWNER_CHECK_NET_V4 : OWNER_CHECK_NET_V6;
	return memcmp(a->bytes, b->bytes, (size_t)bits / 8) == 0; /* both prefixes are whole bytes */
}

struct limits {
	struct store *store;
	const char *db_path, *requested_by;
	const struct addr *address;  /* an address check's */
	const struct targets *hosts; /* the check's */
	time_t now;
	unsigned running;
	bool same, same_host, same_net;
	int failed;
};

static bool among(const struct targets *hosts, const char *address)
{
	for (size_t i = 0; i < hosts->count; i++)
		if (strcmp(hosts->items[i].address, address) == 0)
			return true;
	return false;
}

/* Whether a host of the check was a host of the recent check: by its ticket or by its address, a host is
 * checked once an interval, however the owner asks. */
static int shares_a_host(struct limits *l, const char *ticket, const char *address)
{
	if (address != NULL)
		return among(l->hosts, address);
	struct targets other;
	int found = targets_of(l->store, ticket, NULL, NULL, false, &other);
	bool shared = false;
	for (size_t i = 0; found == 1 && i < other.count && !shared; i++)
		shared = among(l->hosts, other.items[i].address);
	free(other.items);
	return found < 0 ? -1 : shared;
}

/* A check of the last OWNER_CHECK_INTERVAL: the same request, or an address of the same network. */
static int recent_round(void *ctx, const struct store_round *r)
{
	struct limits *l = ctx;
	if (strcmp(r->requested_by, l->requested_by) == 0)
		l->same = true;
	const char *ticket, *address;
	struct addr other;
	if (!requested(r->requested_by, &ticket, &address))
		return 0;
	if (l->address != NULL && address != NULL && addr_parse(address, strlen(address), &other) == 0 &&
	    same_network(l->address, &other))
		l->same_net = true;
	int shared = l->same || l->same_host ? 0 : shares_a_host(l, ticket, address);
	if (shared < 0)
		l->failed = 1;
	l->same_host |= shared == 1;
	return 0;
}

/* A running round, however long ago it began: a check slower than the interval still takes its place. */
static int running_round(void *ctx, const struct store_round *r)
{
	struct limits *l = ctx;
	if (strcmp(r->kind, ROUND_KIND_OWNER) == 0) {
		int locked =
		    r->started >= l->now - OWNER_CHECK_START_GRACE ? 1 : round_locked(l->db_path, r->id);
		if (locked < 0)
			l->failed = 1;
		l->running += locked == 1;
	}
	return 0;
}

static int spawn_check(const struct owner_check_options *o, const char *ticket, const char *address,
		       int64_t round, pid_t *child)
{
	char round_text[24], ports_text[256] = "";
	snprintf(round_text, sizeof round_text, "%lld", (long long)round);
	for (size_t i = 0, len = 0; o->ports && o->ports[i] && len < sizeof ports_text; i++)
		len += (size_t)snprintf(ports_text + len, sizeof ports_text - len, "%s%u", i ? "," : "",
					o->ports[i]);
	const char *binary = o->binary ? o->binary : "/proc/self/exe";
	const char *argv[96];
	size_t n = 0;
	argv[n++] = binary;
	argv[n++] = "--db";
	argv[n++] = o->db_path;
	if (o->config_path) {
		argv[n++] = "--config";
		argv[n++] = o->config_path;
	}
	argv[n++] = "recheck";
	argv[n++] = ticket ? "--ticket" : "--address";
	argv[n++] = ticket ? ticket : address;
	argv[n++] = "--round";
	argv[n++] = round_text;
	if (ports_text[0]) {
		argv[n++] = "--check-ports";
		argv[n++] = ports_text;
	}
	for (size_t i = 0; o->verify_args && o->verify_args[i] && n < ARRAY_SIZE(argv) - 1; i++)
		argv[n++] = o->verify_args[i];
	argv[n] = NULL;
	posix_spawn_file_actions_t actions;
	posix_spawn_file_actions_init(&actions);
	const char *log = o->log_path ? o->log_path : "/dev/null";
	posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log, O_WRONLY | O_CREAT | O_APPEND, 0600);
	posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
	/* the child's own session: a signal to the web server's group does not reach a running check */
	posix_spawnattr_t attr;
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
	int rc = posix_spawn(child, binary, &actions, &attr, (char *const *)argv, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&actions);
	if (rc != 0)
		log_error("owner check: starting %s: %s", binary, strerror(rc));
	return rc == 0 ? 0 : -1;
}

int64_t owner_check_start(struct store *store, const struct owner_check_options *o, const char *ticket,
			  const char *address, time_t now, pid_t *child, char *reason, size_t reasonlen)
{
	char requested_by[160];
	struct addr parsed;
	if ((ticket == NULL) == (address == NULL)) {
		refuse(reason, reasonlen, "a check is of a ticket or of an address");
		return -1;
	}
	if (address != NULL) {
		char canonical[ADDR_STRLEN];
		if (addr_parse(address, strlen(address), &parsed) != 0) {
			refuse(reason, reasonlen, "'%s' is not an address", address);
			return 0;
		}
		const char *why = o->exclusions ? exclusion_match(o->exclusions, &parsed) : NULL;
		if (why != NULL) {
			refuse(reason, reasonlen, "%s is on the list of addresses never tested (%s)",
			       addr_format(&parsed, canonical), why);
			return 0;
		}
		owner_check_requested_by(NULL, addr_format(&parsed, canonical), requested_by,
					 sizeof requested_by);
	} else {
		owner_check_requested_by(ticket, NULL, requested_by, sizeof requested_by);
	}
	struct targets t = {0};
	int64_t round = -1;
	/* the limits and the new round in one transaction: two requests at once cannot both pass */
	if (store_begin(store) != 0) {
		refuse(reason, reasonlen, "the store is busy; try again in a minute");
		return -1;
	}
	int found = targets_of(store, ticket, address, o->ports, address != NULL, &t);
	size_t testable = 0;
	for (size_t i = 0; found == 1 && i < t.count; i++) {
		struct addr host;
		if (addr_parse(t.items[i].address, strlen(t.items[i].address), &host) == 0 &&
		    (o->exclusions == NULL || exclusion_match(o->exclusions, &host) == NULL))
			testable++;
	}
	struct limits l = {.store = store,
			   .hosts = &t,
			   .db_path = o->db_path,
			   .requested_by = requested_by,
			   .address = address ? &parsed : NULL,
			   .now = now};
	if (found < 0 ||
	    store_owner_rounds_since_each(store, now - OWNER_CHECK_INTERVAL, recent_round, &l) != 0 ||
	    store_rounds_running_each(store, running_round, &l) != 0 || l.failed) {
		refuse(reason, reasonlen, "the check could not be started (an error on our side)");
	} else if (found == 0) {
		refuse(reason, reasonlen, "no such ticket");
		round = 0;
	} else if (testable == 0) {
		refuse(reason, reasonlen, "none of these hosts may be tested (excluded or opted out)");
		round = 0;
	} else if (l.same) {
		refuse(reason, reasonlen, "%s was checked less than %d minutes ago: try again later",
		       requested_by, OWNER_CHECK_INTERVAL / 60);
		round = 0;
	} else if (l.same_host) {
		refuse(reason, reasonlen, "a host of this check was checked less than %d minutes ago: try again later",
		       OWNER_CHECK_INTERVAL / 60);
		round = 0;
	} else if (l.same_net) {
		refuse(reason, reasonlen,
		       "an address of the same network was checked less than %d minutes ago: try"
		       " again later",
		       OWNER_CHECK_INTERVAL / 60);
		round = 0;
	} else if (l.running >= OWNER_CHECK_RUNNING_MAX) {
		refuse(reason, reasonlen, "%u checks are running: try again in a few minutes", l.running);
		round = 0;
	} else {
		round = store_round_begin(store, ROUND_KIND_OWNER, 0, 0, requested_by, now);
	}
	free(t.items);
	if (round <= 0 || store_commit(store) != 0) {
		store_rollback(store);
		return round == 0 ? 0 : -1;
	}
	if (spawn_check(o, ticket, address ? requested_by + strlen(ADDRESS_PREFIX) : NULL, round, child) !=
	    0) {
		store_round_end(store, round, ROUND_INTERRUPTED, time(NULL));
		refuse(reason, reasonlen, "the check could not be started (an error on our side)");
		return -1;
	}
	reason[0] = '\0';
	return round;
}
