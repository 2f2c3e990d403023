/*
 * The owners' web server on libmicrohttpd: a thread pool, bounded requests
 * (memory per connection, header count, body size), idle timeouts, TLS when
 * a certificate and key are given; each request dispatched through the route
 * table (routes.c) and answered with the security headers, or an error page.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/addr.h"
#include "core/log.h"
#include "core/util.h"
#include "store/store.h"
#include "web/web.h"

/* No inline script or style anywhere: the stylesheet and any script are same-origin files. */
#define WEB_CSP                                                                                             \
	"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; object-src 'none';"     \
	" base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
#define WEB_PAGE_LIMIT (4u << 20) /* bytes of one page: a ticket with many hosts and transcripts */

/* ---- the store: one read connection per thread, one shared writer ---- */

static pthread_key_t store_key;
static pthread_once_t store_key_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t writer_lock = PTHREAD_MUTEX_INITIALIZER;
static struct store *writer;

static void close_store(void *store) { store_close(store); }
static void make_store_key(void) { pthread_key_create(&store_key, close_store); }

struct store *web_store(struct web_server *server)
{
	pthread_once(&store_key_once, make_store_key);
	struct store *store = pthread_getspecific(store_key);
	if (store != NULL)
		return store;
	store = store_open_mode(server->options.db, STORE_READ);
	if (store != NULL && store_web_query_only(store) != 0) {
		store_close(store);
		store = NULL;
	}
	if (store != NULL)
		pthread_setspecific(store_key, store);
	return store;
}

struct store *web_store_write(struct web_server *server)
{
	pthread_mutex_lock(&writer_lock);
	if (writer == NULL)
		writer = store_open_mode(server->options.db, STORE_UPDATE);
	if (writer == NULL)
		pthread_mutex_unlock(&writer_lock);
	return writer;
}

void web_store_release(struct web_server *server) { pthread_mutex_unlock(&writer_lock); }

int64_t web_campaign(struct web_server *server, struct store *store, char *name, size_t namelen)
{
	return store_web_campaign(store, server->options.campaign, name, namelen);
}

/* ---- one request ---- */

struct request_state {
	struct textbuf body;
	bool too_large;
};

static void add_security_headers(struct MHD_Response *r, const struct web_response *resp, bool tls)
{
	MHD_add_response_header(r, "Content-Security-Policy", resp->csp[0] ? resp->csp : WEB_CSP);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	/* ticket URLs carry their key: never in a Referer */
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
	MHD_add_response_header(r, "Permissions-Policy", "camera=(), microphone=(), geolocation=()");
	MHD_add_response_header(r, "Cache-Control", resp->cacheable ? "public, max-age=300" : "no-store");
	if (tls)
		MHD_add_response_header(r, "Strict-Transport-Security", "max-age=31536000");
}

static enum MHD_Result send_response(struct MHD_Connection *c, struct web_response *resp, bool tls)
{
	size_t len = 0;
	char *data = textbuf_take(&resp->body, &len);
	struct MHD_Response *r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(data);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", resp->content_type ? resp->content_type : "text/html; charset=utf-8");
	add_security_headers(r, resp, tls);
	for (size_t i = 0; i < resp->cookie_count; i++)
		MHD_add_response_header(r, "Set-Cookie", resp->cookies[i]);
	if (resp->location[0])
		MHD_add_response_header(r, "Location", resp->location);
	if (resp->allow)
		MHD_add_response_header(r, "Allow", resp->allow);
	enum MHD_Result rc = MHD_queue_response(c, resp->status, r);
	MHD_destroy_response(r);
	return rc;
}

static void response_init(struct web_response *resp)
{
	memset(resp, 0, sizeof *resp);
	resp->status = 200;
	textbuf_init(&resp->body, WEB_PAGE_LIMIT);
}

static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, const char *message, bool tls)
{
	struct web_response resp;
	response_init(&resp);
	web_error(&resp, status, message);
	enum MHD_Result rc = send_response(c, &resp, tls);
	textbuf_free(&resp.body);
	return rc;
}

/* The last X-Forwarded-For line: a client's own line arrives ahead of the one its proxy appends. */
static enum MHD_Result last_xff(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	(void)kind;
	if (key != NULL && value != NULL && strcasecmp(key, "X-Forwarded-For") == 0)
		*(const char **)cls = value;
	return MHD_YES;
}

/* The TCP peer's address; a trusted proxy's X-Forwarded-For (its last entry) instead. */
static void peer_address(struct web_server *server, struct MHD_Connection *c, char *out, size_t outlen)
{
	const union MHD_ConnectionInfo *info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	out[0] = '\0';
	if (info == NULL || info->client_addr == NULL ||
	    getnameinfo(info->client_addr,
			info->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
								 : sizeof(struct sockaddr_in),
			out, (socklen_t)outlen, NULL, 0, NI_NUMERICHOST) != 0)
		snprintf(out, outlen, "unknown");
	const char *proxy = server->options.trusted_proxy;
	const char *xff = NULL;
	MHD_get_connection_values(c, MHD_HEADER_KIND, last_xff, &xff);
	if (proxy == NULL || xff == NULL || strcmp(out, proxy) != 0)
		return;
	const char *last = strrchr(xff, ',');
	last = last ? last + 1 : xff;
	while (*last == ' ')
		last++;
	size_t n = strcspn(last, " ");
	struct addr a;
	char buf[ADDR_STRLEN];
	/* an entry that is no address: no requester at all (the proxy itself is never the one to test) */
	snprintf(out, outlen, "%s", addr_parse(last, n, &a) == 0 ? addr_format(&a, buf) : "unknown");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
	struct web_server *server = cls;
	bool tls = server->options.tls_cert != NULL;
	struct request_state *st = *con_cls;
	if (st == NULL) {
		st = calloc(1, sizeof *st);
		if (st == NULL)
			return MHD_NO;
		textbuf_init(&st->body, WEB_MAX_BODY);
		*con_cls = st;
		if (MHD_get_connection_values(c, MHD_HEADER_KIND, NULL, NULL) > WEB_MAX_HEADERS)
			return send_error(c, 431, "This request has too many header lines.", tls);
		const char *length = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
		if (length != NULL && strtoull(length, NULL, 10) > WEB_MAX_BODY)
			return send_error(c, 413, "This request's body is larger than any form here sends.", tls);
		return MHD_YES;
	}
	if (*upload_size > 0) {
		if (textbuf_append(&st->body, upload_data, *upload_size) != 0)
			st->too_large = true;
		*upload_size = 0;
		return MHD_YES;
	}
	if (st->too_large)
		return send_error(c, 413, "This request's body is larger than any form here sends.", tls);

	struct web_request req = {.connection = c, .server = server, .path = url, .tls = tls};
	req.method = strcmp(method, "HEAD") == 0 ? "GET" : method;
	req.body = st->body.data ? st->body.data : "";
	req.body_len = st->body.len;
	peer_address(server, c, req.peer, sizeof req.peer);
	struct web_response resp;
	response_init(&resp);
	web_handler handler = NULL;
	unsigned status = web_path_ok(url) ? web_route(req.method, url, &req, &handler, &resp.allow) : 400;
	if (status == 0) {
		handler(&req, &resp);
		if (resp.body.overflow)
			web_error(&resp, 500, "This page grew larger than its limit.");
	} else {
		web_error(&resp, status,
			  status == 400   ? "This address is not one this site serves."
			  : status == 405 ? "This address does not take that kind of request."
					  : "There is no page at this address.");
		if (status == 405)
			resp.allow = resp.allow ? resp.allow : "GET, HEAD";
	}
	log_debug("serve: %s %s %s -> %u", req.peer, method, url, resp.status);
	enum MHD_Result rc = send_response(c, &resp, tls);
	textbuf_free(&resp.body);
	return rc;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode code)
{
	struct request_state *st = *con_cls;
	if (st == NULL)
		return;
	textbuf_free(&st->body);
	free(st);
	*con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];
	vsnprintf(line, sizeof line, fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_debug("serve: %s", line);
}

/* ---- start and stop ---- */

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		log_error("%s: %s", path, strerror(errno));
		return NULL;
	}
	struct textbuf b;
	textbuf_init(&b, 1u << 20);
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		if (textbuf_append(&b, chunk, n) != 0)
			break;
	bool bad = ferror(f) || b.overflow;
	fclose(f);
	if (bad) {
		log_error("%s: unreadable or larger than 1 MiB", path);
		textbuf_free(&b);
		return NULL;
	}
	return textbuf_take(&b, len);
}

/* Every guide rendered once for the generic host (the pages without ?server=). */
static int render_guides(struct web_server *server)
{
	server->guide_pages = calloc(guide_name_count, sizeof *server->guide_pages);
	server->guide_titles = calloc(guide_name_count, sizeof *server->guide_titles);
	if (server->guide_pages == NULL || server->guide_titles == NULL)
		return -1;
	for (size_t i = 0; i < guide_name_count; i++) {
		struct textbuf out;
		struct tpl_error err;
		textbuf_init(&out, 1u << 20);
		if (guides_render(server->guides, guide_names[i], GUIDE_HTML, 0, "your.server.example", "25", &out,
				  server->guide_titles[i], &err) != 0) {
			log_error("%s", err.message);
			textbuf_free(&out);
			return -1;
		}
		server->guide_pages[i] = textbuf_take(&out, NULL);
	}
	return 0;
}

static void server_free(struct web_server *server)
{
	for (size_t i = 0; server->guide_pages != NULL && i < guide_name_count; i++)
		free(server->guide_pages[i]);
	free(server->guide_pages);
	free(server->guide_titles);
	guides_close(server->guides);
	agencies_free(&server->agencies);
	admin_free(server->admin);
	free(server->style);
	if (server->guides_lock != NULL) {
		pthread_mutex_destroy(server->guides_lock);
		free(server->guides_lock);
	}
}

static int server_init(struct web_server *server, const struct web_options *options)
{
	char path[4096];
	server->options = *options;
	snprintf(path, sizeof path, "%s/agencies.conf", options->data_dir);
	if (agencies_load(&server->agencies, path) != 0)
		return -1;
	snprintf(path, sizeof path, "%s/guides", options->data_dir);
	server->guides = guides_open(path);
	server->guides_lock = malloc(sizeof(pthread_mutex_t));
	if (server->guides == NULL || server->guides_lock == NULL)
		return -1;
	pthread_mutex_init(server->guides_lock, NULL);
	if (render_guides(server) != 0)
		return -1;
	snprintf(path, sizeof path, "%s/web/style.css", options->data_dir);
	if ((server->style = read_file(path, &server->style_len)) == NULL)
		return -1;
	if (options->admin_password_file != NULL && (server->admin = admin_new(options->admin_password_file)) == NULL)
		return -1;
	/* the store must exist and be readable before we listen */
	struct store *store = store_open_mode(options->db, STORE_READ);
	if (store == NULL)
		return -1;
	store_close(store);
	return 0;
}

int web_serve(const struct web_options *options, volatile sig_atomic_t *stop)
{
	struct addr a;
	uint16_t port = 0;
	const char *why = NULL;
	if (addr_port_parse(options->listen, strlen(options->listen), &a, &port, &why) != 0 || port == 0) {
		log_error("serve: --listen %s: %s", options->listen, why ? why : "wants ADDR:PORT");
		return -1;
	}
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	char host[ADDR_STRLEN];
	addr_format(&a, host);
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
	if (addr_is_v4(&a)) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		inet_pton(AF_INET, host, &in->sin_addr);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		memcpy(&in6->sin6_addr, a.bytes, 16);
		flags |= MHD_USE_IPv6;
	}
	store_web_setup();
	struct web_server server;
	memset(&server, 0, sizeof server);
	char *cert = NULL, *key = NULL;
	int rc = -1;
	if (server_init(&server, options) != 0)
		goto out;
	if (options->tls_cert != NULL) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			log_error("serve: this libmicrohttpd was built without TLS");
			goto out;
		}
		size_t n;
		if ((cert = read_file(options->tls_cert, &n)) == NULL || (key = read_file(options->tls_key, &n)) == NULL)
			goto out;
		flags |= MHD_USE_TLS;
	}
	struct MHD_OptionItem tls_options[] = {
	    {MHD_OPTION_HTTPS_MEM_CERT, 0, cert},
	    {MHD_OPTION_HTTPS_MEM_KEY, 0, key},
	    {MHD_OPTION_END, 0, NULL},
	};
	unsigned threads = options->threads ? options->threads : WEB_THREADS;
	struct MHD_Daemon *d = MHD_start_daemon(
	    flags, port, NULL, NULL, on_request, &server, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)WEB_CONNECTION_TIMEOUT,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)WEB_MAX_CONNECTIONS, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	    (unsigned)WEB_PER_IP_CONNECTIONS, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)WEB_MEMORY_LIMIT,
	    MHD_OPTION_STRICT_FOR_CLIENT, 1, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
	    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL, MHD_OPTION_ARRAY,
	    cert != NULL ? tls_options : tls_options + 2, MHD_OPTION_END);
	if (d == NULL) {
		log_error("serve: cannot listen on %s", options->listen);
		goto out;
	}
	log_info("serve: listening on %s://%s (%u threads)", cert ? "https" : "http", options->listen, threads);
	while (!*stop) {
		struct timespec ts = {0, 200 * 1000 * 1000};
		nanosleep(&ts, NULL);
		while (waitpid(-1, NULL, WNOHANG) > 0)
			; /* the owners' checks' processes (track/owner_check.h), reaped here */
	}
	MHD_stop_daemon(d);
	log_info("serve: stopped");
	rc = 0;
out:
	pthread_mutex_lock(&writer_lock);
	store_close(writer);
	writer = NULL;
	pthread_mutex_unlock(&writer_lock);
	free(cert);
	free(key);
	server_free(&server);
	return rc;
}
