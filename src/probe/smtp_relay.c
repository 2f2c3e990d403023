/*
 * The SMTP relay test, one state machine per connection (after OpenSMTPD's
 * mta_session.c): banner, EHLO (HELO fallback), STARTTLS when offered, then
 * each relay variant in turn (MAIL, RCPT, DATA, message, RSET) until the sink
 * proves one. A variant the server accepts sends exactly one small labelled
 * message, addressed only to the sink's domain; the session then waits a
 * moment for the proof before trying the next variant.
 *
 * The common variants go first, the exotic forms (domain literals, quotes,
 * bang paths, no domain) after: a strict server (Exim's
 * smtp_max_synprot_errors) counts those as syntax errors and hangs up after
 * a few, and an accepted common variant must have had its message and its
 * proof's chance by then.
 *
 * A server that advertises PIPELINING (RFC 2920) gets a sweep per phase
 * (common, then exotic): MAIL, RCPT and RSET of each variant in one write,
 * answered in order. Most servers refuse every recipient, and then a phase
 * costs one round trip instead of three per variant. Each variant whose
 * recipient was accepted then gets a group: [RSET,] MAIL, RCPT and DATA in one
 * write (DATA ends a group), its message after the 354, and the next group as
 * soon as the message is answered. A message still waits until the previous
 * one's proof grace is over, so a relay that forwards at once gets no second
 * message, but the round trips overlap the wait: an accept-then-drop server
 * costs one grace per variant, not one grace and five round trips.
 *
 * What the server answered is kept for the target across connections
 * (probe_memo): a server that hangs up with accepted variants left gets a new
 * connection for their messages, and a retry after a 4xx presents the same
 * envelopes (the tokens carry the first connection's time), which is what a
 * greylister keys on.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "probe/fingerprint.h"
#include "probe/probe.h"
#include "probe/relay_variants.h"
#include "probe/smtp_message.h"
#include "probe/smtp_reader.h"
#include "probe/smtp_reply.h"

/* New connections for accepted variants after the server hung up, per target and run. */
#define RELAY_RECONNECTS_MAX 2

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

/* The sweeps of a pipelining server, in order. */
enum relay_phase { PHASE_COMMON, PHASE_EXOTIC, PHASE_DONE };

/* What the target's server answered, kept across its connections and retries
 * (bit i: relay_variants[i]). */
struct relay_memo {
	uint32_t token_time; /* of the first connection: every token of the target carries it */
	uint16_t answered;   /* refused for good (5xx), or its message recorded: never again */
	uint16_t accepted;   /* recipient accepted, message not gone yet */
	uint8_t reconnects;
	bool message_accepted; /* some variant's message went out and was accepted */
	bool tempfailed;     /* some step answered 4xx (not 421) */
	bool heard;          /* the server answered a command of ours (the banner is no answer) */
	double grace_until;  /* the last message's proof grace ends (probe_now): a new connection waits it out too */
};
_Static_assert(sizeof(struct relay_memo) <= PROBE_MEMO_SIZE, "the memo fits the engine's room");

struct relay_session {
	enum relay_state state;
	int variant;          /* index into relay_variants; -1 before the first */
	bool esmtp;
	bool pipelining;      /* EHLO advertised PIPELINING */
	bool grouped;         /* pipelining and past the first sweep: MAIL, RCPT, RSET replies are a group's */
	enum relay_phase phase; /* the next sweep */
	uint16_t sent;        /* variants this connection sent MAIL for outside a sweep */
	uint16_t sweep_sent;  /* variants in the current sweep */
	uint8_t sweep_lead;   /* 1: the sweep starts with RSET (a group left a transaction open) */
	uint8_t sweep_replies; /* replies to the sweep seen so far: three per variant, after the lead */
	bool rset_due;        /* the next group or sweep starts with RSET: the last transaction failed */
	int group_refusal;    /* the current group's first non-2xx reply; 0 while all went well */
	unsigned syntax_errors; /* 500..504 replies: a hang-up after them is the server's limit */
	double retry_hint;    /* the longest delay a 4xx named, seconds; 0: none */
	bool proven;          /* the sink has our token */
	enum verdict verdict; /* decided; sent QUIT and waiting for the close */
	char server_literal[ADDR_STRLEN + 8];
	char token[TOKEN_MAX_LEN];
};

static void go_on(struct probe_conn *conn, struct relay_session *s);

static struct relay_memo *memo_of(struct probe_conn *conn)
{
	return probe_memo(conn);
}

static uint16_t bit(int variant)
{
	return (uint16_t)(1u << variant);
}

static void set_state(struct probe_conn *conn, struct relay_session *s, enum relay_state state)
{
	s->state = state;
	if (state == RELAY_AWAIT_PROOF)
		probe_wait(conn, PROBE_WAIT_GRACE, probe_settings(conn)->proof_grace);
	else
		probe_set_timeout(conn, probe_settings(conn)->idle_timeout);
}

/* Ends the conversation; a retry waits as long as the server asked. */
static void relay_finish(struct probe_conn *conn, struct relay_session *s, enum verdict verdict)
{
	if (s->retry_hint > 0)
		probe_retry_after(conn, s->retry_hint);
	probe_finish(conn, verdict);
}

/* Says goodbye politely and ends with verdict once the peer closes (or soon). */
static void conclude(struct probe_conn *conn, struct relay_session *s, enum verdict verdict)
{
	s->verdict = verdict;
	probe_send_line(conn, "QUIT");
	s->state = RELAY_QUIT;
	probe_set_timeout(conn, 2.0);
}

/* What we know when the conversation ends early: from every connection to the target, not only this one. */
static enum verdict verdict_so_far(struct probe_conn *conn, const struct relay_session *s, enum verdict otherwise)
{
	const struct relay_memo *m = memo_of(conn);
	if (s->proven)
		return VERDICT_OPEN_RELAY;
	if (m->message_accepted)
		return VERDICT_RELAY_ACCEPTED;
	if (m->tempfailed)
		return VERDICT_TEMPFAIL;
	return otherwise;
}

/*
 * The server hung up (421, or closed) after it had answered us. Variants it
 * accepted get their messages on a new connection; otherwise what we know:
 * after syntax errors the hang-up is the server's error limit (it refused
 * what it parsed), and with every variant answered there is nothing left to
 * ask; else a retry goes on where this one stopped.
 */
static void hung_up(struct probe_conn *conn, struct relay_session *s)
{
	struct relay_memo *m = memo_of(conn);
	if (!s->proven && m->accepted != 0 && m->reconnects < RELAY_RECONNECTS_MAX) {
		m->reconnects++;
		probe_reconnect(conn);
		return;
	}
	bool all_answered = m->answered == (uint16_t)((1u << relay_variant_count) - 1);
	relay_finish(conn, s,
		     verdict_so_far(conn, s, s->syntax_errors > 0 || all_answered ? VERDICT_CLOSED : VERDICT_TEMPFAIL));
}

static void detect_software(struct probe_conn *conn, const char *text, size_t len)
{
	const char *software = fingerprint_detect(FINGERPRINT_SMTP, text, len);
	if (software != NULL)
		probe_set_software(conn, software);
}

/* The variant's message is recorded (whatever becomes of it): it never goes again. */
static void variant_done(struct probe_conn *conn, struct relay_session *s)
{
	struct relay_memo *m = memo_of(conn);
	m->answered |= bit(s->variant);
	m->accepted &= (uint16_t)~bit(s->variant);
}

/* A refusal of the current variant: for good when permanent (5xx). */
static void variant_refused(struct probe_conn *conn, struct relay_session *s, int code)
{
	if (code / 100 == 5)
		variant_done(conn, s);
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
	probe_note(conn, ">> ", "(test message)");
	set_state(conn, s, RELAY_MESSAGE);
}

/* After the 354: the message goes once its record is durable (relay_on_recorded).
 * Its token now has a probe row: the variant is done, even should the server
 * hang up before the message goes (one row per token, never a second). */
static void message_due(struct probe_conn *conn, struct relay_session *s)
{
	variant_done(conn, s);
	probe_message_due(conn, relay_variants[s->variant].name, s->token);
	set_state(conn, s, RELAY_RECORDING);
}

/* The variant's token and addresses; false when the variant does not apply to this server. */
static bool expand_variant(struct probe_conn *conn, struct relay_session *s, char *from, char *rcpt, size_t len)
{
	const struct probe_settings *settings = probe_settings(conn);
	const struct relay_variant *v = &relay_variants[s->variant];
	char sink_literal[ADDR_STRLEN + 8], sink_text[ADDR_STRLEN];
	probe_token_at(conn, v->id, memo_of(conn)->token_time, s->token);
	addr_format(&settings->sink_address, sink_text);
	snprintf(sink_literal, sizeof sink_literal, addr_is_v4(&settings->sink_address) ? "[%s]" : "[IPv6:%s]",
		 sink_text);
	struct relay_context ctx = {
		.token = s->token,
		.sink_domain = settings->sink_domain,
		.sink_literal = sink_literal,
		.server_literal = s->server_literal,
		.from = settings->from,
	};
	return relay_expand(v->mail_from, &ctx, from, len) && relay_expand(v->rcpt_to, &ctx, rcpt, len);
}

/* [RSET,] then MAIL, RCPT and RSET of every variant of the phase still to try, in one write;
 * false when none is left. */
static bool send_sweep(struct probe_conn *conn, struct relay_session *s, enum relay_phase phase)
{
	const struct relay_memo *m = memo_of(conn);
	char from[320], rcpt[320], commands[RELAY_VARIANTS_MAX * 700 + 16];
	size_t len = 0;
	s->sweep_sent = 0;
	s->sweep_replies = 0;
	s->sweep_lead = s->rset_due;
	if (s->rset_due)
		len += probe_format_line(conn, commands, sizeof commands, "RSET");
	for (s->variant = 0; s->variant < (int)relay_variant_count; s->variant++) {
		uint16_t b = bit(s->variant);
		if (relay_variants[s->variant].common != (phase == PHASE_COMMON) ||
		    ((m->answered | m->accepted | s->sent) & b) || !expand_variant(conn, s, from, rcpt, sizeof from))
			continue;
		len += probe_format_line(conn, commands + len, sizeof commands - len, "MAIL FROM:%s", from);
		len += probe_format_line(conn, commands + len, sizeof commands - len, "RCPT TO:%s", rcpt);
		len += probe_format_line(conn, commands + len, sizeof commands - len, "RSET");
		s->sweep_sent |= b;
	}
	if (s->sweep_sent == 0)
		return false;
	s->rset_due = false;
	probe_send(conn, commands, len);
	set_state(conn, s, RELAY_SWEEP);
	return true;
}

/* The variant the sweep's nth reply (after the lead) answers: the nth/3 variant sent. */
static int sweep_variant(const struct relay_session *s, unsigned nth)
{
	unsigned skip = nth / 3;
	for (int i = 0; i < (int)relay_variant_count; i++)
		if ((s->sweep_sent & bit(i)) && skip-- == 0)
			return i;
	return -1;
}

/* One reply to the sweep; after the last, what comes next. */
static void on_sweep_reply(struct probe_conn *conn, struct relay_session *s, int code)
{
	struct relay_memo *m = memo_of(conn);
	unsigned nth = s->sweep_replies++;
	if (nth < s->sweep_lead) { /* the RSET before the sweep */
		if (code / 100 != 2)
			conclude(conn, s, verdict_so_far(conn, s, VERDICT_CLOSED));
		else
			set_state(conn, s, RELAY_SWEEP);
		return;
	}
	nth -= s->sweep_lead;
	int variant = sweep_variant(s, nth);
	enum { SWEPT_MAIL, SWEPT_RCPT, SWEPT_RSET } step = nth % 3;
	if (step == SWEPT_RCPT && code / 100 == 2)
		m->accepted |= bit(variant);
	else if (step == SWEPT_RCPT && code / 100 == 5)
		m->answered |= bit(variant);
	if (step == SWEPT_RSET && code / 100 != 2) {
		conclude(conn, s, verdict_so_far(conn, s, VERDICT_CLOSED));
		return;
	}
	if (s->sweep_replies < s->sweep_lead + 3 * (unsigned)__builtin_popcount(s->sweep_sent)) {
		set_state(conn, s, RELAY_SWEEP); /* a fresh idle timeout for the next reply */
		return;
	}
	go_on(conn, s);
}

/*
 * Moves to the next variant to try on this connection, with its token and
 * addresses: those the server accepted first; without pipelining then every
 * one it has not answered, in table order (a pipelining server gets sweeps for
 * those). False when none is left.
 */
static bool next_variant(struct probe_conn *conn, struct relay_session *s, char *from, char *rcpt, size_t len)
{
	const struct relay_memo *m = memo_of(conn);
	for (;;) {
		uint16_t left = (uint16_t)~(m->answered | s->sent) & (uint16_t)((1u << relay_variant_count) - 1);
		uint16_t pool = (m->accepted & left) ? m->accepted & left : s->pipelining ? 0 : left;
		if (pool == 0)
			return false;
		s->variant = __builtin_ctz(pool);
		s->sent |= bit(s->variant);
		if (expand_variant(conn, s, from, rcpt, len)) {
			probe_set_variant(conn, relay_variants[s->variant].name);
			return true;
		}
	}
}

/* MAIL FROM for the next variant, or the end of the tests. */
static void enter_next_variant(struct probe_conn *conn, struct relay_session *s)
{
	char from[320], rcpt[320];
	if (!next_variant(conn, s, from, rcpt, sizeof from)) {
		conclude(conn, s, verdict_so_far(conn, s, VERDICT_CLOSED));
		return;
	}
	probe_send_line(conn, "MAIL FROM:%s", from);
	set_state(conn, s, RELAY_MAIL);
}

/* [RSET,] MAIL, RCPT and DATA of the next accepted variant in one write
 * (RFC 2920: DATA ends a group); false when none is left. */
static bool send_group(struct probe_conn *conn, struct relay_session *s)
{
	char from[320], rcpt[320], commands[4 * 700];
	if (!next_variant(conn, s, from, rcpt, sizeof from))
		return false;
	size_t len = 0;
	if (s->rset_due)
		len += probe_format_line(conn, commands, sizeof commands, "RSET");
	len += probe_format_line(conn, commands + len, sizeof commands - len, "MAIL FROM:%s", from);
	len += probe_format_line(conn, commands + len, sizeof commands - len, "RCPT TO:%s", rcpt);
	len += probe_format_line(conn, commands + len, sizeof commands - len, "DATA");
	probe_send(conn, commands, len);
	s->group_refusal = 0;
	set_state(conn, s, s->rset_due ? RELAY_RSET : RELAY_MAIL);
	return true;
}

/*
 * The next step: without pipelining the next variant; with it a group for
 * each accepted variant, then (once the last message's proof grace is over)
 * the next phase's sweep, and the end when none is left.
 */
static void go_on(struct probe_conn *conn, struct relay_session *s)
{
	if (s->proven) {
		conclude(conn, s, VERDICT_OPEN_RELAY);
		return;
	}
	if (!s->pipelining) {
		enter_next_variant(conn, s);
		return;
	}
	s->grouped = true;
	if (send_group(conn, s))
		return;
	double grace_left = memo_of(conn)->grace_until - probe_now();
	if (memo_of(conn)->message_accepted && grace_left > 0) {
		s->state = RELAY_AWAIT_PROOF;
		probe_wait(conn, PROBE_WAIT_GRACE, grace_left);
		return;
	}
	while (s->phase < PHASE_DONE)
		if (send_sweep(conn, s, s->phase++))
			return;
	conclude(conn, s, verdict_so_far(conn, s, VERDICT_CLOSED));
}

/* A reply to a group's RSET, MAIL or RCPT. The server answers every command
 * of the group, so a refusal is kept and the group's DATA reply awaited. */
static void on_group_reply(struct probe_conn *conn, struct relay_session *s, int code)
{
	if (code / 100 != 2 && s->group_refusal == 0)
		s->group_refusal = code;
	if (s->state == RELAY_RSET && code / 100 != 2)
		s->sent = UINT16_MAX; /* a server that cannot reset gets no further variant */
	set_state(conn, s, s->state == RELAY_RSET ? RELAY_MAIL : s->state == RELAY_MAIL ? RELAY_RCPT : RELAY_DATA);
}

/* The group's DATA or message was refused: the next step, which resets first. */
static void end_group(struct probe_conn *conn, struct relay_session *s, int code)
{
	variant_refused(conn, s, s->group_refusal ? s->group_refusal : code);
	s->rset_due = true;
	go_on(conn, s);
}

/* The variant failed (4xx/5xx) or awaited its proof in vain: RSET, then the next. */
static void abandon_variant(struct probe_conn *conn, struct relay_session *s, int code)
{
	variant_refused(conn, s, code);
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

/* What every reply tells beyond its state: a 4xx and the delay it names, a syntax error. */
static void note_reply(struct probe_conn *conn, struct relay_session *s, int code, const char *text, size_t len)
{
	if (s->state != RELAY_BANNER)
		memo_of(conn)->heard = true;
	if (code >= 500 && code <= 504)
		s->syntax_errors++;
	if (code / 100 != 4)
		return;
	if (code != 421)
		memo_of(conn)->tempfailed = true;
	double delay = smtp_reply_retry_delay(text, len);
	if (delay > s->retry_hint)
		s->retry_hint = delay;
}

/* The 354 to DATA: the message goes once its record is durable and the last
 * message's proof grace is over (sent on this connection or an earlier one);
 * with nothing to send after all (proven, or a group's command refused) the
 * session ends: closing mid-DATA discards it. */
static void on_go_ahead(struct probe_conn *conn, struct relay_session *s)
{
	if (s->proven || s->group_refusal != 0) {
		probe_note(conn, "-- ", "closed without a message");
		relay_finish(conn, s, verdict_so_far(conn, s, VERDICT_CLOSED));
		return;
	}
	double hold = memo_of(conn)->grace_until - probe_now();
	if (hold > 0) { /* the last message's proof may still come */
		s->state = RELAY_HOLD;
		probe_wait(conn, PROBE_WAIT_GRACE, hold);
	} else {
		message_due(conn, s);
	}
}

/* The server's answer to a message, recorded; true when it accepted it. The
 * message went, accepted or not (a server may queue what it refuses): the next
 * one waits out this one's proof grace. */
static bool on_message_reply(struct probe_conn *conn, struct relay_session *s, int code, const char *text,
			     size_t len)
{
	char reply[128];
	snprintf(reply, sizeof reply, "%.*s", (int)(len > 120 ? 120 : len), text);
	probe_message_answered(conn, s->token, code / 100 == 2, reply);
	memo_of(conn)->grace_until = probe_now() + probe_settings(conn)->proof_grace;
	if (code / 100 == 2)
		memo_of(conn)->message_accepted = true;
	return code / 100 == 2;
}

/* One command at a time (no PIPELINING): MAIL, RCPT, DATA, the message, RSET, each answered before the next. */
static void on_plain_reply(struct probe_conn *conn, struct relay_session *s, int code, const char *text,
			   size_t len)
{
	int kind = code / 100;
	switch (s->state) {
	case RELAY_MAIL:
		if (kind == 2)
			send_rcpt(conn, s);
		else
			abandon_variant(conn, s, code);
		break;
	case RELAY_RCPT:
		if (kind == 2) {
			probe_send_line(conn, "DATA");
			set_state(conn, s, RELAY_DATA);
		} else {
			abandon_variant(conn, s, code);
		}
		break;
	case RELAY_DATA:
		if (code == 354)
			on_go_ahead(conn, s);
		else if (s->proven)
			conclude(conn, s, VERDICT_OPEN_RELAY);
		else
			abandon_variant(conn, s, code);
		break;
	case RELAY_MESSAGE:
		if (!on_message_reply(conn, s, code, text, len))
			abandon_variant(conn, s, code);
		else if (s->proven) /* the proof overtook the server's reply */
			conclude(conn, s, VERDICT_OPEN_RELAY);
		else
			set_state(conn, s, RELAY_AWAIT_PROOF);
		break;
	case RELAY_RSET:
		if (kind == 2)
			enter_next_variant(conn, s);
		else
			conclude(conn, s, verdict_so_far(conn, s, VERDICT_CLOSED));
		break;
	default: /* nothing of ours is waiting for it: a stray line */
		break;
	}
}

/* PIPELINING (RFC 2920): the replies to a sweep, and to a group ([RSET,] MAIL, RCPT, DATA) and its message. */
static void on_grouped_reply(struct probe_conn *conn, struct relay_session *s, int code, const char *text,
			     size_t len)
{
	switch (s->state) {
	case RELAY_SWEEP:
		on_sweep_reply(conn, s, code);
		break;
	case RELAY_RSET:
	case RELAY_MAIL:
	case RELAY_RCPT:
		on_group_reply(conn, s, code);
		break;
	case RELAY_DATA:
		if (code == 354)
			on_go_ahead(conn, s);
		else
			end_group(conn, s, code);
		break;
	case RELAY_MESSAGE:
		if (!on_message_reply(conn, s, code, text, len)) {
			end_group(conn, s, code);
		} else if (s->proven) { /* the proof overtook the server's reply */
			conclude(conn, s, VERDICT_OPEN_RELAY);
		} else {
			s->rset_due = false; /* a finished message ends its transaction */
			go_on(conn, s);
		}
		break;
	default: /* nothing of ours is waiting for it: a stray line */
		break;
	}
}

/* Decides the next step from one complete reply (OpenSMTPD's response()): the
 * greeting here, the variants in the plain or the pipelined sub-machine. */
static void on_reply(struct probe_conn *conn, struct relay_session *s, int code, const char *text, size_t len)
{
	int kind = code / 100;
	note_reply(conn, s, code, text, len);
	if (code == 421 && s->state != RELAY_BANNER && s->state != RELAY_QUIT) {
		hung_up(conn, s); /* the server closes the channel */
		return;
	}
	switch (s->state) {
	case RELAY_BANNER:
		detect_software(conn, text, len);
		if (code == 220)
			greet(conn, s);
		else
			relay_finish(conn, s,
				     kind == 4 ? VERDICT_TEMPFAIL : kind == 5 ? VERDICT_CLOSED : VERDICT_NOT_SMTP);
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
				go_on(conn, s);
			}
		} else {
			probe_send_line(conn, "HELO %s", probe_settings(conn)->helo);
			set_state(conn, s, RELAY_HELO);
		}
		break;
	case RELAY_HELO:
		if (kind == 2)
			go_on(conn, s);
		else
			relay_finish(conn, s, kind == 4 ? VERDICT_TEMPFAIL : VERDICT_CLOSED);
		break;
	case RELAY_STARTTLS:
		if (code == 220) {
			s->state = RELAY_TLS_HANDSHAKE;
			probe_start_tls(conn);
		} else {
			go_on(conn, s); /* offered but refused: test in clear */
		}
		break;
	case RELAY_QUIT:
		relay_finish(conn, s, s->verdict);
		break;
	case RELAY_AWAIT_PROOF: /* nothing was asked: a stray line */
	case RELAY_RECORDING:
	case RELAY_HOLD:
	case RELAY_TLS_HANDSHAKE:
	case RELAY_STATE_LAST:
		break;
	default:
		if (s->grouped)
			on_grouped_reply(conn, s, code, text, len);
		else
			on_plain_reply(conn, s, code, text, len);
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
	struct relay_memo *m = memo_of(conn);
	if (m->token_time == 0)
		m->token_time = (uint32_t)time(NULL);
	set_state(conn, s, RELAY_BANNER);
}

static void relay_on_readable(struct probe_conn *conn)
{
	struct relay_session *s = probe_state(conn);
	struct evbuffer *in = probe_input(conn);
	/* Several replies may have arrived at once (and a peer may send junk): handle each complete one. */
	while (!probe_finished(conn) && probe_input(conn) == in && evbuffer_get_length(in) > 0) {
		struct smtp_reply reply;
		char text[SMTP_REPLY_TEXT];
		enum smtp_reply_status status = smtp_reply_read(conn, &reply, text);
		if (status == SMTP_REPLY_INCOMPLETE)
			return;
		if (status != SMTP_REPLY_COMPLETE) {
			size_t len = evbuffer_get_length(in);
			size_t shown = len > 80 ? 80 : len;
			probe_transcript(conn, "<< ", (const char *)evbuffer_pullup(in, (ssize_t)shown), shown);
			if (status == SMTP_REPLY_TOO_LONG)
				probe_note(conn, "-- ", "reply too long");
			else
				probe_note(conn, "-- ", "not an SMTP reply");
			probe_finish(conn, verdict_so_far(conn, s, VERDICT_NOT_SMTP));
			return;
		}
		enum relay_state before = s->state;
		on_reply(conn, s, reply.code, text, reply.consumed);
		if (before == RELAY_STARTTLS && s->state == RELAY_TLS_HANDSHAKE)
			return; /* the input now belongs to the TLS layer */
	}
}

/* No reply in time, or the connection's time is up: what we know so far. */
static void time_out(struct probe_conn *conn, struct relay_session *s)
{
	probe_transcript(conn, "-- timeout in ", relay_state_names[s->state], strlen(relay_state_names[s->state]));
	relay_finish(conn, s, verdict_so_far(conn, s, VERDICT_TIMEOUT));
}

static void relay_on_timeout(struct probe_conn *conn)
{
	struct relay_session *s = probe_state(conn);
	switch (s->state) {
	case RELAY_AWAIT_PROOF: /* no proof in time: the next variant (grouped: the next sweep, or the end) */
		if (s->grouped) {
			go_on(conn, s);
			break;
		}
		probe_send_line(conn, "RSET");
		set_state(conn, s, RELAY_RSET);
		break;
	case RELAY_HOLD: { /* the last message's grace is over: this one may go */
		double grace_left = memo_of(conn)->grace_until - probe_now();
		if (grace_left <= 0)
			message_due(conn, s);
		else if (probe_time_left(conn) > 0)
			probe_wait(conn, PROBE_WAIT_GRACE, grace_left); /* the timer fired a little early */
		else
			time_out(conn, s); /* the connection's time is up first */
		break;
	}
	case RELAY_QUIT:
		relay_finish(conn, s, s->verdict);
		break;
	default:
		time_out(conn, s);
	}
}

static void relay_on_closed(struct probe_conn *conn, int error)
{
	struct relay_session *s = probe_state(conn);
	if (s->state == RELAY_QUIT) {
		relay_finish(conn, s, s->verdict);
		return;
	}
	char note[80];
	snprintf(note, sizeof note, "closed by the server in %s%s%s", relay_state_names[s->state],
		 error ? ": " : "", error ? strerror(error) : "");
	probe_transcript(conn, "-- ", note, strlen(note));
	if (memo_of(conn)->heard)
		hung_up(conn, s);
	else /* only a host that never answered us is unreachable */
		relay_finish(conn, s, verdict_so_far(conn, s, VERDICT_UNREACHABLE));
}

/* A new connection failed (a reconnect, a retry): a server that answered an
 * earlier one is not unreachable; what it answered decides. */
static enum verdict relay_on_connect_failed(struct probe_conn *conn, enum verdict verdict)
{
	return memo_of(conn)->heard ? verdict_so_far(conn, probe_state(conn), VERDICT_TEMPFAIL) : verdict;
}

static void relay_on_proof(struct probe_conn *conn, uint8_t test)
{
	struct relay_session *s = probe_state(conn);
	const struct relay_variant *v = relay_variant_by_id(test);
	if (v != NULL)
		probe_set_variant(conn, v->name);
	probe_note(conn, "-- ", "proof received by the sink");
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
	probe_note(conn, "-- ", "TLS established");
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
	.alias = "relay",
	.ports = relay_ports,
	.any_port = true, /* with only the relay test chosen, every candidate gets it */
	.state_size = sizeof(struct relay_session),
	.start = relay_start,
	.on_connect_failed = relay_on_connect_failed,
	.on_readable = relay_on_readable,
	.on_timeout = relay_on_timeout,
	.on_closed = relay_on_closed,
	.on_proof = relay_on_proof,
	.on_tls = relay_on_tls,
	.on_recorded = relay_on_recorded,
};
