/*
 * The open relays' onward delivery: for each accepted message, one SMTP
 * client conversation with the sink, from the relay host's own address (the
 * sink sees who relayed), as a state machine with bounded replies and a
 * timeout per step. One log line per recipient says what became of it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "core/log.h"
#include "lab.h"
#include "lab_smtp.h"

#define FORWARD_LINE_MAX 1000
#define FORWARD_REPLY_LINES_MAX 100
#define FORWARD_TIMEOUT 30 /* seconds per step */

enum forward_state {
	FORWARD_CONNECT,
	FORWARD_BANNER,
	FORWARD_EHLO,
	FORWARD_HELO,
	FORWARD_MAIL,
	FORWARD_RCPT,
	FORWARD_DATA,
	FORWARD_BODY,
	FORWARD_QUIT,
	FORWARD_STATE_LAST
};

static const char *const forward_state_names[FORWARD_STATE_LAST] = {
    [FORWARD_CONNECT] = "connect", [FORWARD_BANNER] = "banner", [FORWARD_EHLO] = "ehlo",
    [FORWARD_HELO] = "helo",	   [FORWARD_MAIL] = "mail",	[FORWARD_RCPT] = "rcpt",
    [FORWARD_DATA] = "data",	   [FORWARD_BODY] = "body",	[FORWARD_QUIT] = "quit",
};

struct forward {
	struct lab_session base;
	struct lab *lab;
	struct bufferevent *bev;
	struct lab_host host;
	enum forward_state state;
	char *from;
	struct lab_rcpt *rcpts;
	unsigned nrcpt, next, accepted;
	struct evbuffer *message;
	unsigned reply_lines;
};

static void forward_log(struct lab *lab, const struct lab_host *host, const char *from,
			const struct lab_rcpt *rcpt, const char *result)
{
	char ip[16];
	lab_software_fn *software = lab_behaviours[host->behaviour].software;
	lab_ip(host->addr, ip);
	log_debug("lab: forward host=%s rcpt=<%s> to=<%s> result=%s", ip, rcpt->given, rcpt->to, result);
	if (lab->forward_log == NULL)
		return;
	fprintf(lab->forward_log,
		"forward host=%s behaviour=%s software=%s from=<%s> rcpt=<%s> to=<%s> result=%s\n", ip,
		lab_behaviours[host->behaviour].name, software != NULL ? software(host) : "-", from,
		rcpt->given, rcpt->to, result);
	fflush(lab->forward_log);
}

static void rcpts_free(struct lab_rcpt *rcpts, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		free(rcpts[i].given);
		free(rcpts[i].to);
	}
	free(rcpts);
}

static void forward_free(struct lab_session *session)
{
	struct forward *f = (struct forward *)session;
	lab_session_remove(f->lab, &f->base);
	if (f->bev != NULL)
		bufferevent_free(f->bev);
	rcpts_free(f->rcpts, f->nrcpt);
	evbuffer_free(f->message);
	free(f->from);
	free(f);
}

static void forward_fail(struct forward *f, const char *why)
{
	char result[120];
	snprintf(result, sizeof result, "failed:%s:%s", forward_state_names[f->state], why);
	for (unsigned i = 0; i < f->nrcpt; i++)
		forward_log(f->lab, &f->host, f->from, &f->rcpts[i], result);
	f->lab->stats.forward_failed++;
	forward_free(&f->base);
}

static void forward_send(struct forward *f, enum forward_state state, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void forward_send(struct forward *f, enum forward_state state, const char *fmt, ...)
{
	struct evbuffer *out = bufferevent_get_output(f->bev);
	va_list ap;
	va_start(ap, fmt);
	evbuffer_add_vprintf(out, fmt, ap);
	va_end(ap);
	evbuffer_add(out, "\r\n", 2);
	f->state = state;
}

static void forward_next_rcpt(struct forward *f)
{
	if (f->next < f->nrcpt) {
		forward_send(f, FORWARD_RCPT, "RCPT TO:<%s>", f->rcpts[f->next].to);
		return;
	}
	if (f->accepted == 0) {
		forward_fail(f, "every recipient refused");
		return;
	}
	forward_send(f, FORWARD_DATA, "DATA");
}

static void forward_delivered(struct forward *f)
{
	for (unsigned i = 0; i < f->nrcpt; i++) {
		char result[40];
		if (f->rcpts[i].sink_code / 100 == 2)
			snprintf(result, sizeof result, "delivered");
		else
			snprintf(result, sizeof result, "failed:rcpt:%d", f->rcpts[i].sink_code);
		forward_log(f->lab, &f->host, f->from, &f->rcpts[i], result);
	}
	f->lab->stats.forwarded++;
	forward_send(f, FORWARD_QUIT, "QUIT");
}

/* One complete reply from the sink moves the conversation on. */
static void forward_reply(struct forward *f, int code)
{
	char domain[40];
	switch (f->state) {
	case FORWARD_BANNER:
		if (code / 100 != 2)
			forward_fail(f, "banner refused");
		else
			forward_send(f, FORWARD_EHLO, "EHLO %s", lab_host_domain(f->host.addr, domain));
		break;
	case FORWARD_EHLO:
	case FORWARD_HELO:
		if (code / 100 == 2)
			forward_send(f, FORWARD_MAIL, "MAIL FROM:<%s>", f->from);
		else if (f->state == FORWARD_EHLO && code / 100 == 5)
			forward_send(f, FORWARD_HELO, "HELO %s", lab_host_domain(f->host.addr, domain));
		else
			forward_fail(f, "greeting refused");
		break;
	case FORWARD_MAIL:
		if (code / 100 != 2)
			forward_fail(f, "sender refused");
		else
			forward_next_rcpt(f);
		break;
	case FORWARD_RCPT:
		f->rcpts[f->next++].sink_code = code;
		f->accepted += code / 100 == 2;
		forward_next_rcpt(f);
		break;
	case FORWARD_DATA:
		if (code != 354) {
			forward_fail(f, "DATA refused");
			break;
		}
		evbuffer_add_buffer(bufferevent_get_output(f->bev), f->message);
		forward_send(f, FORWARD_BODY, ".");
		break;
	case FORWARD_BODY:
		if (code / 100 != 2)
			forward_fail(f, "message refused");
		else
			forward_delivered(f);
		break;
	case FORWARD_QUIT:
	case FORWARD_CONNECT:
	case FORWARD_STATE_LAST:
		forward_free(&f->base);
		break;
	}
}

static void forward_readable(struct bufferevent *bev, void *arg)
{
	struct forward *f = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char line[FORWARD_LINE_MAX + 1];
	for (;;) {
		size_t eol_len = 0, len;
		struct evbuffer_ptr eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_CRLF);
		len = eol.pos < 0 ? evbuffer_get_length(in) : (size_t)eol.pos;
		if (len > FORWARD_LINE_MAX) {
			forward_fail(f, "reply line too long");
			return;
		}
		if (eol.pos < 0)
			return;
		evbuffer_remove(in, line, len);
		evbuffer_drain(in, eol_len);
		line[len] = '\0';
		if (len < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' || line[1] > '9' ||
		    line[2] < '0' || line[2] > '9' || (len > 3 && line[3] != ' ' && line[3] != '-')) {
			forward_fail(f, "not an SMTP reply");
			return;
		}
		if (++f->reply_lines > FORWARD_REPLY_LINES_MAX) {
			forward_fail(f, "reply too long");
			return;
		}
		if (len > 3 && line[3] == '-')
			continue;
		f->reply_lines = 0;
		/* Replies come one at a time (no pipelining), so nothing follows a final line. */
		forward_reply(f, atoi(line));
		return;
	}
}

static void forward_event(struct bufferevent *bev, short what, void *arg)
{
	struct forward *f = arg;
	if (what & BEV_EVENT_CONNECTED) {
		f->state = FORWARD_BANNER;
		return;
	}
	if (f->state == FORWARD_QUIT) {
		forward_free(&f->base);
		return;
	}
	forward_fail(f, what & BEV_EVENT_TIMEOUT ? "timeout"
			: what & BEV_EVENT_EOF	 ? "connection closed"
						 : evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
}

/* Mail for other domains than the sink's would go elsewhere on the Internet: not from the lab. */
static bool forward_wanted(const struct lab *lab, const char *to)
{
	const char *at = strrchr(to, '@'), *domain = lab->config.sink_domain;
	char literal[24], ip[16];
	if (domain == NULL)
		return true;
	if (at == NULL)
		return false;
	inet_ntop(AF_INET, &lab->config.sink.sin_addr, ip, sizeof ip);
	snprintf(literal, sizeof literal, "[%s]", ip);
	return strcasecmp(at + 1, domain) == 0 || strcmp(at + 1, literal) == 0;
}

static int forward_connect(struct forward *f)
{
	struct sockaddr_in from = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(f->host.addr)};
	struct timeval step = {FORWARD_TIMEOUT, 0};
	int one = 1;
	evutil_socket_t fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* Leave the port choice to connect(): thousands of relays share the sink's 4-tuple space. */
	setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&from, sizeof from) != 0)
		log_debug("lab: cannot send from the relay's address: %s", strerror(errno));
	f->bev = bufferevent_socket_new(f->lab->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (f->bev == NULL) {
		evutil_closesocket(fd);
		return -1;
	}
	bufferevent_setcb(f->bev, forward_readable, NULL, forward_event, f);
	bufferevent_set_timeouts(f->bev, &step, &step);
	bufferevent_enable(f->bev, EV_READ | EV_WRITE);
	return bufferevent_socket_connect(f->bev, (struct sockaddr *)&f->lab->config.sink,
					  sizeof f->lab->config.sink);
}

void lab_forward_start(struct lab *lab, const struct lab_host *host, const char *mail_from,
		       struct lab_rcpt *rcpts, unsigned nrcpt, struct evbuffer *message)
{
	struct forward *f;
	unsigned kept = 0;
	for (unsigned i = 0; i < nrcpt; i++) {
		if (forward_wanted(lab, rcpts[i].to) && lab->config.have_sink) {
			rcpts[kept++] = rcpts[i];
			continue;
		}
		forward_log(lab, host, mail_from, &rcpts[i],
			    lab->config.have_sink ? "not-forwarded:not the sink domain" : "failed:no --sink");
		free(rcpts[i].given);
		free(rcpts[i].to);
	}
	f = kept > 0 ? calloc(1, sizeof *f) : NULL;
	if (f == NULL || (f->from = strdup(mail_from)) == NULL) {
		free(f);
		rcpts_free(rcpts, kept);
		evbuffer_free(message);
		return;
	}
	f->lab = lab;
	f->host = *host;
	f->rcpts = rcpts;
	f->nrcpt = kept;
	f->message = message;
	f->state = FORWARD_CONNECT;
	lab_session_add(lab, &f->base, forward_free);
	if (forward_connect(f) != 0)
		forward_fail(f, "cannot connect");
}
