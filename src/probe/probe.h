/*
 * The probe interface: the engine owns sockets, timers, limits and the
 * store; a probe module owns one protocol conversation. A module is a
 * const struct of callbacks (as zmap's probe modules and libopm's protocol
 * table), and each connection runs the module's explicit state machine.
 */
#ifndef PLUGHOLE_PROBE_H
#define PLUGHOLE_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/bufferevent.h>

#include "core/addr.h"
#include "core/token.h"
#include "probe/verdict.h"

struct probe_engine;
struct probe_conn;

enum probe_family { PROBE_RELAY = 1, PROBE_PROXY = 2 };

/* Where a proxy test's tunnel leads: the sink's SMTP port, or one of its TCP targets. */
enum probe_aim { PROBE_AIM_MAIL = 1 << 0, PROBE_AIM_WEB = 1 << 1 };

#define PROBE_MAX_MODULES 16
#define PROBE_MAX_TARGETS 16
/* Token test ids (stored in proofs.test) are explicit values, never positions:
 * relay variants 0..63 (relay_variants.c), proxy modules from 64 (modules.c). */
#define PROBE_TEST_PROXY 64
/* Bytes a module may keep per target across its connections and retries (probe_memo). */
#define PROBE_MEMO_SIZE 32

struct probe_module {
	const char *name;
	enum probe_family family;
	const uint16_t *ports; /* the ports it is tried on by default, 0-terminated */
	uint8_t group;         /* modules of one wire protocol: not-proxy from one skips the others */
	const char *alias;     /* the name of its kind, naming all of that kind at once (--protocols socks) */
	uint8_t aims;          /* proxies: enum probe_aim, what its tunnels can reach */
	bool any_port;         /* proxies: also tried on ports no module claims */
	size_t state_size; /* the module's per-connection state, zeroed at start */
	/* Connected: send the first bytes or wait for a banner. */
	void (*start)(struct probe_conn *conn);
	/* Bytes arrived; they are in probe_input(conn). */
	void (*on_readable)(struct probe_conn *conn);
	/* The state's timer ran out (set with probe_set_timeout). */
	void (*on_timeout)(struct probe_conn *conn);
	/* The peer closed or reset the connection (error: errno or 0). */
	void (*on_closed)(struct probe_conn *conn, int error);
	/* Optional: the verdict when a connection could not be made (verdict: unreachable or
	 * timeout), from what the target's earlier connections learnt. NULL: verdict as is. */
	enum verdict (*on_connect_failed)(struct probe_conn *conn, enum verdict verdict);
	/* The sink received a genuine token made for this connection's target. */
	void (*on_proof)(struct probe_conn *conn, uint8_t test);
	/* A TLS handshake the module asked for finished (ok) or failed. */
	void (*on_tls)(struct probe_conn *conn, bool ok);
	/* The test message announced with probe_message_due may go now: its record is durable. */
	void (*on_recorded)(struct probe_conn *conn);
};

/* What the engine tells every module about the campaign. */
struct probe_settings {
	const char *sink_domain;
	struct addr sink_address; /* where tests aim: SMTP port of the sink */
	uint16_t sink_port;
	const char *helo;         /* name we greet with */
	const char *from;         /* envelope sender for the plain variants */
	const char *operator_name, *operator_contact;
	uint16_t campaign;
	double proof_grace;       /* seconds to wait for a proof before the next variant */
	double idle_timeout;      /* per state */
	/* The sink's TCP targets (proxy tests aim at them after the SMTP port). */
	struct addr target_address[PROBE_MAX_TARGETS];
	uint16_t target_port[PROBE_MAX_TARGETS];
	size_t target_count;
};

/* ---- for modules: the connection they drive ---- */
void *probe_state(struct probe_conn *conn);
const struct probe_settings *probe_settings(struct probe_conn *conn);
const struct addr *probe_address(struct probe_conn *conn);
uint16_t probe_port(struct probe_conn *conn);
struct evbuffer *probe_input(struct probe_conn *conn);

/* Sends bytes; a line is logged in the transcript as ">> line". */
void probe_send(struct probe_conn *conn, const char *data, size_t len);
void probe_send_line(struct probe_conn *conn, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Formats "line\r\n" into out (cut to fit) and logs it, for commands sent
 * together (pipelining); returns its length, 0 when out is too small. */
size_t probe_format_line(struct probe_conn *conn, char *out, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Records a received reply ("<< ...") or a note ("-- ...") in the bounded transcript. */
void probe_transcript(struct probe_conn *conn, const char *prefix, const char *text, size_t len);
/* The same for a string literal, its length counted by the compiler: probe_note(c, "-- ", "no socket"). */
#define probe_note(conn, prefix, literal) probe_transcript((conn), (prefix), "" literal "", sizeof(literal) - 1)
void probe_set_timeout(struct probe_conn *conn, double seconds);

/* What a target waits for, and until when: counted for the run's progress (probe_engine_waits). */
enum probe_wait {
	PROBE_WAIT_NONE,
	PROBE_WAIT_GRACE,    /* a message's proof grace, before the next message or the end */
	PROBE_WAIT_RETRY,    /* a retry's backoff after a tempfail or timeout */
	PROBE_WAIT_GREYLIST, /* a retry at the delay the server named (greylisting) */
	PROBE_WAIT_PROOFS,   /* every verdict is in: the run waits for late proofs (--wait) */
	PROBE_WAIT_LAST
};
/* probe_set_timeout, for a wait the progress line names: the connection waits
 * for reason until the timer (cleared by the next probe_set_timeout). */
void probe_wait(struct probe_conn *conn, enum probe_wait reason, double seconds);
/* The engine's clock (monotonic seconds), the one its timers and deadlines use. */
double probe_now(void);
/* Seconds left of the connection's --total-timeout; <= 0 once it is up. */
double probe_time_left(struct probe_conn *conn);
/* Starts TLS on the connection (STARTTLS); on_tls reports the outcome. */
void probe_start_tls(struct probe_conn *conn);
bool probe_tls_active(struct probe_conn *conn);
/* A proof token for this target and test, made now. */
size_t probe_token(struct probe_conn *conn, uint8_t test, char out[TOKEN_MAX_LEN]);
/* The same, made at time `when`: the same test and time give the same token
 * (a retry presents the envelope a greylister deferred). */
size_t probe_token_at(struct probe_conn *conn, uint8_t test, uint32_t when, char out[TOKEN_MAX_LEN]);
/*
 * PROBE_MEMO_SIZE bytes the module keeps for the target across its
 * connections and retries in this run (zeroed at first): what the server
 * already answered, so a new connection goes on where the last one ended.
 */
void *probe_memo(struct probe_conn *conn);
/*
 * Test messages are recorded before they go out, so a crash never leads to a
 * second one. probe_message_due records one and calls the module's
 * on_recorded once the record is committed (due messages share a commit);
 * probe_message_answered then notes the server's answer to it, or
 * probe_message_withdrawn that it never went (a proof came first; the engine
 * says so itself when the connection ends before on_recorded).
 * probe_message_sent records one that went out already, committed at once.
 */
void probe_message_due(struct probe_conn *conn, const char *variant, const char *token);
void probe_message_answered(struct probe_conn *conn, const char *token, bool accepted, const char *reply);
void probe_message_withdrawn(struct probe_conn *conn, const char *token);
void probe_message_sent(struct probe_conn *conn, const char *variant, const char *token, const char *reply);
void probe_set_software(struct probe_conn *conn, const char *software);
void probe_set_variant(struct probe_conn *conn, const char *variant);
/*
 * Ends the conversation with a verdict. VERDICT_TEMPFAIL and VERDICT_TIMEOUT
 * are retried by the engine while attempts remain. With reconnect_plain the
 * engine immediately opens a new connection for the same target with
 * probe_retry_plain() true (TLS failed: try again in clear).
 */
void probe_finish(struct probe_conn *conn, enum verdict verdict);
void probe_reconnect_plain(struct probe_conn *conn);
/* A new connection for the same target now, as part of the same attempt
 * (the server hung up with work left); the module bounds how often. */
void probe_reconnect(struct probe_conn *conn);
/* The server named a delay before a retry (a greylister's "try again in N
 * seconds"): a retry of this attempt (one of --retries) waits at least that
 * long, up to half an hour, and never less than its backoff. */
void probe_retry_after(struct probe_conn *conn, double seconds);
/* True once the connection has its verdict: stop using it. */
bool probe_finished(struct probe_conn *conn);
bool probe_retry_plain(struct probe_conn *conn);

/* ---- for proxy modules: a target is tested by several connections in turn ---- */
const struct probe_module *probe_module_of(struct probe_conn *conn);
/* Where this connection's tunnel must lead (the sink's SMTP port or a target). */
enum probe_aim probe_aim(struct probe_conn *conn, struct addr *address, uint16_t *port);
/*
 * Ends this connection's aim with verdict; the engine goes on with the
 * module's next aim, or the next module, on a new connection, and keeps
 * the best verdict (probe_finish ends the module's remaining aims too).
 */
void probe_finish_aim(struct probe_conn *conn, enum verdict verdict);
/*
 * Whether the sink's target handed out nonce (reported in this process, or
 * in the store when the sink runs elsewhere). Found: it is this connection's
 * evidence, with the target's peer (the proxy's exit address) and token.
 */
bool probe_target_hit(struct probe_conn *conn, const char *nonce, const char *token);
/* Whether the sink has recorded token (a sink elsewhere): then the target is proven. */
bool probe_proof_lookup(struct probe_conn *conn, const char *token);

/* ---- the modules (one file each) ---- */
extern const struct probe_module probe_smtp_relay;
extern const struct probe_module probe_http_connect, probe_http_post, probe_http_get;
extern const struct probe_module probe_https_connect, probe_https_post, probe_https_get;
extern const struct probe_module probe_socks4, probe_socks4a, probe_socks5, probe_socks5h;
extern const struct probe_module probe_wingate, probe_router;

/* The registry (modules.c): index i is bit i of a plan; the order is the order of trial. */
size_t probe_module_count(void);
const struct probe_module *probe_module_at(size_t index);
/* The registry index of a module, or -1. */
int probe_module_index(const struct probe_module *module);
/* A proxy module's token test id (>= PROBE_TEST_PROXY), or -1; and back. */
int probe_module_test(const struct probe_module *module);
const struct probe_module *probe_module_by_test(unsigned test);
const struct probe_module *probe_module_find(const char *name);

/* Which modules test which ports: the defaults, narrowed or changed by the operator. */
struct probe_selection {
	unsigned families;                        /* PROBE_RELAY | PROBE_PROXY */
	uint32_t modules;                         /* registry bits allowed; 0: every module */
	const uint16_t *ports[PROBE_MAX_MODULES]; /* 0-terminated, replacing a module's defaults */
};
/*
 * The modules to try on port, as registry bits (0: nothing to test). A port
 * of the relay test gets only the relay test, unless relays are not chosen;
 * any other port gets the proxy modules that claim it, or when none does,
 * those tried on any port (every chosen one when the operator named them).
 */
uint32_t probe_plan(const struct probe_selection *selection, uint16_t port);

#endif
