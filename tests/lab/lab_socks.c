/*
 * The lab's SOCKS servers: SOCKS4 with SOCKS4a names (socks4-open), SOCKS5
 * without authentication (socks5-open: IPv4, ::1 and names), SOCKS5 that
 * offers only username/password and fails every one (socks5-auth), and SOCKS5
 * that takes no authentication and then refuses CONNECT by its ruleset
 * (socks5-refuse). A server answers only its own version: anything else is
 * dropped, as a SOCKS4-only daemon would. The messages are parsed by pure
 * functions over the bytes received so far.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "core/log.h"
#include "lab_proxy.h"

#define SOCKS_INPUT_MAX 1024 /* the longest message: SOCKS4a, 8 + 256 + 256 bytes */
#define SOCKS4_USERID_MAX 255

enum socks4_reply { SOCKS4_GRANTED = 90, SOCKS4_REJECTED = 91 };

enum socks5_reply {
	SOCKS5_SUCCEEDED = 0,
	SOCKS5_FAILURE = 1,
	SOCKS5_NOT_ALLOWED = 2,
	SOCKS5_NET_UNREACHABLE = 3,
	SOCKS5_HOST_UNREACHABLE = 4,
	SOCKS5_REFUSED = 5,
	SOCKS5_COMMAND_UNSUPPORTED = 7,
	SOCKS5_ATYP_UNSUPPORTED = 8,
};

enum { SOCKS5_NO_AUTH = 0x00, SOCKS5_PASSWORD = 0x02, SOCKS5_NO_METHOD = 0xff };

enum socks_state {
	SOCKS_GREETING,	  /* the first message: a SOCKS4 request or a SOCKS5 method list */
	SOCKS_AUTH,	  /* SOCKS5: the username/password */
	SOCKS_REQUEST,	  /* SOCKS5: the request */
	SOCKS_CONNECTING, /* the outgoing connection */
	SOCKS_TUNNEL,
	SOCKS_DONE, /* the last reply is queued */
	SOCKS_STATE_LAST
};

static const char *const socks_state_names[SOCKS_STATE_LAST] = {
    [SOCKS_GREETING] = "greeting",     [SOCKS_AUTH] = "auth",	  [SOCKS_REQUEST] = "request",
    [SOCKS_CONNECTING] = "connecting", [SOCKS_TUNNEL] = "tunnel", [SOCKS_DONE] = "done",
};

struct socks_session {
	struct lab_proxy p;
	uint8_t version; /* of the request being served: 4 or 5 */
};

/* ---- parsing (pure) ------------------------------------------------------------- */

/* The offset just past the NUL that ends a string starting at from, within max bytes; 0: more needed. */
static int socks_string_end(const uint8_t *buf, size_t len, size_t from, size_t max)
{
	size_t limit = len < from + max + 1 ? len : from + max + 1;
	const uint8_t *nul = from < limit ? memchr(buf + from, 0, limit - from) : NULL;
	if (nul != NULL)
		return (int)(nul - buf) + 1;
	return len >= from + max + 1 ? -1 : 0;
}

int lab_socks4_parse(const uint8_t *buf, size_t len, struct lab_socks_request *out)
{
	int end, name_end;
	memset(out, 0, sizeof *out);
	if (len == 0)
		return 0;
	if (buf[0] != 4)
		return -1;
	if (len < 8)
		return 0;
	out->command = buf[1];
	out->port = (uint16_t)(buf[2] << 8 | buf[3]);
	if ((end = socks_string_end(buf, len, 8, SOCKS4_USERID_MAX)) <= 0)
		return end;
	/* SOCKS4a: 0.0.0.x (x not 0) says a name follows the user id. */
	if (buf[4] == 0 && buf[5] == 0 && buf[6] == 0 && buf[7] != 0) {
		if ((name_end = socks_string_end(buf, len, (size_t)end, LAB_NAME_MAX)) <= 0)
			return name_end;
		if (name_end - end < 2)
			return -1;
		memcpy(out->name, buf + end, (size_t)(name_end - end));
		out->atyp = LAB_SOCKS_ATYP_NAME;
		return name_end;
	}
	out->atyp = LAB_SOCKS_ATYP_V4;
	memcpy(out->addr, buf + 4, 4);
	return end;
}

int lab_socks5_greeting_parse(const uint8_t *buf, size_t len, bool *no_auth, bool *password)
{
	*no_auth = *password = false;
	if (len == 0)
		return 0;
	if (buf[0] != 5)
		return -1;
	if (len < 2)
		return 0;
	if (buf[1] == 0)
		return -1;
	if (len < 2 + (size_t)buf[1])
		return 0;
	for (size_t i = 0; i < buf[1]; i++) {
		*no_auth |= buf[2 + i] == SOCKS5_NO_AUTH;
		*password |= buf[2 + i] == SOCKS5_PASSWORD;
	}
	return 2 + buf[1];
}

int lab_socks5_auth_parse(const uint8_t *buf, size_t len)
{
	size_t plen_at;
	if (len == 0)
		return 0;
	if (buf[0] != 1)
		return -1;
	if (len < 2)
		return 0;
	plen_at = 2 + (size_t)buf[1];
	if (len < plen_at + 1)
		return 0;
	if (len < plen_at + 1 + buf[plen_at])
		return 0;
	return (int)(plen_at + 1 + buf[plen_at]);
}

int lab_socks5_request_parse(const uint8_t *buf, size_t len, struct lab_socks_request *out)
{
	size_t need;
	memset(out, 0, sizeof *out);
	if (len == 0)
		return 0;
	if (buf[0] != 5)
		return -1;
	if (len < 5)
		return 0;
	out->command = buf[1];
	out->atyp = buf[3];
	switch (buf[3]) {
	case LAB_SOCKS_ATYP_V4:
		need = 4 + 4 + 2;
		break;
	case LAB_SOCKS_ATYP_V6:
		need = 4 + 16 + 2;
		break;
	case LAB_SOCKS_ATYP_NAME:
		if (buf[4] == 0)
			return -1;
		need = 4 + 1 + (size_t)buf[4] + 2;
		break;
	default:
		return -1;
	}
	if (len < need)
		return 0;
	if (buf[3] == LAB_SOCKS_ATYP_NAME) {
		if (memchr(buf + 5, 0, buf[4]) != NULL)
			return -1;
		memcpy(out->name, buf + 5, buf[4]);
	} else {
		memcpy(out->addr, buf + 4, buf[3] == LAB_SOCKS_ATYP_V4 ? 4 : 16);
	}
	out->port = (uint16_t)(buf[need - 2] << 8 | buf[need - 1]);
	return (int)need;
}

/* ---- replies ----------------------------------------------------------------------- */

static void socks_enter(struct socks_session *s, enum socks_state state)
{
	log_debug("lab socks %s: %s -> %s", lab_behaviours[s->p.host.behaviour].name,
		  socks_state_names[s->p.state], socks_state_names[state]);
	s->p.state = (uint8_t)state;
}

/* The reply to a request; bound is the outgoing connection's own address (NULL: zeros). */
static void socks_reply(struct socks_session *s, int code, const union lab_sockaddr *bound)
{
	uint8_t msg[22] = {0};
	size_t len;
	if (s->version == 4) {
		msg[1] = (uint8_t)code;
		if (bound != NULL && bound->sa.sa_family == AF_INET) {
			memcpy(msg + 2, &bound->in.sin_port, 2);
			memcpy(msg + 4, &bound->in.sin_addr, 4);
		}
		len = 8;
	} else if (bound != NULL && bound->sa.sa_family == AF_INET6) {
		msg[0] = 5;
		msg[1] = (uint8_t)code;
		msg[3] = LAB_SOCKS_ATYP_V6;
		memcpy(msg + 4, &bound->in6.sin6_addr, 16);
		memcpy(msg + 20, &bound->in6.sin6_port, 2);
		len = 22;
	} else {
		msg[0] = 5;
		msg[1] = (uint8_t)code;
		msg[3] = LAB_SOCKS_ATYP_V4;
		if (bound != NULL) {
			memcpy(msg + 4, &bound->in.sin_addr, 4);
			memcpy(msg + 8, &bound->in.sin_port, 2);
		}
		len = 10;
	}
	lab_proxy_write(&s->p, msg, len);
	lab_proxy_sent(&s->p);
}

static void socks_refuse(struct socks_session *s, int code)
{
	socks_reply(s, code, NULL);
	socks_enter(s, SOCKS_DONE);
	lab_proxy_close(&s->p);
}

static void socks_connect(struct socks_session *s, const struct lab_socks_request *req)
{
	union lab_sockaddr dest;
	enum lab_dest_result r;
	bool v4 = s->version == 4;
	if (s->p.host.behaviour == LAB_SOCKS5_REFUSE) {
		socks_refuse(s, SOCKS5_NOT_ALLOWED);
		return;
	}
	if (req->command != 1) {
		socks_refuse(s, v4 ? SOCKS4_REJECTED : SOCKS5_COMMAND_UNSUPPORTED);
		return;
	}
	if (req->atyp == LAB_SOCKS_ATYP_V4)
		r = lab_dest_v4((uint32_t)req->addr[0] << 24 | (uint32_t)req->addr[1] << 16 |
				    (uint32_t)req->addr[2] << 8 | req->addr[3],
				req->port, &dest);
	else if (req->atyp == LAB_SOCKS_ATYP_V6)
		r = lab_dest_v6(req->addr, req->port, &dest);
	else
		r = lab_dest_name(&s->p.lab->config, req->name, strlen(req->name), req->port, &dest);
	if (r == LAB_DEST_OK && v4 && dest.sa.sa_family != AF_INET)
		r = LAB_DEST_UNKNOWN; /* a SOCKS4 reply has no room for an IPv6 address */
	if (r != LAB_DEST_OK) {
		socks_refuse(s, v4			  ? SOCKS4_REJECTED
				: r == LAB_DEST_FORBIDDEN ? SOCKS5_NOT_ALLOWED
							  : SOCKS5_HOST_UNREACHABLE);
		return;
	}
	if (lab_proxy_connect(&s->p, &dest) != 0) {
		socks_refuse(s, v4 ? SOCKS4_REJECTED : SOCKS5_FAILURE);
		return;
	}
	socks_enter(s, SOCKS_CONNECTING);
}

/* The method list: each server picks what it offers, or says no acceptable method. */
static void socks_greeting(struct socks_session *s, bool no_auth, bool password)
{
	uint8_t method = SOCKS5_NO_METHOD, msg[2] = {5, 0};
	if (s->p.host.behaviour == LAB_SOCKS5_AUTH)
		method = password ? SOCKS5_PASSWORD : SOCKS5_NO_METHOD;
	else if (no_auth)
		method = SOCKS5_NO_AUTH;
	msg[1] = method;
	lab_proxy_write(&s->p, msg, sizeof msg);
	lab_proxy_sent(&s->p);
	if (method == SOCKS5_NO_METHOD) {
		socks_enter(s, SOCKS_DONE);
		lab_proxy_close(&s->p);
	} else {
		socks_enter(s, method == SOCKS5_PASSWORD ? SOCKS_AUTH : SOCKS_REQUEST);
	}
}

/* One message, if a whole one is there: 1 when it was handled, 0 for more input, -1 to drop the client. */
static int socks_step(struct socks_session *s, const uint8_t *buf, size_t len, size_t *used)
{
	struct lab_socks_request req;
	bool no_auth, password;
	int n;
	switch (s->p.state) {
	case SOCKS_GREETING:
		s->version = buf[0];
		if (buf[0] == 4 && s->p.host.behaviour == LAB_SOCKS4_OPEN) {
			if ((n = lab_socks4_parse(buf, len, &req)) > 0)
				socks_connect(s, &req);
		} else if (buf[0] == 5 && s->p.host.behaviour != LAB_SOCKS4_OPEN) {
			if ((n = lab_socks5_greeting_parse(buf, len, &no_auth, &password)) > 0)
				socks_greeting(s, no_auth, password);
		} else {
			return -1; /* not our version, or not SOCKS at all */
		}
		break;
	case SOCKS_AUTH:
		/* Every username and password fails: this server is closed to the world. */
		if ((n = lab_socks5_auth_parse(buf, len)) > 0) {
			uint8_t msg[2] = {1, 1};
			lab_proxy_write(&s->p, msg, sizeof msg);
			lab_proxy_sent(&s->p);
			socks_enter(s, SOCKS_DONE);
			lab_proxy_close(&s->p);
		}
		break;
	case SOCKS_REQUEST:
		if (len >= 4 && buf[0] == 5 && buf[3] != LAB_SOCKS_ATYP_V4 && buf[3] != LAB_SOCKS_ATYP_V6 &&
		    buf[3] != LAB_SOCKS_ATYP_NAME) {
			socks_refuse(s, SOCKS5_ATYP_UNSUPPORTED);
			n = 4;
		} else if ((n = lab_socks5_request_parse(buf, len, &req)) > 0) {
			socks_connect(s, &req);
		}
		break;
	default:
		return 0;
	}
	if (n < 0)
		return -1;
	*used = (size_t)n;
	return n > 0;
}

static void socks_proceed(struct lab_proxy *p)
{
	struct socks_session *s = (struct socks_session *)p;
	struct evbuffer *in = bufferevent_get_input(p->client);
	/* Pipelined messages (greeting and request at once) are taken one reply at a time. */
	while (!p->delaying && !p->closing && !p->connecting && !p->tunnel) {
		size_t len = evbuffer_get_length(in), used = 0;
		const uint8_t *buf;
		int r;
		if (len == 0)
			return;
		if (len > SOCKS_INPUT_MAX)
			len = SOCKS_INPUT_MAX;
		buf = evbuffer_pullup(in, (ev_ssize_t)len);
		r = socks_step(s, buf, len, &used);
		if (r < 0) {
			lab_proxy_free(p);
			return;
		}
		if (r == 0) {
			if (len >= SOCKS_INPUT_MAX)
				lab_proxy_free(p);
			return;
		}
		if (!p->closing)
			evbuffer_drain(in, used);
	}
}

static void socks_connected(struct lab_proxy *p)
{
	struct socks_session *s = (struct socks_session *)p;
	union lab_sockaddr bound;
	socklen_t len = sizeof bound;
	if (getsockname(bufferevent_getfd(p->target), &bound.sa, &len) != 0)
		memset(&bound, 0, sizeof bound);
	socks_reply(s, s->version == 4 ? SOCKS4_GRANTED : SOCKS5_SUCCEEDED, &bound);
	socks_enter(s, SOCKS_TUNNEL);
	lab_proxy_tunnel(p);
}

static void socks_failed(struct lab_proxy *p, int error)
{
	struct socks_session *s = (struct socks_session *)p;
	int code = error == ECONNREFUSED			 ? SOCKS5_REFUSED
		   : error == ENETUNREACH			 ? SOCKS5_NET_UNREACHABLE
		   : error == ETIMEDOUT || error == EHOSTUNREACH ? SOCKS5_HOST_UNREACHABLE
								 : SOCKS5_FAILURE;
	log_debug("lab socks %s: outgoing connection: %s", lab_behaviours[p->host.behaviour].name,
		  strerror(error));
	socks_refuse(s, s->version == 4 ? SOCKS4_REJECTED : code);
}

static const struct lab_proxy_ops socks_ops = {
    .proceed = socks_proceed,
    .connected = socks_connected,
    .failed = socks_failed,
};

void lab_socks_start(struct lab *lab, evutil_socket_t fd, const struct lab_host *host)
{
	struct lab_proxy *p =
	    lab_proxy_new(lab, fd, host, &socks_ops, sizeof(struct socks_session), SOCKS_INPUT_MAX);
	if (p != NULL)
		p->state = SOCKS_GREETING;
}
