/*
 * The lab's SMTP hosts: one session per connection, an explicit state
 * machine, a command table, and a relay policy per behaviour. Replies go
 * through the bufferevent; --latency holds each reply back by disabling
 * writes until a timer fires, so a delayed host costs no extra buffer. The
 * latency is the network's: replies to pipelined commands are held together
 * and go out at once, as they would arrive over a slow link. A held batch
 * goes straight to the socket (no write event to arm and disarm per reply):
 * the lab shares the benchmark's cores with the verifier.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/ssl.h>

#include "core/log.h"
#include "lab.h"
#include "lab_smtp.h"

#define SMTP_LINE_MAX 1000  /* longer lines are refused (RFC 5321 4.5.3.1.6) */
#define SMTP_INPUT_MAX 4096 /* read watermark: what one client may have buffered */
#define SMTP_RCPT_MAX 100
#define SMTP_ERRORS_MAX 20
#define SMTP_HELO_MAX 255
#define SMTP_SYNPROT_MAX 3 /* Exim's smtp_max_synprot_errors: the next one ends the session */

enum smtp_state {
	SMTP_TARPIT,  /* holding the banner back */
	SMTP_DRIP,    /* sending the banner a byte a second */
	SMTP_GREET,   /* banner sent, waiting for HELO/EHLO */
	SMTP_READY,   /* greeted, no transaction */
	SMTP_MAIL,    /* MAIL accepted, no recipient yet */
	SMTP_RCPT,    /* at least one recipient accepted */
	SMTP_DATA,    /* reading the message */
	SMTP_CLOSING, /* the last reply is queued; close (or start TLS) once it is out */
	SMTP_STATE_LAST
};

/* Each state's name (for traces) and how long a client may stay silent in it, in --idle-timeout units. */
static const struct {
	const char *name;
	unsigned idle_units; /* 0: no limit (the host is the slow one) */
} smtp_states[SMTP_STATE_LAST] = {
    [SMTP_TARPIT] = {"tarpit", 0}, [SMTP_DRIP] = {"drip", 0},	    [SMTP_GREET] = {"greet", 1},
    [SMTP_READY] = {"ready", 1},   [SMTP_MAIL] = {"mail", 1},	    [SMTP_RCPT] = {"rcpt", 1},
    [SMTP_DATA] = {"data", 2},	   [SMTP_CLOSING] = {"closing", 1},
};

/* What happens once the output has drained. */
enum smtp_after { AFTER_NOTHING, AFTER_CLOSE, AFTER_TLS, AFTER_RESET };

enum hello_style { HELLO_PLAIN, HELLO_NAME_IP, HELLO_PLEASED, HELLO_IP, HELLO_OK };

/* What a fingerprinter sees: banner, EHLO, and the wording of refusals. */
struct smtp_software {
	const char *name;
	const char *banner; /* after "220 <host> " */
	bool banner_date;
	enum hello_style hello;
	const char *extensions; /* EHLO keywords, one per line */
	const char *denied;	/* a refused relay recipient; %s: the path */
	const char *queued;	/* the end of DATA; %s: the queue id */
};

static const struct smtp_software smtp_softwares[] = {
    {"Postfix", "ESMTP Postfix (Debian/GNU)", false, HELLO_PLAIN,
     "PIPELINING\nSIZE 10240000\nVRFY\nETRN\nENHANCEDSTATUSCODES\n8BITMIME\nDSN\nSMTPUTF8",
     "554 5.7.1 <%s>: Relay access denied", "250 2.0.0 Ok: queued as %s"},
    {"Exim", "ESMTP Exim 4.96", true, HELLO_NAME_IP, "SIZE 52428800\n8BITMIME\nPIPELINING\nHELP",
     "550 relay not permitted", "250 OK id=%s"},
    {"Sendmail", "ESMTP Sendmail 8.17.1/8.17.1;", true, HELLO_PLEASED,
     "ENHANCEDSTATUSCODES\nPIPELINING\n8BITMIME\nSIZE\nDSN\nETRN\nDELIVERBY\nHELP",
     "550 5.7.1 <%s>... Relaying denied", "250 2.0.0 %s Message accepted for delivery"},
    {"Microsoft Exchange", "Microsoft ESMTP MAIL Service ready at", true, HELLO_IP,
     "SIZE 37748736\nPIPELINING\nDSN\nENHANCEDSTATUSCODES\n8BITMIME",
     "550 5.7.54 SMTP; Unable to relay recipient in non-accepted domain",
     "250 2.6.0 <%s@lab.test> Queued mail for delivery"},
    {"qmail", "ESMTP qmail", false, HELLO_PLAIN, "PIPELINING\n8BITMIME",
     "553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)", "250 ok %s qp 4242"},
    {"OpenSMTPD", "ESMTP OpenSMTPD", false, HELLO_PLEASED,
     "8BITMIME\nENHANCEDSTATUSCODES\nSIZE 36700160\nDSN\nHELP", "550 Invalid recipient: <%s>",
     "250 2.0.0 %s Message accepted for delivery"},
    {"Courier", "ESMTP Courier-MTA", false, HELLO_OK,
     "XVERP=Courier\nXEXDATA\nPIPELINING\n8BITMIME\nSIZE\nDSN", "513 Relaying denied.", "250 Ok. %s"},
};

#define SMTP_SOFTWARE_COUNT (sizeof smtp_softwares / sizeof smtp_softwares[0])

struct smtp_session {
	struct lab_session base;
	struct lab *lab;
	struct bufferevent *bev;
	struct event *timer; /* reply latency, tarpit, drip; made when first needed */
	struct lab_host host;
	evutil_socket_t fd;
	enum smtp_state state;
	enum smtp_after after;
	bool tls, delaying, esmtp;
	unsigned idle_seconds; /* the bufferevent's read timeout now, + 1 (0: not set) */
	uint8_t errors;
	uint8_t synprot_errors; /* the strict (Exim) hosts' count */
	uint16_t dripped;
	char *drip_text;
	char *helo;
	/* the transaction */
	char *mail_from;
	struct lab_rcpt *relay; /* accepted recipients that this host delivers onward */
	unsigned nrelay, naccepted;
	struct evbuffer *message; /* only when there is someone to deliver it to */
	size_t message_size;
};

/* Exim's strict syntax and error limit (exim-open, exim-closed). */
static bool smtp_strict(const struct lab_host *host)
{
	return host->behaviour == LAB_EXIM_OPEN || host->behaviour == LAB_EXIM_CLOSED ||
	       host->behaviour == LAB_STRICT_PERCENT;
}

static const struct smtp_software *smtp_software_of(const struct lab_host *host)
{
	if (smtp_strict(host))
		for (size_t i = 0; i < SMTP_SOFTWARE_COUNT; i++)
			if (strcmp(smtp_softwares[i].name, "Exim") == 0)
				return &smtp_softwares[i];
	return &smtp_softwares[host->hash % SMTP_SOFTWARE_COUNT];
}

const char *lab_smtp_software(const struct lab_host *host)
{
	return smtp_software_of(host)->name;
}

static void smtp_transaction_reset(struct smtp_session *s)
{
	free(s->mail_from);
	s->mail_from = NULL;
	for (unsigned i = 0; i < s->nrelay; i++) {
		free(s->relay[i].given);
		free(s->relay[i].to);
	}
	free(s->relay);
	s->relay = NULL;
	s->nrelay = s->naccepted = 0;
	if (s->message != NULL)
		evbuffer_free(s->message);
	s->message = NULL;
	s->message_size = 0;
}

static void smtp_free(struct lab_session *session)
{
	struct smtp_session *s = (struct smtp_session *)session;
	lab_session_remove(s->lab, &s->base);
	if (s->timer != NULL)
		event_free(s->timer);
	if (s->bev != NULL)
		bufferevent_free(s->bev); /* the TLS one closes the socket itself */
	if (!s->tls && s->fd >= 0)
		evutil_closesocket(s->fd);
	smtp_transaction_reset(s);
	free(s->drip_text);
	free(s->helo);
	free(s);
}

static void smtp_enter(struct smtp_session *s, enum smtp_state state)
{
	struct timeval idle = {(time_t)s->lab->config.idle_timeout * smtp_states[state].idle_units, 0};
	log_debug("lab smtp %s: %s -> %s", lab_behaviours[s->host.behaviour].name, smtp_states[s->state].name,
		  smtp_states[state].name);
	s->state = state;
	if (s->idle_seconds != (unsigned)idle.tv_sec + 1) { /* re-arming costs a timer update per command */
		s->idle_seconds = (unsigned)idle.tv_sec + 1;
		bufferevent_set_timeouts(s->bev, idle.tv_sec > 0 ? &idle : NULL, NULL);
	}
}

/* The name the host claims (--banner-domain: a name that is not its own). */
static const char *smtp_domain(const struct smtp_session *s, char buf[40])
{
	if (s->lab->config.banner_domain != NULL) {
		snprintf(buf, 40, "%s", s->lab->config.banner_domain);
		return buf;
	}
	return lab_host_domain(s->host.addr, buf);
}

static void smtp_reply(struct smtp_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void smtp_reply(struct smtp_session *s, const char *fmt, ...)
{
	struct evbuffer *out = bufferevent_get_output(s->bev);
	va_list ap;
	va_start(ap, fmt);
	evbuffer_add_vprintf(out, fmt, ap);
	va_end(ap);
	evbuffer_add(out, "\r\n", 2);
}

static struct event *smtp_timer(struct smtp_session *s);

/* Called once per reply: with --latency, the reply waits for the timer
 * (started by the first reply of a pipelined batch). */
static void smtp_sent(struct smtp_session *s)
{
	unsigned ms = s->lab->config.latency_ms;
	struct timeval delay = {ms / 1000, (ms % 1000) * 1000};
	struct event *timer;
	if (ms == 0 || s->delaying || (timer = smtp_timer(s)) == NULL)
		return;
	if (s->tls) /* a plain session's writes are off already (smtp_listen) */
		bufferevent_disable(s->bev, EV_WRITE);
	s->delaying = true;
	evtimer_add(timer, &delay);
}

/* The last reply: afterwards the session ends (or turns to TLS). */
static void smtp_close_after(struct smtp_session *s, enum smtp_after after)
{
	s->after = after;
	smtp_enter(s, SMTP_CLOSING);
}

static void smtp_banner_text(const struct smtp_session *s, char *buf, size_t size)
{
	const struct smtp_software *sw = smtp_software_of(&s->host);
	char domain[40], date[40];
	snprintf(buf, size, "220 %s %s%s%s", smtp_domain(s, domain), sw->banner, sw->banner_date ? " " : "",
		 sw->banner_date ? lab_date(date) : "");
}

static void smtp_banner(struct smtp_session *s)
{
	char text[160], domain[40];
	if (s->host.behaviour == LAB_TEMPFAIL && (s->host.addr & 1) == 0) {
		smtp_reply(s, "421 4.3.2 %s Service not available, closing transmission channel",
			   smtp_domain(s, domain));
		smtp_close_after(s, AFTER_CLOSE);
	} else {
		if (s->state != SMTP_DRIP) {
			smtp_banner_text(s, text, sizeof text);
			smtp_reply(s, "%s", text);
		}
		smtp_enter(s, SMTP_GREET);
	}
	smtp_sent(s);
}

static void smtp_hello_line(struct smtp_session *s, char sep)
{
	const struct smtp_software *sw = smtp_software_of(&s->host);
	char domain[40], ip[16];
	smtp_domain(s, domain);
	lab_ip(s->host.peer, ip);
	switch (sw->hello) {
	case HELLO_NAME_IP:
		smtp_reply(s, "250%c%s Hello %s [%s]", sep, domain, s->helo, ip);
		break;
	case HELLO_PLEASED:
		smtp_reply(s, "250%c%s Hello %s [%s], pleased to meet you", sep, domain, s->helo, ip);
		break;
	case HELLO_IP:
		smtp_reply(s, "250%c%s Hello [%s]", sep, domain, ip);
		break;
	case HELLO_OK:
		smtp_reply(s, "250%c%s Ok.", sep, domain);
		break;
	case HELLO_PLAIN:
		smtp_reply(s, "250%c%s", sep, domain);
		break;
	}
}

static bool smtp_set_helo(struct smtp_session *s, const char *arg, size_t len)
{
	char *helo;
	if (len == 0 || len > SMTP_HELO_MAX || memchr(arg, ' ', len) != NULL) {
		smtp_reply(s, "501 5.5.4 Syntax: HELO hostname");
		s->errors++;
		return false;
	}
	helo = strndup(arg, len);
	if (helo == NULL) {
		smtp_reply(s, "451 4.3.0 Error: out of memory");
		return false;
	}
	free(s->helo);
	s->helo = helo;
	smtp_transaction_reset(s);
	smtp_enter(s, SMTP_READY);
	return true;
}

static void smtp_helo(struct smtp_session *s, const char *arg, size_t len)
{
	if (!smtp_set_helo(s, arg, len))
		return;
	s->esmtp = false;
	smtp_hello_line(s, ' ');
}

static void smtp_ehlo(struct smtp_session *s, const char *arg, size_t len)
{
	const char *ext = smtp_software_of(&s->host)->extensions;
	bool offer_tls = s->host.behaviour == LAB_STARTTLS && !s->tls && s->lab->tls != NULL;
	if (s->host.behaviour == LAB_HELO_ONLY) {
		smtp_reply(s, "500 5.5.2 Error: command not recognized");
		return;
	}
	if (!smtp_set_helo(s, arg, len))
		return;
	s->esmtp = true;
	smtp_hello_line(s, '-');
	if (offer_tls)
		smtp_reply(s, "250-STARTTLS");
	while (*ext != '\0') {
		size_t n = strcspn(ext, "\n");
		smtp_reply(s, "250%c%.*s", ext[n] == '\0' ? ' ' : '-', (int)n, ext);
		ext += n + (ext[n] != '\0');
	}
}

/*
 * A syntax or protocol error of a strict (Exim) host: answered, counted, and
 * past SMTP_SYNPROT_MAX the session ends as Exim ends it ("501-...", "501 Too
 * many syntax or protocol errors", close). Odd N hosts hang up one error
 * sooner with a 421, as other servers word it. False: a lenient host, which
 * answers itself.
 */
static bool smtp_synprot(struct smtp_session *s, int code, const char *path, const char *text)
{
	char domain[40];
	if (!smtp_strict(&s->host))
		return false;
	bool more = ++s->synprot_errors > SMTP_SYNPROT_MAX;
	smtp_reply(s, "%d%c%s%s%s", code, more ? '-' : ' ', path ? path : "", path ? ": " : "", text);
	if (more) {
		smtp_reply(s, "%d Too many syntax or protocol errors", code);
		smtp_close_after(s, AFTER_CLOSE);
	} else if (s->synprot_errors == SMTP_SYNPROT_MAX && (s->host.addr & 1)) {
		smtp_reply(s, "421 %s too many syntax or protocol errors, closing", smtp_domain(s, domain));
		smtp_close_after(s, AFTER_CLOSE);
	}
	return true;
}

static void smtp_mail(struct smtp_session *s, const char *arg, size_t len)
{
	char path[LAB_PATH_MAX];
	const char *strict_error;
	if (s->state == SMTP_GREET) {
		smtp_reply(s, "503 5.5.1 Error: send HELO/EHLO first");
		return;
	}
	if (s->state != SMTP_READY) {
		if (!smtp_synprot(s, 503, NULL, "sender already given"))
			smtp_reply(s, "503 5.5.1 Error: nested MAIL command");
		return;
	}
	if (s->host.behaviour == LAB_STARTTLS && !s->tls) {
		smtp_reply(s, "530 5.7.0 Must issue a STARTTLS command first");
		return;
	}
	if (lab_path_parse(arg, len, "FROM:", path) != 0) {
		if (!smtp_synprot(s, 501, NULL, "malformed address"))
			smtp_reply(s, "501 5.1.7 Bad sender address syntax");
		s->errors++;
		return;
	}
	if (smtp_strict(&s->host) && (strict_error = lab_strict_path_error(path, true)) != NULL) {
		smtp_synprot(s, 501, path, strict_error);
		return;
	}
	s->mail_from = strdup(path);
	if (s->mail_from == NULL) {
		smtp_reply(s, "451 4.3.0 Error: out of memory");
		return;
	}
	smtp_enter(s, SMTP_MAIL);
	smtp_reply(s, "250 2.1.0 Ok");
}

enum rcpt_answer { ANSWER_DENY, ANSWER_ACCEPT, ANSWER_RELAY, ANSWER_TEMPFAIL, ANSWER_GREYLIST };

/* The heart of each behaviour: what it does with recipient path of this route. */
static enum rcpt_answer smtp_policy(struct smtp_session *s, const char *path, enum lab_route route)
{
	switch ((enum lab_behaviour)s->host.behaviour) {
	case LAB_OPEN:
	case LAB_HELO_ONLY:
	case LAB_STARTTLS:
		return route == LAB_ROUTE_LOCAL ? ANSWER_ACCEPT : ANSWER_RELAY;
	case LAB_GREYLIST:
		if (lab_greylist_age(s->lab->greylist, s->host.peer, s->host.addr, s->mail_from, path, time(NULL)) <
		    (long)s->lab->config.greylist_delay)
			return ANSWER_GREYLIST;
		return route == LAB_ROUTE_LOCAL ? ANSWER_ACCEPT : ANSWER_RELAY;
	case LAB_EXIM_OPEN: /* what passed its syntax: plain foreign addresses relay */
		return route == LAB_ROUTE_LOCAL ? ANSWER_ACCEPT : route == LAB_ROUTE_PLAIN ? ANSWER_RELAY : ANSWER_DENY;
	case LAB_STRICT_PERCENT:
		return route == LAB_ROUTE_LOCAL ? ANSWER_ACCEPT : route == LAB_ROUTE_PERCENT ? ANSWER_RELAY : ANSWER_DENY;
	case LAB_DROP:
		return ANSWER_ACCEPT;
	case LAB_PERCENT:
		return route == LAB_ROUTE_PERCENT ? ANSWER_RELAY
		       : route == LAB_ROUTE_LOCAL ? ANSWER_ACCEPT
						  : ANSWER_DENY;
	case LAB_TEMPFAIL:
		return ANSWER_TEMPFAIL;
	default:
		return route == LAB_ROUTE_LOCAL ? ANSWER_ACCEPT : ANSWER_DENY;
	}
}

static int smtp_remember_relay(struct smtp_session *s, const char *given, const char *to)
{
	struct lab_rcpt *grown = realloc(s->relay, (s->nrelay + 1) * sizeof *grown);
	if (grown == NULL)
		return -1;
	s->relay = grown;
	grown[s->nrelay].given = strdup(given);
	grown[s->nrelay].to = strdup(to);
	grown[s->nrelay].sink_code = 0;
	if (grown[s->nrelay].given == NULL || grown[s->nrelay].to == NULL) {
		free(grown[s->nrelay].given);
		free(grown[s->nrelay].to);
		return -1;
	}
	s->nrelay++;
	return 0;
}

static void smtp_rcpt(struct smtp_session *s, const char *arg, size_t len)
{
	char path[LAB_PATH_MAX], to[LAB_PATH_MAX];
	const char *strict_error;
	int route;
	if (s->state != SMTP_MAIL && s->state != SMTP_RCPT) {
		if (!smtp_synprot(s, 503, NULL, "sender not yet given"))
			smtp_reply(s, "503 5.5.1 Error: need MAIL command");
		return;
	}
	if (s->naccepted >= SMTP_RCPT_MAX) {
		smtp_reply(s, "452 4.5.3 Error: too many recipients");
		return;
	}
	if (lab_path_parse(arg, len, "TO:", path) != 0 ||
	    (route = lab_route_resolve(path, s->host.addr, to)) < 0) {
		if (!smtp_synprot(s, 501, NULL, "malformed address"))
			smtp_reply(s, "501 5.1.3 Bad recipient address syntax");
		s->errors++;
		return;
	}
	if (smtp_strict(&s->host) && !(s->host.behaviour == LAB_STRICT_PERCENT && route == LAB_ROUTE_PERCENT) &&
	    (strict_error = lab_strict_path_error(path, false)) != NULL) {
		smtp_synprot(s, 501, path, strict_error);
		return;
	}
	log_debug("lab smtp %s: RCPT <%s> is %s -> <%s>", lab_behaviours[s->host.behaviour].name, path,
		  lab_route_names[route], to);
	switch (smtp_policy(s, path, (enum lab_route)route)) {
	case ANSWER_DENY: {
		char text[LAB_PATH_MAX + 100];
		snprintf(text, sizeof text, smtp_software_of(&s->host)->denied, path);
		smtp_reply(s, "%s", text);
		return;
	}
	case ANSWER_TEMPFAIL:
		smtp_reply(s, "450 4.3.2 <%s>: Recipient address rejected: Service temporarily unavailable",
			   path);
		return;
	case ANSWER_GREYLIST:
		smtp_reply(s,
			   "450 4.7.1 <%s>: Recipient address rejected: Greylisted, try again in %u seconds",
			   path, s->lab->config.greylist_delay);
		return;
	case ANSWER_RELAY:
		if (smtp_remember_relay(s, path, to) != 0) {
			smtp_reply(s, "451 4.3.0 Error: out of memory");
			return;
		}
		break;
	case ANSWER_ACCEPT:
		break;
	}
	s->naccepted++;
	smtp_enter(s, SMTP_RCPT);
	smtp_reply(s, "250 2.1.5 Ok");
}

static void smtp_data(struct smtp_session *s, const char *arg, size_t len)
{
	if (s->state != SMTP_RCPT) {
		if (!smtp_synprot(s, 503, NULL, "valid RCPT command must precede DATA"))
			smtp_reply(s, s->state == SMTP_MAIL ? "554 5.5.1 Error: no valid recipients"
							    : "503 5.5.1 Error: need RCPT command");
		return;
	}
	if (s->nrelay > 0 && (s->message = evbuffer_new()) == NULL) {
		smtp_reply(s, "451 4.3.0 Error: out of memory");
		return;
	}
	smtp_enter(s, SMTP_DATA);
	smtp_reply(s, "354 End data with <CR><LF>.<CR><LF>");
}

static void smtp_message_done(struct smtp_session *s)
{
	const struct smtp_software *sw = smtp_software_of(&s->host);
	char qid[16], text[120];
	snprintf(qid, sizeof qid, "%05X%05X", s->host.hash & 0xfffff,
		 (unsigned)(++s->lab->stats.messages & 0xfffff));
	if (s->message_size > s->lab->config.max_message) {
		smtp_reply(s, "552 5.3.4 Error: message file too big");
	} else {
		if (s->message != NULL) {
			char domain[40], ip[16], date[40];
			struct evbuffer *head = evbuffer_new();
			if (head != NULL) {
				evbuffer_add_printf(
				    head, "Received: from %s (%s [%s])\r\n\tby %s (%s) with %s id %s",
				    s->helo, s->helo, lab_ip(s->host.peer, ip), smtp_domain(s, domain),
				    sw->name,
				    s->tls     ? "ESMTPS"
				    : s->esmtp ? "ESMTP"
					       : "SMTP",
				    qid);
				if (s->nrelay == 1)
					evbuffer_add_printf(head, "\r\n\tfor <%s>", s->relay[0].given);
				evbuffer_add_printf(head, "; %s\r\n", lab_date(date));
				evbuffer_prepend_buffer(s->message, head);
				evbuffer_free(head);
			}
			lab_forward_start(s->lab, &s->host, s->mail_from, s->relay, s->nrelay, s->message);
			s->relay = NULL;
			s->nrelay = 0;
			s->message = NULL;
		}
		snprintf(text, sizeof text, sw->queued, qid);
		smtp_reply(s, "%s", text);
	}
	smtp_transaction_reset(s);
	smtp_enter(s, SMTP_READY);
}

static void smtp_data_line(struct smtp_session *s, const char *line, size_t len)
{
	if (len == 1 && line[0] == '.') {
		smtp_message_done(s);
		smtp_sent(s);
		return;
	}
	s->message_size += len + 2;
	if (s->message != NULL && s->message_size <= s->lab->config.max_message) {
		/* Kept dot-stuffed: the onward delivery speaks the same transparency. */
		evbuffer_add(s->message, line, len);
		evbuffer_add(s->message, "\r\n", 2);
	}
}

static void smtp_rset(struct smtp_session *s, const char *arg, size_t len)
{
	smtp_transaction_reset(s);
	if (s->state != SMTP_GREET)
		smtp_enter(s, SMTP_READY);
	smtp_reply(s, "250 2.0.0 Ok");
}

static void smtp_noop(struct smtp_session *s, const char *arg, size_t len)
{
	smtp_reply(s, "250 2.0.0 Ok");
}

static void smtp_vrfy(struct smtp_session *s, const char *arg, size_t len)
{
	smtp_reply(s, "252 2.0.0 Cannot VRFY user; try RCPT to attempt delivery");
}

static void smtp_help(struct smtp_session *s, const char *arg, size_t len)
{
	smtp_reply(s, "214 2.0.0 Commands: HELO EHLO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP");
}

static void smtp_quit(struct smtp_session *s, const char *arg, size_t len)
{
	smtp_reply(s, "221 2.0.0 Bye");
	smtp_close_after(s, AFTER_CLOSE);
}

static void smtp_starttls(struct smtp_session *s, const char *arg, size_t len)
{
	if (s->host.behaviour != LAB_STARTTLS || s->lab->tls == NULL) {
		smtp_reply(s, "502 5.5.1 Error: command not implemented");
		return;
	}
	if (s->tls) {
		smtp_reply(s, "554 5.5.1 Error: TLS already active");
		return;
	}
	if (s->state != SMTP_READY) {
		smtp_reply(s, "503 5.5.1 Error: send EHLO first");
		return;
	}
	if (len != 0) {
		smtp_reply(s, "501 5.5.4 Syntax: STARTTLS");
		return;
	}
	smtp_reply(s, "220 2.0.0 Ready to start TLS");
	smtp_close_after(s, AFTER_TLS);
}

struct smtp_command {
	const char *verb;
	void (*run)(struct smtp_session *s, const char *arg, size_t len);
};

static const struct smtp_command smtp_commands[] = {
    {"HELO", smtp_helo}, {"EHLO", smtp_ehlo}, {"MAIL", smtp_mail},	   {"RCPT", smtp_rcpt},
    {"DATA", smtp_data}, {"RSET", smtp_rset}, {"NOOP", smtp_noop},	   {"QUIT", smtp_quit},
    {"VRFY", smtp_vrfy}, {"HELP", smtp_help}, {"STARTTLS", smtp_starttls},
};

static void smtp_command(struct smtp_session *s, const char *line, size_t len)
{
	const struct smtp_command *command = NULL;
	size_t vlen = strcspn(line, " ");
	if (s->host.behaviour == LAB_RESET) {
		s->after = AFTER_RESET; /* what the client said does not matter */
		return;
	}
	for (size_t i = 0; i < sizeof smtp_commands / sizeof smtp_commands[0]; i++)
		if (strlen(smtp_commands[i].verb) == vlen &&
		    strncasecmp(line, smtp_commands[i].verb, vlen) == 0)
			command = &smtp_commands[i];
	if (s->lab->command_log != NULL) {
		char ip[16];
		fprintf(s->lab->command_log, "%s\t%.*s\n", lab_ip(s->host.addr, ip), (int)strnlen(line, len), line);
	}
	if (command == NULL || memchr(line, '\0', len) != NULL) {
		if (!smtp_synprot(s, 500, NULL, "unrecognized command"))
			smtp_reply(s, "500 5.5.2 Error: command not recognized");
		s->errors++;
	} else {
		const char *arg = line + vlen + (vlen < len);
		command->run(s, arg, len - (size_t)(arg - line));
	}
	if (s->errors >= SMTP_ERRORS_MAX && s->after == AFTER_NOTHING) {
		smtp_reply(s, "421 4.7.0 Error: too many errors");
		smtp_close_after(s, AFTER_CLOSE);
	}
	smtp_sent(s);
}

static void smtp_reset_now(struct smtp_session *s)
{
	struct linger hard = {1, 0};
	/* Linger zero turns close() into an RST: the client sees ECONNRESET. */
	setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
	smtp_free(&s->base);
}

/* Handles every complete line that may be handled now; may free the session. */
static void smtp_process(struct smtp_session *s)
{
	struct evbuffer *in = bufferevent_get_input(s->bev);
	char line[SMTP_LINE_MAX + 1];
	while (s->after == AFTER_NOTHING && s->state >= SMTP_GREET && s->state <= SMTP_DATA) {
		size_t eol_len = 0;
		struct evbuffer_ptr eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_CRLF);
		size_t len = eol.pos < 0 ? evbuffer_get_length(in) : (size_t)eol.pos;
		if (len > SMTP_LINE_MAX) {
			smtp_reply(s, "500 5.5.0 Error: line too long");
			smtp_close_after(s, AFTER_CLOSE);
			smtp_sent(s);
			break;
		}
		if (eol.pos < 0)
			break;
		evbuffer_remove(in, line, len);
		evbuffer_drain(in, eol_len);
		line[len] = '\0';
		if (s->state == SMTP_DATA)
			smtp_data_line(s, line, len);
		else
			smtp_command(s, line, len);
	}
	if (s->after == AFTER_RESET)
		smtp_reset_now(s);
}

static void smtp_start_tls(struct smtp_session *s);

static void smtp_readable(struct bufferevent *bev, void *arg)
{
	smtp_process(arg);
}

static void smtp_drained(struct bufferevent *bev, void *arg)
{
	struct smtp_session *s = arg;
	if (s->delaying)
		return;
	if (!s->tls && s->lab->config.latency_ms > 0)
		bufferevent_disable(s->bev, EV_WRITE); /* the next replies wait for their timer */
	if (s->after == AFTER_CLOSE)
		smtp_free(&s->base);
	else if (s->after == AFTER_TLS)
		smtp_start_tls(s);
}

/* Sends the replies queued now: straight to a plain socket, the rest (and
 * TLS) through the bufferevent; smtp_drained runs once all is out. */
static void smtp_flush(struct smtp_session *s)
{
	struct evbuffer *out = bufferevent_get_output(s->bev);
	if (!s->tls)
		evbuffer_write(out, s->fd); /* an error shows on the read side */
	if (evbuffer_get_length(out) > 0)
		bufferevent_enable(s->bev, EV_WRITE);
	else
		smtp_drained(s->bev, s);
}

static void smtp_event(struct bufferevent *bev, short what, void *arg)
{
	struct smtp_session *s = arg;
	char domain[40];
	if (what & BEV_EVENT_CONNECTED)
		return; /* TLS handshake done */
	if ((what & BEV_EVENT_TIMEOUT) && s->after == AFTER_NOTHING) {
		smtp_reply(s, "421 4.4.2 %s Error: timeout exceeded", smtp_domain(s, domain));
		smtp_close_after(s, AFTER_CLOSE);
		smtp_flush(s); /* no latency: the client has waited long enough */
		return;
	}
	smtp_free(&s->base); /* EOF, error, or a timeout while already closing */
}

static void smtp_listen(struct smtp_session *s)
{
	bufferevent_setcb(s->bev, smtp_readable, smtp_drained, smtp_event, s);
	bufferevent_setwatermark(s->bev, EV_READ, 0, SMTP_INPUT_MAX);
	/* With --latency a plain session writes only when smtp_flush says so. */
	if (s->tls || s->lab->config.latency_ms == 0) {
		bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	} else {
		bufferevent_enable(s->bev, EV_READ);
		bufferevent_disable(s->bev, EV_WRITE); /* a new bufferevent starts with writes on */
	}
	s->idle_seconds = 0;
}

static void smtp_start_tls(struct smtp_session *s)
{
	SSL *ssl = SSL_new(s->lab->tls);
	if (ssl == NULL) {
		smtp_free(&s->base);
		return;
	}
	/* Whatever the client pipelined after STARTTLS goes with the old buffers (no injection). */
	bufferevent_free(s->bev);
	s->tls = true;
	s->bev = bufferevent_openssl_socket_new(s->lab->base, s->fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
						BEV_OPT_CLOSE_ON_FREE);
	if (s->bev == NULL) {
		smtp_free(&s->base); /* libevent freed the SSL and owns the socket's fate */
		return;
	}
	s->after = AFTER_NOTHING;
	free(s->helo);
	s->helo = NULL;
	smtp_transaction_reset(s);
	smtp_enter(s, SMTP_GREET);
	smtp_listen(s);
}

static void smtp_tick(evutil_socket_t fd, short what, void *arg)
{
	struct smtp_session *s = arg;
	struct timeval second = {1, 0};
	switch (s->state) {
	case SMTP_TARPIT:
		smtp_banner(s);
		smtp_process(s); /* commands sent before the banner */
		break;
	case SMTP_DRIP:
		bufferevent_write(s->bev, s->drip_text + s->dripped++, 1);
		smtp_flush(s);
		if (s->drip_text[s->dripped] != '\0') {
			evtimer_add(s->timer, &second);
			break;
		}
		smtp_banner(s);
		smtp_process(s);
		break;
	default:
		/* The held-back replies may go now; smtp_drained closes or starts TLS once they are out. */
		s->delaying = false;
		smtp_flush(s);
		break;
	}
}

static struct event *smtp_timer(struct smtp_session *s)
{
	if (s->timer == NULL)
		s->timer = evtimer_new(s->lab->base, smtp_tick, s);
	return s->timer;
}

void lab_smtp_start(struct lab *lab, evutil_socket_t fd, const struct lab_host *host)
{
	struct smtp_session *s = calloc(1, sizeof *s);
	struct timeval delay = {0, 0};
	if (s == NULL) {
		evutil_closesocket(fd);
		return;
	}
	s->lab = lab;
	s->host = *host;
	s->fd = fd;
	lab_session_add(lab, &s->base, smtp_free);
	/* Without CLOSE_ON_FREE: STARTTLS replaces this bufferevent on the same socket. */
	s->bev = bufferevent_socket_new(lab->base, fd, 0);
	if (s->bev == NULL) {
		smtp_free(&s->base);
		return;
	}
	smtp_listen(s);
	if (host->behaviour == LAB_TARPIT) {
		s->state = SMTP_TARPIT;
		delay.tv_sec = lab->config.tarpit_delay;
	} else if (host->behaviour == LAB_DRIP) {
		char text[160];
		smtp_banner_text(s, text, sizeof text);
		s->drip_text = malloc(strlen(text) + 3);
		if (s->drip_text == NULL) {
			smtp_free(&s->base);
			return;
		}
		sprintf(s->drip_text, "%s\r\n", text);
		s->state = SMTP_DRIP;
		delay.tv_sec = 1;
	} else {
		s->state = SMTP_GREET;
		smtp_banner(s);
		return;
	}
	if (smtp_timer(s) == NULL) {
		smtp_free(&s->base);
		return;
	}
	evtimer_add(s->timer, &delay);
}
