/*
 * The sink as a whole: its listeners and connection limit, and what it
 * records. The conversations themselves live in smtp_session.c (mail) and
 * tcp_target.c (the plain TCP target).
 */
#include "sink/sink.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/log.h"
#include "sink/message.h"
#include "sink/bounce_path.h"
#include "sink/sink_internal.h"

const char *const sink_listener_kind_names[SINK_LISTENER_KIND_LAST] = {
    [SINK_LISTENER_SMTP] = "smtp",
    [SINK_LISTENER_TARGET] = "target",
};

/* Proxies under test connect in bursts (a verifier starts thousands a second); the kernel caps this at somaxconn. */
enum { LISTEN_BACKLOG = 4096 };

/* ---- addresses ---- */

static socklen_t sockaddr_from_addr(const struct addr *a, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof *ss);
	if (addr_is_v4(a)) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, a->bytes + 12, 4);
		return sizeof *sin;
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	memcpy(&sin6->sin6_addr, a->bytes, 16);
	return sizeof *sin6;
}

/* IPv4 comes out IPv4-mapped, plughole's own form; -1 for other families. */
static int sockaddr_to_addr(const struct sockaddr *sa, struct addr *a, uint16_t *port)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
		addr_from_v4(a, ntohl(sin->sin_addr.s_addr));
		*port = ntohs(sin->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
		memcpy(a->bytes, &sin6->sin6_addr, 16);
		*port = ntohs(sin6->sin6_port);
		return 0;
	}
	return -1;
}

static int socket_local_addr(evutil_socket_t fd, struct addr *a, uint16_t *port)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return -1;
	return sockaddr_to_addr((struct sockaddr *)&ss, a, port);
}

/* "ADDR:PORT" or "[V6]:PORT", the port required (0 picks a free one). */
static int listen_address_parse(const char *text, struct addr *a, uint16_t *port)
{
	const char *why = "not an address";
	const char *colon = text[0] == '[' ? strstr(text, "]:") : strchr(text, ':');
	if (colon == NULL) {
		log_error("sink: listen address '%s' needs a port (ADDR:PORT or [V6]:PORT)", text);
		return -1;
	}
	if (text[0] == '[')
		colon++;
	if (strcmp(colon, ":0") == 0) {
		/* addr_port_parse wants a real port; 0 here means "any free one". */
		size_t start = text[0] == '[', len = (size_t)(colon - text) - 2 * start;
		*port = 0;
		if (addr_parse(text + start, len, a) == 0)
			return 0;
	} else if (addr_port_parse(text, strlen(text), a, port, &why) == 0) {
		return 0;
	}
	log_error("sink: listen address '%s': %s", text, why);
	return -1;
}

/* ---- listeners ---- */

static void sink_on_accept(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *sa,
			   int socklen, void *arg)
{
	struct sink_listener *l = arg;
	struct sink *sink = l->sink;
	struct addr peer_addr, local;
	uint16_t peer_port, local_port;
	char peer[ADDR_PORT_STRLEN];
	if (sockaddr_to_addr(sa, &peer_addr, &peer_port) != 0 ||
	    socket_local_addr(fd, &local, &local_port) != 0) {
		evutil_closesocket(fd);
		return;
	}
	addr_port_format(&peer_addr, peer_port, peer);
	unsigned from_peer = sink_smtp_sessions_from(sink, &peer_addr) + sink_target_sessions_from(sink, &peer_addr);
	if (sink->active >= sink->opts.max_sessions || from_peer >= sink->opts.max_per_peer) {
		/* One short write into an empty socket buffer cannot block; no state is kept. */
		char busy[300];
		int n = l->kind == SINK_LISTENER_SMTP
			    ? snprintf(busy, sizeof busy, "421 4.7.0 %s Too many connections, try later\r\n",
				       sink->domain)
			    : snprintf(busy, sizeof busy, "421 plughole-target busy\r\n");
		if (send(fd, busy, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			log_debug("sink: %s: %s", peer, strerror(errno));
		evutil_closesocket(fd);
		sink->counters.sessions_rejected++;
		log_debug("sink: refused %s on %s: %u sessions open, %u from it", peer, l->address, sink->active,
			  from_peer);
		return;
	}
	if (l->kind == SINK_LISTENER_SMTP)
		sink_smtp_session_start(sink, fd, &peer_addr, peer, &local);
	else
		sink_target_session_start(sink, fd, &peer_addr, peer, l->address);
}

static void sink_on_accept_error(struct evconnlistener *listener, void *arg)
{
	struct sink_listener *l = arg;
	struct timeval second = {1, 0};
	/* Mostly EMFILE: libevent would retry at once, forever; wait for sessions to end. */
	log_warn("sink: accepting on %s: %s; pausing one second", l->address,
		 evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	evconnlistener_disable(listener);
	event_add(l->resume, &second);
}

static void sink_on_resume(evutil_socket_t fd, short what, void *arg)
{
	struct sink_listener *l = arg;
	evconnlistener_enable(l->listener);
}

static int sink_listen(struct sink *sink, enum sink_listener_kind kind, const char *text)
{
	struct addr a;
	uint16_t port;
	struct sockaddr_storage ss;
	if (listen_address_parse(text, &a, &port) != 0)
		return -1;
	socklen_t len = sockaddr_from_addr(&a, port, &ss);
	struct sink_listener *l = &sink->listeners[sink->listener_count];
	l->sink = sink;
	l->kind = kind;
	l->listener = evconnlistener_new_bind(
	    sink->base, sink_on_accept, l, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_REUSEABLE,
	    LISTEN_BACKLOG, (struct sockaddr *)&ss, (int)len);
	if (l->listener == NULL) {
		log_error("sink: cannot listen on %s: %s", text, strerror(errno));
		return -1;
	}
	sink->listener_count++;
	evconnlistener_set_error_cb(l->listener, sink_on_accept_error);
	l->resume = evtimer_new(sink->base, sink_on_resume, l);
	if (l->resume == NULL || socket_local_addr(evconnlistener_get_fd(l->listener), &a, &port) != 0) {
		log_error("sink: setting up %s failed", text);
		return -1;
	}
	addr_port_format(&a, port, l->address);
	return 0;
}

/* A host name: letters, digits, '-' and '.', lowercased, without a trailing dot. */
static char *domain_normalize(const char *domain)
{
	size_t len = domain ? strlen(domain) : 0;
	if (len > 0 && domain[len - 1] == '.')
		len--;
	if (len == 0 || len > 253 || domain[0] == '.' || domain[0] == '-')
		return NULL;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)domain[i]) && domain[i] != '-' && domain[i] != '.')
			return NULL;
	char *copy = strndup(domain, len);
	for (char *p = copy; p && *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return copy;
}

void sink_options_defaults(struct sink_options *o)
{
	if (o->max_message == 0)
		o->max_message = SINK_DEFAULT_MAX_MESSAGE;
	if (o->max_sessions == 0)
		o->max_sessions = SINK_DEFAULT_MAX_SESSIONS;
	if (o->max_bodies == 0)
		o->max_bodies = SINK_DEFAULT_MAX_BODIES;
	if (o->max_per_peer == 0)
		o->max_per_peer = SINK_DEFAULT_MAX_PER_PEER;
	if (o->idle_timeout == 0)
		o->idle_timeout = SINK_DEFAULT_IDLE_TIMEOUT;
	if (o->session_timeout == 0)
		o->session_timeout = SINK_DEFAULT_SESSION_TIMEOUT;
	if (o->line_limit == 0)
		o->line_limit = SINK_DEFAULT_LINE_LIMIT;
	if (o->target_rows_per_peer == 0)
		o->target_rows_per_peer = SINK_DEFAULT_TARGET_ROWS_PER_PEER;
	if (o->target_bytes_per_peer == 0)
		o->target_bytes_per_peer = SINK_DEFAULT_TARGET_BYTES_PER_PEER;
	if (o->target_rows == 0)
		o->target_rows = SINK_DEFAULT_TARGET_ROWS;
	if (o->target_bytes == 0)
		o->target_bytes = SINK_DEFAULT_TARGET_BYTES;
	if (o->target_interval == 0)
		o->target_interval = SINK_DEFAULT_TARGET_INTERVAL;
}

/* The most a target_hits row can cost: a request line, a token, a nonce, two addresses. */
static size_t target_row_max(const struct sink_options *o)
{
	return o->line_limit + TOKEN_MAX_LEN + SINK_NONCE_LEN + 2 * ADDR_PORT_STRLEN + SINK_TARGET_ROW_OVERHEAD;
}

/* Only contradictions that break the sink: a limit that merely never binds (max_per_peer above
 * max_sessions, idle_timeout above session_timeout) is a legitimate way to say "the other one decides". */
int sink_options_check(const struct sink_options *o, char *why, size_t size)
{
	if (o->line_limit < 512)
		snprintf(why, size, "a line limit of %zu, below 512 (RFC 5321), would refuse valid commands",
			 o->line_limit);
	else if (o->max_message > o->max_bodies)
		snprintf(why, size,
			 "max_message (%zu) is above max_bodies (%zu): every DATA would get 452; "
			 "lower max_message or raise max_bodies",
			 o->max_message, o->max_bodies);
	else if (o->target_bytes_per_peer < target_row_max(o) || o->target_bytes < target_row_max(o))
		snprintf(why, size,
			 "target_bytes_per_peer (%zu) and target_bytes (%zu) must hold one target hit (%zu bytes "
			 "at most): a hit with a long request line could never be stored",
			 o->target_bytes_per_peer, o->target_bytes, target_row_max(o));
	else
		return 0;
	return -1;
}

struct sink *sink_start(struct event_base *base, const struct sink_options *opts, struct store *store,
			const struct token_secret *secret)
{
	if (opts->smtp_listen_count > SINK_MAX_LISTENERS || opts->target_listen_count > SINK_MAX_LISTENERS ||
	    opts->smtp_listen_count + opts->target_listen_count == 0) {
		log_error("sink: give 1 to %d SMTP and target listen addresses each", SINK_MAX_LISTENERS);
		return NULL;
	}
	struct sink *sink = calloc(1, sizeof *sink);
	if (sink == NULL)
		return NULL;
	sink->base = base;
	sink->store = store;
	sink->secret = *secret;
	sink->opts = *opts;
	LIST_INIT(&sink->smtp_sessions);
	LIST_INIT(&sink->target_sessions);
	sink->domain = domain_normalize(opts->domain);
	if (sink->domain == NULL) {
		log_error("sink: '%s' is not a usable mail domain", opts->domain ? opts->domain : "");
		sink_stop(sink);
		return NULL;
	}
	sink->opts.domain = sink->domain;
	sink_options_defaults(&sink->opts);
	char why[300];
	if (sink_options_check(&sink->opts, why, sizeof why) != 0) {
		log_error("sink: %s", why);
		sink_stop(sink);
		return NULL;
	}
	struct sink_budget_limits limits = {
	    .rows_per_peer = sink->opts.target_rows_per_peer,
	    .rows = sink->opts.target_rows,
	    .bytes_per_peer = sink->opts.target_bytes_per_peer,
	    .bytes = sink->opts.target_bytes,
	    .interval = sink->opts.target_interval,
	};
	if ((sink->budget = sink_budget_new(&limits)) == NULL || (sink->smtp_budget = sink_budget_new(&limits)) == NULL)
		goto fail;
	for (size_t i = 0; i < opts->smtp_listen_count; i++)
		if (sink_listen(sink, SINK_LISTENER_SMTP, opts->smtp_listen[i]) != 0)
			goto fail;
	for (size_t i = 0; i < opts->target_listen_count; i++)
		if (sink_listen(sink, SINK_LISTENER_TARGET, opts->target_listen[i]) != 0)
			goto fail;
	/* The caller's address strings need not outlive this call. */
	memset(sink->opts.smtp_listen, 0, sizeof sink->opts.smtp_listen);
	memset(sink->opts.target_listen, 0, sizeof sink->opts.target_listen);
	return sink;
fail:
	sink_stop(sink);
	return NULL;
}

void sink_stop(struct sink *sink)
{
	if (sink == NULL)
		return;
	while (!LIST_EMPTY(&sink->smtp_sessions))
		sink_smtp_session_free(LIST_FIRST(&sink->smtp_sessions));
	while (!LIST_EMPTY(&sink->target_sessions))
		sink_target_session_free(LIST_FIRST(&sink->target_sessions));
	for (size_t i = 0; i < sink->listener_count; i++) {
		evconnlistener_free(sink->listeners[i].listener);
		if (sink->listeners[i].resume)
			event_free(sink->listeners[i].resume);
	}
	sink_budget_free(sink->budget);
	sink_budget_free(sink->smtp_budget);
	free(sink->domain);
	free(sink);
}

const struct sink_counters *sink_counters(const struct sink *sink)
{
	return &sink->counters;
}

const char *sink_address(const struct sink *sink, enum sink_listener_kind kind, size_t index)
{
	for (size_t i = 0; i < sink->listener_count; i++)
		if (sink->listeners[i].kind == kind && index-- == 0)
			return sink->listeners[i].address;
	return NULL;
}

void sink_counters_format(const struct sink_counters *c, char *buf, size_t size)
{
	snprintf(buf, size,
		 "%" PRIu64 " sessions (%" PRIu64 " refused), %" PRIu64 " messages (%" PRIu64
		 " too big, %" PRIu64 " without token), %" PRIu64 " proofs, %" PRIu64 " duplicates, %" PRIu64
		 " forged (%" PRIu64 " not stored), %" PRIu64 " returned, %" PRIu64 " target hits (%" PRIu64 " not stored, %" PRIu64
		 " bytes: over budget), %" PRIu64 " store errors",
		 c->sessions, c->sessions_rejected, c->messages, c->messages_too_big,
		 c->messages_without_token, c->proofs, c->duplicates, c->forged, c->forged_dropped, c->returned, c->target_hits,
		 c->target_hits_dropped, c->target_bytes_dropped, c->store_errors);
}

/* ---- what the sink records ---- */

/* "a@b,c@d": the recipients as stored with a proof. */
static char *rcpts_join(const char *const *rcpts, size_t n)
{
	size_t len = 1;
	for (size_t i = 0; i < n; i++)
		len += strlen(rcpts[i]) + 1;
	char *joined = malloc(len), *p = joined;
	if (joined == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "%s%s", i ? "," : "", rcpts[i]);
	*p = '\0';
	return joined;
}

static int record_forged(struct sink *sink, time_t now, const char *peer, const char *token,
			 const char *where)
{
	char reason[64];
	sink->counters.forged++;
	log_warn("sink: forged or altered token %s from %s (in the %s)", token, peer, where);
	snprintf(reason, sizeof reason, "forged or altered token in the %s", where);
	if (store_sink_reject_put(sink->store, now, peer, token, reason) != 0) {
		sink->counters.store_errors++;
		return -1;
	}
	return 0;
}

/* A forged token from an SMTP peer: a row while the peer's budget lasts (a peer
 * sending forgeries in a loop must not grow the store without end), then counted. */
static int record_forged_mail(struct sink *sink, time_t now, const struct sink_envelope *env, const char *token,
			      const char *where)
{
	switch (sink_budget_take(sink->smtp_budget, env->peer_addr, SINK_REJECT_ROW_OVERHEAD + strlen(token), NULL, now)) {
	case BUDGET_TAKEN:
		return record_forged(sink, now, env->peer, token, where);
	case BUDGET_DROP_PEER_FIRST:
	case BUDGET_DROP_ALL_FIRST:
		log_warn("sink: forged tokens from %s are over the store budget (%u rows per %u s): counted, not "
			 "stored, until the interval ends",
			 env->peer, sink->opts.target_rows_per_peer, sink->opts.target_interval);
		break;
	default:
		break;
	}
	sink->counters.forged++;
	sink->counters.forged_dropped++;
	return 0;
}

/* Puts a proof in the store: 1 new, 0 already there, -1 failed. Announced only once it is durable. */
static int record_proof(struct sink *sink, const struct proof *proof)
{
	int rc = store_proof_put(sink->store, proof);
	if (rc < 0)
		sink->counters.store_errors++;
	if (rc != 0)
		return rc;
	/* Already there, but maybe only from a delivery whose commit failed: still new to everyone else. */
	for (size_t i = 0; i < SINK_UNANNOUNCED; i++)
		if (strcmp(sink->unannounced[i], proof->token) == 0) {
			sink->unannounced[i][0] = '\0';
			return 1;
		}
	return 0;
}

static void remember_unannounced(struct sink *sink, const struct proof *proof)
{
	char *slot = sink->unannounced[sink->unannounced_next++ % SINK_UNANNOUNCED];
	snprintf(slot, TOKEN_MAX_LEN, "%s", proof->token);
}

static void announce_proof(struct sink *sink, const struct proof *proof, bool fresh)
{
	char candidate[ADDR_PORT_STRLEN];
	addr_port_format(&proof->address, proof->port, candidate);
	if (!fresh) {
		sink->counters.duplicates++;
		log_info("sink: token %s from %s again (candidate %s)", proof->token, proof->peer, candidate);
		return;
	}
	sink->counters.proofs++;
	log_info("sink: proof for %s (test %u) delivered by %s", candidate, proof->test, proof->peer);
	if (sink->opts.on_proof)
		sink->opts.on_proof(sink->opts.ctx, proof);
}

int sink_record_message(struct sink *sink, const struct sink_envelope *env, const char *msg, size_t len)
{
	struct sink_message_tokens found;
	size_t body_start;
	time_t now = time(NULL);
	if (sink_bounce_path_wanted(env)) /* mail back for a letter, not a test message */
		return sink_bounce_path(sink, env, msg, len);
	sink_message_find_tokens(&sink->secret, env->rcpts, env->nrcpts, msg, len, &found);
	if (found.count == 0) {
		sink->counters.messages_without_token++;
		log_debug("sink: message from %s (%zu bytes) carries no token", env->peer, len);
		return 0;
	}
	if (found.dropped)
		log_warn("sink: message from %s: %zu more tokens ignored", env->peer, found.dropped);
	char headers[SINK_HEADERS_KEPT + 1];
	sink_message_printable_copy(headers, sizeof headers, msg,
				    sink_message_header_len(msg, len, &body_start), true);
	char *rcpt_to = rcpts_join(env->rcpts, env->nrcpts);
	if (rcpt_to == NULL)
		return -1;
	int rc = 0;
	size_t forged = 0, stored = 0;
	struct proof proofs[MESSAGE_MAX_TOKENS];
	bool fresh[MESSAGE_MAX_TOKENS];
	for (size_t i = 0; i < found.count; i++) {
		const struct sink_message_token *t = &found.token[i];
		if (!t->genuine) {
			/* one row and one warning per message: forgeries must not flood the store */
			if (forged++ == 0)
				rc |= record_forged_mail(sink, now, env, t->text, sink_message_part_names[t->part]);
			else
				sink->counters.forged++;
			continue;
		}
		if (t->part != MESSAGE_PART_RCPT) {
			/* Our message came back (a bounce quoting it, an autoreply): the server took it, nothing more. */
			sink->counters.returned++;
			log_info("sink: token %s from %s only in the %s: mail sent back to us, not proof", t->text,
				 env->peer, sink_message_part_names[t->part]);
			continue;
		}
		struct proof proof = {
		    .token = t->text,
		    .campaign = t->fields.campaign,
		    .address = t->fields.address,
		    .port = t->fields.port,
		    .test = t->fields.test,
		    .token_time = t->fields.time,
		    .peer = env->peer,
		    .helo = env->helo,
		    .mail_from = env->mail_from,
		    .rcpt_to = rcpt_to,
		    .received = now,
		    .size = len,
		    .headers = headers,
		};
		int put = record_proof(sink, &proof);
		if (put < 0) {
			rc = -1;
			continue;
		}
		fresh[stored] = put == 1;
		proofs[stored++] = proof;
	}
	if (forged > 1)
		log_warn("sink: message from %s: %zu more forged tokens, counted but not stored", env->peer,
			 forged - 1);
	/* The client hears 250 only for what a crash cannot take back: a relay told "delivered"
	 * never sends again. The verifier's batch is committed with it (proofs are rare; a
	 * duplicate's row was committed when it came, or it would be among the unannounced). */
	bool fresh_any = false;
	for (size_t i = 0; i < stored; i++)
		fresh_any |= fresh[i];
	if (fresh_any && store_sink_commit(sink->store) != 0) {
		sink->counters.store_errors++;
		log_warn("sink: message from %s: its proof could not be committed; answering 451", env->peer);
		for (size_t i = 0; i < stored; i++)
			if (fresh[i])
				remember_unannounced(sink, &proofs[i]);
		stored = 0;
		rc = -1;
	}
	for (size_t i = 0; i < stored; i++)
		announce_proof(sink, &proofs[i], fresh[i]);
	free(rcpt_to);
	return rc;
}

/* Whether the budget lets this hit be stored; logs the first refusal of each interval. */
static bool target_budget_allows(struct sink *sink, const struct addr *peer_addr, const char *peer, size_t bytes,
				 const char *token, time_t now)
{
	const struct sink_options *o = &sink->opts;
	switch (sink_budget_take(sink->budget, peer_addr, bytes, token, now)) {
	case BUDGET_TAKEN:
		return true;
	case BUDGET_DROP_PEER_FIRST:
		log_warn("sink: target: %s is over its store budget (%u hits, %zu bytes per %u s): its hits are "
			 "counted, not stored, until the interval ends",
			 peer, o->target_rows_per_peer, o->target_bytes_per_peer, o->target_interval);
		break;
	case BUDGET_DROP_ALL_FIRST:
		log_warn("sink: target: its store budget (%u hits, %zu bytes per %u s) is used up: hits without a "
			 "genuine token are counted, not stored, until the interval ends",
			 o->target_rows, o->target_bytes, o->target_interval);
		break;
	case BUDGET_DROP_TOKEN_FIRST:
		log_warn("sink: target: token %s from %s came more than %d times in %u s: a replay; counted, not "
			 "stored",
			 token, peer, SINK_TARGET_TOKEN_REPEATS, o->target_interval);
		break;
	case BUDGET_DROP:
		break;
	}
	sink->counters.target_hits_dropped++;
	sink->counters.target_bytes_dropped += bytes;
	return false;
}

void sink_record_target_hit(struct sink *sink, const char *nonce, const struct addr *peer_addr, const char *peer,
			    const char *listener, const char *request)
{
	struct target_hit hit = {.nonce = nonce, .peer = peer, .listener = listener, .request = request};
	char found[TOKEN_MAX_LEN], genuine[TOKEN_MAX_LEN] = "", first_forged[TOKEN_MAX_LEN] = "";
	struct token_fields fields;
	size_t offset = 0, len = request ? strlen(request) : 0, forged = 0;
	int rc;
	hit.received = time(NULL);
	while ((rc = token_scan(&sink->secret, request, len, &offset, &fields, found)) >= 0) {
		for (char *p = found; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		if (rc == 0 && forged++ == 0)
			memcpy(first_forged, found, sizeof first_forged);
		else if (rc == 0)
			sink->counters.forged++; /* one row per request */
		else if (genuine[0] == '\0')
			memcpy(genuine, found, sizeof genuine);
	}
	hit.token = genuine[0] ? genuine : NULL;
	sink->counters.target_hits++;
	size_t bytes = strlen(nonce) + strlen(peer) + strlen(listener) + len + strlen(genuine) +
		       SINK_TARGET_ROW_OVERHEAD;
	bool stored = target_budget_allows(sink, peer_addr, peer, bytes, hit.token, hit.received);
	/* A flood that is not stored does not fill the log either. */
	if (stored)
		log_info("sink: target %s reached by %s (nonce %s%s%s)", listener, peer, nonce,
			 hit.token ? ", token " : "", hit.token ? hit.token : "");
	else
		log_debug("sink: target %s reached by %s (nonce %s): not stored", listener, peer, nonce);
	if (stored) {
		if (first_forged[0])
			record_forged(sink, hit.received, peer, first_forged, "target request");
		if (store_target_hit_put(sink->store, &hit) != 0)
			sink->counters.store_errors++;
	} else if (first_forged[0]) {
		sink->counters.forged++;
	}
	/* In memory only: a verifier in this process still sees the nonce it is waiting for. */
	if (sink->opts.on_target_hit)
		sink->opts.on_target_hit(sink->opts.ctx, nonce, peer, request);
}
