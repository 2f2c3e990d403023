/*
 * Telnet-style gateways: WinGate (a "WinGate>" prompt that takes HOST:PORT)
 * and Cisco-style routers (a password prompt that takes the factory default,
 * then "telnet HOST PORT" at the command prompt). Telnet option negotiation
 * is ignored (stripped). After the connect command the gateway prints status
 * lines ("Trying ... Open", "Connected") before the far end's first bytes;
 * a line that reports a failure closes that aim. A gateway that wants an
 * account, or refuses the default password, is closed. A gateway greets at
 * once; a peer silent for GATEWAY_NUDGE seconds gets an empty line, so that
 * what answers only when spoken to shows what it is (silence stays timeout).
 */
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "probe/proxy_tunnel.h"

#define GATEWAY_DEFAULT_PASSWORD "cisco" /* HOPM's router test; the only password ever tried */
#define GATEWAY_TAIL_MAX 128		 /* the unfinished last line: a prompt is short */
#define GATEWAY_NUDGE 2.0		 /* seconds of silence before we say something */

enum gateway_phase {
	GATEWAY_PROMPT, /* reading banners and prompts, answering them */
	GATEWAY_TUNNEL, /* the connect command is out: the gateway's status lines, then the far end */
	GATEWAY_PHASE_LAST,
};

struct gateway_session {
	struct proxy_conn p;
	uint8_t phase;
	bool router; /* the router module (else WinGate) */
	bool password_sent;
	bool nudged; /* the empty line went out */
	bool heard;  /* the peer said something */
	uint8_t tail_len;
	char tail[GATEWAY_TAIL_MAX]; /* text after the last line end so far, telnet commands removed */
};

static void gateway_start(struct probe_conn *conn)
{
	struct gateway_session *s = probe_state(conn);
	proxy_begin(conn, &s->p);
	s->router = probe_module_of(conn) == &probe_router;
	s->phase = GATEWAY_PROMPT;
	double idle = probe_settings(conn)->idle_timeout;
	probe_set_timeout(conn, idle > 2 * GATEWAY_NUDGE ? GATEWAY_NUDGE : idle / 2);
}

static void connect_command(struct probe_conn *conn, struct gateway_session *s)
{
	char host[ADDR_STRLEN + 2], text[ADDR_STRLEN];
	if (s->router)
		probe_send_line(conn, "telnet %s %u", addr_format(&s->p.to, text), s->p.port);
	else
		probe_send_line(conn, "%s:%u", proxy_aim_host(&s->p, host), s->p.port);
	s->phase = GATEWAY_TUNNEL;
	evbuffer_drain(probe_input(conn), evbuffer_get_length(probe_input(conn)));
	proxy_tunnel_start(conn, &s->p, false, true);
}

/* Answers the prompt the gateway shows: the connect command, the default password, or a verdict. */
static void answer_prompt(struct probe_conn *conn, struct gateway_session *s, enum gateway_prompt prompt)
{
	switch (prompt) {
	case GATEWAY_PROMPT_HOST:
	case GATEWAY_PROMPT_EXEC:
		if (s->router != (prompt == GATEWAY_PROMPT_EXEC)) {
			proxy_note(conn, s->router ? "a WinGate-style prompt, not a router"
						   : "a router's prompt, not WinGate");
			probe_finish(conn, VERDICT_NOT_PROXY);
			return;
		}
		connect_command(conn, s);
		return;
	case GATEWAY_PROMPT_PASSWORD:
		if (!s->router || s->password_sent) {
			proxy_note(conn, s->router ? "the default password was refused"
						   : "the gateway wants a password");
			probe_finish(conn, VERDICT_CLOSED);
			return;
		}
		probe_send_line(conn, GATEWAY_DEFAULT_PASSWORD);
		s->password_sent = true;
		probe_set_timeout(conn, probe_settings(conn)->idle_timeout);
		return;
	case GATEWAY_PROMPT_ACCOUNT:
		proxy_note(conn, "the gateway wants an account");
		probe_finish(conn, VERDICT_CLOSED);
		return;
	case GATEWAY_PROMPT_NONE:
	case GATEWAY_PROMPT_LAST:
		return;
	}
}

/* Banner and prompt text: whole lines are noted (a failure ends it), the rest is a prompt. */
static void read_prompt(struct probe_conn *conn, struct gateway_session *s)
{
	struct evbuffer *in = probe_input(conn);
	size_t len = evbuffer_get_length(in);
	if (!proxy_budget(conn, &s->p, len))
		return;
	if (!s->heard) {
		s->heard = true;
		probe_set_timeout(conn, probe_settings(conn)->idle_timeout);
	}
	uint8_t data[PROXY_READ_MAX];
	size_t used, n = telnet_strip(evbuffer_pullup(in, (ssize_t)len), len, data, &used);
	if (!gateway_text_plausible(data, n)) {
		proxy_said_raw(conn, data, n);
		proxy_note(conn, "binary, not a terminal's text");
		probe_finish(conn, VERDICT_NOT_PROXY);
		return;
	}
	evbuffer_drain(in, used);
	s->p.got = (uint16_t)(s->p.got + used);
	for (size_t i = 0; i < n; i++) {
		char ch = (char)data[i];
		if (ch != '\n') {
			if (ch != '\r' && ch != '\0' && s->tail_len < GATEWAY_TAIL_MAX)
				s->tail[s->tail_len++] = ch;
			continue;
		}
		if (s->tail_len > 0) {
			probe_transcript(conn, "<< ", s->tail, s->tail_len);
			proxy_detect_software(conn, s->tail, s->tail_len);
			if (gateway_line_refuses(s->tail, s->tail_len)) {
				proxy_note(conn, "the gateway refused");
				probe_finish(conn, VERDICT_CLOSED);
				return;
			}
		}
		s->tail_len = 0;
	}
	enum gateway_prompt prompt = gateway_prompt_classify(s->tail, s->tail_len);
	if (prompt == GATEWAY_PROMPT_NONE)
		return;
	probe_transcript(conn, "<< ", s->tail, s->tail_len);
	proxy_detect_software(conn, s->tail, s->tail_len);
	s->tail_len = 0;
	answer_prompt(conn, s, prompt);
}

static void gateway_on_readable(struct probe_conn *conn)
{
	struct gateway_session *s = probe_state(conn);
	if (s->phase == GATEWAY_TUNNEL)
		proxy_tunnel_read(conn, &s->p);
	else
		read_prompt(conn, s);
}

static void gateway_on_timeout(struct probe_conn *conn)
{
	struct gateway_session *s = probe_state(conn);
	if (s->phase == GATEWAY_TUNNEL) {
		proxy_tunnel_timeout(conn, &s->p);
		return;
	}
	if (!s->heard && !s->nudged) {
		probe_send(conn, "\r\n", 2);
		proxy_said(conn, ">> ", "an empty line");
		s->nudged = true;
		double idle = probe_settings(conn)->idle_timeout;
		probe_set_timeout(conn, idle > 2 * GATEWAY_NUDGE ? idle - GATEWAY_NUDGE : idle / 2);
		return;
	}
	proxy_note(conn, "no prompt in time");
	probe_finish(conn, VERDICT_TIMEOUT);
}

static void gateway_on_closed(struct probe_conn *conn, int error)
{
	struct gateway_session *s = probe_state(conn);
	if (s->phase == GATEWAY_TUNNEL) {
		proxy_tunnel_closed(conn, &s->p, error);
		return;
	}
	proxy_note(conn, "closed by the peer before a prompt");
	probe_finish(conn, s->password_sent ? VERDICT_CLOSED : VERDICT_NOT_PROXY);
}

static const uint16_t wingate_ports[] = {23, 0};
static const uint16_t router_ports[] = {23, 2323, 0};

/* Both wait for a prompt, so they come after the protocols where we speak first. */
const struct probe_module probe_wingate = {
    .name = "wingate",
    .family = PROBE_PROXY,
    .ports = wingate_ports,
    .group = PROXY_GROUP_WINGATE,
    .alias = "gateway",
    .aims = PROBE_AIM_MAIL | PROBE_AIM_WEB,
    .any_port = true,
    .state_size = sizeof(struct gateway_session),
    .start = gateway_start,
    .on_readable = gateway_on_readable,
    .on_timeout = gateway_on_timeout,
    .on_closed = gateway_on_closed,
    .on_proof = proxy_on_proof,
};

const struct probe_module probe_router = {
    .name = "router",
    .family = PROBE_PROXY,
    .ports = router_ports,
    .group = PROXY_GROUP_ROUTER,
    .alias = "gateway",
    .aims = PROBE_AIM_MAIL | PROBE_AIM_WEB,
    .any_port = true,
    .state_size = sizeof(struct gateway_session),
    .start = gateway_start,
    .on_readable = gateway_on_readable,
    .on_timeout = gateway_on_timeout,
    .on_closed = gateway_on_closed,
    .on_proof = proxy_on_proof,
};
