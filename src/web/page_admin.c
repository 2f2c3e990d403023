/*
 * /admin: the operator's dashboard, behind a login against the password file
 * `plughole passwd` writes (a yescrypt hash). A session is a random cookie
 * (HttpOnly; Secure; SameSite=Strict) with its own CSRF token, which every
 * POST carries in a form field; the login form's token is a cookie of its own
 * matched against the field (double submit). WEB_LOGIN_FAILURES failed logins
 * from one address, or WEB_LOGIN_FAILURES_ALL from anywhere, in
 * WEB_LOGIN_WINDOW seconds lock logins out (429) for that long.
 */
#include <errno.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "report/report.h"
#include "store/store.h"
#include "web/web.h"

#define SESSIONS 32
#define PEERS 256
#define SESSION_COOKIE "ph_session"
#define LOGIN_COOKIE "ph_login"
#define RECENT 15

struct session {
	char id[65], csrf[65];
	time_t expires;
};

struct failures {
	char peer[64];
	unsigned count;
	time_t first;
};

struct admin {
	char hash[256];
	pthread_mutex_t lock;
	struct session sessions[SESSIONS];
	struct failures peers[PEERS];
	unsigned all_count;
	time_t all_first;
};

struct admin *admin_new(const char *password_file)
{
	FILE *f = fopen(password_file, "r");
	if (f == NULL) {
		log_error("serve: --admin-password-file %s: %s", password_file, strerror(errno));
		return NULL;
	}
	struct admin *a = calloc(1, sizeof *a);
	bool ok = a != NULL && fgets(a->hash, sizeof a->hash, f) != NULL;
	fclose(f);
	if (ok) {
		a->hash[strcspn(a->hash, "\r\n")] = '\0';
		ok = a->hash[0] == '$';
	}
	if (!ok) {
		log_error("serve: %s:1: not a password hash (make one with 'plughole passwd %s')", password_file,
			  password_file);
		free(a);
		return NULL;
	}
	pthread_mutex_init(&a->lock, NULL);
	return a;
}

void admin_free(struct admin *admin)
{
	if (admin == NULL)
		return;
	pthread_mutex_destroy(&admin->lock);
	OPENSSL_cleanse(admin, sizeof *admin);
	free(admin);
}

static bool token_equal(const char *a, const char *b)
{
	return a != NULL && b != NULL && strlen(a) == 64 && strlen(b) == 64 && CRYPTO_memcmp(a, b, 64) == 0;
}

/* The session the request's cookie names, copied; under no lock of the caller's. */
static bool session_of(struct admin *a, struct web_request *req, struct session *out)
{
	const char *id = web_cookie(req, SESSION_COOKIE);
	bool found = false;
	time_t now = time(NULL);
	pthread_mutex_lock(&a->lock);
	for (size_t i = 0; id != NULL && i < SESSIONS && !found; i++)
		if (a->sessions[i].expires > now && token_equal(a->sessions[i].id, id)) {
			*out = a->sessions[i];
			found = true;
		}
	pthread_mutex_unlock(&a->lock);
	return found;
}

/* Whether logins from peer are locked out now. Under a->lock. */
static struct failures *failures_of(struct admin *a, const char *peer, time_t now, bool make)
{
	struct failures *oldest = &a->peers[0];
	for (size_t i = 0; i < PEERS; i++) {
		if (strcmp(a->peers[i].peer, peer) == 0)
			return &a->peers[i];
		if (a->peers[i].first < oldest->first)
			oldest = &a->peers[i];
	}
	if (!make)
		return NULL;
	memset(oldest, 0, sizeof *oldest);
	snprintf(oldest->peer, sizeof oldest->peer, "%s", peer);
	oldest->first = now;
	return oldest;
}

static bool locked_out(struct admin *a, const char *peer, time_t now)
{
	if (a->all_count >= WEB_LOGIN_FAILURES_ALL && now - a->all_first < WEB_LOGIN_WINDOW)
		return true;
	struct failures *f = failures_of(a, peer, now, false);
	return f != NULL && f->count >= WEB_LOGIN_FAILURES && now - f->first < WEB_LOGIN_WINDOW;
}

static void count_failure(struct admin *a, const char *peer, time_t now)
{
	struct failures *f = failures_of(a, peer, now, true);
	if (now - f->first >= WEB_LOGIN_WINDOW) {
		f->count = 0;
		f->first = now;
	}
	f->count++;
	if (now - a->all_first >= WEB_LOGIN_WINDOW) {
		a->all_count = 0;
		a->all_first = now;
	}
	a->all_count++;
}

static void no_admin(struct web_response *resp)
{
	web_error(resp, 404, "This server was started without an admin password file.");
}

static void login_form(struct web_request *req, struct web_response *resp)
{
	char token[65];
	if (web_random_token(token) != 0) {
		web_error(resp, 500, "No random numbers just now.");
		return;
	}
	web_set_cookie(resp, LOGIN_COOKIE, token, 600);
	struct textbuf *b = &resp->body;
	web_page_begin(resp, "en", "Operator login");
	textbuf_puts(b, "<h1>Operator login</h1>\n<form method=\"post\" action=\"/admin/login\" class=\"login\">"
			"<input type=\"hidden\" name=\"csrf\" value=\"");
	textbuf_puts(b, token);
	textbuf_puts(b, "\"><label for=\"password\">Password</label> <input type=\"password\" id=\"password\" "
			"name=\"password\" autocomplete=\"current-password\" required> "
			"<button type=\"submit\" id=\"login\">Log in</button></form>\n");
	web_page_end(resp);
}

/* ---- the dashboard ---- */

struct table_ctx {
	struct textbuf *b;
	const char *const *times; /* columns holding UTC seconds */
	size_t rows;
	bool vertical; /* one row shown as a column (no scroll wrapper) */
	bool opened;
};

static bool is_time(const struct table_ctx *c, const char *name)
{
	for (size_t i = 0; c->times != NULL && c->times[i] != NULL; i++)
		if (strcmp(c->times[i], name) == 0)
			return true;
	return false;
}

/* Any listing as an HTML table: its column names as headers, every value escaped. */
static void on_table_row(void *ctx, const struct store_row *row)
{
	struct table_ctx *c = ctx;
	if (row->values == NULL) {
		c->opened = true;
		textbuf_puts(c->b, "<div class=\"scroll\"><table>\n<thead><tr>");
		for (int i = 0; i < row->count; i++) {
			textbuf_puts(c->b, "<th>");
			web_escape(c->b, row->names[i]);
			textbuf_puts(c->b, "</th>");
		}
		textbuf_puts(c->b, "</tr></thead>\n<tbody>\n");
		return;
	}
	c->rows++;
	textbuf_puts(c->b, "<tr>");
	for (int i = 0; i < row->count; i++) {
		char when[32];
		const char *v = row->values[i];
		if (v != NULL && is_time(c, row->names[i]))
			v = web_time(strtoll(v, NULL, 10), when);
		textbuf_puts(c->b, row->types[i] == STORE_INTEGER || row->types[i] == STORE_REAL ? "<td class=\"n\">" : "<td>");
		web_escape(c->b, v ? v : "");
		textbuf_puts(c->b, "</td>");
	}
	textbuf_puts(c->b, "</tr>\n");
}

/* Closes the table the rows opened (opens one when the query failed before its header). */
static void table(struct textbuf *b, int rc, struct table_ctx *c, const char *none)
{
	if (!c->opened)
		textbuf_puts(b, c->vertical ? "<table><tbody>\n" : "<div class=\"scroll\"><table><tbody>\n");
	if (c->rows == 0 && rc == 0)
		textbuf_printf(b, "<tr><td colspan=\"99\">%s</td></tr>\n", none);
	if (rc != 0)
		textbuf_puts(b, "<tr><td colspan=\"99\">(could not be read)</td></tr>\n");
	textbuf_puts(b, "</tbody></table>\n");
	if (!c->vertical)
		textbuf_puts(b, "</div>\n");
}

struct campaign_ctx {
	const char *name;
	struct table_ctx table;
	bool header_done;
};

/* Only the campaign's own row of store_campaigns_each, one line per column (it has many). */
static void on_campaign_row(void *ctx, const struct store_row *row)
{
	struct campaign_ctx *c = ctx;
	const char *name = row->values ? store_row_value(row, "name") : NULL;
	if (name == NULL || strcmp(name, c->name) != 0)
		return;
	c->table.rows++;
	for (int i = 0; i < row->count; i++) {
		char when[32];
		const char *v = row->values[i];
		if (v != NULL && is_time(&c->table, row->names[i]))
			v = web_time(strtoll(v, NULL, 10), when);
		textbuf_puts(c->table.b, "<tr><th>");
		web_escape(c->table.b, row->names[i]);
		textbuf_puts(c->table.b, "</th><td>");
		web_escape(c->table.b, v ? v : "");
		textbuf_puts(c->table.b, "</td></tr>\n");
	}
}

#define SECTION(title) textbuf_puts(b, "<section class=\"dash\"><h2>" title "</h2>\n")
#define END_SECTION() textbuf_puts(b, "</section>\n")

static void dashboard(struct web_request *req, struct web_response *resp, const struct session *s)
{
	struct store *store = web_store(req->server);
	if (store == NULL) {
		web_error(resp, 503, "The store cannot be read just now.");
		return;
	}
	char name[80] = "";
	int64_t id = web_campaign(req->server, store, name, sizeof name);
	struct textbuf *b = &resp->body;
	static const char *const created[] = {"created", NULL};
	static const char *const received[] = {"received", NULL};
	static const char *const latest[] = {"latest", NULL};
	web_page_begin(resp, "en", "Dashboard");
	textbuf_puts(b, "<h1>Dashboard</h1>\n<form method=\"post\" action=\"/admin/logout\" class=\"logout\">"
			"<input type=\"hidden\" name=\"csrf\" value=\"");
	textbuf_puts(b, s->csrf);
	textbuf_puts(b, "\"><button type=\"submit\" id=\"logout\">Log out</button></form>\n");
	if (id <= 0) {
		textbuf_puts(b, "<p>No campaign yet: 'plughole campaign create' makes one.</p>\n");
	} else {
		textbuf_puts(b, "<p>Campaign <strong id=\"campaign\">");
		web_escape(b, name);
		textbuf_puts(b, "</strong></p>\n");
		SECTION("Progress: hosts, owners, letters by state");
		struct campaign_ctx cc = {name, {.b = b, .times = created, .vertical = true}, false};
		textbuf_puts(b, "<table class=\"facts\" id=\"progress\"><tbody>\n");
		cc.table.opened = true;
		int rc = store_campaigns_each(store, on_campaign_row, &cc);
		table(b, rc, &cc.table, "no such campaign");
		END_SECTION();
		SECTION("The report");
		textbuf_puts(b, "<p><a id=\"report\" href=\"/admin/report\">The whole remediation report</a>: every"
				" round, treatment against control with their intervals, by country, software and"
				" letter outcome (built when opened: seconds on a large campaign).</p>\n");
		END_SECTION();
		SECTION("Fixed so far: treatment and control (latest recheck)");
		struct table_ctx t = {.b = b, .times = NULL, .vertical = false};
		rc = store_web_outcomes_each(store, id, on_table_row, &t);
		table(b, rc, &t, "no hosts");
		END_SECTION();
		SECTION("Rounds");
		t = (struct table_ctx){.b = b, .times = latest, .vertical = false};
		rc = store_web_rounds_each(store, id, on_table_row, &t);
		table(b, rc, &t, "no rounds yet");
		END_SECTION();
		SECTION("Returned mail");
		t = (struct table_ctx){.b = b, .times = NULL, .vertical = false};
		rc = store_web_bounces_each(store, id, on_table_row, &t);
		table(b, rc, &t, "nothing came back yet");
		END_SECTION();
	}
	SECTION("Recent proofs at the sink");
	struct table_ctx t = {.b = b, .times = received, .vertical = false};
	int rc = store_web_proofs_recent_each(store, RECENT, on_table_row, &t);
	table(b, rc, &t, "none");
	END_SECTION();
	SECTION("Recent sink rejects");
	t = (struct table_ctx){.b = b, .times = received, .vertical = false};
	rc = store_web_rejects_recent_each(store, RECENT, on_table_row, &t);
	table(b, rc, &t, "none");
	END_SECTION();
	web_page_end(resp);
}

void page_admin(struct web_request *req, struct web_response *resp)
{
	struct admin *a = req->server->admin;
	struct session s;
	if (a == NULL)
		no_admin(resp);
	else if (session_of(a, req, &s))
		dashboard(req, resp, &s);
	else
		login_form(req, resp);
}

/* The campaign's whole report, built when asked (seconds on a large campaign): the
 * report's own self-contained HTML, its one inline style allowed by its hash alone. */
static void report_page(struct web_request *req, struct web_response *resp)
{
	struct store *store = web_store(req->server);
	char name[80] = "", style[128];
	if (store == NULL) {
		web_error(resp, 503, "The store cannot be read just now.");
		return;
	}
	if (web_campaign(req->server, store, name, sizeof name) <= 0) {
		web_error(resp, 404, "No campaign yet: 'plughole campaign create' makes one.");
		return;
	}
	struct report report;
	char *html = NULL;
	size_t len = 0;
	FILE *out = NULL;
	int rc = report_build(store, name, &report);
	if (rc == 0 && report_html_style_source(style, sizeof style) == 0 &&
	    (out = open_memstream(&html, &len)) != NULL) {
		rc = report_write_html(&report, out);
		rc = fclose(out) != 0 ? -1 : rc;
	} else {
		rc = -1;
	}
	report_free(&report);
	if (rc == 0) {
		snprintf(resp->csp, sizeof resp->csp,
			 "default-src 'none'; style-src %s; img-src 'self' data:; base-uri 'none'; form-action 'none';"
			 " frame-ancestors 'none'",
			 style);
		resp->content_type = "text/html; charset=utf-8";
		rc = textbuf_append(&resp->body, html, len);
	}
	free(html);
	if (rc != 0)
		web_error(resp, 500, "The report could not be built: see the server's log.");
}

void page_admin_report(struct web_request *req, struct web_response *resp)
{
	struct admin *a = req->server->admin;
	struct session s;
	if (a == NULL)
		no_admin(resp);
	else if (session_of(a, req, &s))
		report_page(req, resp);
	else
		login_form(req, resp);
}

void page_admin_login(struct web_request *req, struct web_response *resp)
{
	struct admin *a = req->server->admin;
	if (a == NULL) {
		no_admin(resp);
		return;
	}
	char csrf[80] = "", password[256] = "";
	if (web_form_field(req->body, req->body_len, "csrf", csrf, sizeof csrf) != 1 ||
	    !token_equal(csrf, web_cookie(req, LOGIN_COOKIE))) {
		web_error(resp, 403, "This form has expired or did not come from this site: load the login page again.");
		return;
	}
	time_t now = time(NULL);
	pthread_mutex_lock(&a->lock);
	bool locked = locked_out(a, req->peer, now);
	pthread_mutex_unlock(&a->lock);
	if (locked) {
		web_error(resp, 429, "Too many failed logins: try again later.");
		return;
	}
	bool ok = web_form_field(req->body, req->body_len, "password", password, sizeof password) == 1 &&
		  web_password_check(password, a->hash);
	OPENSSL_cleanse(password, sizeof password);
	struct session s = {0};
	pthread_mutex_lock(&a->lock);
	if (!ok) {
		count_failure(a, req->peer, now);
	} else if (web_random_token(s.id) == 0 && web_random_token(s.csrf) == 0) {
		s.expires = now + WEB_SESSION_TTL;
		struct session *slot = &a->sessions[0];
		for (size_t i = 0; i < SESSIONS; i++)
			if (a->sessions[i].expires < slot->expires)
				slot = &a->sessions[i]; /* an expired one, else the oldest */
		*slot = s;
	} else {
		ok = false;
	}
	pthread_mutex_unlock(&a->lock);
	if (!ok) {
		log_warn("serve: failed admin login from %s", req->peer);
		web_error(resp, 403, "Wrong password.");
		return;
	}
	log_info("serve: admin login from %s", req->peer);
	web_set_cookie(resp, SESSION_COOKIE, s.id, WEB_SESSION_TTL);
	web_set_cookie(resp, LOGIN_COOKIE, "", 0);
	resp->status = 303;
	snprintf(resp->location, sizeof resp->location, "/admin");
	web_page_begin(resp, "en", "Logged in");
	textbuf_puts(&resp->body, "<p><a href=\"/admin\">The dashboard</a></p>\n");
	web_page_end(resp);
}

void page_admin_logout(struct web_request *req, struct web_response *resp)
{
	struct admin *a = req->server->admin;
	if (a == NULL) {
		no_admin(resp);
		return;
	}
	char csrf[80] = "";
	struct session s;
	if (!session_of(a, req, &s) || web_form_field(req->body, req->body_len, "csrf", csrf, sizeof csrf) != 1 ||
	    !token_equal(csrf, s.csrf)) {
		web_error(resp, 403, "This form has expired or did not come from this site.");
		return;
	}
	pthread_mutex_lock(&a->lock);
	for (size_t i = 0; i < SESSIONS; i++)
		if (token_equal(a->sessions[i].id, s.id))
			memset(&a->sessions[i], 0, sizeof a->sessions[i]);
	pthread_mutex_unlock(&a->lock);
	web_set_cookie(resp, SESSION_COOKIE, "", 0);
	resp->status = 303;
	snprintf(resp->location, sizeof resp->location, "/admin");
	web_page_begin(resp, "en", "Logged out");
	textbuf_puts(&resp->body, "<p><a href=\"/admin\">Log in again</a></p>\n");
	web_page_end(resp);
}
