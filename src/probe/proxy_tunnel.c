#include "probe/proxy_tunnel.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "probe/fingerprint.h"
#include "probe/smtp_message.h"
#include "probe/smtp_reader.h"

const char *const tunnel_state_names[TUNNEL_STATE_LAST] = {
    [TUNNEL_NONE] = "handshake", [TUNNEL_BANNER] = "smtp-banner",   [TUNNEL_EHLO] = "smtp-ehlo",
    [TUNNEL_HELO] = "smtp-helo", [TUNNEL_MAIL] = "smtp-mail",	    [TUNNEL_RCPT] = "smtp-rcpt",
    [TUNNEL_DATA] = "smtp-data", [TUNNEL_MESSAGE] = "smtp-message", [TUNNEL_AWAIT_PROOF] = "await-proof",
    [TUNNEL_TARGET] = "target",
};

/* Variants are what a proxy was proven to reach (static: they outlive the connection). */
static const char VARIANT_MAIL[] = "smtp-port", VARIANT_WEB[] = "tcp-target";

static void record(struct probe_conn *conn, const char *prefix, bool bracket, const char *fmt, va_list ap)
{
	char text[256];
	int n = bracket ? snprintf(text, sizeof text, "[") : 0;
	n += vsnprintf(text + n, sizeof text - (size_t)n - 1, fmt, ap);
	if (n >= (int)sizeof text - 1)
		n = (int)sizeof text - 2;
	if (bracket)
		text[n++] = ']';
	probe_transcript(conn, prefix, text, (size_t)n);
}

void proxy_note(struct probe_conn *conn, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	record(conn, "-- ", false, fmt, ap);
	va_end(ap);
}

void proxy_said(struct probe_conn *conn, const char *prefix, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	record(conn, prefix, true, fmt, ap);
	va_end(ap);
}

void proxy_said_raw(struct probe_conn *conn, const uint8_t *buf, size_t len)
{
	size_t text = 0;
	while (text < len && text < 120 && buf[text] != '\n' &&
	       ((buf[text] >= 32 && buf[text] < 127) || buf[text] == '\r' || buf[text] == '\t'))
		text++;
	if (text == len || (text < len && buf[text] == '\n') || text == 120) {
		probe_transcript(conn, "<< ", (const char *)buf, text);
		return;
	}
	char hex[16 * 3 + 4];
	size_t n = 0;
	for (size_t i = 0; i < len && i < 16; i++)
		n += (size_t)snprintf(hex + n, sizeof hex - n, "%s%02x", i ? " " : "", buf[i]);
	if (len > 16)
		snprintf(hex + n, sizeof hex - n, " ...");
	proxy_said(conn, "<< ", "%s", hex);
}

void proxy_begin(struct probe_conn *conn, struct proxy_conn *p)
{
	const struct probe_module *m = probe_module_of(conn);
	char where[ADDR_PORT_STRLEN];
	p->aim = probe_aim(conn, &p->to, &p->port);
	probe_token(conn, (uint8_t)probe_module_test(m), p->token);
	proxy_note(conn, "%s: aiming at %s (%s)", m->name, addr_port_format(&p->to, p->port, where),
		   p->aim == PROBE_AIM_MAIL ? "the sink's SMTP port" : "the sink's TCP target");
}

const char *proxy_aim_host(const struct proxy_conn *p, char buf[ADDR_STRLEN + 2])
{
	char text[ADDR_STRLEN];
	snprintf(buf, ADDR_STRLEN + 2, addr_is_v4(&p->to) ? "%s" : "[%s]", addr_format(&p->to, text));
	return buf;
}

bool proxy_budget(struct probe_conn *conn, struct proxy_conn *p, size_t pending)
{
	if (p->got + pending <= PROXY_READ_MAX)
		return true;
	proxy_note(conn, "more than %d bytes without an answer", PROXY_READ_MAX);
	probe_finish(conn, VERDICT_NOT_PROXY);
	return false;
}

/* Drops n bytes of input, counted against the phase's budget. */
static void consume(struct probe_conn *conn, struct proxy_conn *p, size_t n)
{
	evbuffer_drain(probe_input(conn), n);
	p->got = (uint16_t)(p->got + n);
}

void proxy_detect_software(struct probe_conn *conn, const char *text, size_t len)
{
	const char *software = fingerprint_detect(FINGERPRINT_PROXY, text, len);
	if (software != NULL)
		probe_set_software(conn, software);
}

static void set_state(struct probe_conn *conn, struct proxy_conn *p, enum tunnel_state state)
{
	p->tunnel = (uint8_t)state;
	if (state == TUNNEL_AWAIT_PROOF)
		probe_wait(conn, PROBE_WAIT_GRACE, probe_settings(conn)->proof_grace);
	else
		probe_set_timeout(conn, probe_settings(conn)->idle_timeout);
}

/* The test message, as the sink's domain gets it through the proxy. */
static size_t format_message(struct probe_conn *conn, struct proxy_conn *p, char *out, size_t size)
{
	const struct probe_settings *s = probe_settings(conn);
	char entry[ADDR_PORT_STRLEN], tested[200];
	snprintf(tested, sizeof tested,
		 "the proxy at %s (%s) forwards connections for anyone (an \"open proxy\")",
		 addr_port_format(probe_address(conn), probe_port(conn), entry), probe_module_of(conn)->name);
	struct smtp_message m = {
	    .kind = "Open proxy test",
	    .tested = tested,
	    .from = s->from,
	    .token = p->token,
	    .sink_domain = s->sink_domain,
	    .variant = probe_module_of(conn)->name,
	    .operator_name = s->operator_name,
	    .contact = s->operator_contact,
	};
	return smtp_message_format(&m, time(NULL), out, size);
}

size_t proxy_smtp_script(struct probe_conn *conn, struct proxy_conn *p, char *out, size_t size)
{
	const struct probe_settings *s = probe_settings(conn);
	int n = snprintf(out, size, "EHLO %s\r\nMAIL FROM:<%s>\r\nRCPT TO:<%s@%s>\r\nDATA\r\n", s->helo,
			 s->from, p->token, s->sink_domain);
	if (n < 0 || (size_t)n >= size)
		return 0;
	size_t message = format_message(conn, p, out + n, size - (size_t)n);
	if (message == 0 || (size_t)n + message + 6 >= size)
		return 0;
	memcpy(out + n + message, "QUIT\r\n", 6);
	return (size_t)n + message + 6;
}

void proxy_target_line(struct probe_conn *conn, struct proxy_conn *p)
{
	probe_send_line(conn, "PLUGHOLE %s open proxy test", p->token);
	p->spoke = true;
}

void proxy_message_sent(struct probe_conn *conn, struct proxy_conn *p, const char *how)
{
	probe_message_sent(conn, VARIANT_MAIL, p->token, how);
}

bool proxy_nonce_proves(struct probe_conn *conn, struct proxy_conn *p, const char *text, size_t len)
{
	char nonce[TARGET_NONCE_MAX + 1];
	if (!target_nonce_find(text, len, nonce))
		return false;
	if (!probe_target_hit(conn, nonce, p->token)) {
		proxy_note(conn, "nonce %s was not handed out by the sink's target", nonce);
		return false;
	}
	proxy_note(conn, "the sink's target handed out nonce %s", nonce);
	probe_set_variant(conn, VARIANT_WEB);
	return true;
}

/* ---- aimed at the sink's SMTP port ---- */

static void fail(struct probe_conn *conn, struct proxy_conn *p, const char *why)
{
	proxy_note(conn, "%s (in %s)", why, tunnel_state_names[p->tunnel]);
	probe_finish_aim(conn, VERDICT_NOT_PROXY);
}

static void proven_mail(struct probe_conn *conn)
{
	probe_set_variant(conn, VARIANT_MAIL);
	proxy_note(conn, "proof received by the sink");
	probe_finish(conn, VERDICT_OPEN_PROXY_MAIL);
}

/* The next step of the SMTP conversation with the sink; the reason when the far end is not it. */
static const char *smtp_step(struct probe_conn *conn, struct proxy_conn *p, int code)
{
	const struct probe_settings *s = probe_settings(conn);
	int kind = code / 100;
	switch ((enum tunnel_state)p->tunnel) {
	case TUNNEL_BANNER:
		if (code != 220)
			return "the far end did not greet as an SMTP server";
		p->preamble = false;
		probe_send_line(conn, "EHLO %s", s->helo);
		set_state(conn, p, TUNNEL_EHLO);
		return NULL;
	case TUNNEL_EHLO:
	case TUNNEL_HELO:
		if (kind != 2 && p->tunnel == TUNNEL_EHLO) {
			probe_send_line(conn, "HELO %s", s->helo);
			set_state(conn, p, TUNNEL_HELO);
			return NULL;
		}
		if (kind != 2)
			return "the far end refused our greeting";
		probe_send_line(conn, "MAIL FROM:<%s>", s->from);
		set_state(conn, p, TUNNEL_MAIL);
		return NULL;
	case TUNNEL_MAIL:
		if (kind != 2)
			return "the far end refused the sender: not the sink";
		probe_send_line(conn, "RCPT TO:<%s@%s>", p->token, s->sink_domain);
		set_state(conn, p, TUNNEL_RCPT);
		return NULL;
	case TUNNEL_RCPT:
		if (kind != 2)
			return "the far end refused the sink's recipient: not the sink";
		probe_send_line(conn, "DATA");
		set_state(conn, p, TUNNEL_DATA);
		return NULL;
	case TUNNEL_DATA: {
		if (code != 354)
			return "the far end refused DATA";
		char message[SMTP_MESSAGE_MAX];
		probe_send(conn, message, format_message(conn, p, message, sizeof message));
		probe_note(conn, ">> ", "(test message)");
		proxy_message_sent(conn, p, "sent through the tunnel");
		set_state(conn, p, TUNNEL_MESSAGE);
		return NULL;
	}
	case TUNNEL_MESSAGE:
		/* Through a tunnel to our own sink the proof comes before this reply; a
		 * sink elsewhere has it in the store by now, or soon. */
		if (probe_proof_lookup(conn, p->token)) {
			proven_mail(conn);
			return NULL;
		}
		if (kind != 2)
			return "the far end refused the message";
		probe_send_line(conn, "QUIT");
		set_state(conn, p, TUNNEL_AWAIT_PROOF);
		return NULL;
	case TUNNEL_AWAIT_PROOF: /* the answer to QUIT */
	case TUNNEL_NONE:
	case TUNNEL_TARGET:
	case TUNNEL_STATE_LAST:
		return NULL;
	}
	return NULL;
}

static void read_smtp(struct probe_conn *conn, struct proxy_conn *p)
{
	struct evbuffer *in = probe_input(conn);
	size_t len;
	while (!probe_finished(conn) && (len = evbuffer_get_length(in)) > 0) {
		if (!proxy_budget(conn, p, len))
			return;
		struct smtp_reply reply;
		char text[SMTP_REPLY_TEXT];
		enum smtp_reply_status status = smtp_reply_read(conn, &reply, text);
		if (status == SMTP_REPLY_INCOMPLETE)
			return;
		if (status != SMTP_REPLY_COMPLETE) {
			const char *buf = (const char *)evbuffer_pullup(in, (ssize_t)len);
			const char *eol = memchr(buf, '\n', len);
			if (p->preamble && eol == NULL)
				return; /* a gateway's status line, not yet whole */
			size_t n = eol ? (size_t)(eol - buf) + 1 : len;
			probe_transcript(conn, "<< ", buf, n > 200 ? 200 : n);
			if (!p->preamble) {
				fail(conn, p, "the far end does not speak SMTP");
				return;
			}
			if (gateway_line_refuses(buf, n)) {
				proxy_note(conn, "the gateway could not connect");
				probe_finish_aim(conn, VERDICT_CLOSED);
				return;
			}
			consume(conn, p, n);
			continue;
		}
		p->got = (uint16_t)(p->got + reply.consumed); /* taken by the reader: counted against the budget */
		const char *why = smtp_step(conn, p, reply.code);
		if (why != NULL) {
			fail(conn, p, why);
			return;
		}
	}
}

/* ---- aimed at a TCP target ---- */

static void read_target(struct probe_conn *conn, struct proxy_conn *p)
{
	struct evbuffer *in = probe_input(conn);
	size_t len;
	while (!probe_finished(conn) && (len = evbuffer_get_length(in)) > 0) {
		if (!proxy_budget(conn, p, len))
			return;
		const char *buf = (const char *)evbuffer_pullup(in, (ssize_t)len);
		const char *eol = memchr(buf, '\n', len);
		if (eol == NULL)
			return;
		size_t n = (size_t)(eol - buf) + 1;
		probe_transcript(conn, "<< ", buf, n > 200 ? 200 : n);
		char nonce[TARGET_NONCE_MAX + 1];
		bool found = target_nonce_find(buf, n, nonce);
		/* The target's answer to our line: it has recorded the hit by then. */
		bool answer = found && n > 4 && (memcmp(buf, "221 ", 4) == 0 || memcmp(buf, "500 ", 4) == 0);
		bool refused = !found && p->preamble && !p->spoke && gateway_line_refuses(buf, n);
		consume(conn, p, n);
		if (refused) {
			proxy_note(conn, "the gateway could not connect");
			probe_finish_aim(conn, VERDICT_CLOSED);
			return;
		}
		if (!found)
			continue;
		if (!p->spoke) {
			proxy_target_line(conn, p);
			set_state(conn, p, TUNNEL_TARGET);
			continue;
		}
		if (!answer)
			continue;
		if (!probe_target_hit(conn, nonce, p->token)) {
			proxy_note(conn, "nonce %s was not handed out by the sink's target", nonce);
			probe_finish_aim(conn, VERDICT_NOT_PROXY);
			return;
		}
		proxy_note(conn, "the sink's target handed out nonce %s", nonce);
		probe_set_variant(conn, VARIANT_WEB);
		probe_finish_aim(conn, VERDICT_OPEN_PROXY_WEB);
		return;
	}
}

/* ---- the tunnel's life ---- */

void proxy_tunnel_start(struct probe_conn *conn, struct proxy_conn *p, bool speak_first, bool preamble)
{
	p->got = 0;
	p->preamble = preamble;
	proxy_note(conn, preamble ? "waiting for the gateway's connection" : "tunnel open");
	if (p->aim == PROBE_AIM_MAIL) {
		set_state(conn, p, TUNNEL_BANNER);
	} else {
		set_state(conn, p, TUNNEL_TARGET);
		if (speak_first)
			proxy_target_line(conn, p);
	}
	proxy_tunnel_read(conn, p);
}

void proxy_tunnel_read(struct probe_conn *conn, struct proxy_conn *p)
{
	if (p->tunnel == TUNNEL_TARGET)
		read_target(conn, p);
	else
		read_smtp(conn, p);
}

void proxy_tunnel_timeout(struct probe_conn *conn, struct proxy_conn *p)
{
	if (p->tunnel == TUNNEL_AWAIT_PROOF) {
		if (probe_proof_lookup(conn, p->token))
			proven_mail(conn);
		else
			fail(conn, p, "no proof: the message never reached the sink");
		return;
	}
	/* The proxy said yes, then nothing came through: it does not forward. */
	fail(conn, p, "nothing came through the tunnel in time");
}

void proxy_tunnel_closed(struct probe_conn *conn, struct proxy_conn *p, int error)
{
	if (p->tunnel == TUNNEL_AWAIT_PROOF)
		return; /* the proof may still come: the timer decides */
	fail(conn, p, "the tunnel closed");
}

void proxy_on_proof(struct probe_conn *conn, uint8_t test)
{
	proven_mail(conn);
}
