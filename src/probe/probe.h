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

struct probe_module {
	const char *name;
	enum probe_family family;
	size_t state_size; /* the module's per-connection state, zeroed at start */
	/* Connected: send the first bytes or wait for a banner. */
	void (*start)(struct probe_conn *conn);
	/* Bytes arrived; they are in probe_input(conn). */
	void (*on_readable)(struct probe_conn *conn);
	/* The state's timer ran out (set with probe_set_timeout). */
	void (*on_timeout)(struct probe_conn *conn);
	/* The peer closed or reset the connection (error: errno or 0). */
	void (*on_closed)(struct probe_conn *conn, int error);
	/* The sink received a genuine token made for this connection's target. */
	void (*on_proof)(struct probe_conn *conn, uint8_t test);
	/* A TLS handshake the module asked for finished (ok) or failed. */
	void (*on_tls)(struct probe_conn *conn, bool ok);
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
/* Records a received reply ("<< ...") or a note ("-- ...") in the bounded transcript. */
void probe_transcript(struct probe_conn *conn, const char *prefix, const char *text, size_t len);
void probe_set_timeout(struct probe_conn *conn, double seconds);
/* Starts TLS on the connection (STARTTLS); on_tls reports the outcome. */
void probe_start_tls(struct probe_conn *conn);
bool probe_tls_active(struct probe_conn *conn);
/* A proof token for this target and test. */
size_t probe_token(struct probe_conn *conn, uint8_t test, char out[TOKEN_MAX_LEN]);
/* Records that a test message carrying token went out (crash-safe: committed at once). */
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
/* True once the connection has its verdict: stop using it. */
bool probe_finished(struct probe_conn *conn);
bool probe_retry_plain(struct probe_conn *conn);

/* ---- the modules (one file each) ---- */
extern const struct probe_module probe_smtp_relay;

const struct probe_module *probe_module_find(const char *name);
/* The module that tests port for a family, or NULL. */
const struct probe_module *probe_module_for(enum probe_family family, uint16_t port);

#endif
