/*
 * The sink embedded as the verifier embeds it: on our own event_base, with
 * callbacks and counters, driven by plain sockets (127.0.30.2 <- 127.0.30.3)
 * while the test turns the loop by hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs the four above first. */
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/log.h"
#include "store/store_internal.h"
#include "sink/sink.h"

#define SINK_ADDRESS "127.0.30.2"
#define CLIENT_ADDRESS "127.0.30.3"
#define OTHER_CLIENT_ADDRESS "127.0.30.4"
/* The durability and target budget tests' own (issue 11's block). */
#define DURABLE_SINK_ADDRESS "127.62.1.2"
#define DURABLE_CLIENT_ADDRESS "127.62.1.3"

struct fixture {
	char dir[64];
	char db[96];
	struct store *store;
	struct event_base *base;
	struct sink *sink;
	struct token_secret secret;
	unsigned proofs_seen;
	char last_proof_peer[ADDR_PORT_STRLEN];
	char last_proof_rcpt[600];
	char last_proof_helo[64];
	unsigned hits_seen;
	char last_hit_nonce[SINK_NONCE_LEN + 1];
	char last_hit_request[200];
	char reply[1 << 20]; /* what the client has received so far */
	size_t reply_len;
};

static void on_proof(void *ctx, const struct proof *proof)
{
	struct fixture *f = ctx;
	f->proofs_seen++;
	snprintf(f->last_proof_peer, sizeof f->last_proof_peer, "%s", proof->peer);
	snprintf(f->last_proof_rcpt, sizeof f->last_proof_rcpt, "%s", proof->rcpt_to);
	snprintf(f->last_proof_helo, sizeof f->last_proof_helo, "%s", proof->helo);
}

static void on_target_hit(void *ctx, const char *nonce, const char *peer, const char *request)
{
	struct fixture *f = ctx;
	f->hits_seen++;
	snprintf(f->last_hit_nonce, sizeof f->last_hit_nonce, "%s", nonce);
	snprintf(f->last_hit_request, sizeof f->last_hit_request, "%s", request ? request : "(none)");
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	strcpy(f->dir, "/tmp/plughole-sink-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof f->db, "%s/db", f->dir);
	f->store = store_open(f->db);
	assert_non_null(f->store);
	f->base = event_base_new();
	assert_non_null(f->base);
	memcpy(f->secret.key, "0123456789abcdef0123456789abcdef", TOKEN_SECRET_LEN);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char path[128];
	sink_stop(f->sink); /* sessions may still be open: they must be freed too */
	event_base_free(f->base);
	store_close(f->store);
	static const char *const files[] = {"db", "db-wal", "db-shm"};
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof path, "%s/%s", f->dir, files[i]);
		unlink(path);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

/* The options the tests start from: both listeners, the callbacks, every limit at its default. */
static struct sink_options test_options(struct fixture *f)
{
	struct sink_options opts = {
	    .smtp_listen = {SINK_ADDRESS ":0"},
	    .smtp_listen_count = 1,
	    .target_listen = {SINK_ADDRESS ":0"},
	    .target_listen_count = 1,
	    .domain = "Sink.Test.",
	    .on_proof = on_proof,
	    .on_target_hit = on_target_hit,
	    .ctx = f,
	};
	return opts;
}

/* Starts the sink; limits of 0 take the defaults. */
static void start_with(struct fixture *f, size_t max_message, unsigned max_sessions, unsigned idle,
		       unsigned per_peer, unsigned whole)
{
	struct sink_options opts = test_options(f);
	opts.max_message = max_message;
	opts.max_sessions = max_sessions;
	opts.idle_timeout = idle;
	opts.max_per_peer = per_peer;
	opts.session_timeout = whole;
	f->sink = sink_start(f->base, &opts, f->store, &f->secret);
	assert_non_null(f->sink);
}

static void start(struct fixture *f, size_t max_message, unsigned max_sessions, unsigned idle)
{
	start_with(f, max_message, max_sessions, idle, 0, 0);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A connection from from; a receive buffer size when rcvbuf > 0. */
static int client_from(struct fixture *f, enum sink_listener_kind kind, const char *from, int rcvbuf)
{
	const char *address = sink_address(f->sink, kind, 0);
	assert_non_null(address);
	struct sockaddr_in sin = {.sin_family = AF_INET}, me = {.sin_family = AF_INET};
	char host[INET_ADDRSTRLEN] = "";
	memcpy(host, address, (size_t)(strrchr(address, ':') - address));
	assert_int_equal(inet_pton(AF_INET, host, &sin.sin_addr), 1);
	sin.sin_port = htons((uint16_t)atoi(strrchr(address, ':') + 1));
	inet_pton(AF_INET, from, &me.sin_addr);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	if (rcvbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	assert_int_equal(bind(fd, (struct sockaddr *)&me, sizeof me), 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	f->reply_len = 0;
	f->reply[0] = '\0';
	return fd;
}

static int client_with(struct fixture *f, enum sink_listener_kind kind, int rcvbuf)
{
	return client_from(f, kind, CLIENT_ADDRESS, rcvbuf);
}

static int client(struct fixture *f, enum sink_listener_kind kind)
{
	return client_with(f, kind, 0);
}

/* Turns the loop and reads until `until` shows up in what was received (or the peer closes); false on
 * timeout. */
static bool pump(struct fixture *f, int fd, const char *until, double seconds)
{
	double deadline = now() + seconds;
	while (now() < deadline) {
		event_base_loop(f->base, EVLOOP_NONBLOCK);
		ssize_t n = recv(fd, f->reply + f->reply_len, sizeof f->reply - 1 - f->reply_len, 0);
		if (n > 0) {
			f->reply_len += (size_t)n;
			f->reply[f->reply_len] = '\0';
		}
		if (until != NULL && strstr(f->reply, until) != NULL)
			return true;
		if (n == 0)
			return until == NULL;
		if (n < 0 && errno != EAGAIN)
			return until == NULL;
		usleep(500);
	}
	return false;
}

static void say(struct fixture *f, int fd, const char *text, size_t len)
{
	size_t sent = 0;
	while (sent < len) {
		ssize_t n = send(fd, text + sent, len - sent, MSG_NOSIGNAL);
		if (n > 0)
			sent += (size_t)n;
		else
			event_base_loop(f->base, EVLOOP_NONBLOCK);
	}
}

/* Sends text and waits for expect among the replies that follow it. */
static void exchange_n(struct fixture *f, int fd, const char *text, size_t len, const char *expect)
{
	f->reply_len = 0;
	f->reply[0] = '\0';
	say(f, fd, text, len);
	if (!pump(f, fd, expect, 5))
		fail_msg("sent %s; wanted %s; got: %s", text, expect, f->reply);
}

static void exchange(struct fixture *f, int fd, const char *text, const char *expect)
{
	exchange_n(f, fd, text, strlen(text), expect);
}

static unsigned count(const char *haystack, const char *needle)
{
	unsigned n = 0;
	for (const char *p = haystack; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

static void token_for(struct fixture *f, const char *address, char out[TOKEN_MAX_LEN])
{
	struct addr a;
	assert_int_equal(addr_parse(address, strlen(address), &a), 0);
	token_make(&f->secret, 1, &a, 25, 2, (uint32_t)time(NULL), out);
}

static void pipelined_delivery_records_a_proof(void **state)
{
	struct fixture *f = *state;
	char token[TOKEN_MAX_LEN], text[2000];
	start(f, 0, 0, 0);
	token_for(f, "192.0.2.44", token);
	int fd = client(f, SINK_LISTENER_SMTP);
	assert_true(pump(f, fd, "\r\n", 5));
	assert_string_equal(
	    f->reply,
	    "220 sink.test ESMTP plughole sink: test messages for sink.test only, never relayed\r\n");
	snprintf(text, sizeof text,
		 "EHLO client.example\r\nMAIL FROM:<probe@client.example> SIZE=100\r\n"
		 "RCPT TO:<%s@sink.test>\r\nRCPT TO:<victim@example.org>\r\nRCPT "
		 "TO:<postmaster@mx.sink.test>\r\nDATA\r\n",
		 token);
	exchange(f, fd, text, "354 ");
	assert_non_null(strstr(
	    f->reply, "250-PIPELINING\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250 SIZE 262144\r\n"));
	assert_non_null(strstr(f->reply, "550 5.7.1 <victim@example.org>: Relay access denied"));
	assert_int_equal(count(f->reply, "250 2.1.5 Ok"), 2);
	exchange(f, fd, "Subject: hello\r\n\r\n..leading dot\r\n.\r\nNOOP\r\n", "250 2.0.0 Ok\r\n");
	assert_non_null(strstr(f->reply, "250 2.0.0 Ok: 32 bytes received\r\n"));
	const struct sink_counters *c = sink_counters(f->sink);
	assert_int_equal(c->messages, 1);
	assert_int_equal(c->proofs, 1);
	assert_int_equal(f->proofs_seen, 1);
	assert_int_equal(store_proof_count(f->store), 1);
	assert_memory_equal(f->last_proof_peer, CLIENT_ADDRESS ":", strlen(CLIENT_ADDRESS) + 1);
	assert_string_equal(f->last_proof_helo, "client.example");
	snprintf(text, sizeof text, "%s@sink.test,postmaster@mx.sink.test", token);
	assert_string_equal(f->last_proof_rcpt, text);

	/* The same token again is a duplicate, not a second proof; a bounce quoting another
	 * test message (its token only in the Subject and body) is mail sent back, no proof. */
	char bounced[TOKEN_MAX_LEN];
	token_for(f, "192.0.2.48", bounced);
	snprintf(text, sizeof text,
		 "MAIL FROM:<>\r\nRCPT TO:<%s@sink.test>\r\nDATA\r\n\r\n.\r\n"
		 "MAIL FROM:<>\r\nRCPT TO:<relaytest@sink.test>\r\nDATA\r\nSubject: Undelivered: %s\r\n\r\n"
		 "To: <%s@sink.test>\r\n.\r\nQUIT\r\n",
		 token, bounced, bounced);
	exchange(f, fd, text, "221 2.0.0 sink.test Bye\r\n");
	assert_true(pump(f, fd, NULL, 5)); /* closed by the sink */
	assert_int_equal(c->proofs, 1);
	assert_int_equal(c->duplicates, 1);
	assert_int_equal(c->returned, 1);
	assert_int_equal(store_proof_count(f->store), 1);
	assert_int_equal(c->sessions, 1);
	close(fd);
}

static void forged_token_is_no_proof(void **state)
{
	struct fixture *f = *state;
	char token[TOKEN_MAX_LEN], text[600];
	start(f, 0, 0, 0);
	token_for(f, "192.0.2.45", token);
	token[20] = token[20] == 'q' ? 'r' : 'q';
	int fd = client(f, SINK_LISTENER_SMTP);
	snprintf(text, sizeof text,
		 "HELO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<%s@sink.test>\r\nDATA\r\n\r\nbody\r\n.\r\n", token);
	exchange(f, fd, text, "250 2.0.0 Ok: ");
	const struct sink_counters *c = sink_counters(f->sink);
	assert_int_equal(c->forged, 1);
	assert_int_equal(c->proofs, 0);
	assert_int_equal(f->proofs_seen, 0);
	assert_int_equal(store_proof_count(f->store), 0);
	exchange(f, fd, "MAIL FROM:<a@b>\r\nRCPT TO:<plain@sink.test>\r\nDATA\r\nno token\r\n.\r\n",
		 "250 2.0.0 Ok: 10 bytes");
	assert_int_equal(c->messages_without_token, 1);
	assert_int_equal(c->messages, 2);
	close(fd);
}

static void out_of_sequence_and_unknown_commands(void **state)
{
	struct fixture *f = *state;
	start(f, 0, 0, 0);
	int fd = client(f, SINK_LISTENER_SMTP);
	exchange(f, fd, "MAIL FROM:<a@b>\r\n", "503 5.5.1 Say HELO or EHLO first\r\n");
	exchange(f, fd, "HELO\r\n", "501 5.5.4 Syntax: HELO hostname\r\n");
	exchange(f, fd, "HELO x\r\nDATA\r\n", "503 5.5.1 Need RCPT before DATA\r\n");
	exchange(f, fd, "RCPT TO:<a@sink.test>\r\n", "503 5.5.1 Need MAIL before RCPT\r\n");
	exchange(f, fd, "MAIL FROM:<a@b>\r\nMAIL FROM:<a@b>\r\n", "503 5.5.1 Nested MAIL command\r\n");
	exchange(f, fd, "STARTTLS\r\n", "502 5.5.1 Command not implemented\r\n");
	exchange(f, fd, "FROB\r\n", "500 5.5.2 Command unrecognized\r\n");
	exchange(f, fd, "VRFY root\r\n", "252 2.5.0 ");
	exchange(f, fd, "MAIL FROM:<a@b> SIZE=99999999\r\n", "503 5.5.1 Nested MAIL");
	exchange(f, fd, "RSET\r\nMAIL FROM:<a@b> SIZE=99999999\r\n", "552 5.3.4 Message size exceeds");
	exchange_n(f, fd, "NO\0OP\r\n", 7, "500 5.5.2 Invalid character");
	exchange(f, fd, "rcpt to:<a@[127.0.30.2]>\r\n", "503 5.5.1 Need MAIL");
	exchange(f, fd, "mail from:<a@b>\r\nrcpt to:<a@[127.0.30.2]>\r\n", "250 2.1.5 Ok\r\n");
	close(fd);
}

static void too_many_errors_close_the_session(void **state)
{
	struct fixture *f = *state;
	char junk[20 * 6 + 1] = "";
	start(f, 0, 0, 0);
	int fd = client(f, SINK_LISTENER_SMTP);
	for (int i = 0; i < 20; i++)
		strcat(junk, "JUNK\r\n");
	say(f, fd, junk, strlen(junk));
	assert_true(pump(f, fd, NULL, 5));
	assert_int_equal(count(f->reply, "500 5.5.2 Command unrecognized"), 20);
	assert_non_null(strstr(f->reply, "421 4.7.0 sink.test Too many errors, closing\r\n"));
	close(fd);
}

static void long_lines_are_refused_and_skipped(void **state)
{
	struct fixture *f = *state;
	static char line[5000];
	start(f, 0, 0, 0);
	int fd = client(f, SINK_LISTENER_SMTP);
	memset(line, 'A', sizeof line - 1);
	say(f, fd, line, sizeof line - 1);
	say(f, fd, line, sizeof line - 1);
	exchange(f, fd, "\r\nNOOP\r\n", "250 2.0.0 Ok\r\n");
	assert_int_equal(count(f->reply, "500 5.5.2 Line too long"), 1);
	/* 998 characters and CRLF fit; 999 do not. */
	memset(line, 'B', 998);
	memcpy(line, "NOOP ", 5);
	memcpy(line + 998, "\r\n", 3);
	exchange(f, fd, line, "250 2.0.0 Ok\r\n");
	memcpy(line + 998, "B\r\n", 4);
	exchange(f, fd, line, "500 5.5.2 Line too long\r\n");
	close(fd);
}

static void oversized_message_is_refused_and_forgotten(void **state)
{
	struct fixture *f = *state;
	char token[TOKEN_MAX_LEN], head[300];
	static char body[20001];
	start(f, 2048, 0, 0);
	token_for(f, "192.0.2.46", token);
	int fd = client(f, SINK_LISTENER_SMTP);
	snprintf(head, sizeof head, "EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<%s@sink.test>\r\nDATA\r\n", token);
	exchange(f, fd, head, "354 ");
	assert_non_null(strstr(f->reply, "250 SIZE 2048\r\n"));
	for (size_t i = 0; i < sizeof body; i += 100)
		snprintf(body + i, sizeof body - i, "%-98s\r\n", "filler");
	say(f, fd, body, strlen(body));
	exchange(f, fd, "\r\n.\r\nNOOP\r\n", "250 2.0.0 Ok\r\n");
	assert_non_null(strstr(f->reply, "552 5.3.4 Message too big: 2048 bytes at most\r\n"));
	const struct sink_counters *c = sink_counters(f->sink);
	assert_int_equal(c->messages_too_big, 1);
	assert_int_equal(c->messages, 0);
	assert_int_equal(c->proofs, 0);
	assert_int_equal(store_proof_count(f->store), 0);
	close(fd);
}

static void sessions_beyond_the_limit_get_421(void **state)
{
	struct fixture *f = *state;
	int fds[4];
	start(f, 0, 2, 0);
	for (int i = 0; i < 2; i++) {
		fds[i] = client(f, SINK_LISTENER_SMTP);
		assert_true(pump(f, fds[i], "220 ", 5));
	}
	fds[2] = client(f, SINK_LISTENER_SMTP);
	assert_true(pump(f, fds[2], NULL, 5));
	assert_string_equal(f->reply, "421 4.7.0 sink.test Too many connections, try later\r\n");
	fds[3] = client(f, SINK_LISTENER_TARGET);
	assert_true(pump(f, fds[3], NULL, 5));
	assert_string_equal(f->reply, "421 plughole-target busy\r\n");
	assert_int_equal(sink_counters(f->sink)->sessions_rejected, 2);
	/* A slot frees up when a session ends. */
	exchange(f, fds[0], "QUIT\r\n", "221 ");
	assert_true(pump(f, fds[0], NULL, 5));
	close(fds[0]);
	fds[0] = client(f, SINK_LISTENER_SMTP);
	assert_true(pump(f, fds[0], "220 ", 5));
	for (int i = 0; i < 4; i++)
		close(fds[i]);
}

/* One address gets max_per_peer sessions, SMTP and target together; others still get in. */
static void one_address_cannot_take_every_slot(void **state)
{
	struct fixture *f = *state;
	int fds[5];
	start_with(f, 0, 0, 0, 2, 0);
	fds[0] = client(f, SINK_LISTENER_SMTP);
	assert_true(pump(f, fds[0], "220 ", 5));
	fds[1] = client(f, SINK_LISTENER_TARGET);
	event_base_loop(f->base, EVLOOP_NONBLOCK);
	fds[2] = client(f, SINK_LISTENER_SMTP);
	assert_true(pump(f, fds[2], NULL, 5));
	assert_string_equal(f->reply, "421 4.7.0 sink.test Too many connections, try later\r\n");
	fds[3] = client(f, SINK_LISTENER_TARGET);
	assert_true(pump(f, fds[3], NULL, 5));
	assert_string_equal(f->reply, "421 plughole-target busy\r\n");
	fds[4] = client_from(f, SINK_LISTENER_SMTP, OTHER_CLIENT_ADDRESS, 0);
	assert_true(pump(f, fds[4], "220 ", 5));
	assert_int_equal(sink_counters(f->sink)->sessions_rejected, 2);
	for (int i = 0; i < 5; i++)
		close(fds[i]);
}

/* A byte now and then resets the idle timeout, not the session's: it ends on time. */
static void trickling_clients_are_closed_on_time(void **state)
{
	struct fixture *f = *state;
	start_with(f, 0, 0, 5, 0, 1);
	int fd = client(f, SINK_LISTENER_SMTP), target = client(f, SINK_LISTENER_TARGET);
	double started = now();
	bool smtp_closed = false, target_closed = false;
	while (now() - started < 4 && !(smtp_closed && target_closed)) {
		say(f, fd, "N", 1);
		say(f, target, "x", 1);
		smtp_closed = smtp_closed || pump(f, fd, NULL, 0.2);
		char junk[256];
		target_closed = target_closed || recv(target, junk, sizeof junk, MSG_DONTWAIT) == 0;
	}
	assert_true(smtp_closed);
	assert_true(target_closed);
	assert_non_null(strstr(f->reply, "421 4.4.2 sink.test Session too long, closing\r\n"));
	assert_true(now() - started < 3);
	close(fd);
	close(target);
}

static unsigned rejects_stored(struct fixture *f)
{
	sqlite3 *db;
	sqlite3_stmt *stmt;
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM sink_rejects", -1, &stmt, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	unsigned n = (unsigned)sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return n;
}

/* Asking the sink to relay, or for too much, counts as an error; forged tokens are
 * counted one by one but stored once per message. */
static void refusals_count_and_forgeries_are_stored_once(void **state)
{
	struct fixture *f = *state;
	char token[3][TOKEN_MAX_LEN], text[4000];
	start(f, 0, 0, 0);
	for (int i = 0; i < 3; i++) { /* three different forgeries */
		token_for(f, "192.0.2.46", token[i]);
		token[i][20 + i] = token[i][20 + i] == 'q' ? 'r' : 'q';
	}
	int fd = client(f, SINK_LISTENER_SMTP);
	snprintf(text, sizeof text,
		 "HELO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<%s@sink.test>\r\nDATA\r\nSubject: %s\r\n\r\n%s\r\n.\r\n",
		 token[0], token[1], token[2]);
	exchange(f, fd, text, "250 2.0.0 Ok: ");
	assert_int_equal(sink_counters(f->sink)->forged, 3);
	assert_int_equal(rejects_stored(f), 1);
	size_t len = (size_t)snprintf(text, sizeof text, "MAIL FROM:<a@b>\r\n");
	for (int i = 0; i < 25; i++)
		len += (size_t)snprintf(text + len, sizeof text - len, "RCPT TO:<victim%d@example.org>\r\n", i);
	say(f, fd, text, len);
	assert_true(pump(f, fd, NULL, 5));
	assert_int_equal(count(f->reply, "550 5.7.1"), 20);
	assert_non_null(strstr(f->reply, "421 4.7.0 sink.test Too many errors, closing\r\n"));
	close(fd);
}

/* Each message being received sets max_message aside; past max_bodies, DATA waits (452). */
static void messages_at_once_stay_within_max_bodies(void **state)
{
	struct fixture *f = *state;
	struct sink_options opts = test_options(f);
	opts.max_message = 4096;
	opts.max_bodies = 8192;
	f->sink = sink_start(f->base, &opts, f->store, &f->secret);
	assert_non_null(f->sink);
	int fds[3];
	const char *start_data = "HELO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<a@sink.test>\r\nDATA\r\n";
	for (int i = 0; i < 2; i++) {
		fds[i] = client(f, SINK_LISTENER_SMTP);
		exchange(f, fds[i], start_data, "354 ");
	}
	fds[2] = client(f, SINK_LISTENER_SMTP);
	exchange(f, fds[2], start_data, "452 4.3.1 Insufficient system storage");
	exchange(f, fds[0], "body\r\n.\r\n", "250 2.0.0 Ok: ");
	exchange(f, fds[2], "RCPT TO:<b@sink.test>\r\nDATA\r\n", "354 ");
	for (int i = 0; i < 3; i++)
		close(fds[i]);
}

static void idle_sessions_are_closed(void **state)
{
	struct fixture *f = *state;
	start(f, 0, 0, 1);
	int fd = client(f, SINK_LISTENER_SMTP);
	double started = now();
	assert_true(pump(f, fd, NULL, 5));
	assert_non_null(strstr(f->reply, "421 4.4.2 sink.test Idle timeout, closing\r\n"));
	assert_true(now() - started > 0.8);
	close(fd);
}

static void unread_replies_pause_the_client(void **state)
{
	struct fixture *f = *state;
	enum { N = 200000, QUIET_TURNS = 2000 };
	static const char banner[] =
	    "220 sink.test ESMTP plughole sink: test messages for sink.test only, never relayed\r\n";
	static const char bye[] = "221 2.0.0 sink.test Bye\r\n";
	static char noops[N * 6 + 7], buf[65536];
	char tail[sizeof bye] = "";
	size_t total = N * 6 + 6, sent = 0, received = 0;
	start(f, 0, 0, 0);
	int fd = client_with(f, SINK_LISTENER_SMTP, 4096); /* so that the kernel cannot absorb the replies */
	for (int i = 0; i < N; i++)
		memcpy(noops + 6 * i, "NOOP\r\n", 6);
	memcpy(noops + 6 * N, "QUIT\r\n", 6);
	/*
	 * 2.8 MB of replies: first send without reading, so the sink must stop
	 * reading (it logs "pausing") rather than queue them all; then read, and
	 * every reply must come.
	 */
	double deadline = now() + 30;
	for (int turn = 0; now() < deadline; turn++) {
		ssize_t n = sent < total ? send(fd, noops + sent, total - sent, MSG_NOSIGNAL) : 0;
		if (n > 0)
			sent += (size_t)n;
		event_base_loop(f->base, EVLOOP_NONBLOCK);
		if (turn < QUIET_TURNS)
			continue;
		n = recv(fd, buf, sizeof buf, 0);
		if (n == 0)
			break;
		if (n < 0)
			continue;
		received += (size_t)n;
		size_t keep = sizeof tail - 1, from_buf = (size_t)n < keep ? (size_t)n : keep;
		memmove(tail, tail + from_buf, keep - from_buf);
		memcpy(tail + keep - from_buf, buf + n - from_buf, from_buf);
	}
	assert_int_equal(sent, total);
	assert_int_equal(received, strlen(banner) + (size_t)N * strlen("250 2.0.0 Ok\r\n") + strlen(bye));
	assert_memory_equal(tail, bye, sizeof bye - 1);
	close(fd);
}

static void target_banner_and_http_page(void **state)
{
	struct fixture *f = *state;
	char token[TOKEN_MAX_LEN], request[200];
	start(f, 0, 0, 0);
	token_for(f, "192.0.2.47", token);

	/* A client that waits gets the banner. */
	int fd = client(f, SINK_LISTENER_TARGET);
	assert_true(pump(f, fd, "\r\n", 5));
	assert_int_equal(f->reply_len, strlen("220 plughole-target  sink.test ready\r\n") + SINK_NONCE_LEN);
	char nonce[SINK_NONCE_LEN + 1];
	memcpy(nonce, f->reply + 20, SINK_NONCE_LEN);
	nonce[SINK_NONCE_LEN] = '\0';
	assert_int_equal(strspn(nonce, "0123456789abcdef"), SINK_NONCE_LEN);
	assert_int_equal(f->hits_seen, 0);
	snprintf(request, sizeof request, "GET /%s HTTP/1.0\r\nHost: t\r\n\r\n", token);
	exchange(f, fd, request, "\r\n\r\n");
	assert_true(pump(f, fd, NULL, 5));
	char page[200];
	snprintf(page, sizeof page, "\r\n\r\nplughole-target %s sink.test\r\n", nonce);
	assert_memory_equal(f->reply, "HTTP/1.0 200 OK\r\n", 17);
	assert_non_null(strstr(f->reply, page));
	assert_int_equal(f->hits_seen, 1);
	assert_string_equal(f->last_hit_nonce, nonce);
	snprintf(request, sizeof request, "GET /%s HTTP/1.0", token);
	assert_string_equal(f->last_hit_request, request);
	close(fd);

	/* An HTTP client that speaks first gets a clean HTTP answer, without the banner. */
	fd = client(f, SINK_LISTENER_TARGET);
	exchange(f, fd, "HEAD / HTTP/1.1\r\nHost: t\r\n\r\n", "\r\n\r\n");
	assert_memory_equal(f->reply, "HTTP/1.0 200 OK\r\n", 17);
	assert_true(pump(f, fd, NULL, 5));
	assert_null(strstr(f->reply, "plughole-target ")); /* HEAD: no body */
	close(fd);

	/* Anything else: banner, then a goodbye, recorded as it came. */
	fd = client(f, SINK_LISTENER_TARGET);
	exchange(f, fd, "hello\x01there\r\n", "221 plughole-target ");
	assert_memory_equal(f->reply, "220 plughole-target ", 20);
	assert_string_equal(f->last_hit_request, "hello?there");
	close(fd);

	/* A client that only looks at the banner is recorded when it leaves. */
	fd = client(f, SINK_LISTENER_TARGET);
	assert_true(pump(f, fd, "ready\r\n", 5));
	close(fd);
	for (int i = 0; i < 100 && f->hits_seen < 4; i++) {
		event_base_loop(f->base, EVLOOP_NONBLOCK);
		usleep(1000);
	}
	assert_int_equal(f->hits_seen, 4);
	assert_string_equal(f->last_hit_request, "(none)");
	assert_int_equal(sink_counters(f->sink)->target_hits, 4);
}

/* Proofs a second connection (another process, or this one after a kill -9) can read. */
static int proofs_committed(struct fixture *f)
{
	sqlite3 *db;
	sqlite3_stmt *stmt;
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM proofs", -1, &stmt, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	int n = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return n;
}

static void start_durable(struct fixture *f)
{
	struct sink_options opts = test_options(f);
	opts.smtp_listen[0] = DURABLE_SINK_ADDRESS ":0";
	opts.target_listen[0] = DURABLE_SINK_ADDRESS ":0";
	f->sink = sink_start(f->base, &opts, f->store, &f->secret);
	assert_non_null(f->sink);
}

static void deliver(struct fixture *f, const char *token, const char *expect)
{
	char text[600];
	int fd = client_from(f, SINK_LISTENER_SMTP, DURABLE_CLIENT_ADDRESS, 0);
	snprintf(text, sizeof text, "HELO relay.example\r\nMAIL FROM:<a@relay.example>\r\nRCPT TO:<%s@sink.test>\r\n"
		 "DATA\r\nSubject: t\r\n\r\nbody\r\n.\r\n", token);
	exchange(f, fd, text, expect);
	close(fd);
}

/*
 * In-process, the sink shares the verifier's connection and its batched
 * transaction: the 250 for a proof must wait for that proof's commit, or a
 * crash loses proofs whose relays were told "delivered" and never send again.
 */
static void a_proof_is_committed_before_its_250(void **state)
{
	struct fixture *f = *state;
	char token[TOKEN_MAX_LEN];
	start_durable(f);
	token_for(f, "192.0.2.50", token);
	assert_int_equal(store_begin(f->store), 0); /* the verifier's batch */
	deliver(f, token, "250 2.0.0 Ok: ");
	assert_int_equal(proofs_committed(f), 1);
	assert_int_equal(f->proofs_seen, 1);
	/* The batch's owner still has its transaction. */
	assert_int_equal(store_commit(f->store), 0);
}

/* A proof the store cannot commit gets 451, so the relay sends it again; never 250. */
static void an_uncommittable_proof_gets_451(void **state)
{
	struct fixture *f = *state;
	char token[TOKEN_MAX_LEN];
	start_durable(f);
	token_for(f, "192.0.2.51", token);
	/* The verifier's batch holds a row COMMIT refuses (a probe of no candidate, checked at COMMIT). */
	assert_int_equal(sqlite3_exec(f->store->db, "PRAGMA defer_foreign_keys = ON", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(store_begin(f->store), 0);
	assert_int_equal(sqlite3_exec(f->store->db,
				      "INSERT INTO probes(candidate_id, test, started) VALUES(999999, 'x', 0)", NULL,
				      NULL, NULL),
			 SQLITE_OK);
	deliver(f, token, "451 4.3.0 ");
	assert_int_equal(proofs_committed(f), 0);
	assert_int_equal(f->proofs_seen, 0);
	assert_true(sink_counters(f->sink)->store_errors > 0);
	/* Once the store can commit again, the relay's retry is acknowledged. */
	assert_int_equal(sqlite3_exec(f->store->db, "DELETE FROM probes WHERE candidate_id = 999999", NULL, NULL, NULL),
			 SQLITE_OK);
	deliver(f, token, "250 2.0.0 Ok: ");
	assert_int_equal(proofs_committed(f), 1);
	assert_int_equal(f->proofs_seen, 1);
	store_rollback(f->store);
}

/* Target hits stored from an address: what another connection reads. */
static int hits_stored(struct fixture *f, const char *from)
{
	sqlite3 *db;
	sqlite3_stmt *stmt;
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM target_hits WHERE peer LIKE ?1 || ':%'", -1,
					    &stmt, NULL),
			 SQLITE_OK);
	sqlite3_bind_text(stmt, 1, from, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	int n = sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return n;
}

static void target_hit_from(struct fixture *f, const char *from, const char *line, const char *expect)
{
	int fd = client_from(f, SINK_LISTENER_TARGET, from, 0);
	exchange(f, fd, line, expect);
	close(fd);
}

/*
 * Every target connection is a row: an address that connects in a loop may
 * store only so many a minute, and all addresses together only so many; the
 * rest are counted. A hit carrying a genuine token is proof: junk does not
 * use up room for it.
 */
static void target_hits_stay_within_their_budget(void **state)
{
	struct fixture *f = *state;
	static const char *const other = "127.62.1.4";
	char token[TOKEN_MAX_LEN], request[200];
	struct sink_options opts = test_options(f);
	opts.smtp_listen[0] = DURABLE_SINK_ADDRESS ":0";
	opts.target_listen[0] = DURABLE_SINK_ADDRESS ":0";
	opts.target_rows_per_peer = 3;
	opts.target_rows = 5;
	opts.target_interval = 2;
	f->sink = sink_start(f->base, &opts, f->store, &f->secret);
	assert_non_null(f->sink);
	const struct sink_counters *c = sink_counters(f->sink);
	/* Start just after a second begins: what follows, well within one, shares one interval. */
	for (time_t second = time(NULL); time(NULL) == second;)
		usleep(1000);
	for (int i = 0; i < 5; i++)
		target_hit_from(f, DURABLE_CLIENT_ADDRESS, "hello\r\n", "221 plughole-target ");
	assert_int_equal(hits_stored(f, DURABLE_CLIENT_ADDRESS), 3);
	for (int i = 0; i < 3; i++)
		target_hit_from(f, other, "hello\r\n", "221 plughole-target ");
	assert_int_equal(hits_stored(f, other), 2); /* the whole target's 5 */
	assert_int_equal(c->target_hits, 8);
	assert_int_equal(c->target_hits_dropped, 3);
	assert_true(c->target_bytes_dropped > 3 * SINK_TARGET_ROW_OVERHEAD);
	assert_int_equal(f->hits_seen, 8); /* a verifier in this process still hears of each */

	/* A proof still lands, from the address whose junk used its share. */
	token_for(f, "192.0.2.52", token);
	snprintf(request, sizeof request, "GET /%s HTTP/1.0\r\n\r\n", token);
	target_hit_from(f, DURABLE_CLIENT_ADDRESS, request, "\r\n\r\n");
	assert_int_equal(hits_stored(f, DURABLE_CLIENT_ADDRESS), 4);
	/* Proofs are not the target's share: they land when it is used up too, from anyone. */
	token_for(f, "192.0.2.53", token);
	snprintf(request, sizeof request, "GET /%s HTTP/1.0\r\n\r\n", token);
	target_hit_from(f, other, request, "\r\n\r\n");
	assert_int_equal(hits_stored(f, other), 3);
	/* But the same token over and over is a replay. */
	for (int i = 1; i < SINK_TARGET_TOKEN_REPEATS + 2; i++)
		target_hit_from(f, other, request, "\r\n\r\n");
	assert_int_equal(hits_stored(f, other), 2 + SINK_TARGET_TOKEN_REPEATS);
	assert_int_equal(c->target_hits_dropped, 3 + 2);

	/* The next interval starts afresh. */
	usleep(2100 * 1000);
	target_hit_from(f, DURABLE_CLIENT_ADDRESS, "hello\r\n", "221 plughole-target ");
	assert_int_equal(hits_stored(f, DURABLE_CLIENT_ADDRESS), 5);
	assert_int_equal(c->target_hits_dropped, 3 + 2);
}

/*
 * A peer that mails forged tokens in a loop stores only so many reject rows an
 * interval (the target's limits, on an account of their own); the rest are
 * counted. Its genuine proofs still land.
 */
static void forged_mail_stays_within_its_budget(void **state)
{
	struct fixture *f = *state;
	char token[TOKEN_MAX_LEN], text[1000];
	struct sink_options opts = test_options(f);
	opts.smtp_listen[0] = DURABLE_SINK_ADDRESS ":0";
	opts.target_listen[0] = DURABLE_SINK_ADDRESS ":0";
	opts.target_rows_per_peer = 3;
	opts.target_interval = 60;
	f->sink = sink_start(f->base, &opts, f->store, &f->secret);
	assert_non_null(f->sink);
	const struct sink_counters *c = sink_counters(f->sink);
	int fd = client_from(f, SINK_LISTENER_SMTP, DURABLE_CLIENT_ADDRESS, 0);
	exchange(f, fd, "HELO x\r\n", "250 ");
	for (int i = 0; i < 6; i++) {
		token_for(f, "192.0.2.54", token);
		token[20] = token[20] == 'q' ? 'r' : 'q';
		snprintf(text, sizeof text, "MAIL FROM:<a@b>\r\nRCPT TO:<%s@sink.test>\r\nDATA\r\n\r\nx\r\n.\r\n",
			 token);
		exchange(f, fd, text, "250 2.0.0 Ok: ");
	}
	assert_int_equal(rejects_stored(f), 3);
	assert_int_equal(c->forged, 6);
	assert_int_equal(c->forged_dropped, 3);
	token_for(f, "192.0.2.55", token);
	snprintf(text, sizeof text, "MAIL FROM:<a@b>\r\nRCPT TO:<%s@sink.test>\r\nDATA\r\n\r\nx\r\n.\r\n", token);
	exchange(f, fd, text, "250 2.0.0 Ok: ");
	assert_int_equal(c->proofs, 1);
	close(fd);
}

static void bad_options_are_refused(void **state)
{
	struct fixture *f = *state;
	struct sink_options opts = {
	    .smtp_listen = {SINK_ADDRESS ":0"}, .smtp_listen_count = 1, .domain = "bad domain"};
	assert_null(sink_start(f->base, &opts, f->store, &f->secret));
	opts.domain = "sink.test";
	opts.smtp_listen[0] = SINK_ADDRESS;
	assert_null(sink_start(f->base, &opts, f->store, &f->secret));
	opts.smtp_listen[0] = "192.0.2.1:99999";
	assert_null(sink_start(f->base, &opts, f->store, &f->secret));
	opts.smtp_listen_count = 0;
	assert_null(sink_start(f->base, &opts, f->store, &f->secret));
	/* Limits that contradict each other: no message could ever be taken. */
	char why[300];
	struct sink_options limits = test_options(f);
	limits.max_message = 8192;
	limits.max_bodies = 4096;
	assert_null(sink_start(f->base, &limits, f->store, &f->secret));
	sink_options_defaults(&limits);
	assert_int_equal(sink_options_check(&limits, why, sizeof why), -1);
	assert_string_equal(why, "max_message (8192) is above max_bodies (4096): every DATA would get 452; "
				 "lower max_message or raise max_bodies");
	limits = test_options(f);
	limits.max_message = 1u << 30; /* above the default max_bodies */
	assert_null(sink_start(f->base, &limits, f->store, &f->secret));
	limits = test_options(f);
	sink_options_defaults(&limits);
	assert_int_equal(sink_options_check(&limits, why, sizeof why), 0); /* the defaults agree */
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	log_set_level(getenv("PLUGHOLE_TEST_DEBUG") ? LOG_DEBUG : LOG_QUIET);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(pipelined_delivery_records_a_proof, setup, teardown),
	    cmocka_unit_test_setup_teardown(forged_token_is_no_proof, setup, teardown),
	    cmocka_unit_test_setup_teardown(out_of_sequence_and_unknown_commands, setup, teardown),
	    cmocka_unit_test_setup_teardown(too_many_errors_close_the_session, setup, teardown),
	    cmocka_unit_test_setup_teardown(long_lines_are_refused_and_skipped, setup, teardown),
	    cmocka_unit_test_setup_teardown(oversized_message_is_refused_and_forgotten, setup, teardown),
	    cmocka_unit_test_setup_teardown(sessions_beyond_the_limit_get_421, setup, teardown),
	    cmocka_unit_test_setup_teardown(one_address_cannot_take_every_slot, setup, teardown),
	    cmocka_unit_test_setup_teardown(trickling_clients_are_closed_on_time, setup, teardown),
	    cmocka_unit_test_setup_teardown(refusals_count_and_forgeries_are_stored_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(messages_at_once_stay_within_max_bodies, setup, teardown),
	    cmocka_unit_test_setup_teardown(idle_sessions_are_closed, setup, teardown),
	    cmocka_unit_test_setup_teardown(unread_replies_pause_the_client, setup, teardown),
	    cmocka_unit_test_setup_teardown(target_banner_and_http_page, setup, teardown),
	    cmocka_unit_test_setup_teardown(bad_options_are_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(a_proof_is_committed_before_its_250, setup, teardown),
	    cmocka_unit_test_setup_teardown(an_uncommittable_proof_gets_451, setup, teardown),
	    cmocka_unit_test_setup_teardown(target_hits_stay_within_their_budget, setup, teardown),
	    cmocka_unit_test_setup_teardown(forged_mail_stays_within_its_budget, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
