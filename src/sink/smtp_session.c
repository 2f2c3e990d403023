/*
 * One SMTP conversation with whoever connects to the sink: an explicit state
 * machine and a command table, after OpenSMTPD's smtp_session.c.
 *
 * Everything the client sends is bounded: command lines by the line limit
 * (longer ones get "500 Line too long" and are dropped to their end), the
 * message by the size limit (the rest is read and discarded, then 552),
 * recipients by SINK_MAX_RCPTS, mistakes by SINK_MAX_BAD_COMMANDS, silence
 * by the idle timeout, and queued replies by SINK_OUTPUT_MAX (a client that
 * pipelines without reading is paused). Nothing is relayed: a finished
 * message goes to sink_record_message() and is forgotten.
 */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "sink/message.h"
#include "sink/sink_internal.h"
#include "sink/smtp_parse.h"
#include "core/util.h"

enum smtp_state {
	SMTP_STATE_CONNECTED, /* banner sent; HELO or EHLO first */
	SMTP_STATE_HELO,      /* greeted; no transaction */
	SMTP_STATE_MAIL,      /* MAIL accepted; RCPT next */
	SMTP_STATE_RCPT,      /* one or more recipients; more, or DATA */
	SMTP_STATE_BODY,      /* reading the message up to the "." line */
	SMTP_STATE_QUIT,      /* the last reply is queued; closing once it is sent */
	SMTP_STATE_LAST,
};

static const char *const smtp_state_names[SMTP_STATE_LAST] = {
    [SMTP_STATE_CONNECTED] = "connected", [SMTP_STATE_HELO] = "helo", [SMTP_STATE_MAIL] = "mail",
    [SMTP_STATE_RCPT] = "rcpt",		  [SMTP_STATE_BODY] = "body", [SMTP_STATE_QUIT] = "quit",
};

enum { SMTP_INPUT_MAX = 65536 }; /* read high-water mark; lines are far shorter */

struct smtp_session {
	LIST_ENTRY(smtp_session) entry;
	struct sink *sink;
	struct bufferevent *bev;
	enum smtp_state state;
	char peer[ADDR_PORT_STRLEN];
	struct addr peer_addr;
	struct addr local; /* the address the client reached: [literal] recipients name it */
	struct event *deadline; /* the whole session's time, then the closing grace */
	char helo[256];
	bool discarding; /* inside an over-long line: dropping it up to its end */
	bool paused;	 /* too many replies unread: reading stops until they are sent */
	unsigned bad_commands;
	char *line; /* the current command line, line_limit bytes */
	/* The transaction. */
	char mail_from[SINK_SMTP_PATH_MAX + 1];
	char *rcpts[SINK_MAX_RCPTS];
	size_t nrcpts;
	struct sink_message_body body;
	bool body_reserved; /* holds max_message of the sink's max_bodies */
};

/* ---- replies ---- */

static void smtp_reply(struct smtp_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void smtp_reply(struct smtp_session *s, const char *fmt, ...)
{
	char reply[600];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(reply, sizeof reply - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof reply - 3)
		n = (int)sizeof reply - 3;
	log_debug("sink: %s [%s] < %s", s->peer, smtp_state_names[s->state], reply);
	memcpy(reply + n, "\r\n", 2);
	bufferevent_write(s->bev, reply, (size_t)n + 2);
}

/* A reply to a client mistake or a refused request; a client that keeps at it is cut off. */
static void smtp_bad(struct smtp_session *s, const char *reply)
{
	smtp_reply(s, "%s", reply);
	if (++s->bad_commands < SINK_MAX_BAD_COMMANDS)
		return;
	log_info("sink: %s: %u bad commands, closing", s->peer, s->bad_commands);
	smtp_reply(s, "421 4.7.0 %s Too many errors, closing", s->sink->domain);
	s->state = SMTP_STATE_QUIT;
}

static void smtp_transaction_reset(struct smtp_session *s)
{
	for (size_t i = 0; i < s->nrcpts; i++)
		free(s->rcpts[i]);
	s->nrcpts = 0;
	s->mail_from[0] = '\0';
	sink_message_body_free(&s->body);
	if (s->body_reserved)
		s->sink->bodies_reserved -= s->sink->opts.max_message;
	s->body_reserved = false;
}

/* ---- commands ---- */

static void smtp_greet(struct smtp_session *s, const char *args, size_t len, bool esmtp)
{
	const struct sink *sink = s->sink;
	if (!sink_smtp_helo_valid(args, len)) {
		smtp_bad(s, esmtp ? "501 5.5.4 Syntax: EHLO hostname" : "501 5.5.4 Syntax: HELO hostname");
		return;
	}
	smtp_transaction_reset(s);
	memcpy(s->helo, args, len);
	s->helo[len] = '\0';
	s->state = SMTP_STATE_HELO;
	if (!esmtp) {
		smtp_reply(s, "250 %s Hello %s", sink->domain, s->helo);
		return;
	}
	smtp_reply(s, "250-%s Hello %s from %s", sink->domain, s->helo, s->peer);
	smtp_reply(s, "250-PIPELINING");
	smtp_reply(s, "250-8BITMIME");
	smtp_reply(s, "250-ENHANCEDSTATUSCODES");
	smtp_reply(s, "250 SIZE %zu", sink->opts.max_message);
}

static void smtp_helo(struct smtp_session *s, const char *args, size_t len)
{
	smtp_greet(s, args, len, false);
}

static void smtp_ehlo(struct smtp_session *s, const char *args, size_t len)
{
	smtp_greet(s, args, len, true);
}

static void smtp_mail(struct smtp_session *s, const char *args, size_t len)
{
	struct sink_smtp_path path;
	const char *reply;
	if (sink_smtp_path_parse(args, len, SINK_SMTP_PATH_MAIL, &path, &reply) != 0) {
		smtp_bad(s, reply);
		return;
	}
	if (path.has_size && path.size > s->sink->opts.max_message) {
		char too_big[100];
		snprintf(too_big, sizeof too_big, "552 5.3.4 Message size exceeds the limit of %zu bytes",
			 s->sink->opts.max_message);
		smtp_bad(s, too_big);
		return;
	}
	memcpy(s->mail_from, path.address, sizeof s->mail_from);
	s->state = SMTP_STATE_MAIL;
	smtp_reply(s, "250 2.1.0 Ok");
}

static void smtp_rcpt(struct smtp_session *s, const char *args, size_t len)
{
	struct sink_smtp_path path;
	const char *reply;
	if (sink_smtp_path_parse(args, len, SINK_SMTP_PATH_RCPT, &path, &reply) != 0) {
		smtp_bad(s, reply);
		return;
	}
	if (s->nrcpts == SINK_MAX_RCPTS) {
		smtp_bad(s, "452 4.5.3 Too many recipients");
		return;
	}
	if (!sink_smtp_rcpt_is_ours(path.address, s->sink->domain, &s->local)) {
		char refused[SINK_SMTP_PATH_MAX + 200];
		log_info("sink: %s asked to relay to <%s>: refused", s->peer, path.address);
		snprintf(refused, sizeof refused, "550 5.7.1 <%s>: Relay access denied: not a relay, mail for %s only",
			 path.address, s->sink->domain);
		smtp_bad(s, refused);
		return;
	}
	char *rcpt = strdup(path.address);
	if (rcpt == NULL) {
		smtp_reply(s, "451 4.3.0 Out of memory, try again later");
		return;
	}
	s->rcpts[s->nrcpts++] = rcpt;
	s->state = SMTP_STATE_RCPT;
	smtp_reply(s, "250 2.1.5 Ok");
}

static void smtp_data(struct smtp_session *s, const char *args, size_t len)
{
	if (len > 0) {
		smtp_bad(s, "501 5.5.4 Syntax: DATA");
		return;
	}
	struct sink *sink = s->sink;
	/* Many slow messages at once must not add up to more memory than the operator allows. */
	if (sink->bodies_reserved + sink->opts.max_message > sink->opts.max_bodies) {
		smtp_reply(s, "452 4.3.1 Insufficient system storage, try again later");
		return;
	}
	sink->bodies_reserved += sink->opts.max_message;
	s->body_reserved = true;
	sink_message_body_init(&s->body, sink->opts.max_message);
	s->state = SMTP_STATE_BODY;
	smtp_reply(s, "354 End data with <CR><LF>.<CR><LF>");
}

static void smtp_rset(struct smtp_session *s, const char *args, size_t len)
{
	smtp_transaction_reset(s);
	s->state = s->helo[0] ? SMTP_STATE_HELO : SMTP_STATE_CONNECTED;
	smtp_reply(s, "250 2.0.0 Ok");
}

static void smtp_noop(struct smtp_session *s, const char *args, size_t len)
{
	smtp_reply(s, "250 2.0.0 Ok");
}

static void smtp_vrfy(struct smtp_session *s, const char *args, size_t len)
{
	smtp_reply(s, "252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery");
}

static void smtp_quit(struct smtp_session *s, const char *args, size_t len)
{
	smtp_reply(s, "221 2.0.0 %s Bye", s->sink->domain);
	s->state = SMTP_STATE_QUIT;
}

typedef void smtp_handler(struct smtp_session *s, const char *args, size_t len);

#define IN(state) (1u << (state))
#define OUTSIDE_BODY                                                                                         \
	(IN(SMTP_STATE_CONNECTED) | IN(SMTP_STATE_HELO) | IN(SMTP_STATE_MAIL) | IN(SMTP_STATE_RCPT))

static const struct smtp_command_entry {
	const char *name;
	unsigned states;      /* where the command may come */
	const char *sequence; /* the reply anywhere else (after HELO; before it, "say HELO") */
	smtp_handler *run;    /* NULL: known but not offered (502) */
} smtp_commands[] = {
    {"HELO", OUTSIDE_BODY, NULL, smtp_helo},
    {"EHLO", OUTSIDE_BODY, NULL, smtp_ehlo},
    {"MAIL", IN(SMTP_STATE_HELO), "503 5.5.1 Nested MAIL command", smtp_mail},
    {"RCPT", IN(SMTP_STATE_MAIL) | IN(SMTP_STATE_RCPT), "503 5.5.1 Need MAIL before RCPT", smtp_rcpt},
    {"DATA", IN(SMTP_STATE_RCPT), "503 5.5.1 Need RCPT before DATA", smtp_data},
    {"RSET", OUTSIDE_BODY, NULL, smtp_rset},
    {"NOOP", OUTSIDE_BODY, NULL, smtp_noop},
    {"VRFY", OUTSIDE_BODY, NULL, smtp_vrfy},
    {"QUIT", OUTSIDE_BODY, NULL, smtp_quit},
    {"EXPN", 0, NULL, NULL},
    {"HELP", 0, NULL, NULL},
    {"STARTTLS", 0, NULL, NULL},
    {"AUTH", 0, NULL, NULL},
    {"BDAT", 0, NULL, NULL},
    {"ETRN", 0, NULL, NULL},
    {"TURN", 0, NULL, NULL},
};

static const struct smtp_command_entry *smtp_command_find(const char *verb, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(smtp_commands); i++)
		if (strlen(smtp_commands[i].name) == len &&
		    strncasecmp(smtp_commands[i].name, verb, len) == 0)
			return &smtp_commands[i];
	return NULL;
}

static void smtp_command(struct smtp_session *s, const char *line, size_t len)
{
	struct sink_smtp_command cmd;
	log_debug("sink: %s [%s] > %.*s", s->peer, smtp_state_names[s->state], (int)len, line);
	if (memchr(line, '\0', len) != NULL) {
		smtp_bad(s, "500 5.5.2 Invalid character in command");
		return;
	}
	sink_smtp_command_split(line, len, &cmd);
	const struct smtp_command_entry *e = smtp_command_find(cmd.verb, cmd.verb_len);
	if (e == NULL)
		smtp_bad(s, "500 5.5.2 Command unrecognized");
	else if (e->run == NULL)
		smtp_bad(s, "502 5.5.1 Command not implemented");
	else if ((e->states & IN(s->state)) == 0)
		smtp_bad(s,
			 s->state == SMTP_STATE_CONNECTED ? "503 5.5.1 Say HELO or EHLO first" : e->sequence);
	else
		e->run(s, cmd.args, cmd.args_len);
}

/* ---- the end of a message ---- */

static void smtp_message_end(struct smtp_session *s)
{
	struct sink *sink = s->sink;
	const struct sink_message_body *body = &s->body;
	if (body->overflow) {
		sink->counters.messages_too_big++;
		log_info("sink: %s sent %" PRIu64 " bytes, over the limit of %zu: refused", s->peer,
			 body->total, sink->opts.max_message);
		smtp_reply(s, "552 5.3.4 Message too big: %zu bytes at most", sink->opts.max_message);
	} else if (body->no_memory) {
		smtp_reply(s, "451 4.3.0 Out of memory, try again later");
	} else {
		struct sink_envelope envelope = {
		    .peer = s->peer,
		    .peer_addr = &s->peer_addr,
		    .helo = s->helo,
		    .mail_from = s->mail_from,
		    .rcpts = (const char *const *)s->rcpts,
		    .nrcpts = s->nrcpts,
		};
		sink->counters.messages++;
		/* 250 whatever the message held, so a relay never retries; 451 only if we lost it. */
		if (sink_record_message(sink, &envelope, body->data ? body->data : "", body->len) == 0)
			smtp_reply(s, "250 2.0.0 Ok: %" PRIu64 " bytes received", body->total);
		else
			smtp_reply(s, "451 4.3.0 Could not record the message, try again later");
	}
	smtp_transaction_reset(s);
	s->state = SMTP_STATE_HELO;
}

/* ---- input ---- */

/* One command line from the input; false when none is complete yet. */
static bool smtp_read_command(struct smtp_session *s, struct evbuffer *in)
{
	size_t limit = s->sink->opts.line_limit, eol_len = 0;
	struct evbuffer_ptr eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_CRLF);
	if (eol.pos < 0) {
		size_t have = evbuffer_get_length(in);
		if (have < limit)
			return false;
		/* No end in sight: drop what came, and the rest of the line when it comes. */
		evbuffer_drain(in, have);
		if (!s->discarding)
			smtp_bad(s, "500 5.5.2 Line too long");
		s->discarding = true;
		return false;
	}
	size_t len = (size_t)eol.pos;
	if (s->discarding || len + 2 > limit) {
		evbuffer_drain(in, len + eol_len);
		if (!s->discarding)
			smtp_bad(s, "500 5.5.2 Line too long");
		s->discarding = false;
		return true;
	}
	evbuffer_remove(in, s->line, len);
	evbuffer_drain(in, eol_len);
	smtp_command(s, s->line, len);
	return true;
}

/* Message bytes from the input; false when the input is empty. */
static bool smtp_read_body(struct smtp_session *s, struct evbuffer *in)
{
	size_t len = evbuffer_get_length(in);
	if (len == 0)
		return false;
	if (len > SMTP_INPUT_MAX)
		len = SMTP_INPUT_MAX;
	const char *chunk = (const char *)evbuffer_pullup(in, (ev_ssize_t)len);
	if (chunk == NULL) {
		smtp_reply(s, "421 4.3.0 %s Out of memory, closing", s->sink->domain);
		s->state = SMTP_STATE_QUIT;
		return false;
	}
	evbuffer_drain(in, sink_message_body_feed(&s->body, chunk, len));
	if (sink_message_body_done(&s->body))
		smtp_message_end(s);
	return true;
}

static void smtp_process(struct smtp_session *s)
{
	struct evbuffer *in = bufferevent_get_input(s->bev);
	struct evbuffer *out = bufferevent_get_output(s->bev);
	bool progress = true;
	while (progress && s->state != SMTP_STATE_QUIT) {
		if (evbuffer_get_length(out) > SINK_OUTPUT_MAX) {
			/* smtp_on_write resumes once the client has read its replies. */
			log_debug("sink: %s is not reading its replies: pausing", s->peer);
			s->paused = true;
			bufferevent_disable(s->bev, EV_READ);
			return;
		}
		progress = s->state == SMTP_STATE_BODY ? smtp_read_body(s, in) : smtp_read_command(s, in);
	}
	if (s->state == SMTP_STATE_QUIT)
		bufferevent_disable(s->bev, EV_READ);
}

/* ---- events ---- */

static void smtp_on_read(struct bufferevent *bev, void *arg)
{
	smtp_process(arg);
}

/* The output is drained: finish a closing session, or resume a paused one. */
static void smtp_on_write(struct bufferevent *bev, void *arg)
{
	struct smtp_session *s = arg;
	if (s->state == SMTP_STATE_QUIT) {
		sink_smtp_session_free(s);
		return;
	}
	if (s->paused) {
		s->paused = false;
		bufferevent_enable(bev, EV_READ);
		smtp_process(s);
	}
}

static void smtp_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct smtp_session *s = arg;
	bool output_waits = evbuffer_get_length(bufferevent_get_output(bev)) > 0;
	if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_READING) && s->state != SMTP_STATE_QUIT) {
		log_debug("sink: %s idle in state %s: closing", s->peer, smtp_state_names[s->state]);
		smtp_reply(s, "421 4.4.2 %s Idle timeout, closing", s->sink->domain);
		s->state = SMTP_STATE_QUIT;
		return;
	}
	if ((what & BEV_EVENT_EOF) && output_waits && s->state != SMTP_STATE_QUIT) {
		/* The client half-closed after pipelining: it still gets the replies. */
		s->state = SMTP_STATE_QUIT;
		bufferevent_disable(bev, EV_READ);
		return;
	}
	if (what & BEV_EVENT_ERROR)
		log_debug("sink: %s: %s", s->peer, evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	sink_smtp_session_free(s);
}

/* The session's time is up (a byte now and then resets the idle timeout, not this); or, once told to go, its grace. */
static void smtp_on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct smtp_session *s = arg;
	struct timeval grace = {SINK_CLOSING_GRACE, 0};
	if (s->state == SMTP_STATE_QUIT) {
		sink_smtp_session_free(s);
		return;
	}
	log_debug("sink: %s still connected after %u s: closing", s->peer, s->sink->opts.session_timeout);
	smtp_reply(s, "421 4.4.2 %s Session too long, closing", s->sink->domain);
	s->state = SMTP_STATE_QUIT;
	bufferevent_disable(s->bev, EV_READ);
	evtimer_add(s->deadline, &grace);
}

/* ---- life ---- */

unsigned sink_smtp_sessions_from(const struct sink *sink, const struct addr *peer)
{
	unsigned n = 0;
	const struct smtp_session *s;
	LIST_FOREACH(s, &sink->smtp_sessions, entry)
		n += addr_cmp(&s->peer_addr, peer) == 0;
	return n;
}

void sink_smtp_session_start(struct sink *sink, evutil_socket_t fd, const struct addr *peer_addr,
			     const char *peer, const struct addr *local)
{
	struct smtp_session *s = calloc(1, sizeof *s);
	if (s == NULL || (s->line = malloc(sink->opts.line_limit)) == NULL ||
	    (s->deadline = evtimer_new(sink->base, smtp_on_deadline, s)) == NULL ||
	    (s->bev = bufferevent_socket_new(sink->base, fd, BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		log_warn("sink: out of memory for a session from %s", peer);
		if (s != NULL) {
			free(s->line);
			if (s->deadline)
				event_free(s->deadline);
		}
		free(s);
		evutil_closesocket(fd);
		return;
	}
	/* First in every loop turn: beside a busy verifier, a proof that waits
	 * behind thousands of probe events arrives after its grace. */
	bufferevent_priority_set(s->bev, SINK_PRIORITY);
	event_priority_set(s->deadline, SINK_PRIORITY);
	s->sink = sink;
	s->state = SMTP_STATE_CONNECTED;
	s->peer_addr = *peer_addr;
	s->local = *local;
	snprintf(s->peer, sizeof s->peer, "%s", peer);
	LIST_INSERT_HEAD(&sink->smtp_sessions, s, entry);
	sink->active++;
	sink->counters.sessions++;
	struct timeval idle = {(time_t)sink->opts.idle_timeout, 0}, whole = {(time_t)sink->opts.session_timeout, 0};
	evtimer_add(s->deadline, &whole);
	bufferevent_setcb(s->bev, smtp_on_read, smtp_on_write, smtp_on_event, s);
	bufferevent_set_timeouts(s->bev, &idle, &idle);
	bufferevent_setwatermark(s->bev, EV_READ, 0, SMTP_INPUT_MAX + sink->opts.line_limit);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	log_debug("sink: %s connected", peer);
	smtp_reply(s, "220 %s ESMTP plughole sink: test messages for %s only, never relayed", sink->domain,
		   sink->domain);
}

void sink_smtp_session_free(struct smtp_session *s)
{
	log_debug("sink: %s gone (state %s)", s->peer, smtp_state_names[s->state]);
	LIST_REMOVE(s, entry);
	s->sink->active--;
	smtp_transaction_reset(s);
	event_free(s->deadline);
	bufferevent_free(s->bev);
	free(s->line);
	free(s);
}
