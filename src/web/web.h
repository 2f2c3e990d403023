/*
 * The owners' web (issue 14): `plughole serve`, on libmicrohttpd.
 *
 * server.c     the daemon (TLS, limits, thread pool), one request's life:
 *              body bounded, dispatch through the route table, the security
 *              headers on every response, an error page for every failure
 * routes.c     the route table: method, path pattern, handler
 * html.c       escaping, the one page layout, error pages, request helpers
 * page_*.c     one file per page family: campaign, guides, ticket, opt-out,
 *              admin (login, sessions, CSRF, lock-out, dashboard)
 *
 * Every handler reads the store through its thread's own connection
 * (web_store): prepared statements per thread; writes (the opt-out) go
 * through one shared connection under a lock (web_store_write).
 */
#ifndef PLUGHOLE_WEB_H
#define PLUGHOLE_WEB_H

#include <stdbool.h>
#include <stddef.h>
#include <signal.h>
#include <stdint.h>

#include "attrib/agencies.h"
#include "notify/guides.h"
#include "notify/textbuf.h"

struct store;
struct MHD_Connection;
struct owner_check_options;

/* Defaults, one source each (the usage text prints them). */
#define WEB_THREADS 4
#define WEB_MAX_BODY 4096	     /* bytes of a request body: forms are tiny */
#define WEB_MAX_HEADERS 48	     /* header lines of a request */
#define WEB_MEMORY_LIMIT (16 * 1024) /* per connection: request line, headers, body buffer (zeroed per request) */
#define WEB_CONNECTION_TIMEOUT 15    /* seconds a connection may stay idle */
#define WEB_MAX_CONNECTIONS 1024
#define WEB_PER_IP_CONNECTIONS 128
#define WEB_SESSION_TTL 3600	   /* seconds an admin session lasts */
#define WEB_LOGIN_FAILURES 5	   /* failed logins from one address before it is locked out */
#define WEB_LOGIN_WINDOW 900	   /* seconds failures count over, and the lock-out lasts */
#define WEB_LOGIN_FAILURES_ALL 50  /* failed logins from anywhere before every login is locked */

struct web_options {
	const char *listen; /* ADDR:PORT */
	const char *db;
	const char *data_dir;
	const char *public_url;
	const char *operator_name, *operator_contact;
	const char *tls_cert, *tls_key;	  /* both or neither */
	const char *admin_password_file; /* NULL: no /admin */
	const char *campaign;		 /* NULL: the newest */
	const char *trusted_proxy;	 /* the one peer whose X-Forwarded-For counts, or NULL */
	unsigned threads;
	/* owners' checks ("test again now", /check): NULL leaves them out (track/owner_check.h) */
	const struct owner_check_options *checks;
};

/* Runs until *stop is set (checked every 200 ms); 0, or -1 logged. */
int web_serve(const struct web_options *options, volatile sig_atomic_t *stop);

/* ---- what handlers see ---- */

struct web_server;

#define WEB_MAX_PARAMS 4
#define WEB_PARAM_MAX 128

struct web_request {
	struct MHD_Connection *connection;
	struct web_server *server;
	const char *method; /* HEAD is served as GET */
	const char *path;
	const char *body;
	size_t body_len;
	char peer[64]; /* the TCP peer's address (or a trusted proxy's X-Forwarded-For) */
	char params[WEB_MAX_PARAMS][WEB_PARAM_MAX]; /* the pattern's * segments, in order */
	size_t param_count;
	bool tls;
};

#define WEB_MAX_COOKIES 2
struct web_response {
	unsigned status;
	const char *content_type;
	struct textbuf body;
	char cookies[WEB_MAX_COOKIES][256];
	size_t cookie_count;
	char location[512];
	const char *allow; /* for 405 */
	unsigned refresh;  /* > 0: the page reloads itself after that many seconds (meta refresh, no script) */
	bool cacheable;	   /* a public page; others are no-store */
	char csp[512];	   /* empty: the strict default; else this page's own (the report's inline style) */
};

typedef void (*web_handler)(struct web_request *req, struct web_response *resp);

/* ---- the server's shared state (server.c) ---- */

struct web_server {
	struct web_options options;
	struct agencies agencies;
	struct guides *guides; /* under guides_lock */
	void *guides_lock;
	char *style;	       /* /static/style.css */
	size_t style_len;
	char style_hash[64];   /* unused by pages: the stylesheet is a file ('self') */
	char **guide_pages;    /* /guides/<name> without a host: rendered once, by guide_names[] index */
	char (*guide_titles)[GUIDE_MAX_TITLE];
	struct admin *admin;   /* page_admin.c: password hash, sessions, lock-out */
	int64_t campaign_id;   /* the campaign the pages are about, 0: none yet */
};

/* This thread's read connection to the store; NULL (logged) when it does not open. */
struct store *web_store(struct web_server *server);
/* The shared write connection, locked: pass it back to web_store_release. */
struct store *web_store_write(struct web_server *server);
void web_store_release(struct web_server *server);
/* The campaign the pages are about (--campaign or the newest), looked up again when absent. */
int64_t web_campaign(struct web_server *server, struct store *store, char *name, size_t namelen);

/* ---- routes.c ---- */

/* Finds the handler for method and path; params filled. 0 found, 404 none, 405 other methods (allow set). */
unsigned web_route(const char *method, const char *path, struct web_request *req, web_handler *handler,
		   const char **allow);
/* Whether a URL path may be served at all: no "..", no backslash, no NUL, no "//" (pure). */
bool web_path_ok(const char *path);

/* ---- html.c: escaping, the layout, request helpers ---- */

int web_escape(struct textbuf *out, const char *s);
int web_escapen(struct textbuf *out, const char *s, size_t n);
/* Percent-encodes s for a URL query value or path segment. */
int web_urlencode(struct textbuf *out, const char *s);
/* The layout: head (title, stylesheet, robots), header, then the page; web_page_end closes it. */
void web_page_begin(struct web_response *resp, const char *lang, const char *title);
void web_page_end(struct web_response *resp);
/* Replaces the response with the error page for status (message: one sentence, plain text). */
void web_error(struct web_response *resp, unsigned status, const char *message);
const char *web_status_text(unsigned status);
/* A query parameter, a header, a cookie of the request; NULL when absent. */
const char *web_query(struct web_request *req, const char *name);
const char *web_header(struct web_request *req, const char *name);
const char *web_cookie(struct web_request *req, const char *name);
/* A field of an application/x-www-form-urlencoded body (s[0..n)), decoded into buf: 1, 0 absent, -1 too long. */
int web_form_field(const char *s, size_t n, const char *name, char *buf, size_t buflen);
/* Sets a cookie (value: [A-Za-z0-9_-]); attributes HttpOnly; Secure; SameSite=Strict; Path=/. max_age -1: session. */
void web_set_cookie(struct web_response *resp, const char *name, const char *value, long max_age);
/* 32 random bytes in hex (65 with the NUL); 0 or -1. */
int web_random_token(char out[65]);
/* Time as "2004-01-29 14:05 UTC". */
const char *web_time(int64_t t, char buf[32]);
/*
 * The language to serve among available[0..n) (BCP 47 tags): the
 * Accept-Language header's best by q-value, a tag matching its own or its
 * primary subtag ("es-AR" takes "es", "pt" takes "pt-BR"); fallback when none
 * fits. Pure.
 */
const char *web_pick_language(const char *accept, const char *const *available, size_t n,
			      const char *fallback);

/* ---- pages (one file each) ---- */

void page_campaign(struct web_request *req, struct web_response *resp);
void page_style(struct web_request *req, struct web_response *resp);
void page_guides_index(struct web_request *req, struct web_response *resp);
void page_guide(struct web_request *req, struct web_response *resp);
void page_ticket(struct web_request *req, struct web_response *resp);
void page_optout_form(struct web_request *req, struct web_response *resp);
void page_optout(struct web_request *req, struct web_response *resp);
void page_admin(struct web_request *req, struct web_response *resp);
void page_admin_login(struct web_request *req, struct web_response *resp);
void page_admin_logout(struct web_request *req, struct web_response *resp);
void page_admin_report(struct web_request *req, struct web_response *resp);
void page_ticket_check(struct web_request *req, struct web_response *resp);
void page_ticket_check_status(struct web_request *req, struct web_response *resp);
void page_check(struct web_request *req, struct web_response *resp);
void page_check_start(struct web_request *req, struct web_response *resp);
void page_check_status(struct web_request *req, struct web_response *resp);

/* page_check.c: the form token of a page that POSTs without a session (cookie ph_form, double submit). */
void web_form_token(struct web_response *resp, char token[65]);
bool web_form_token_ok(struct web_request *req);

/* page_ticket.c: the letter a ticket and key name, checked in constant time; 1, 0 no such (or wrong key), -1. */
struct store_web_ticket;
int web_ticket_open(struct web_request *req, struct store *store, struct store_web_ticket *out);

/* page_admin.c */
struct admin *admin_new(const char *password_file);
void admin_free(struct admin *admin);

/* The password file's hash of password (passwd.c): libcrypt's yescrypt. 0 or -1. */
int web_password_hash(const char *password, char *out, size_t outlen);
/* Whether password matches hash, compared in constant time. */
bool web_password_check(const char *password, const char *hash);

#endif
