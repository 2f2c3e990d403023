/*
 * The SMTP relay test, one state machine per connection (after OpenSMTPD's
 * mta_session.c): banner, EHLO (HELO fallback), STARTTLS when offered, then
 * each relay variant in turn (MAIL, RCPT, DATA, message, RSET) until the sink
 * proves one. A variant the server accepts sends exactly one small labelled
 * message, addressed only to the sink's domain; the session then waits a
 * moment for the proof before trying the next variant.
 *
 * A server that advertises PIPELINING (RFC 2920) first gets a sweep: MAIL,
 * RCPT and RSET of every variant in one write, answered in order. Most
 * servers refuse every recipient, and then the whole test costs one round
 * trip instead of three per variant. Each variant whose recipient was
 * accepted then gets a group: [RSET,] MAIL, RCPT and DATA in one write (DATA
 * ends a group), its message after the 354, and the next group as soon as the
 * message is answered. A message still waits until the previous one's proof
 * grace is over, so a relay that forwards at once gets no second message, but
 * the round trips overlap the wait: an accept-then-drop server costs one
 * grace per variant, not one grace and five round trips.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "probe/fingerprint.h"
#include "probe/probe.h"
#include "probe/relay_variants.h"
#include "probe/smtp_message.h"
#include "probe/smtp_reply.h"

enum relay_state {
	RELAY_BANNER,
	RELAY_EHLO,
	RELAY_HELO,
	RELAY_STARTTLS,
	RELAY_TLS_HANDSHAKE,
	RELAY_SWEEP,
	RELAY_MAIL,
	RELAY_RCPT,
	RELAY_DATA,
	RELAY_RECORDING,
	RELAY_HOLD,
	RELAY_MESSAGE,
	RELAY_AWAIT_PROOF,
	RELAY_RSET,
	RELAY_QUIT,
	RELAY_STATE_LAST,
};

static const char *const relay_state_names[RELAY_STATE_LAST] = {
	[RELAY_BANNER] = "banner",   [RELAY_EHLO] = "ehlo",       [RELAY_HELO] = "helo",
	[RELAY_STARTTLS] = "starttls", [RELAY_TLS_HANDSHAKE] = "tls-handshake",
	[RELAY_SWEEP] = "sweep",     [RELAY_MAIL] = "mail",       [RELAY_RCPT] = "rcpt",
	[RELAY_DATA] = "data",       [RELAY_RECORDING] = "recording",
	[RELAY_HOLD] = "hold",       [RELAY_MESSAGE] = "message", [RELAY_AWAIT_PROOF] = "await-proof",
	[RELAY_RSET] = "rset",       [RELAY_QUIT] = "quit",
};

struct relay_session {
	enum relay_state state;
	int variant;          /* index into relay_variants; -1 before the first */
	bool esmtp;
	bool pipelining;      /* EHLO advertised PIPELINING */
	bool swept;           /* the sweep is over: only the variants it saw accepted are left */
	uint32_t sweep_sent;  /* variants in the sweep (bit i: relay_variants[i]) */
	uint32_t sweep_accepted; /* ... whose recipient the server accepted */
	uint8_t sweep_replies; /* replies to the sweep seen so far: three per variant */
	bool grouped;         /* after a sweep: each variant's commands go in one write */
	bool rset_due;        /* the next group starts with RSET: the last transaction failed */
	int group_refusal;    /* the current group's first non-2xx reply; 0 while all went well */
	double grace_until;   /* grouped: the last message's proof grace ends (probe_now) */
	bool accepted;        /* some variant's message went out */
	bool tempfailed;      /* some step answered 4xx */
	bool proven;          /* the sink has our token */
	enum verdict verdict; /* decided; sent QUIT and waiting for the close */
	char server_domain[64];
	char server_literal[ADDR_STRLEN + 8];
	char token[TOKEN_MAX_LEN];
};

static void enter_next_variant(struct probe_conn *conn, struct relay_session *s);
static void send_group(struct probe_conn *conn, struct relay_session *s);

static void set_state(struct probe_conn *conn, struct relay_session *s, enum relay_state state)
{
	s->state = state;
	probe_set_timeout(conn, state == RELAY_AWAIT_PROOF ? probe_settings(conn)->proof_grace
							    : probe_settings(conn)->idle_timeout);
}

/* Says goodbye politely and ends with verdict once the peer closes (or soon). */
static void conclude(struct probe_conn *conn, struct relay_session *s, enum verdict verdict)
{
	s->verdict = verdict;
	probe_send_line(conn, "QUIT");
	s->state = RELAY_QUIT;
	probe_set_timeout(conn, 2.0);
}

/* What we know when the conversation ends early. */
static enum verdict verdict_so_far(const struct relay_session *s, enum verdict otherwise)
{
	if (s->accepted)
		return VERDICT_RELAY_ACCEPTED;
	if (s->tempfailed)
		return VERDICT_TEMPFAIL;
	return otherwise;
}

/* Notes a 4xx; true when it was 421: the server closes, and the session ends here. */
static bool server_closing(struct probe_conn *conn, struct relay_session *s, int code)
{
	if (code / 100 == 4)
		s->tempfailed = true;
	if (code != 421)
		return false;
	probe_finish(conn, verdict_so_far(s, VERDICT_TEMPFAIL));
	return true;
}

static void detect_software(struct probe_conn *conn, const char *text, size_t len)
{
	const char *software = fingerprint_detect(FINGERPRINT_SMTP, text, len);
	if (software != NULL)
		probe_set_software(conn, software);
}

static void send_message(struct probe_conn *conn, struct relay_session *s)
{
	const struct probe_settings *settings = probe_settings(conn);
	char target[ADDR_PORT_STRLEN], tested[160], message[SMTP_MESSAGE_MAX];
	addr_port_format(probe_address(conn), probe_port(conn), target);
	snprintf(tested, sizeof tested, "the mail server at %s relays mail for anyone (an \"open relay\")",
		 target);
	struct smtp_message m = {
		.kind = "Open relay test",
		.tested = tested,
		.from = settings->from,
		.token = s->token,
		.sink_domain = settings->sink_domain,
		.variant = relay_variants[s->variant].name,
		.operator_name = settings->operator_name,
		.contact = settings->operator_contact,
	};
	probe_send(conn, message, smtp_message_format(&m, time(NULL), message, sizeof message));
	probe_transcript(conn, ">> ", "(test message)", 14);
	set_state(conn, s, RELAY_MESSAGE);
}

/* After the 354: the message goes once its record is durable (relay_on_recorded). */
static void message_due(struct probe_conn *conn, struct relay_session *s)
{
	probe_message_due(conn, relay_variants[s->variant].name, s->token);
	set_state(conn, s, RELAY_RECORDING);
}

/* The variant's addresses; false when the variant does not apply to this server. */
static bool expand_variant(struct probe_conn *conn, struct relay_session *s, char *from, char *rcpt, size_t len)
{
	const struct probe_settings *settings = probe_settings(conn);
	char sink_literal[ADDR_STRLEN + 8], sink_text[ADDR_STRLEN];
	addr_format(&settings->sink_address, sink_text);
	snprintf(sink_literal, sizeof sink_literal, addr_is_v4(&settings->sink_address) ? "[%s]" : "[IPv6:%s]",
		 sink_text);
	struct relay_context ctx = {
		.token = s->token,
		.sink_domain = settings->sink_domain,
		.sink_literal = sink_literal,
		.server_literal = s->server_literal,
		.server_domain = s->server_domain[0] ? s->server_domain : NULL,
		.from = settings->from,
	};
	const struct relay_variant *v = &relay_variants[s->variant];
	return relay_expand(v->mail_from, &ctx, from, len) && relay_expand(v->rcpt_to, &ctx, rcpt, len);
}

/* MAIL, RCPT and RSET of every variant that applies, in one write. */
static void send_sweep(struct probe_conn *conn, struct relay_session *s)
{
	char from[320], rcpt[320], commands[RELAY_VARIANTS_MAX * 700];
	size_t len = 0;
	s->sweep_sent = s->sweep_accepted = 0;
	s->sweep_replies = 0;
	for (s->variant = 0; s->variant < (int)relay_variant_count; s->variant++) {
		probe_token(conn, (uint8_t)s->variant, s->token);
		if (!expand_variant(conn, s, from, rcpt, sizeof from))
			continue;
		len += probe_format_line(conn, commands + len, sizeof commands - len, "MAIL FROM:%s", from);
		len += probe_format_line(conn, commands + len, sizeof commands - len, "RCPT TO:%s", rcpt);
		len += probe_format_line(conn, commands + len, sizeof commands - len, "RSET");
		s->sweep_sent |= UINT32_C(1) << s->variant;
	}
	probe_send(conn, commands, len);
	set_state(conn, s, RELAY_SWEEP);
}

static void start_variants(struct probe_conn *conn, struct relay_session *s)
{
	if (s->pipelining && !s->swept) {
		send_sweep(conn, s);
		if (s->sweep_sent != 0)
			return;
		s->swept = true; /* nothing applies */
	}
	s->variant = -1;
	if (s->pipelining) {
		s->grouped = true;
		send_group(conn, s);
	} else {
		enter_next_variant(conn, s);
	}
}

/* The variant the sweep's nth reply answers: the nth/3 variant sent. */
static int sweep_variant(const struct relay_session *s, unsigned nth)
{
	unsigned skip = nth / 3;
	for (int i = 0; i < (int)relay_variant_count; i++)
		if ((s->sweep_sent & (UINT32_C(1) << i)) && skip-- == 0)
			return i;
	return -1;
}

/* One reply to the sweep; after the last, the accepted variants one by one. */
static void on_sweep_reply(struct probe_conn *conn, struct relay_session *s, int code)
{
	unsigned nth = s->sweep_replies++;
	int variant = sweep_variant(s, nth);
	enum { SWEPT_MAIL, SWEPT_RCPT, SWEPT_RSET } step = nth % 3;
	if (server_closing(conn, s, code))
		return;
	if (step == SWEPT_RCPT && code / 100 == 2)
		s->sweep_accepted |= UINT32_C(1) << variant;
	if (step == SWEPT_RSET && code / 100 != 2) {
		conclude(conn, s, verdict_so_far(s, VERDICT_CLOSED));
		return;
	}
	if (s->sweep_replies < 3 * (unsigned)__builtin_popcount(s->sweep_sent)) {
		set_state(conn, s, RELAY_SWEEP); /* a fresh idle timeout for the next reply */
		return;
	}
	s->swept = true;
	start_variants(conn, s);
}

/* Whether a variant is still to be tried: after a sweep, only those it saw accepted. */
static bool variant_left(const struct relay_session *s, int variant)
{
	return !s->swept || (s->sweep_accepted & (UINT32_C(1) << variant));
}

/* Moves to the next variant still to try that applies to this server, with
 * its token and addresses; false when none is left. */
static bool next_variant(struct probe_conn *conn, struct relay_session *s, char *from, char *rcpt, size_t len)
{
	while (++s->variant < (int)relay_variant_count) {
		if (!variant_left(s, s->variant))
			continue;
		probe_token(conn, (uint8_t)s->variant, s->token);
		if (!expand_variant(conn, s, from, rcpt, len))
			continue;
		probe_set_variant(conn, relay_variants[s->variant].name);
		return true;
	}
	return false;
}

/* MAIL FROM for the next variant that applies, or the end of the tests. */
static void enter_next_variant(struct probe_conn *conn, struct relay_session *s)
{
	char from[320], rcpt[320];
	if (!next_variant(conn, s, from, rcpt, sizeof from)) {
		conclude(conn, s, verdict_so_far(s, VERDICT_CLOSED));
		return;
	}
	probe_send_line(conn, "MAIL FROM:%s", from);
	set_state(conn, s, RELAY_MAIL);
}

/* [RSET,] MAIL, RCPT and DATA of the next accepted variant in one write
 * (RFC 2920: DATA ends a group); with none left, the end of the tests once
 * the last message's grace is over. */
static void send_group(struct probe_conn *conn, struct relay_session *s)
{
	char from[320], rcpt[320], commands[4 * 700];
	if (next_variant(conn, s, from, rcpt, sizeof from)) {
		size_t len = 0;
		if (s->rset_due)
			len += probe_format_line(conn, commands, sizeof commands, "RSET");
		len += probe_format_line(conn, commands + len, sizeof commands - len, "MAIL FROM:%s", from);
		len += probe_format_line(conn, commands + len, sizeof commands - len, "RCPT TO:%s", rcpt);
		len += probe_format_line(conn, commands + len, sizeof commands - len, "DATA");
		probe_send(conn, commands, len);
		s->group_refusal = 0;
		set_state(conn, s, s->rset_due ? RELAY_RSET : RELAY_MAIL);
		return;
	}
	double grace_left = s->grace_until - probe_now();
	if (s->accepted && grace_left > 0) {
		s->state = RELAY_AWAIT_PROOF;
		probe_set_timeout(conn, grace_left);
	} else {
		conclude(conn, s, verdict_so_far(s, VERDICT_CLOSED));
	}
}

/* A reply to a group's RSET, MAIL or RCPT. The server answers every command
 * of the group, so a refusal is kept and the group's DATA reply awaited. */
static void on_group_reply(struct probe_conn *conn, struct relay_session *s, int code)
{
	if (server_closing(conn, s, code))
		return;
	if (code / 100 != 2 && s->group_refusal == 0)
		s->group_refusal = code;
	if (s->state == RELAY_RSET && code / 100 != 2)
		s->variant = (int)relay_variant_count; /* a server that cannot reset gets no further variant */
	set_state(conn, s, s->state == RELAY_RSET ? RELAY_MAIL : s->state == RELAY_MAIL ? RELAY_RCPT : RELAY_DATA);
}

/* The group's DATA or message was refused: the next group, which resets first. */
static void end_group(struct probe_conn *conn, struct relay_session *s, int code)
{
	if (server_closing(conn, s, code))
		return;
	s->rset_due = true;
	if (s->proven)
		conclude(conn, s, VERDICT_OPEN_RELAY);
	else
		send_group(conn, s);
}

/* The variant failed (4xx/5xx) or awaited its proof in vain: RSET, then the next. */
static void abandon_variant(struct probe_conn *conn, struct relay_session *s, int code)
{
	if (server_closing(conn, s, code))
		return;
	probe_send_line(conn, "RSET");
	set_state(conn, s, RELAY_RSET);
}

static void send_rcpt(struct probe_conn *conn, struct relay_session *s)
{
	char from[320], rcpt[320];
	expand_variant(conn, s, from, rcpt, sizeof from);
	probe_send_line(conn, "RCPT TO:%s", rcpt);
	set_state(conn, s, RELAY_RCPT);
}

static void greet(struct probe_conn *conn, struct relay_session *s)
{
	probe_send_line(conn, "EHLO %s", probe_settings(conn)->helo);
	set_state(conn, s, RELAY_EHLO);
}

/* Decides the next step from one complete reply (OpenSMTPD's response()). */
static void on_reply(struct probe_conn *conn, struct relay_session *s, int code, const char *text, size_t len)
{
	int kind = code / 100;
	switch (s->state) {
	case RELAY_BANNER:
		detect_software(conn, text, len);
		if (code == 220) {
			smtp_banner_domain(text, len, s->server_domain, sizeof s->server_domain);
			greet(conn, s);
		} else {
			probe_finish(conn, kind == 4 ? VERDICT_TEMPFAIL : kind == 5 ? VERDICT_CLOSED : VERDICT_NOT_SMTP);
		}
		break;
	case RELAY_EHLO:
		if (kind == 2) {
			s->esmtp = true;
			s->pipelining = smtp_reply_has_keyword(text, len, "PIPELINING");
			detect_software(conn, text, len);
			if (!probe_tls_active(conn) && !probe_retry_plain(conn) &&
			    smtp_reply_has_keyword(text, len, "STARTTLS")) {
				probe_send_line(conn, "STARTTLS");
				set_state(conn, s, RELAY_STARTTLS);
			} else {
				start_variants(conn, s);
			}
		} else if (code == 421) {
			probe_finish(conn, VERDICT_TEMPFAIL);
		} else {
			probe_send_line(conn, "HELO %s", probe_settings(conn)->helo);
			set_state(conn, s, RELAY_HELO);
		}
		break;
	case RELAY_HELO:
		if (kind == 2)
			start_variants(conn, s);
		else
			probe_finish(conn, kind == 4 ? VERDICT_TEMPFAIL : VERDICT_CLOSED);
		break;
	case RELAY_STARTTLS:
		if (code == 220) {
			s->state = RELAY_TLS_HANDSHAKE;
			probe_start_tls(conn);
		} else {
			start_variants(conn, s); /* offered but refused: test in clear */
		}
		break;
	case RELAY_SWEEP:
		on_sweep_reply(conn, s, code);
		break;
	case RELAY_MAIL:
		if (s->grouped)
			on_group_reply(conn, s, code);
		else if (kind == 2)
			send_rcpt(conn, s);
		else
			abandon_variant(conn, s, code);
		break;
	case RELAY_RCPT:
		if (s->grouped) {
			on_group_reply(conn, s, code);
		} else if (kind == 2) {
			probe_send_line(conn, "DATA");
			set_state(conn, s, RELAY_DATA);
		} else {
			abandon_variant(conn, s, code);
		}
		break;
	case RELAY_DATA:
		if (code == 354 && !s->proven && s->group_refusal == 0) {
			double hold = s->grouped ? s->grace_until - probe_now() : 0;
			if (hold > 0) { /* the last message's proof may still come */
				s->state = RELAY_HOLD;
				probe_set_timeout(conn, hold);
			} else {
				message_due(conn, s);
			}
		} else if (code == 354) { /* nothing to send after all: closing mid-DATA discards it */
			probe_transcript(conn, "-- ", "closed without a message", 24);
			probe_finish(conn, s->proven ? VERDICT_OPEN_RELAY : verdict_so_far(s, VERDICT_CLOSED));
		} else if (s->grouped) {
			end_group(conn, s, code);
		} else if (s->proven) {
			conclude(conn, s, VERDICT_OPEN_RELAY);
		} else {
			abandon_variant(conn, s, code);
		}
		break;
	case RELAY_MESSAGE: {
		char reply[128];
		snprintf(reply, sizeof reply, "%.*s", (int)(len > 120 ? 120 : len), text);
		probe_message_answered(conn, s->token, kind == 2, reply);
		/* The message went, accepted or not (a server may queue what it refuses): the next
		 * one waits out this one's proof grace. */
		s->grace_until = probe_now() + probe_settings(conn)->proof_grace;
		if (kind != 2) {
			if (s->grouped)
				end_group(conn, s, code);
			else
				abandon_variant(conn, s, code);
			break;
		}
		s->accepted = true;
		if (s->proven) { /* the proof overtook the server's reply */
			conclude(conn, s, VERDICT_OPEN_RELAY);
		} else if (s->grouped) {
			s->rset_due = false; /* a finished message ends its transaction */
			send_group(conn, s);
		} else {
			set_state(conn, s, RELAY_AWAIT_PROOF);
		}
		break;
	}
	case RELAY_RSET:
		if (s->grouped)
			on_group_reply(conn, s, code);
		else if (kind == 2)
			enter_next_variant(conn, s);
		else
			conclude(conn, s, verdict_so_far(s, VERDICT_CLOSED));
		break;
	case RELAY_AWAIT_PROOF: /* nothing was asked: a stray line */
	case RELAY_RECORDING:
	case RELAY_HOLD:
	case RELAY_TLS_HANDSHAKE:
		break;
	case RELAY_QUIT:
		probe_finish(conn, s->verdict);
		break;
	case RELAY_STATE_LAST:
		break;
	}
}

static void relay_start(struct probe_conn *conn)
{
	struct relay_session *s = probe_state(conn);
	char text[ADDR_STRLEN];
	addr_format(probe_address(conn), text);
	snprintf(s->server_literal, sizeof s->server_literal,
		 addr_is_v4(probe_address(conn)) ? "[%s]" : "[IPv6:%s]", text);
	s->variant = -1;
	set_state(conn, s, RELAY_BANNER);
}

/* The transcript keeps the first and the last line of a multi-line reply. */
static void transcribe_reply(struct probe_conn *conn, const char *buf, const struct smtp_reply *reply)
{
	const char *first_end = memchr(buf, '\n', reply->consumed);
	probe_transcript(conn, "<< ", buf, (size_t)(first_end - buf));
	if (reply->lines > 1) {
		const char *last = buf + reply->consumed - 1;
		while (last > buf && last[-1] != '\n')
			last--;
		probe_transcript(conn, "<< ", last, (size_t)(buf + reply->consumed - last));
	}
}

static void relay_on_readable(struct probe_conn *conn)
{
	struct relay_session *s = probe_state(conn);
	struct evbuffer *in = probe_input(conn);
	/* Several replies may have arrived at once (and a peer may send junk):
	 * handle each complete one, never looking past SMTP_REPLY_MAX bytes. */
	while (!probe_finished(conn) && probe_input(conn) == in && evbuffer_get_length(in) > 0) {
		size_t len = evbuffer_get_length(in);
		if (len > SMTP_REPLY_MAX + 2)
			len = SMTP_REPLY_MAX + 2;
		const char *buf = (const char *)evbuffer_pullup(in, (ssize_t)len);
		struct smtp_reply reply;
		enum smtp_reply_status status = smtp_reply_parse(buf, len, &reply);
		if (status == SMTP_REPLY_INCOMPLETE)
			return;
		if (status != SMTP_REPLY_COMPLETE) {
			probe_transcript(conn, "<< ", buf, len > 80 ? 80 : len);
			probe_transcript(conn, "-- ", status == SMTP_REPLY_TOO_LONG ? "reply too long" : "not an SMTP reply",
					 status == SMTP_REPLY_TOO_LONG ? 14 : 17);
			probe_finish(conn, verdict_so_far(s, VERDICT_NOT_SMTP));
			return;
		}
		transcribe_reply(conn, buf, &reply);
		char text[SMTP_REPLY_MAX + 2];
		memcpy(text, buf, reply.consumed);
		size_t consumed = reply.consumed;
		evbuffer_drain(in, consumed);
		enum relay_state before = s->state;
		on_reply(conn, s, reply.code, text, consumed);
		if (before == RELAY_STARTTLS && s->state == RELAY_TLS_HANDSHAKE)
			return; /* the input now belongs to the TLS layer */
	}
}

/* No reply in time, or the connection's time is up: what we know so far. */
static void time_out(struct probe_conn *conn, struct relay_session *s)
{
	probe_transcript(conn, "-- timeout in ", relay_state_names[s->state], strlen(relay_state_names[s->state]));
	probe_finish(conn, verdict_so_far(s, VERDICT_TIMEOUT));
}

static void relay_on_timeout(struct probe_conn *conn)
{
	struct relay_session *s = probe_state(conn);
	switch (s->state) {
	case RELAY_AWAIT_PROOF: /* no proof in time: the next variant (grouped: none is left) */
		if (s->grouped) {
			conclude(conn, s, verdict_so_far(s, VERDICT_CLOSED));
			break;
		}
		probe_send_line(conn, "RSET");
		set_state(conn, s, RELAY_RSET);
		break;
	case RELAY_HOLD: { /* the last message's grace is over: this one may go */
		double grace_left = s->grace_until - probe_now();
		if (grace_left <= 0)
			message_due(conn, s);
		else if (probe_time_left(conn) > 0)
			probe_set_timeout(conn, grace_left); /* the timer fired a little early */
		else
			time_out(conn, s); /* the connection's time is up first */
		break;
	}
	case RELAY_QUIT:
		probe_finish(conn, s->verdict);
		break;
	default:
		time_out(conn, s);
	}
}

static void relay_on_closed(struct probe_conn *conn, int error)
{
	struct relay_session *s = probe_state(conn);
	if (s->state == RELAY_QUIT) {
		probe_finish(conn, s->verdict);
		return;
	}
	char note[80];
	snprintf(note, sizeof note, "closed by the server in %s%s%s", relay_state_names[s->state],
		 error ? ": " : "", error ? strerror(error) : "");
	probe_transcript(conn, "-- ", note, strlen(note));
	probe_finish(conn, verdict_so_far(s, VERDICT_UNREACHABLE));
}

static void relay_on_proof(struct probe_conn *conn, uint8_t test)
{
	struct relay_session *s = probe_state(conn);
	if (test < relay_variant_count)
		probe_set_variant(conn, relay_variants[test].name);
	probe_transcript(conn, "-- ", "proof received by the sink", 26);
	s->proven = true;
	bool group_open = s->grouped && (s->state == RELAY_RSET || s->state == RELAY_MAIL || s->state == RELAY_RCPT);
	if (s->state == RELAY_QUIT) {
		s->verdict = VERDICT_OPEN_RELAY;
	} else if (s->state == RELAY_HOLD) { /* the held message is not needed: closing mid-DATA discards it */
		probe_finish(conn, VERDICT_OPEN_RELAY);
	} else if (s->state != RELAY_MESSAGE && s->state != RELAY_RECORDING && s->state != RELAY_DATA && !group_open) {
		/* in those states a reply is due first: the message's, or DATA's (a 354 then closes) */
		conclude(conn, s, VERDICT_OPEN_RELAY);
	}
}

static void relay_on_tls(struct probe_conn *conn, bool ok)
{
	struct relay_session *s = probe_state(conn);
	if (!ok) {
		probe_reconnect_plain(conn);
		return;
	}
	probe_transcript(conn, "-- ", "TLS established", 15);
	greet(conn, s);
}

static void relay_on_recorded(struct probe_conn *conn)
{
	struct relay_session *s = probe_state(conn);
	if (s->state != RELAY_RECORDING)
		return;
	if (s->proven) { /* an earlier variant's late proof: closing mid-DATA discards this one */
		probe_message_withdrawn(conn, s->token);
		probe_finish(conn, VERDICT_OPEN_RELAY);
	} else {
		send_message(conn, s);
	}
}

static const uint16_t relay_ports[] = {25, 465, 587, 2525, 0};

const struct probe_module probe_smtp_relay = {
	.name = "smtp-relay",
	.family = PROBE_RELAY,
	.ports = relay_ports,
	.any_port = true, /* with only the relay test chosen, every candidate gets it */
	.state_size = sizeof(struct relay_session),
	.start = relay_start,
	.on_readable = relay_on_readable,
	.on_timeout = relay_on_timeout,
	.on_closed = relay_on_closed,
	.on_proof = relay_on_proof,
	.on_tls = relay_on_tls,
	.on_recorded = relay_on_recorded,
};
