/*
 * Peers that do not speak the protocol at all: silent, garbage, an HTTP
 * answer, a line that never ends, and the proxy ports' silent peer and junk
 * answer (which waits for the client's request, as a proxy speaks second).
 * They work on the bare socket with one read event (to notice the client
 * leave) and, except the silent ones, one timer: no buffers, so tens of
 * thousands of them cost little.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lab.h"
#include "lab_smtp.h"

#define ENDLESS_TICK_MS 100
#define ENDLESS_CHUNK_MAX 65536

struct hostile {
	struct lab_session base;
	struct lab *lab;
	evutil_socket_t fd;
	struct event *read;
	struct event *timer; /* NULL for silent */
	struct lab_host host;
	bool waiting; /* proxy-garbage: no request yet (the timer is the idle timeout) */
	bool said;    /* garbage/http: the answer is out, waiting for the client to go */
	uint64_t sent;
};

static void hostile_free(struct lab_session *session)
{
	struct hostile *h = (struct hostile *)session;
	lab_session_remove(h->lab, &h->base);
	event_free(h->read);
	if (h->timer != NULL)
		event_free(h->timer);
	evutil_closesocket(h->fd);
	free(h);
}

static void hostile_say(struct hostile *h);

static void hostile_read(evutil_socket_t fd, short what, void *arg)
{
	struct hostile *h = arg;
	unsigned ms = h->lab->config.latency_ms;
	struct timeval delay = {ms / 1000, (ms % 1000) * 1000};
	char sink[4096];
	ssize_t n = recv(fd, sink, sizeof sink, 0);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		hostile_free(&h->base);
		return;
	}
	if (n > 0 && h->waiting) {
		/* The request is here: the junk answers it, after --latency like any reply. */
		h->waiting = false;
		if (ms > 0)
			evtimer_add(h->timer, &delay);
		else
			hostile_say(h);
	}
}

static size_t garbage_payload(const struct lab_host *host, char *buf, size_t size)
{
	uint32_t x = host->hash | 1;
	for (size_t i = 0; i < size; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (char)(x >> 24);
	}
	/* Never readable as a SOCKS version (0, 4, 5), "HTTP" or telnet's IAC (0xff) by a proxy probe. */
	if (host->behaviour == LAB_PROXY_GARBAGE && size > 0)
		buf[0] = (char)(0x80 | (buf[0] & 0x7e));
	return size;
}

static size_t http_payload(char *buf, size_t size)
{
	static const char body[] = "<html>\r\n<head><title>400 Bad Request</title></head>\r\n<body>\r\n"
				   "<center><h1>400 Bad Request</h1></center>\r\n"
				   "<hr><center>nginx/1.22.1</center>\r\n</body>\r\n</html>\r\n";
	char date[40];
	int n = snprintf(buf, size,
			 "HTTP/1.1 400 Bad Request\r\nServer: nginx/1.22.1\r\nDate: %s\r\n"
			 "Content-Type: text/html\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
			 lab_date(date), sizeof body - 1, body);
	return n < 0 ? 0 : (size_t)n < size ? (size_t)n : size - 1;
}

/* garbage/http: say it once, then half-close and wait for the client to leave. */
static void hostile_say(struct hostile *h)
{
	char buf[1024];
	size_t len = h->host.behaviour == LAB_HTTP ? http_payload(buf, sizeof buf)
						   : garbage_payload(&h->host, buf, 512);
	struct timeval idle = {h->lab->config.idle_timeout, 0};
	/* A fresh socket's send buffer takes 1 KiB whole; a short write only shortens the junk. */
	if (send(h->fd, buf, len, MSG_NOSIGNAL) < 0 || shutdown(h->fd, SHUT_WR) != 0) {
		hostile_free(&h->base);
		return;
	}
	h->said = true;
	evtimer_add(h->timer, &idle);
}

static void endless_tick(struct hostile *h)
{
	static const char filler[] = "ESMTP-ready-please-wait-";
	char chunk[ENDLESS_CHUNK_MAX], head[64], domain[40];
	size_t want = h->lab->config.endless_rate * ENDLESS_TICK_MS / 1000, len = 0;
	ssize_t n;
	if (want == 0)
		want = 1;
	if (want > sizeof chunk)
		want = sizeof chunk;
	/* Starts like a banner so that it is read as one, then never ends. */
	if (h->sent == 0)
		len = (size_t)snprintf(head, sizeof head, "220 %s ", lab_host_domain(h->host.addr, domain));
	for (size_t i = 0; i < want; i++)
		chunk[i] = i < len ? head[i] : filler[(h->sent + i) % (sizeof filler - 1)];
	n = send(h->fd, chunk, want, MSG_NOSIGNAL);
	if (n > 0)
		h->sent += (uint64_t)n;
	else if (errno != EAGAIN && errno != EINTR)
		hostile_free(&h->base);
	/* EAGAIN: the client stopped reading; the kernel's buffer is the bound. */
}

static void hostile_timer(evutil_socket_t fd, short what, void *arg)
{
	struct hostile *h = arg;
	if (h->said || h->waiting) {
		hostile_free(&h->base); /* the client never left: idle timeout */
		return;
	}
	if (h->host.behaviour == LAB_ENDLESS)
		endless_tick(h);
	else
		hostile_say(h);
}

void lab_hostile_start(struct lab *lab, evutil_socket_t fd, const struct lab_host *host)
{
	struct hostile *h = calloc(1, sizeof *h);
	struct timeval delay = {lab->config.latency_ms / 1000, (lab->config.latency_ms % 1000) * 1000};
	struct timeval idle = {lab->config.idle_timeout, 0};
	bool silent = host->behaviour == LAB_SILENT || host->behaviour == LAB_PROXY_SILENT;
	if (h == NULL) {
		evutil_closesocket(fd);
		return;
	}
	h->lab = lab;
	h->fd = fd;
	h->host = *host;
	h->read = event_new(lab->base, fd, EV_READ | EV_PERSIST, hostile_read, h);
	if (!silent)
		h->timer = event_new(lab->base, -1, host->behaviour == LAB_ENDLESS ? EV_PERSIST : 0,
				     hostile_timer, h);
	lab_session_add(lab, &h->base, hostile_free);
	if (h->read == NULL || (!silent && h->timer == NULL)) {
		hostile_free(&h->base);
		return;
	}
	event_add(h->read, NULL);
	if (host->behaviour == LAB_ENDLESS) {
		struct timeval tick = {0, ENDLESS_TICK_MS * 1000};
		event_add(h->timer, &tick); /* persistent: every tick from now on */
	} else if (host->behaviour == LAB_PROXY_GARBAGE) {
		h->waiting = true;
		evtimer_add(h->timer, &idle);
	} else if (!silent) {
		if (lab->config.latency_ms > 0)
			evtimer_add(h->timer, &delay);
		else
			hostile_say(h);
	}
}
