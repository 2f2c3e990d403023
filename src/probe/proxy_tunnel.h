/*
 * What every proxy module does once its proxy has opened a tunnel (or
 * forwarded a request): aimed at the sink's SMTP port, speak SMTP and
 * deliver one token message, proven only when the sink has the token;
 * aimed at a TCP target, read the target's nonce, proven only when the sink
 * handed out that very nonce. A 200, a banner or a page without either is
 * not proof. Also the pieces the modules share: the aim and token of the
 * connection, the read budget, software detection, verdict notes.
 *
 * A module's state starts with struct proxy_conn; the module runs its own
 * handshake (HTTP, SOCKS, gateway prompts), then hands the connection to
 * proxy_tunnel_start() and forwards its callbacks to proxy_tunnel_*().
 */
#ifndef PLUGHOLE_PROXY_TUNNEL_H
#define PLUGHOLE_PROXY_TUNNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/token.h"
#include "probe/probe.h"
#include "probe/proxy_parse.h"

/* Modules of one wire protocol (probe_module.group): not-proxy from one skips the others. */
enum proxy_group {
	PROXY_GROUP_SMTP = 0,
	PROXY_GROUP_HTTP,
	PROXY_GROUP_HTTPS,
	PROXY_GROUP_SOCKS4,
	PROXY_GROUP_SOCKS5,
	PROXY_GROUP_WINGATE,
	PROXY_GROUP_ROUTER,
};

enum tunnel_state {
	TUNNEL_NONE, /* the module's own handshake */
	TUNNEL_BANNER,
	TUNNEL_EHLO,
	TUNNEL_HELO,
	TUNNEL_MAIL,
	TUNNEL_RCPT,
	TUNNEL_DATA,
	TUNNEL_MESSAGE,
	TUNNEL_AWAIT_PROOF,
	TUNNEL_TARGET, /* reading the target's banner and its answer to our line */
	TUNNEL_STATE_LAST,
};
extern const char *const tunnel_state_names[TUNNEL_STATE_LAST];

struct proxy_conn {
	enum probe_aim aim;
	struct addr to; /* the sink's SMTP port or a target: nothing else, ever */
	uint16_t port;
	uint8_t tunnel; /* enum tunnel_state */
	bool preamble;	/* gateways: their status lines may come before the far end speaks */
	bool spoke;	/* web: our line went to the target */
	uint16_t got;	/* bytes read in the current phase */
	char token[TOKEN_MAX_LEN];
	char nonce[TARGET_NONCE_MAX + 1];
};

/* The connection's aim and token; notes the step in the transcript. */
void proxy_begin(struct probe_conn *conn, struct proxy_conn *p);
/* "a.b.c.d" or "[v6]": the aim as a request names it. */
const char *proxy_aim_host(const struct proxy_conn *p, char buf[ADDR_STRLEN + 2]);
/*
 * Counts len more bytes read in this phase; past PROXY_READ_MAX the peer is
 * judged not a proxy (returns false; the connection is finished).
 */
bool proxy_budget(struct probe_conn *conn, struct proxy_conn *p, size_t len);
void proxy_detect_software(struct probe_conn *conn, const char *text, size_t len);
/* Records a note ("-- text") in the transcript. */
void proxy_note(struct probe_conn *conn, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Records binary traffic by what it means (prefix ">> " or "<< "): "<< [SOCKS5 reply 0: succeeded]". */
void proxy_said(struct probe_conn *conn, const char *prefix, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Records an unexpected answer: its first line when it is text, else up to 16 bytes in hex. */
void proxy_said_raw(struct probe_conn *conn, const uint8_t *buf, size_t len);

/*
 * The tunnel is up: aimed at mail, wait for the sink's banner; aimed at a
 * target, say our line at once (speak_first) or after the target's banner.
 * Bytes already buffered belong to the tunnel.
 */
void proxy_tunnel_start(struct probe_conn *conn, struct proxy_conn *p, bool speak_first, bool preamble);
void proxy_tunnel_read(struct probe_conn *conn, struct proxy_conn *p);
void proxy_tunnel_timeout(struct probe_conn *conn, struct proxy_conn *p);
void proxy_tunnel_closed(struct probe_conn *conn, struct proxy_conn *p, int error);

/* Any proxy module's on_proof: the sink has a token of this target. */
void proxy_on_proof(struct probe_conn *conn, uint8_t test);

/* The test message went out (through a tunnel or in a POST): recorded at once, crash-safe. */
void proxy_message_sent(struct probe_conn *conn, struct proxy_conn *p, const char *how);
/* The whole SMTP conversation for the sink in one piece (an HTTP POST's body); its length or 0. */
size_t proxy_smtp_script(struct probe_conn *conn, struct proxy_conn *p, char *out, size_t size);
/* The line a tunnel says to a target: it carries the token, so the sink's record names the candidate. */
void proxy_target_line(struct probe_conn *conn, struct proxy_conn *p);
/* After a forwarded request (POST, GET): the answer carried a nonce the sink handed out? Then proven. */
bool proxy_nonce_proves(struct probe_conn *conn, struct proxy_conn *p, const char *text, size_t len);

#endif
