/*
 * / : the campaign's page. Who runs it, for which agencies, how to tell a
 * genuine letter, links to the guides; in the campaign's languages: those of
 * its agencies' letter templates (data/templates/<template>/<lang>) that have
 * page text (data/web/campaign/<lang>.html, a template: trusted markup, its
 * values escaped). Accept-Language picks; ?lang= (kept in a cookie) overrides.
 * A rendered page is kept a minute: it changes when a campaign does.
 */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/util.h"
#include "store/store.h"
#include "web/web.h"

#define LANG_MAX 16
#define LANGS_MAX 16
#define PAGE_TTL 60

struct cached_page {
	char lang[LANG_MAX];
	char *html;
	size_t len;
	time_t made;
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cached_page cache[LANGS_MAX];
static char cached_langs[LANGS_MAX][LANG_MAX];
static size_t cached_lang_count;
static time_t langs_made;

struct lang_ctx {
	struct web_server *server;
	char (*langs)[LANG_MAX];
	size_t count;
	char agencies[LANGS_MAX][64];
	size_t agency_count;
};

static bool page_text_exists(struct web_server *s, const char *lang)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/web/campaign/%s.html", s->options.data_dir, lang);
	FILE *f = fopen(path, "r");
	if (f != NULL)
		fclose(f);
	return f != NULL;
}

static void add_lang(struct lang_ctx *c, const char *lang)
{
	if (lang == NULL || strlen(lang) >= LANG_MAX || c->count == LANGS_MAX || !page_text_exists(c->server, lang))
		return;
	for (size_t i = 0; i < c->count; i++)
		if (strcmp(c->langs[i], lang) == 0)
			return;
	snprintf(c->langs[c->count++], LANG_MAX, "%s", lang);
}

/* Every language of the template folder (a tag: letters, digits, '-'). */
static void add_template_langs(struct lang_ctx *c, const char *template_name)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/templates/%s", c->server->options.data_dir, template_name);
	DIR *d = opendir(path);
	for (struct dirent *e; d != NULL && (e = readdir(d)) != NULL;)
		if (e->d_name[0] != '.' && strspn(e->d_name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") ==
					       strlen(e->d_name))
			add_lang(c, e->d_name);
	if (d != NULL)
		closedir(d);
}

static void on_language_row(void *ctx, const struct store_row *row)
{
	struct lang_ctx *c = ctx;
	if (row->values == NULL)
		return;
	const char *agency_id = store_row_value(row, "agency");
	add_lang(c, store_row_value(row, "language"));
	const struct agency *a = agency_id ? agencies_find(&c->server->agencies, agency_id) : NULL;
	if (a != NULL) {
		add_template_langs(c, a->template_name);
		for (size_t i = 0; i < c->agency_count; i++)
			if (strcmp(c->agencies[i], a->id) == 0)
				return;
		if (c->agency_count < LANGS_MAX)
			snprintf(c->agencies[c->agency_count++], sizeof c->agencies[0], "%s", a->id);
	}
}

/* The campaign's languages (English first, always there), cached with the page. Under cache_lock. */
static void languages(struct web_server *s, struct store *store, int64_t campaign_id, struct lang_ctx *c)
{
	c->server = s;
	c->langs = cached_langs;
	c->count = 0;
	add_lang(c, "en");
	if (campaign_id > 0)
		store_web_campaign_languages_each(store, campaign_id, on_language_row, c);
	cached_lang_count = c->count;
}

static int render(struct web_server *s, struct store *store, const char *lang, struct lang_ctx *langs,
		  int64_t campaign_id, const char *campaign, struct textbuf *out)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/web/campaign/%s.html", s->options.data_dir, lang);
	struct tpl_error err;
	struct template *t = tpl_load(path, &err);
	struct tpl_data *d = t ? tpl_data_new() : NULL;
	if (d == NULL) {
		log_error("serve: %s", err.message);
		tpl_free(t);
		return -1;
	}
	struct tpl_value *root = tpl_root(d);
	tpl_set_string(d, root, "campaign", campaign_id > 0 ? campaign : "");
	tpl_set_bool(d, root, "has_campaign", campaign_id > 0);
	tpl_set_string(d, root, "operator", s->options.operator_name ? s->options.operator_name : "");
	tpl_set_string(d, root, "contact", s->options.operator_contact ? s->options.operator_contact : "");
	tpl_set_string(d, root, "public_url", s->options.public_url ? s->options.public_url : "");
	const struct agency *lead = s->agencies.lead;
	tpl_set_string(d, root, "lead", lead ? lead->name : "");
	struct tpl_value *list = tpl_set_list(d, root, "agencies");
	/* the lead first, then the campaign's other agencies (all of them when there is no campaign yet) */
	for (size_t i = 0; i < s->agencies.count; i++) {
		const struct agency *a = &s->agencies.list[i];
		bool in = langs->agency_count == 0 || a->lead;
		for (size_t k = 0; k < langs->agency_count && !in; k++)
			in = strcmp(langs->agencies[k], a->id) == 0;
		if (!in)
			continue;
		struct tpl_value *o = tpl_list_add_object(d, list);
		tpl_set_string(d, o, "name", a->name);
		tpl_set_string(d, o, "short", a->short_name);
		tpl_set_bool(d, o, "lead", a->lead);
	}
	struct web_response page = {.body = *out};
	web_page_begin(&page, lang, "Secure Your Server");
	if (langs->count > 1) {
		textbuf_puts(&page.body, "<nav class=\"languages\" aria-label=\"Language\">");
		for (size_t i = 0; i < langs->count; i++) {
			bool current = strcmp(langs->langs[i], lang) == 0;
			textbuf_puts(&page.body, current ? "<strong>" : "<a href=\"/?lang=");
			if (!current) {
				web_urlencode(&page.body, langs->langs[i]);
				textbuf_puts(&page.body, "\" hreflang=\"");
				web_escape(&page.body, langs->langs[i]);
				textbuf_puts(&page.body, "\">");
			}
			web_escape(&page.body, langs->langs[i]);
			textbuf_puts(&page.body, current ? "</strong> " : "</a> ");
		}
		textbuf_puts(&page.body, "</nav>\n");
	}
	int rc = tpl_render(t, d, tpl_escape_html, TPL_STRICT, &page.body, &err);
	if (rc != 0)
		log_error("serve: %s", err.message);
	textbuf_puts(&page.body, "<ul class=\"guides\">\n");
	for (size_t i = 0; i < guide_name_count; i++) {
		textbuf_puts(&page.body, "<li><a href=\"/guides/");
		web_escape(&page.body, guide_names[i]);
		textbuf_puts(&page.body, "\">");
		web_escape(&page.body, s->guide_titles[i]);
		textbuf_puts(&page.body, "</a></li>\n");
	}
	textbuf_puts(&page.body, "</ul>\n");
	web_page_end(&page);
	*out = page.body;
	tpl_data_free(d);
	tpl_free(t);
	return rc == 0 && !out->overflow ? 0 : -1;
}

void page_campaign(struct web_request *req, struct web_response *resp)
{
	struct web_server *s = req->server;
	struct store *store = web_store(s);
	if (store == NULL) {
		web_error(resp, 503, "The store cannot be read just now.");
		return;
	}
	pthread_mutex_lock(&cache_lock);
	time_t now = time(NULL);
	static struct lang_ctx langs;
	static int64_t campaign_id;
	static char campaign[80];
	if (now - langs_made >= PAGE_TTL || langs_made == 0) {
		campaign_id = web_campaign(s, store, campaign, sizeof campaign);
		memset(&langs, 0, sizeof langs);
		languages(s, store, campaign_id, &langs);
		for (size_t i = 0; i < LANGS_MAX; i++) {
			free(cache[i].html);
			cache[i] = (struct cached_page){0};
		}
		langs_made = now;
	}
	const char *names[LANGS_MAX];
	for (size_t i = 0; i < cached_lang_count; i++)
		names[i] = cached_langs[i];
	/* ?lang= overrides and is remembered; then the cookie; then Accept-Language */
	const char *asked = web_query(req, "lang");
	const char *lang = NULL;
	for (size_t i = 0; asked != NULL && i < cached_lang_count; i++)
		if (strcmp(asked, names[i]) == 0)
			lang = names[i];
	if (lang != NULL)
		web_set_cookie(resp, "lang", lang, 365L * 24 * 3600);
	const char *cookie = web_cookie(req, "lang");
	for (size_t i = 0; lang == NULL && cookie != NULL && i < cached_lang_count; i++)
		if (strcmp(cookie, names[i]) == 0)
			lang = names[i];
	if (lang == NULL)
		lang = web_pick_language(web_header(req, "Accept-Language"), names, cached_lang_count, "en");
	size_t slot = 0;
	while (slot < cached_lang_count && strcmp(names[slot], lang) != 0)
		slot++;
	struct cached_page *page = &cache[slot < LANGS_MAX ? slot : 0];
	if (page->html == NULL) {
		struct textbuf out;
		textbuf_init(&out, 1u << 20);
		if (render(s, store, lang, &langs, campaign_id, campaign, &out) == 0) {
			snprintf(page->lang, sizeof page->lang, "%s", lang);
			page->html = textbuf_take(&out, &page->len);
		}
		textbuf_free(&out);
	}
	if (page->html != NULL) {
		resp->content_type = "text/html; charset=utf-8";
		textbuf_append(&resp->body, page->html, page->len);
	}
	pthread_mutex_unlock(&cache_lock);
	if (page->html == NULL)
		web_error(resp, 500, "The campaign's page could not be made.");
	resp->cacheable = false; /* it varies with Accept-Language and the cookie */
}
