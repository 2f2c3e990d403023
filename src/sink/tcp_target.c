/*
 * The sink's plain TCP target: a proxy that cannot reach port 25 may still
 * reach this. Each connection gets a fresh nonce, sent in a banner line, or,
 * when the client opens with an HTTP request, in a small page. The hit is
 * recorded once: when the first line arrives or the client leaves.
 *
 * Bounded like the SMTP side: lines by the line limit, HTTP headers by
 * TARGET_MAX_HEADER_*, silence by the idle timeout, and after the answer
 * the connection lingers only briefly (reading and discarding, so the
 * client gets the answer rather than a reset).
 */
#include <ctype.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/log.h"
#include "sink/message.h"
#include "sink/sink_internal.h"
#include "sink/target.h"

const char *const sink_target_method_names[TARGET_METHOD_LAST] = {
    [TARGET_METHOD_GET] = "GET",
    [TARGET_METHOD_HEAD] = "HEAD",
    [TARGET_METHOD_POST] = "POST",
};

enum target_state {
	TARGET_STATE_GRACE,   /* connected; an HTTP client may speak first */
	TARGET_STATE_REQUEST, /* banner sent; waiting for a first line */
	TARGET_STATE_HEADERS, /* an HTTP request: reading up to the blank line */
	TARGET_STATE_LINGER,  /* answered; discarding input until the client closes */
	TARGET_STATE_LAST,
};

static const char *const target_state_names[TARGET_STATE_LAST] = {
    [TARGET_STATE_GRACE] = "grace",
    [TARGET_STATE_REQUEST] = "request",
    [TARGET_STATE_HEADERS] = "headers",
    [TARGET_STATE_LINGER] = "linger",
};

enum {
	TARGET_MAX_HEADER_LINES = 100,
	TARGET_MAX_HEADER_BYTES = 16384,
	TARGET_LINGER_SECONDS = 2,
};

struct target_session {
	LIST_ENTRY(target_session) entry;
	struct sink *sink;
	struct bufferevent *bev;
	struct event *grace;
	struct event *deadline; /* the whole session's time; after the answer, the linger */
	enum target_state state;
	char nonce[SINK_NONCE_LEN + 1];
	char peer[ADDR_PORT_STRLEN];
	struct addr peer_addr;
	const char *listener;
	char *line; /* the current line, line_limit bytes */
	bool recorded;
	bool head;    /* a HEAD request: no body in the answer */
	bool shut;    /* our side is shut down; waiting for the client's */
	bool closing; /* the client left; free once the answer is out */
	unsigned header_lines;
	size_t header_bytes;
};

int sink_target_request_parse(const char *line, size_t len, struct sink_target_request *out)
{
	const char *space = memchr(line, ' ', len);
	if (space == NULL)
		return -1;
	size_t method_len = (size_t)(space - line);
	int method = -1;
	for (int i = 0; i < TARGET_METHOD_LAST; i++)
		if (strlen(sink_target_method_names[i]) == method_len &&
		    memcmp(line, sink_target_method_names[i], method_len) == 0)
			method = i;
	const char *path = space + 1;
	size_t rest = len - method_len - 1;
	const char *end = memchr(path, ' ', rest);
	if (method < 0 || end == NULL || end == path)
		return -1;
	size_t path_len = (size_t)(end - path);
	const char *version = end + 1;
	if (rest - path_len - 1 != 8 || memcmp(version, "HTTP/1.", 7) != 0 ||
	    !isdigit((unsigned char)version[7]))
		return -1;
	for (size_t i = 0; i < path_len; i++)
		if ((unsigned char)path[i] <= 0x20 || (unsigned char)path[i] >= 0x7f)
			return -1;
	out->method = (enum sink_target_method)method;
	out->path = path;
	out->path_len = path_len;
	out->minor_version = version[7] - '0';
	return 0;
}

static void target_record(struct target_session *t, const char *request)
{
	if (t->recorded)
		return;
	t->recorded = true;
	sink_record_target_hit(t->sink, t->nonce, &t->peer_addr, t->peer, t->listener, request);
}

static void target_banner(struct target_session *t)
{
	evbuffer_add_printf(bufferevent_get_output(t->bev), "220 plughole-target %s %s ready\r\n", t->nonce,
			    t->sink->domain);
}

/* Answered: from now on, input is read only to be thrown away, and not for long whatever comes. */
static void target_linger(struct target_session *t)
{
	struct timeval linger = {TARGET_LINGER_SECONDS, 0};
	t->state = TARGET_STATE_LINGER;
	evtimer_add(t->deadline, &linger);
}

static void target_page(struct target_session *t)
{
	char body[400];
	int n = snprintf(body, sizeof body, "plughole-target %s %s\r\n", t->nonce, t->sink->domain);
	struct evbuffer *out = bufferevent_get_output(t->bev);
	evbuffer_add_printf(out,
			    "HTTP/1.0 200 OK\r\nContent-Type: text/plain; charset=us-ascii\r\n"
			    "Content-Length: %d\r\nX-Plughole-Nonce: %s\r\nConnection: close\r\n\r\n",
			    n, t->nonce);
	if (!t->head)
		evbuffer_add(out, body, (size_t)n);
}

/* The next line into t->line: 1 read, 0 none complete yet, -1 too long (cut to the limit, the rest dropped).
 */
static int target_read_line(struct target_session *t, struct evbuffer *in, size_t *len)
{
	size_t limit = t->sink->opts.line_limit, eol_len = 0;
	struct evbuffer_ptr eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_CRLF);
	if (eol.pos >= 0 && (size_t)eol.pos + 2 <= limit) {
		*len = (size_t)eol.pos;
		evbuffer_remove(in, t->line, *len);
		evbuffer_drain(in, eol_len);
		return 1;
	}
	if (eol.pos < 0 && evbuffer_get_length(in) < limit)
		return 0;
	*len = limit - 2;
	evbuffer_remove(in, t->line, *len);
	evbuffer_drain(in, evbuffer_get_length(in));
	return -1;
}

static void target_first_line(struct target_session *t, size_t len, bool too_long)
{
	struct sink_target_request request;
	bool http = !too_long && sink_target_request_parse(t->line, len, &request) == 0;
	event_del(t->grace);
	if (!http && t->state == TARGET_STATE_GRACE)
		target_banner(t);
	sink_message_printable_copy(t->line, len + 1, t->line, len, false);
	target_record(t, t->line);
	if (http) {
		t->head = request.method == TARGET_METHOD_HEAD;
		t->state = TARGET_STATE_HEADERS;
		return;
	}
	evbuffer_add_printf(bufferevent_get_output(t->bev), "%s plughole-target %s %s\r\n",
			    too_long ? "500" : "221", t->nonce, too_long ? "line too long" : "bye");
	target_linger(t);
}

static void target_header_line(struct target_session *t, size_t len, bool too_long)
{
	t->header_bytes += len + 2;
	if (too_long || ++t->header_lines > TARGET_MAX_HEADER_LINES ||
	    t->header_bytes > TARGET_MAX_HEADER_BYTES) {
		evbuffer_add_printf(
		    bufferevent_get_output(t->bev),
		    "HTTP/1.0 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n");
		target_linger(t);
	} else if (len == 0) {
		target_page(t);
		target_linger(t);
	}
}

static void target_process(struct target_session *t)
{
	struct evbuffer *in = bufferevent_get_input(t->bev);
	size_t len;
	int rc;
	while (t->state != TARGET_STATE_LINGER && (rc = target_read_line(t, in, &len)) != 0) {
		if (t->state == TARGET_STATE_HEADERS)
			target_header_line(t, len, rc < 0);
		else
			target_first_line(t, len, rc < 0);
	}
	if (t->state == TARGET_STATE_LINGER)
		evbuffer_drain(in, evbuffer_get_length(in));
}

/* ---- events ---- */

static void target_on_grace(evutil_socket_t fd, short what, void *arg)
{
	struct target_session *t = arg;
	target_banner(t);
	t->state = TARGET_STATE_REQUEST;
}

static void target_on_read(struct bufferevent *bev, void *arg)
{
	target_process(arg);
}

static void target_on_write(struct bufferevent *bev, void *arg)
{
	struct target_session *t = arg;
	if (t->closing) {
		sink_target_session_free(t);
	} else if (t->state == TARGET_STATE_LINGER && !t->shut) {
		shutdown(bufferevent_getfd(bev), SHUT_WR);
		t->shut = true;
	}
}

static void target_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct target_session *t = arg;
	target_record(t, NULL);
	if ((what & BEV_EVENT_EOF) && !t->shut && evbuffer_get_length(bufferevent_get_output(bev)) > 0) {
		/* The client half-closed after its request: it still gets the answer. */
		t->closing = true;
		return;
	}
	log_debug("sink: target %s: %s left in state %s", t->listener, t->peer, target_state_names[t->state]);
	sink_target_session_free(t);
}

static void target_on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct target_session *t = arg;
	target_record(t, NULL);
	log_debug("sink: target %s: %s closed in state %s: time is up", t->listener, t->peer,
		  target_state_names[t->state]);
	sink_target_session_free(t);
}

/* ---- life ---- */

unsigned sink_target_sessions_from(const struct sink *sink, const struct addr *peer)
{
	unsigned n = 0;
	const struct target_session *t;
	LIST_FOREACH(t, &sink->target_sessions, entry)
		n += addr_cmp(&t->peer_addr, peer) == 0;
	return n;
}

static int target_nonce(char out[SINK_NONCE_LEN + 1])
{
	unsigned char bytes[SINK_NONCE_LEN / 2];
	if (RAND_bytes(bytes, sizeof bytes) != 1)
		return -1;
	for (size_t i = 0; i < sizeof bytes; i++)
		snprintf(out + 2 * i, 3, "%02x", bytes[i]);
	return 0;
}

void sink_target_session_start(struct sink *sink, evutil_socket_t fd, const struct addr *peer_addr,
			       const char *peer, const char *listener)
{
	struct target_session *t = calloc(1, sizeof *t);
	if (t == NULL || target_nonce(t->nonce) != 0 || (t->line = malloc(sink->opts.line_limit)) == NULL ||
	    (t->grace = evtimer_new(sink->base, target_on_grace, t)) == NULL ||
	    (t->deadline = evtimer_new(sink->base, target_on_deadline, t)) == NULL ||
	    (t->bev = bufferevent_socket_new(sink->base, fd, BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		log_warn("sink: target %s: cannot take a connection from %s", listener, peer);
		if (t != NULL) {
			free(t->line);
			if (t->grace)
				event_free(t->grace);
			if (t->deadline)
				event_free(t->deadline);
		}
		free(t);
		evutil_closesocket(fd);
		return;
	}
	t->sink = sink;
	t->state = TARGET_STATE_GRACE;
	t->listener = listener;
	snprintf(t->peer, sizeof t->peer, "%s", peer);
	t->peer_addr = *peer_addr;
	LIST_INSERT_HEAD(&sink->target_sessions, t, entry);
	sink->active++;
	struct timeval idle = {(time_t)sink->opts.idle_timeout, 0};
	struct timeval grace = {0, SINK_TARGET_GRACE_MS * 1000}, whole = {(time_t)sink->opts.session_timeout, 0};
	bufferevent_setcb(t->bev, target_on_read, target_on_write, target_on_event, t);
	bufferevent_set_timeouts(t->bev, &idle, &idle);
	bufferevent_setwatermark(t->bev, EV_READ, 0, 2 * sink->opts.line_limit);
	bufferevent_enable(t->bev, EV_READ | EV_WRITE);
	evtimer_add(t->grace, &grace);
	evtimer_add(t->deadline, &whole);
	log_debug("sink: target %s: %s connected, nonce %s", listener, peer, t->nonce);
}

void sink_target_session_free(struct target_session *t)
{
	LIST_REMOVE(t, entry);
	t->sink->active--;
	event_free(t->grace);
	event_free(t->deadline);
	bufferevent_free(t->bev);
	free(t->line);
	free(t);
}
