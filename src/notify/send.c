#include "notify/send.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct smtp_sender {
	CURL *curl;
	struct smtp_options o;
	/* the upload in progress */
	const char *data;
	size_t len, pos;
	char last_reply[512];
	char refusal[512]; /* the last 4xx or 5xx reply: a QUIT's 221 follows it */
	char error[CURL_ERROR_SIZE];
};

enum smtp_outcome smtp_outcome_of(int code)
{
	return code >= 200 && code < 300   ? SMTP_ACCEPTED
	       : code >= 500 && code < 600 ? SMTP_PERMFAIL
					   : SMTP_TEMPFAIL;
}

bool smtp_url_valid(const char *url)
{
	const char *rest = NULL;
	if (url == NULL)
		return false;
	if (strncasecmp(url, "smtp://", 7) == 0)
		rest = url + 7;
	else if (strncasecmp(url, "smtps://", 8) == 0)
		rest = url + 8;
	return rest != NULL && rest[0] != '\0' && rest[0] != ':' && rest[0] != '/';
}

static size_t read_cb(char *buf, size_t size, size_t nmemb, void *arg)
{
	struct smtp_sender *s = arg;
	size_t room = size * nmemb, left = s->len - s->pos;
	size_t n = left < room ? left : room;
	memcpy(buf, s->data + s->pos, n);
	s->pos += n;
	return n;
}

/* The server's replies come as CURLINFO_HEADER_IN: the last line is kept. */
static int debug_cb(CURL *curl, curl_infotype type, char *data, size_t size, void *arg)
{
	(void)curl;
	struct smtp_sender *s = arg;
	if (type != CURLINFO_HEADER_IN || size == 0)
		return 0;
	size_t n = size;
	while (n > 0 && (data[n - 1] == '\n' || data[n - 1] == '\r'))
		n--;
	if (n >= sizeof s->last_reply)
		n = sizeof s->last_reply - 1;
	memcpy(s->last_reply, data, n);
	s->last_reply[n] = '\0';
	if (data[0] == '4' || data[0] == '5')
		memcpy(s->refusal, s->last_reply, n + 1);
	return 0;
}

struct smtp_sender *smtp_sender_new(const struct smtp_options *options)
{
	static bool initialised;
	if (!initialised) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		initialised = true;
	}
	struct smtp_sender *s = calloc(1, sizeof *s);
	if (s == NULL || (s->curl = curl_easy_init()) == NULL) {
		free(s);
		return NULL;
	}
	s->o = *options;
	CURL *c = s->curl;
	curl_easy_setopt(c, CURLOPT_URL, options->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(c, CURLOPT_READDATA, s);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, s->error);
	curl_easy_setopt(c, CURLOPT_VERBOSE, 1L); /* for the replies: debug_cb keeps them, prints nothing */
	curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, debug_cb);
	curl_easy_setopt(c, CURLOPT_DEBUGDATA, s);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT,
			 options->connect_timeout > 0 ? options->connect_timeout : 30L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, options->timeout > 0 ? options->timeout : 300L);
	curl_easy_setopt(c, CURLOPT_USE_SSL,
			 options->require_tls ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_TRY);
	if (options->cacert)
		curl_easy_setopt(c, CURLOPT_CAINFO, options->cacert);
	if (options->user) {
		curl_easy_setopt(c, CURLOPT_USERNAME, options->user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, options->password ? options->password : "");
	}
	if (options->helo_name) {
		/* libcurl takes the EHLO name from the URL's path: smtp://host:port/name */
		char url[1024];
		snprintf(url, sizeof url, "%s/%s", options->url, options->helo_name);
		curl_easy_setopt(c, CURLOPT_URL, url);
	}
	return s;
}

void smtp_sender_free(struct smtp_sender *s)
{
	if (s == NULL)
		return;
	curl_easy_cleanup(s->curl);
	free(s);
}

int smtp_sender_check(struct smtp_sender *s, char *why, size_t whylen)
{
	/* a copy of the handle that stops after the session is set up: its connection is not the kept one */
	CURL *probe = curl_easy_duphandle(s->curl);
	if (probe == NULL) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	s->last_reply[0] = s->refusal[0] = s->error[0] = '\0';
	curl_easy_setopt(probe, CURLOPT_CONNECT_ONLY, 1L);
	CURLcode rc = curl_easy_perform(probe);
	curl_easy_cleanup(probe);
	if (rc == CURLE_OK)
		return 0;
	const char *what = rc == CURLE_LOGIN_DENIED		  ? "the login was refused"
			   : rc == CURLE_PEER_FAILED_VERIFICATION ? "its TLS certificate does not verify"
			   : rc == CURLE_USE_SSL_FAILED		  ? "it offers no STARTTLS (--require-tls)"
			   : rc == CURLE_SSL_CONNECT_ERROR	  ? "the TLS handshake failed"
			   : rc == CURLE_COULDNT_CONNECT	  ? "cannot connect"
								  : "the session failed";
	snprintf(why, whylen, "%s: %s", what,
		 rc == CURLE_LOGIN_DENIED && s->refusal[0] ? s->refusal
		 : s->error[0]				   ? s->error
							   : curl_easy_strerror(rc));
	return -1;
}

void smtp_submit(struct smtp_sender *s, const char *return_path, const char *rcpt, const char *msg,
		 size_t len, struct smtp_result *r)
{
	char from[512];
	snprintf(from, sizeof from, "<%s>", return_path);
	char to[512];
	snprintf(to, sizeof to, "<%s>", rcpt);
	struct curl_slist *rcpts = curl_slist_append(NULL, to);
	s->data = msg;
	s->len = len;
	s->pos = 0;
	s->last_reply[0] = s->refusal[0] = s->error[0] = '\0';
	curl_easy_setopt(s->curl, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(s->curl, CURLOPT_MAIL_RCPT, rcpts);
	curl_easy_setopt(s->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	CURLcode rc = curl_easy_perform(s->curl);
	long code = 0;
	curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_setopt(s->curl, CURLOPT_MAIL_RCPT, NULL);
	curl_slist_free_all(rcpts);
	r->code = (int)code;
	if (rc == CURLE_OK) {
		r->outcome = SMTP_ACCEPTED;
		snprintf(r->reply, sizeof r->reply, "%s", s->last_reply);
		return;
	}
	/* a refusal carries the server's code; a broken connection or a timeout has none (or a stale 2xx/3xx)
	 */
	r->outcome = code >= 400	? smtp_outcome_of((int)code)
		     : s->pos == s->len ? SMTP_UNKNOWN
					: SMTP_TEMPFAIL;
	/* the session's failures (a 535 to AUTH, TLS) say nothing of this letter: never a final 5xx */
	if (rc == CURLE_LOGIN_DENIED || rc == CURLE_USE_SSL_FAILED || rc == CURLE_PEER_FAILED_VERIFICATION ||
	    rc == CURLE_SSL_CONNECT_ERROR)
		r->outcome = SMTP_TEMPFAIL;
	if (code < 400)
		r->code = 0;
	snprintf(r->reply, sizeof r->reply, "%s",
		 code >= 400 && s->refusal[0] ? s->refusal
		 : s->error[0]		      ? s->error
					      : curl_easy_strerror(rc));
}
