/* Shared by sink.c, smtp_session.c and tcp_target.c only. */
#ifndef PLUGHOLE_SINK_INTERNAL_H
#define PLUGHOLE_SINK_INTERNAL_H

#include <event2/util.h>
#include <stdbool.h>
#include <sys/queue.h>
#include <time.h>

#include "core/addr.h"
#include "sink/sink.h"

#define SINK_MAX_RCPTS 100 /* recipients per message; more get 452 */
#define SINK_MAX_BAD_COMMANDS 20
#define SINK_UNANNOUNCED 64 /* proofs stored but not committed (their client got 451), remembered */
#define SINK_HEADERS_KEPT 4096 /* bytes of a message's header block kept with its proof */
#define SINK_OUTPUT_MAX 16384  /* replies queued for a client that does not read; then reading pauses */

struct smtp_session;
struct target_session;

/* ---- the TCP target's store budget (budget.c) ---- */

struct sink_budget_limits {
	unsigned rows_per_peer, rows;
	size_t bytes_per_peer, bytes;
	unsigned interval;
};

enum sink_budget_verdict {
	BUDGET_TAKEN,		/* store it */
	BUDGET_DROP,		/* over budget, already said */
	BUDGET_DROP_PEER_FIRST, /* the address's first refusal this interval */
	BUDGET_DROP_ALL_FIRST,	/* the whole target's first refusal this interval */
	BUDGET_DROP_TOKEN_FIRST, /* a genuine token's first refusal this interval: replayed */
};

struct sink_budget *sink_budget_new(const struct sink_budget_limits *limits);
void sink_budget_free(struct sink_budget *budget);
/* Charges a row of bytes from peer to this interval; token: the genuine one the hit carries, or NULL. */
enum sink_budget_verdict sink_budget_take(struct sink_budget *budget, const struct addr *peer, size_t bytes,
					  const char *token, time_t now);

struct sink_listener {
	struct sink *sink;
	enum sink_listener_kind kind;
	struct evconnlistener *listener;
	struct event *resume; /* re-enables accepting after running out of descriptors */
	char address[ADDR_PORT_STRLEN];
};

struct sink {
	struct event_base *base;
	struct store *store;
	struct token_secret secret;
	struct sink_options opts; /* with defaults applied; opts.domain points at domain */
	char *domain;
	struct sink_counters counters;
	struct sink_listener listeners[2 * SINK_MAX_LISTENERS];
	size_t listener_count;
	unsigned active; /* open SMTP and target sessions */
	size_t bodies_reserved; /* max_message for each message being received */
	struct sink_budget *budget; /* what the TCP target may still store */
	/* what SMTP peers may still store as rejects (forged tokens): same limits, its own account */
	struct sink_budget *smtp_budget;
	/* New proofs whose commit failed: the retry finds them in the store, yet they were never announced. */
	char unannounced[SINK_UNANNOUNCED][TOKEN_MAX_LEN];
	size_t unannounced_next;
	LIST_HEAD(, smtp_session) smtp_sessions;
	LIST_HEAD(, target_session) target_sessions;
};

/* The envelope of one received message. */
struct sink_envelope {
	const char *peer;
	const struct addr *peer_addr;
	const char *helo;
	const char *mail_from;
	const char *const *rcpts;
	size_t nrcpts;
};

#define SINK_CLOSING_GRACE 5 /* seconds a session told to go has to take its last reply */

/* Takes over fd (non-blocking) and starts the conversation; the fd is closed on failure. */
void sink_smtp_session_start(struct sink *sink, evutil_socket_t fd, const struct addr *peer_addr,
			     const char *peer, const struct addr *local);
void sink_smtp_session_free(struct smtp_session *session);
void sink_target_session_start(struct sink *sink, evutil_socket_t fd, const struct addr *peer_addr,
			       const char *peer, const char *listener);
void sink_target_session_free(struct target_session *session);
/* Open sessions from one address (each file counts its own). */
unsigned sink_smtp_sessions_from(const struct sink *sink, const struct addr *peer);
unsigned sink_target_sessions_from(const struct sink *sink, const struct addr *peer);

/* Records what a message proves; 0, or -1 when the store failed (the client should retry). */
int sink_record_message(struct sink *sink, const struct sink_envelope *envelope, const char *msg, size_t len);
/* Records one target connection, within the budget; nonce, peer and listener are required, request may be NULL. */
void sink_record_target_hit(struct sink *sink, const char *nonce, const struct addr *peer_addr, const char *peer,
			    const char *listener, const char *request);

#endif
