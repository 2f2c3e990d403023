/*
 * The proof sink: an SMTP receiver for the sink's domain and plain TCP
 * targets, running on the caller's libevent loop, so `plughole sink` and the
 * verifier (in-process) share one implementation.
 *
 * Every message is searched for tokens (recipient local parts, Subject,
 * body). A genuine token in a recipient becomes a proof in the store (and an
 * on_proof call): every test message is addressed to its token, so mail that
 * carries one only in its Subject or body is mail sent back to us (a server
 * that refused to relay bouncing our message, an autoreply) and proves
 * nothing. A forged or altered token is logged, counted and kept in
 * sink_rejects, never as proof. The sink never relays: it takes mail only
 * for its own domain.
 * A target connection gets a banner with a fresh nonce (or, when it opens
 * with an HTTP request, a page carrying the nonce) and is recorded in
 * target_hits (and an on_target_hit call) when its first line arrives or it
 * ends, whichever comes first.
 *
 * Writes to the store are single statements, so a caller may hold a
 * transaction open around the loop; but a message that carries a proof is
 * answered 250 only once the proof is committed (store_sink_commit(), which
 * commits the caller's transaction and begins the next), and 451 when it
 * cannot be. The caller must ignore SIGPIPE, as libevent writes with write(2).
 */
#ifndef PLUGHOLE_SINK_H
#define PLUGHOLE_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "core/token.h"

struct event_base;

#define SINK_MAX_LISTENERS 16
/*
 * The defaults, the one source for the code, the config's table, `sink
 * --help` and (checked by tests/it/sink_settings.sh) the README: plain
 * decimal numbers, as they are also stringified.
 */
#define SINK_DEFAULT_MAX_MESSAGE 262144 /* test messages are a few KB */
#define SINK_DEFAULT_MAX_SESSIONS 1000
#define SINK_DEFAULT_MAX_PER_PEER 20 /* one address cannot take every slot */
#define SINK_DEFAULT_MAX_BODIES 67108864 /* bytes all messages being received may hold at once */
#define SINK_DEFAULT_IDLE_TIMEOUT 60
#define SINK_DEFAULT_SESSION_TIMEOUT 300 /* a byte now and then does not keep a session forever */
#define SINK_DEFAULT_LINE_LIMIT 1000 /* a command line, including CRLF (RFC 5321 says 512) */
/* What the TCP target may store per interval (each connection is a row): hits without a genuine token
 * from one address (an IPv6 /64) and from all. A hit with one is proof, outside these budgets; only the
 * same token more than SINK_TARGET_TOKEN_REPEATS times an interval is a replay, not stored. */
#define SINK_DEFAULT_TARGET_ROWS_PER_PEER 20
#define SINK_DEFAULT_TARGET_BYTES_PER_PEER 32768
#define SINK_DEFAULT_TARGET_ROWS 1000
#define SINK_DEFAULT_TARGET_BYTES 1048576
#define SINK_DEFAULT_TARGET_INTERVAL 60 /* seconds */
#define SINK_TARGET_TOKEN_REPEATS 4
#define SINK_TARGET_ROW_OVERHEAD 64	/* bytes a target_hits row costs beyond its text */
#define SINK_REJECT_ROW_OVERHEAD 128	/* bytes a sink_rejects row costs beyond its token */
#define SINK_STR(x) SINK_STR_(x) /* a default as text */
#define SINK_STR_(x) #x
#define SINK_NONCE_LEN 32	     /* hex characters in a target banner's nonce */
/*
 * A target waits this long for the client to speak first before it sends its
 * banner: an HTTP proxy forwarding a GET sends the request at once and must
 * get a clean HTTP reply, not a banner in front of it.
 */
#define SINK_TARGET_GRACE_MS 300

struct sink_options {
	/* "ADDR:PORT" or "[V6]:PORT"; port 0 takes a free port (see sink_address). */
	const char *smtp_listen[SINK_MAX_LISTENERS];
	size_t smtp_listen_count;
	const char *target_listen[SINK_MAX_LISTENERS];
	size_t target_listen_count;
	const char *domain; /* mail is taken for it and its subdomains only */
	/* Zero means the default above. */
	size_t max_message;    /* bytes kept of a message; a larger one gets 552 */
	size_t max_bodies;     /* max_message is set aside per DATA within this; beyond it DATA gets 452 */
	unsigned max_sessions; /* SMTP and target connections together; more get 421 */
	unsigned max_per_peer; /* of those, from one address; more get 421 */
	unsigned idle_timeout; /* seconds without a complete read or write */
	unsigned session_timeout; /* seconds a whole session may last */
	size_t line_limit;     /* longest command line; longer gets "500 Line too long" */
	/* The TCP target's store budget per interval (see budget.c); rows count their text and overhead. */
	unsigned target_rows_per_peer;
	size_t target_bytes_per_peer;
	unsigned target_rows;
	size_t target_bytes;
	unsigned target_interval; /* seconds */
	/* Called after the proof is committed / the hit is written. */
	void (*on_proof)(void *ctx, const struct proof *proof);
	void (*on_target_hit)(void *ctx, const char *nonce, const char *peer, const char *request);
	void *ctx;
};

struct sink_counters {
	uint64_t sessions;	    /* SMTP sessions accepted */
	uint64_t sessions_rejected; /* connections refused: over max_sessions or max_per_peer */
	uint64_t messages;	    /* messages received within the size limit */
	uint64_t messages_too_big;  /* refused with 552 at the end of DATA */
	uint64_t messages_without_token;
	uint64_t proofs;     /* genuine tokens recorded for the first time */
	uint64_t duplicates; /* genuine tokens already recorded */
	uint64_t forged;     /* token-shaped strings that failed the check */
	uint64_t forged_dropped; /* of those, over a store budget: counted, not stored */
	uint64_t returned;   /* genuine tokens only in a Subject or body: a bounce or an autoreply, no proof */
	uint64_t target_hits;
	uint64_t target_hits_dropped; /* over the target's store budget: counted, not stored */
	uint64_t target_bytes_dropped;
	uint64_t store_errors; /* writes that failed (answered 451 for mail) */
};

enum sink_listener_kind { SINK_LISTENER_SMTP, SINK_LISTENER_TARGET, SINK_LISTENER_KIND_LAST };
extern const char *const sink_listener_kind_names[SINK_LISTENER_KIND_LAST];

/*
 * The sink's sessions run at this libevent priority (the highest). A caller
 * that shares its loop with other work gives the base more than one priority
 * (event_base_priority_init) so that mail to the sink is served first.
 */
#define SINK_PRIORITY 0

/* Fills every limit left at 0 with its default. */
void sink_options_defaults(struct sink_options *opts);
/*
 * Whether the limits (defaults applied) make sense together: 0, or -1 with
 * why (naming the settings) when they contradict each other, such as a
 * max_message above max_bodies, which would refuse every message with 452.
 */
int sink_options_check(const struct sink_options *opts, char *why, size_t size);
/* Binds every listener; NULL (logged) when an option is bad or an address cannot be bound. */
struct sink *sink_start(struct event_base *base, const struct sink_options *opts, struct store *store,
			const struct token_secret *secret);
/* Closes the listeners and every open session. NULL is fine. */
void sink_stop(struct sink *sink);
const struct sink_counters *sink_counters(const struct sink *sink);
/* The bound "ADDR:PORT" of the index-th listener of a kind, or NULL past the last. */
const char *sink_address(const struct sink *sink, enum sink_listener_kind kind, size_t index);
/* One line: every counter, for logs and the CLI's summary. */
void sink_counters_format(const struct sink_counters *counters, char *buf, size_t size);

#endif
