#include "probe/engine.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <math.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>

#include "core/log.h"
#include "core/util.h"
#include "probe/limits.h"
#include "probe/plan.h"
#include "probe/recorder.h"
#include "probe/transcript.h"

#define READ_LIMIT 1024        /* bytes read per callback: small buffers per connection */
#define SAMPLE_INTERVAL 0.5    /* seconds between samples of the heap per connection */
#define HIT_CACHE_SIZE 1024    /* target hits reported in this process, kept until claimed */
#define HIT_NONCE_MAX 64
#define RETRY_HINT_MAX 1800.0  /* seconds: the longest delay a server may ask of a retry */

enum target_flags {
	TARGET_MESSAGE_SENT = 1 << 0, /* a test message went out: never send again */
	TARGET_PROVEN = 1 << 1,
	TARGET_DONE = 1 << 2,
	TARGET_PLAIN = 1 << 3,        /* TLS failed once: speak in clear */
	TARGET_TLS = 1 << 4,
	TARGET_AWAITING = 1 << 5,     /* counted in awaiting_proof */
};

struct probe_target {
	struct addr address;
	int64_t candidate_id;
	struct plan plan;        /* the module and aim of the step, the best verdict so far */
	struct probe_evidence *evidence; /* proxies: the best step's result so far */
	struct probe_conn *conn; /* while connected */
	double message_sent_at;
	uint32_t host_slot, net_slot;
	uint16_t port;
	uint8_t attempts;
	uint8_t flags;
	uint64_t memo[PROBE_MEMO_SIZE / 8]; /* the module's, across connections and retries (probe_memo) */
};

/* What proved (or came closest to proving) a proxy, kept across its plan's connections. */
struct probe_evidence {
	const struct probe_module *module;
	const char *variant;
	char *token, *peer;
};

/* A target hit reported by the in-process sink: its nonce and who connected. */
struct hit_entry {
	char nonce[HIT_NONCE_MAX];
	char peer[ADDR_PORT_STRLEN];
	time_t received;
};

struct probe_conn {
	struct probe_engine *engine;
	struct probe_conn *prev, *next; /* the engine's list of open connections */
	int32_t target;
	uint32_t serial;                /* engine's conn_serial when it started */
	time_t started;                 /* wall clock: a target hit from before is not this test's */
	struct bufferevent *bev;
	struct event *reader;           /* plain connections: recv() into bev's input */
	struct event *timer;
	double deadline;
	bool connected, tls, tls_up;
	bool finished;                  /* out of the run, memory freed soon */
	uint64_t sent_bytes;            /* written (or queued) so far: did on_recorded send the message? */
	char *unanswered;               /* the token of a message written and not answered yet */
	uint8_t proof_test;             /* the test id of the proof, when proven */
	double retry_hint;              /* seconds the server asked us to wait before a retry; 0: none */
	double wait_until;              /* probe_wait: the timer's deadline */
	uint8_t wait;                   /* enum probe_wait: what the timer waits out */
	struct transcript transcript;
	const char *software, *variant;
	char *proof_token, *proof_peer; /* set when the sink proved this target */
	_Alignas(max_align_t) unsigned char state[]; /* the module's */
};

struct probe_engine {
	struct event_base *base;
	struct probe_engine_options options;
	struct recorder *recorder; /* the store: batches, due messages, findings, a failure's stop */
	const struct token_secret *secret;
	SSL_CTX *tls;
	struct probe_target *targets;
	size_t count, capacity;
	int32_t *order;            /* the visiting order */
	size_t cursor;             /* next in order */
	int32_t *ready;            /* released waiters and due retries: a ring */
	size_t ready_head, ready_len, ready_cap;
	struct limit_table hosts, nets;
	int32_t *by_address;       /* (address, port) -> target, open addressing */
	size_t by_address_mask;
	size_t indexed;            /* targets in by_address and the limit tables: 0..indexed-1 */
	struct probe_conn *open;   /* connections in flight */
	struct retry *retries;     /* waiting for their timers */
	unsigned retry_pending;
	unsigned awaiting_proof;   /* messages accepted, no proof yet */
	struct hit_entry *hits;    /* HIT_CACHE_SIZE, direct-mapped by nonce; made at the first hit */
	double last_message_at;
	struct event *sample_timer, *wait_timer, *rate_timer;
	uint32_t conn_serial;      /* connections started so far: each one's serial */
	double start_budget;       /* connections we may start now (--rate) */
	double budget_at;          /* when the budget was last topped up */
	bool stopping, waiting;
	bool prepared;             /* the run began: a target added now is indexed at once */
	bool closed;               /* (options.open) no more targets will come */
	struct event *feed_event;  /* targets fed or the feed closed: dispatch from the loop */
	size_t heap_base;           /* heap in use before the first connection */
	uint64_t memory_sampled_at; /* connections in flight at the last sample */
	double started;
	struct probe_stats stats;
};

static void dispatch(struct probe_engine *e);
static void check_done(struct probe_engine *e);
static void on_feed_event(evutil_socket_t fd, short what, void *arg);

double probe_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct timeval to_timeval(double seconds)
{
	if (seconds < 0)
		seconds = 0;
	struct timeval tv = {(time_t)seconds, (suseconds_t)((seconds - floor(seconds)) * 1e6)};
	return tv;
}

/* ---- keys and tables ---- */

static struct addr network_of(const struct addr *a)
{
	struct addr net = *a;
	/* /24 for IPv4 (last byte), /48 for IPv6 (last ten bytes) */
	size_t keep = addr_is_v4(a) ? 15 : 6;
	memset(net.bytes + keep, 0, 16 - keep);
	return net;
}

static size_t table_size_for(size_t n)
{
	size_t size = 16;
	while (size < n * 2)
		size <<= 1;
	return size;
}

static void ready_push(struct probe_engine *e, int32_t target)
{
	e->ready[(e->ready_head + e->ready_len++) % e->ready_cap] = target;
}

/* A connection ended: its slots each free one waiter, if any, for dispatch. */
static void release_target_slots(struct probe_engine *e, struct probe_target *t)
{
	int32_t next;
	if ((next = limit_release(&e->hosts, t->host_slot)) >= 0)
		ready_push(e, next);
	if ((next = limit_release(&e->nets, t->net_slot)) >= 0)
		ready_push(e, next);
}

static int32_t find_target(struct probe_engine *e, const struct addr *a, uint16_t port)
{
	if (e->by_address == NULL)
		return -1;
	for (size_t i = addr_hash(a, port) & e->by_address_mask;; i = (i + 1) & e->by_address_mask) {
		int32_t t = e->by_address[i];
		if (t < 0)
			return -1;
		if (e->targets[t].port == port && addr_cmp(&e->targets[t].address, a) == 0)
			return t;
	}
}

/* ---- what the run records (recorder.c) ---- */

static bool run_failed(const struct probe_engine *e) { return recorder_failed(e->recorder); }

/* Heap per connection in flight, sampled while many are open: what one
 * conversation costs us (the kernel's socket buffers aside). */
static void sample_memory(struct probe_engine *e)
{
	if (e->stats.in_flight < 100 || e->stats.in_flight < e->memory_sampled_at)
		return;
	size_t heap = mallinfo2().uordblks;
	if (heap > e->heap_base) {
		e->stats.heap_per_connection = (heap - e->heap_base) / e->stats.in_flight;
		e->memory_sampled_at = e->stats.in_flight;
	}
}

/* A test message went out (whatever the server answers, its token may arrive):
 * it counts, and the run waits for its proof. */
static void message_went(struct probe_engine *e, struct probe_target *t)
{
	/* The run waits for relays' late proofs; a proxy's test waits for its own
	 * (through a tunnel to our sink the proof overtakes the reply). */
	if (t->plan.module->family == PROBE_RELAY && !(t->flags & (TARGET_AWAITING | TARGET_PROVEN))) {
		e->awaiting_proof++;
		t->flags |= TARGET_AWAITING;
	}
	t->message_sent_at = e->last_message_at = probe_now();
	e->stats.messages_sent++;
}

/* A due message's record is durable: it goes, if its connection is still the one that asked. */
static bool on_message_ready(void *ctx, int32_t target, uint32_t conn_serial, const char *token)
{
	struct probe_engine *e = ctx;
	struct probe_target *t = &e->targets[target];
	struct probe_conn *c = t->conn;
	if (c == NULL || c->finished || c->serial != conn_serial)
		return false; /* the connection ended before its message could go: it never goes */
	uint64_t before = c->sent_bytes;
	t->plan.module->on_recorded(c);
	if (c->sent_bytes == before)
		return true; /* the module withdrew it */
	message_went(e, t);
	/* Recorded as written only if no answer comes (conn_free): an answer, the
	 * usual case, says more and costs one write instead of two. */
	free(c->unanswered);
	if ((c->unanswered = strdup(token)) == NULL)
		recorder_fail(e->recorder, "out of memory");
	return true;
}

static void on_sample_timer(evutil_socket_t fd, short what, void *arg) { sample_memory(arg); }

/* The caller's verdict callback: the target's verdict is written (or a late proof upgraded it). */
static void report_verdict(struct probe_engine *e, const struct probe_target *t, bool upgraded)
{
	if (e->options.on_verdict == NULL)
		return;
	struct probe_result r = {.candidate_id = t->candidate_id,
				 .address = &t->address,
				 .port = t->port,
				 .verdict = (enum verdict)t->plan.verdict,
				 .attempts = t->attempts,
				 .upgraded = upgraded};
	e->options.on_verdict(e->options.ctx, &r);
}

static void write_finding(struct probe_engine *e, struct probe_target *t, struct probe_conn *c)
{
	const struct probe_evidence *ev = t->plan.module->family == PROBE_PROXY ? t->evidence : NULL;
	struct finding f = {
		.candidate_id = t->candidate_id,
		.verdict = verdict_name((enum verdict)t->plan.verdict),
		.test = t->plan.module->family == PROBE_RELAY ? "relay" : "proxy",
		.variant = ev ? ev->variant : c ? c->variant : NULL,
		.protocol = ev ? ev->module->name : t->plan.module->name,
		.software = c ? c->software : NULL,
		.tls = (t->flags & TARGET_TLS) != 0,
		.transcript = c ? c->transcript.text : NULL,
		.token = ev ? ev->token : c ? c->proof_token : NULL,
		.exit_address = ev ? ev->peer : c ? c->proof_peer : NULL,
		.attempts = t->attempts,
		.checked = time(NULL),
	};
	recorder_finding(e->recorder, &f);
}

/* ---- connections ---- */

void *probe_state(struct probe_conn *c) { return c->state; }
const struct probe_settings *probe_settings(struct probe_conn *c) { return &c->engine->options.settings; }
const struct addr *probe_address(struct probe_conn *c) { return &c->engine->targets[c->target].address; }
uint16_t probe_port(struct probe_conn *c) { return c->engine->targets[c->target].port; }
struct evbuffer *probe_input(struct probe_conn *c) { return bufferevent_get_input(c->bev); }
bool probe_tls_active(struct probe_conn *c) { return c->tls; }
bool probe_retry_plain(struct probe_conn *c) { return (c->engine->targets[c->target].flags & TARGET_PLAIN) != 0; }
void probe_set_software(struct probe_conn *c, const char *software) { c->software = software; }
void probe_set_variant(struct probe_conn *c, const char *variant) { c->variant = variant; }

void probe_transcript(struct probe_conn *c, const char *prefix, const char *text, size_t len)
{
	transcript_add(&c->transcript, prefix, text, len);
}

/* Writes at once when nothing is queued: a command costs one send(2), not
 * the poll-for-writable round the bufferevent would take. */
void probe_send(struct probe_conn *c, const char *data, size_t len)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	c->sent_bytes += len;
	if (!c->tls && evbuffer_get_length(out) == 0) {
		ssize_t n = send(bufferevent_getfd(c->bev), data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == (ssize_t)len)
			return;
		if (n > 0) {
			data += n;
			len -= (size_t)n;
		}
	}
	bufferevent_write(c->bev, data, len);
}

static size_t format_line(struct probe_conn *c, char *out, size_t size, const char *fmt, va_list ap)
{
	if (size < 3)
		return 0;
	int n = vsnprintf(out, size - 2, fmt, ap);
	if (n < 0)
		return 0;
	if ((size_t)n > size - 3)
		n = (int)size - 3;
	probe_transcript(c, ">> ", out, (size_t)n);
	out[n] = '\r';
	out[n + 1] = '\n';
	return (size_t)n + 2;
}

size_t probe_format_line(struct probe_conn *c, char *out, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	size_t n = format_line(c, out, size, fmt, ap);
	va_end(ap);
	return n;
}

void probe_send_line(struct probe_conn *c, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	size_t n = format_line(c, line, sizeof line, fmt, ap);
	va_end(ap);
	if (n > 0)
		probe_send(c, line, n);
}

/* libevent's timers run on a coarse clock and may fire a few ms early:
 * within this much of the deadline, the time is up. */
#define DEADLINE_SLACK 0.01

double probe_time_left(struct probe_conn *c) { return c->deadline - DEADLINE_SLACK - probe_now(); }

void probe_set_timeout(struct probe_conn *c, double seconds)
{
	double left = probe_time_left(c);
	struct timeval tv = to_timeval(seconds < left ? seconds : left);
	/* libevent counts from the loop turn's cached time, stale by as long as
	 * the turn has run: a busy turn would fire the timer that much early. */
	event_base_update_cache_time(c->engine->base);
	evtimer_add(c->timer, &tv);
	c->wait = PROBE_WAIT_NONE;
}

void probe_wait(struct probe_conn *c, enum probe_wait reason, double seconds)
{
	probe_set_timeout(c, seconds);
	double left = probe_time_left(c);
	c->wait = (uint8_t)reason;
	c->wait_until = probe_now() + (seconds < left ? seconds : left);
}

size_t probe_token_at(struct probe_conn *c, uint8_t test, uint32_t when, char out[TOKEN_MAX_LEN])
{
	struct probe_target *t = &c->engine->targets[c->target];
	return token_make(c->engine->secret, c->engine->options.settings.campaign, &t->address, t->port, test,
			  when, out);
}

size_t probe_token(struct probe_conn *c, uint8_t test, char out[TOKEN_MAX_LEN])
{
	return probe_token_at(c, test, (uint32_t)time(NULL), out);
}

void *probe_memo(struct probe_conn *c) { return c->engine->targets[c->target].memo; }

static const char *family_name(const struct probe_target *t)
{
	return t->plan.module->family == PROBE_RELAY ? "relay" : "proxy";
}

/* A test message for this target is on its way (or due): never send another. */
void probe_message_due(struct probe_conn *c, const char *variant, const char *token)
{
	struct probe_engine *e = c->engine;
	if (run_failed(e))
		return; /* the run is stopping: the message never goes, the connection is dropped */
	struct probe_target *t = &e->targets[c->target];
	t->flags |= TARGET_MESSAGE_SENT;
	recorder_message_due(e->recorder, c->target, c->serial, t->candidate_id, family_name(t), variant, token);
}

void probe_message_answered(struct probe_conn *c, const char *token, bool accepted, const char *reply)
{
	if (c->unanswered != NULL && strcmp(c->unanswered, token) == 0) {
		free(c->unanswered);
		c->unanswered = NULL;
	}
	recorder_probe_answer(c->engine->recorder, token, accepted ? "message-sent" : "message-refused", reply);
}

void probe_message_withdrawn(struct probe_conn *c, const char *token) { recorder_withdraw(c->engine->recorder, token); }

void probe_message_sent(struct probe_conn *c, const char *variant, const char *token, const char *reply)
{
	struct probe_engine *e = c->engine;
	struct probe_target *t = &e->targets[c->target];
	t->flags |= TARGET_MESSAGE_SENT;
	recorder_probe(e->recorder, t->candidate_id, family_name(t), variant, token, "message-sent", reply);
	message_went(e, t);
	recorder_sync(e->recorder); /* committed now: after a crash, this target must not get a second message */
}

/* Memory goes later, from the loop: the module that ended the connection may
 * still be running on its stack. */
static void conn_destroy(struct probe_conn *c)
{
	if (c->reader)
		event_free(c->reader);
	if (c->bev)
		bufferevent_free(c->bev);
	event_free(c->timer);
	transcript_free(&c->transcript);
	free(c->unanswered);
	free(c->proof_token);
	free(c->proof_peer);
	free(c);
}

static void on_destroy_later(evutil_socket_t fd, short what, void *arg)
{
	conn_destroy(arg);
}

/* Takes the connection out of the run at once; frees it on the next loop turn. */
static void conn_free(struct probe_conn *c)
{
	struct probe_engine *e = c->engine;
	if (c->unanswered != NULL) { /* the message went, no answer came: its proof may still */
		recorder_probe_answer(e->recorder, c->unanswered, "message-written", NULL);
		free(c->unanswered);
		c->unanswered = NULL;
	}
	if (c->prev)
		c->prev->next = c->next;
	else
		e->open = c->next;
	if (c->next)
		c->next->prev = c->prev;
	e->targets[c->target].conn = NULL;
	e->stats.in_flight--;
	c->finished = true;
	if (c->reader)
		event_del(c->reader);
	if (c->bev) {
		bufferevent_disable(c->bev, EV_READ | EV_WRITE);
		bufferevent_setcb(c->bev, NULL, NULL, NULL, NULL);
	}
	event_del(c->timer);
	event_assign(c->timer, e->base, -1, 0, on_destroy_later, c);
	event_active(c->timer, EV_TIMEOUT, 1);
}

bool probe_finished(struct probe_conn *c) { return c->finished; }

static void on_retry_timer(evutil_socket_t fd, short what, void *arg);

struct retry {
	struct probe_engine *engine;
	struct retry *prev, *next; /* the engine's pending retries, freed on a stop */
	int32_t target;
	enum probe_wait reason; /* a backoff, or the delay a greylister named */
	double at;              /* when it goes (probe_now()) */
	struct event *timer;
};

static void schedule_retry(struct probe_engine *e, int32_t target, double delay, enum probe_wait reason)
{
	struct retry *r = malloc(sizeof *r);
	if (r == NULL) {
		recorder_fail(e->recorder, "out of memory");
		return;
	}
	r->engine = e;
	r->target = target;
	r->reason = reason;
	r->at = probe_now() + delay;
	r->prev = NULL;
	r->next = e->retries;
	if (e->retries)
		e->retries->prev = r;
	e->retries = r;
	r->timer = evtimer_new(e->base, on_retry_timer, r);
	struct timeval tv = to_timeval(delay);
	evtimer_add(r->timer, &tv);
	e->retry_pending++;
	e->stats.retries++;
}

static void retry_free(struct retry *r)
{
	struct probe_engine *e = r->engine;
	if (r->prev)
		r->prev->next = r->next;
	else
		e->retries = r->next;
	if (r->next)
		r->next->prev = r->prev;
	event_free(r->timer);
	e->retry_pending--;
	free(r);
}

static void on_retry_timer(evutil_socket_t fd, short what, void *arg)
{
	struct retry *r = arg;
	struct probe_engine *e = r->engine;
	ready_push(e, r->target);
	retry_free(r);
	dispatch(e);
	check_done(e);
}

static bool retryable(enum verdict v) { return v == VERDICT_TEMPFAIL || v == VERDICT_TIMEOUT; }

void probe_retry_after(struct probe_conn *c, double seconds) { c->retry_hint = seconds; }

/* The backoff doubles from --retry-after; a longer delay the server named
 * (a greylister's) is waited out, one second more (greylisters count whole
 * seconds), up to RETRY_HINT_MAX. */
static double retry_delay(const struct probe_engine *e, const struct probe_target *t, const struct probe_conn *c,
			  enum probe_wait *reason)
{
	double backoff = e->options.retry_after * (double)(1u << (t->attempts - 1));
	double named = c->retry_hint > 0 ? fmin(c->retry_hint + 1, RETRY_HINT_MAX) : 0;
	*reason = named > backoff ? PROBE_WAIT_GREYLIST : PROBE_WAIT_RETRY;
	return fmax(backoff, named);
}

static void start_connection(struct probe_engine *e, int32_t index);

/* The same attempt goes on with a new connection, with the transcript and what was learnt. */
static void next_connection(struct probe_engine *e, struct probe_conn *c)
{
	int32_t index = c->target;
	struct probe_target *t = &e->targets[index];
	/* The slots stay taken: the new connection replaces this one. */
	struct transcript transcript = c->transcript;
	const char *software = c->software;
	c->transcript = (struct transcript){0};
	conn_free(c);
	t->attempts--;
	start_connection(e, index);
	struct probe_conn *fresh = t->conn;
	if (fresh != NULL) {
		fresh->transcript = transcript;
		fresh->software = software;
	} else {
		transcript_free(&transcript);
	}
}

/* ---- proxies: a plan of modules, each with its aims, one connection per step ---- */

static void evidence_free(struct probe_evidence *ev)
{
	if (ev == NULL)
		return;
	free(ev->token);
	free(ev->peer);
	free(ev);
}

/* This connection's result becomes the plan's best: its module, variant, token and exit address. */
static void keep_evidence(struct probe_engine *e, struct probe_target *t, struct probe_conn *c)
{
	if (t->evidence == NULL && (t->evidence = calloc(1, sizeof *t->evidence)) == NULL) {
		recorder_fail(e->recorder, "out of memory");
		return;
	}
	struct probe_evidence *ev = t->evidence;
	free(ev->token);
	free(ev->peer);
	ev->module = t->plan.module;
	if ((t->flags & TARGET_PROVEN) && probe_module_by_test(c->proof_test) != NULL)
		ev->module = probe_module_by_test(c->proof_test); /* a late proof of an earlier step */
	ev->variant = c->variant;
	ev->token = c->proof_token;
	ev->peer = c->proof_peer;
	c->proof_token = c->proof_peer = NULL;
}

/*
 * A proxy step ended with verdict (whole: the module's remaining aims too).
 * Keeps the best result and starts the next step on a new connection;
 * false when the plan is over, with its verdict in t->plan.verdict.
 */
static bool plan_step(struct probe_engine *e, struct probe_conn *c, enum verdict verdict, bool whole)
{
	struct probe_target *t = &e->targets[c->target];
	if (t->flags & TARGET_PROVEN)
		verdict = VERDICT_OPEN_PROXY_MAIL;
	if (plan_note(&t->plan, verdict))
		keep_evidence(e, t, c);
	if (e->stopping || !plan_next(&t->plan, verdict, whole, c->connected))
		return false;
	next_connection(e, c);
	return true;
}

/* The plan from its first step: a new target, or a retry from scratch. False: nothing to try. */
static bool target_plan_reset(struct probe_engine *e, struct probe_target *t)
{
	evidence_free(t->evidence);
	t->evidence = NULL;
	return plan_reset(&t->plan, t->plan.modules, e->options.settings.target_count);
}

static void finish(struct probe_conn *c, enum verdict verdict, bool whole)
{
	struct probe_engine *e = c->engine;
	int32_t index = c->target;
	struct probe_target *t = &e->targets[index];
	bool proxy = t->plan.module->family == PROBE_PROXY;
	if (c->tls)
		t->flags |= TARGET_TLS;
	if (proxy) {
		if (plan_step(e, c, verdict, whole))
			return;
		/* Only an aim no module could express (SOCKS4 to an IPv6 sink) leaves nothing. */
		verdict = t->plan.verdict != VERDICT_NONE ? (enum verdict)t->plan.verdict : VERDICT_NOT_PROXY;
	}
	if (t->flags & TARGET_PROVEN)
		verdict = proxy ? VERDICT_OPEN_PROXY_MAIL : VERDICT_OPEN_RELAY;
	t->plan.verdict = (uint8_t)verdict;
	bool again = retryable(verdict) && t->attempts <= e->options.retries && !(t->flags & TARGET_MESSAGE_SENT);
	if (again) {
		enum probe_wait reason;
		double delay = retry_delay(e, t, c, &reason);
		probe_note(c, "-- ", "will retry");
		if (proxy)
			target_plan_reset(e, t);
		schedule_retry(e, index, delay, reason);
	} else {
		t->flags |= TARGET_DONE;
		e->stats.finished++;
		e->stats.verdicts[verdict]++;
		write_finding(e, t, c);
		evidence_free(t->evidence);
		t->evidence = NULL;
	}
	release_target_slots(e, t);
	conn_free(c);
	if (!again) /* out of the run's books first: the callback may stop the engine */
		report_verdict(e, t, false);
	dispatch(e);
	check_done(e);
}

void probe_finish(struct probe_conn *c, enum verdict verdict) { finish(c, verdict, true); }
void probe_finish_aim(struct probe_conn *c, enum verdict verdict) { finish(c, verdict, false); }

const struct probe_module *probe_module_of(struct probe_conn *c) { return c->engine->targets[c->target].plan.module; }

enum probe_aim probe_aim(struct probe_conn *c, struct addr *address, uint16_t *port)
{
	const struct probe_settings *s = &c->engine->options.settings;
	unsigned aim = c->engine->targets[c->target].plan.aim;
	if (aim == 0) {
		*address = s->sink_address;
		*port = s->sink_port;
		return PROBE_AIM_MAIL;
	}
	*address = s->target_address[aim - 1];
	*port = s->target_port[aim - 1];
	return PROBE_AIM_WEB;
}

static size_t hit_slot(const char *nonce)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (const char *p = nonce; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return h % HIT_CACHE_SIZE;
}

void probe_engine_target_hit(struct probe_engine *e, const char *nonce, const char *peer)
{
	if (strlen(nonce) >= HIT_NONCE_MAX)
		return;
	if (e->hits == NULL && (e->hits = calloc(HIT_CACHE_SIZE, sizeof *e->hits)) == NULL)
		return; /* the store still has it */
	struct hit_entry *h = &e->hits[hit_slot(nonce)];
	snprintf(h->nonce, sizeof h->nonce, "%s", nonce);
	snprintf(h->peer, sizeof h->peer, "%s", peer);
	h->received = time(NULL);
}

static void set_proof(struct probe_conn *c, const char *token, const char *peer, uint8_t test)
{
	free(c->proof_token);
	free(c->proof_peer);
	c->proof_token = token ? strdup(token) : NULL;
	c->proof_peer = peer ? strdup(peer) : NULL;
	c->proof_test = test;
}

bool probe_target_hit(struct probe_conn *c, const char *nonce, const char *token)
{
	struct probe_engine *e = c->engine;
	char peer[ADDR_PORT_STRLEN];
	struct hit_entry *h = e->hits && strlen(nonce) < HIT_NONCE_MAX ? &e->hits[hit_slot(nonce)] : NULL;
	/* Only a nonce handed out since this connection began, for a request with our token or
	 * none: a peer that replays one it saw before (a direct visit, an earlier run) proves nothing. */
	time_t since = c->started - 1;
	if (h != NULL && strcmp(h->nonce, nonce) == 0 && h->received >= since) {
		memcpy(peer, h->peer, sizeof peer);
		h->nonce[0] = '\0';
	} else if (recorder_target_hit_find(e->recorder, nonce, token, since, peer, sizeof peer) != 1) {
		/* Not in the cache (overwritten, or the sink runs elsewhere) nor in the store. */
		return false;
	}
	set_proof(c, token, peer, c->proof_test);
	return true;
}

bool probe_proof_lookup(struct probe_conn *c, const char *token)
{
	struct probe_engine *e = c->engine;
	struct probe_target *t = &e->targets[c->target];
	if (t->flags & TARGET_PROVEN)
		return true;
	char peer[ADDR_PORT_STRLEN];
	uint8_t test;
	/* only a proof of this run's own message (an external sink's, seen in the store) */
	if (recorder_proof_find(e->recorder, token, &test, peer, sizeof peer) != 1)
		return false;
	t->flags |= TARGET_PROVEN;
	e->stats.proofs++;
	if (t->flags & TARGET_AWAITING)
		e->awaiting_proof--;
	set_proof(c, token, peer, test);
	return true;
}

void probe_reconnect(struct probe_conn *c)
{
	probe_note(c, "-- ", "connecting again");
	next_connection(c->engine, c);
}

void probe_reconnect_plain(struct probe_conn *c)
{
	c->engine->targets[c->target].flags |= TARGET_PLAIN;
	probe_note(c, "-- ", "TLS failed: trying again in clear");
	next_connection(c->engine, c);
}

/* No connection: the verdict, unless the module knows better from the target's earlier connections. */
static void connect_failed(struct probe_conn *c, enum verdict verdict)
{
	const struct probe_module *m = c->engine->targets[c->target].plan.module;
	probe_finish(c, m->on_connect_failed ? m->on_connect_failed(c, verdict) : verdict);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct probe_conn *c = arg;
	c->engine->targets[c->target].plan.module->on_readable(c);
}

static void on_event(struct bufferevent *bev, short what, void *arg);

/* A plain connection reads with one recv(2) into the input buffer: the
 * bufferevent's own read asks the kernel first how much is waiting (an ioctl
 * per read). End of stream and errors go where the bufferevent sends them. */
static void on_socket_readable(evutil_socket_t fd, short what, void *arg)
{
	struct probe_conn *c = arg;
	char buf[READ_LIMIT];
	ssize_t n = recv(fd, buf, sizeof buf, 0);
	if (n > 0) {
		evbuffer_add(bufferevent_get_input(c->bev), buf, (size_t)n);
		on_read(c->bev, c);
	} else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
		event_del(c->reader);
		on_event(c->bev, BEV_EVENT_READING | (n == 0 ? BEV_EVENT_EOF : BEV_EVENT_ERROR), c);
	}
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct probe_conn *c = arg;
	const struct probe_module *m = c->engine->targets[c->target].plan.module;
	if (what & BEV_EVENT_CONNECTED) {
		if (!c->connected) {
			c->connected = true;
			bufferevent_enable(bev, EV_WRITE);
			event_add(c->reader, NULL);
			m->start(c);
		} else if (c->tls && !c->tls_up) {
			c->tls_up = true;
			m->on_tls(c, true);
		}
		return;
	}
	if (!c->connected) {
		int error = EVUTIL_SOCKET_ERROR();
		char note[96];
		snprintf(note, sizeof note, "connect failed: %s", strerror(error));
		probe_transcript(c, "-- ", note, strlen(note));
		connect_failed(c, VERDICT_UNREACHABLE);
		return;
	}
	if (c->tls && !c->tls_up) {
		m->on_tls(c, false); /* the handshake failed */
		return;
	}
	int error = (what & BEV_EVENT_ERROR) ? EVUTIL_SOCKET_ERROR() : 0;
	/* Bytes that came with the close are still to be read. */
	if (evbuffer_get_length(bufferevent_get_input(bev)) > 0)
		m->on_readable(c);
	if (!c->finished)
		m->on_closed(c, error);
}

static void on_conn_timer(evutil_socket_t fd, short what, void *arg)
{
	struct probe_conn *c = arg;
	if (!c->connected) {
		probe_note(c, "-- ", "connect timed out");
		connect_failed(c, VERDICT_TIMEOUT);
	} else if (probe_time_left(c) <= 0) {
		probe_note(c, "-- ", "total time limit");
		c->engine->targets[c->target].plan.module->on_timeout(c);
	} else {
		c->engine->targets[c->target].plan.module->on_timeout(c);
	}
}

void probe_start_tls(struct probe_conn *c)
{
	SSL *ssl = SSL_new(c->engine->tls);
	struct bufferevent *tls = ssl ? bufferevent_openssl_filter_new(c->engine->base, c->bev, ssl,
									BUFFEREVENT_SSL_CONNECTING,
									BEV_OPT_CLOSE_ON_FREE)
				      : NULL;
	if (tls == NULL) {
		if (ssl)
			SSL_free(ssl);
		c->engine->targets[c->target].plan.module->on_tls(c, false);
		return;
	}
	/* From here the TLS layer reads the socket, through the plain bufferevent. */
	event_free(c->reader);
	c->reader = NULL;
	c->bev = tls;
	c->tls = true;
	bufferevent_setcb(tls, on_read, NULL, on_event, c);
	bufferevent_enable(tls, EV_READ | EV_WRITE);
}

static void start_connection(struct probe_engine *e, int32_t index)
{
	struct probe_target *t = &e->targets[index];
	struct probe_conn *c = calloc(1, sizeof *c + t->plan.module->state_size);
	if (c == NULL) {
		recorder_fail(e->recorder, "out of memory");
		return;
	}
	c->engine = e;
	c->target = index;
	c->serial = ++e->conn_serial;
	c->started = time(NULL);
	c->deadline = probe_now() + e->options.total_timeout;
	c->timer = evtimer_new(e->base, on_conn_timer, c);
	t->conn = c;
	t->attempts++;
	c->next = e->open;
	if (e->open)
		e->open->prev = c;
	e->open = c;
	if (++e->stats.in_flight > e->stats.peak_in_flight)
		e->stats.peak_in_flight = e->stats.in_flight;

	struct sockaddr_storage ss;
	socklen_t sslen;
	memset(&ss, 0, sizeof ss);
	bool v4 = addr_is_v4(&t->address);
	if (v4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(t->port);
		memcpy(&sin->sin_addr, t->address.bytes + 12, 4);
		sslen = sizeof *sin;
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(t->port);
		memcpy(&sin6->sin6_addr, t->address.bytes, 16);
		sslen = sizeof *sin6;
	}
	int fd = socket(v4 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0 && e->options.have_source && addr_is_v4(&e->options.source) == v4) {
		struct sockaddr_storage src;
		memset(&src, 0, sizeof src);
		if (v4) {
			((struct sockaddr_in *)&src)->sin_family = AF_INET;
			memcpy(&((struct sockaddr_in *)&src)->sin_addr, e->options.source.bytes + 12, 4);
		} else {
			((struct sockaddr_in6 *)&src)->sin6_family = AF_INET6;
			memcpy(&((struct sockaddr_in6 *)&src)->sin6_addr, e->options.source.bytes, 16);
		}
		if (bind(fd, (struct sockaddr *)&src, sslen) != 0) {
			log_error("cannot bind the source address: %s", strerror(errno));
			close(fd);
			fd = -1;
		}
	}
	if (fd >= 0) {
		c->bev = bufferevent_socket_new(e->base, fd, BEV_OPT_CLOSE_ON_FREE);
		c->reader = c->bev ? event_new(e->base, fd, EV_READ | EV_PERSIST, on_socket_readable, c) : NULL;
		if (c->reader == NULL) {
			if (c->bev)
				bufferevent_free(c->bev); /* closes fd */
			else
				close(fd);
			c->bev = NULL;
			fd = -1;
		}
	}
	if (fd < 0) {
		/* Out of descriptors (or memory) is our problem, not the target's: try it later. */
		probe_note(c, "-- ", "no socket");
		t->attempts--;
		release_target_slots(e, t);
		conn_free(c);
		schedule_retry(e, index, 1.0, PROBE_WAIT_RETRY);
		e->stats.retries--;
		return;
	}
	bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
	bufferevent_set_max_single_read(c->bev, READ_LIMIT);
	/* Enabled once connected (on_event): enabled now, libevent would re-register
	 * the descriptor with epoll three more times while connecting. */
	struct timeval tv = to_timeval(e->options.connect_timeout);
	evtimer_add(c->timer, &tv);
	if (bufferevent_socket_connect(c->bev, (struct sockaddr *)&ss, (int)sslen) != 0) {
		/* an immediate failure arrives through on_event as well; make sure */
		if (t->conn == c) {
			probe_note(c, "-- ", "connect failed at once");
			connect_failed(c, VERDICT_UNREACHABLE);
		}
	}
}

/* ---- scheduling ---- */

static int32_t next_candidate(struct probe_engine *e)
{
	if (e->ready_len > 0) {
		int32_t t = e->ready[e->ready_head];
		e->ready_head = (e->ready_head + 1) % e->ready_cap;
		e->ready_len--;
		return t;
	}
	return e->cursor < e->count ? e->order[e->cursor++] : -1;
}

static void dispatch(struct probe_engine *e)
{
	while (!e->stopping && !run_failed(e) && e->stats.in_flight < e->options.concurrency &&
	       (e->options.rate == 0 || e->start_budget >= 1)) {
		int32_t index = next_candidate(e);
		if (index < 0)
			return;
		struct probe_target *t = &e->targets[index];
		if (limit_full(&e->hosts, t->host_slot))
			limit_wait(&e->hosts, t->host_slot, index);
		else if (limit_full(&e->nets, t->net_slot))
			limit_wait(&e->nets, t->net_slot, index);
		else {
			e->start_budget -= 1;
			/* held until the target's attempt ends (a reconnect keeps them) */
			limit_take(&e->hosts, t->host_slot);
			limit_take(&e->nets, t->net_slot);
			start_connection(e, index);
		}
	}
}

/* Refills the budget of new connections every 10 ms, bursts capped at 50 ms' worth. */
static void on_rate_timer(evutil_socket_t fd, short what, void *arg)
{
	struct probe_engine *e = arg;
	double cap = e->options.rate / 20.0 > 1 ? e->options.rate / 20.0 : 1;
	/* By the time that passed, not per tick; a loop late by more than 50 ms
	 * (overloaded) starts fewer: the cap, not the rate, then sets the pace. */
	double now = probe_now();
	e->start_budget += e->options.rate * (now - e->budget_at);
	e->budget_at = now;
	if (e->start_budget > cap)
		e->start_budget = cap;
	dispatch(e);
	check_done(e);
}

static void finish_run(struct probe_engine *e)
{
	event_base_loopexit(e->base, NULL);
}

static void on_wait_timer(evutil_socket_t fd, short what, void *arg)
{
	finish_run(arg);
}

static void check_done(struct probe_engine *e)
{
	if (e->stats.in_flight > 0 || e->retry_pending > 0 || e->ready_len > 0 || e->cursor < e->count)
		return;
	if (e->options.open && !e->closed && !e->stopping)
		return; /* idle, not done: the caller may feed more */
	if (e->stopping || e->awaiting_proof == 0 || e->options.wait <= 0) {
		finish_run(e);
		return;
	}
	if (!e->waiting) {
		/* Every target has its verdict; proofs may still be on their way. */
		e->waiting = true;
		double left = e->last_message_at + e->options.wait - probe_now();
		log_info("verify: waiting up to %.0f s for %u proofs", left > 0 ? left : 0, e->awaiting_proof);
		struct timeval tv = to_timeval(left);
		evtimer_add(e->wait_timer, &tv);
	}
}

void probe_engine_proof(struct probe_engine *e, const struct proof *proof)
{
	if (proof->campaign != e->options.settings.campaign)
		return;
	int32_t index = find_target(e, &proof->address, proof->port);
	if (index < 0)
		return; /* another run's target: store_findings_reconcile() handles it */
	struct probe_target *t = &e->targets[index];
	if (t->flags & TARGET_PROVEN)
		return;
	/* Only the token of a message this run recorded proves anything; one made
	 * by hand (plughole token), or an earlier run's, is kept and ignored. */
	char variant[64];
	if (recorder_proof_bound(e->recorder, proof->token, variant, sizeof variant) != 1) {
		char candidate[ADDR_PORT_STRLEN];
		log_info("verify: the proof for %s delivered by %s matches no test message of this run:"
			 " it proves nothing",
			 addr_port_format(&proof->address, proof->port, candidate), proof->peer);
		return;
	}
	t->flags |= TARGET_PROVEN;
	e->stats.proofs++;
	if (t->flags & TARGET_AWAITING)
		e->awaiting_proof--;
	if (t->conn != NULL) {
		set_proof(t->conn, proof->token, proof->peer, proof->test);
		t->plan.module->on_proof(t->conn, proof->test);
	} else if (t->flags & TARGET_DONE) {
		/* The verdict is written already: upgrade it. */
		enum verdict open = t->plan.module->family == PROBE_RELAY ? VERDICT_OPEN_RELAY : VERDICT_OPEN_PROXY_MAIL;
		e->stats.verdicts[t->plan.verdict]--;
		t->plan.verdict = (uint8_t)open;
		e->stats.verdicts[t->plan.verdict]++;
		recorder_finding_proven(e->recorder, t->candidate_id, verdict_name(open), variant[0] ? variant : NULL,
					proof);
		report_verdict(e, t, true);
	}
	if (e->waiting && e->awaiting_proof == 0)
		finish_run(e);
}

static void on_proof_polled(void *ctx, const struct proof *proof) { probe_engine_proof(ctx, proof); }

static void on_run_failed(void *ctx) { probe_engine_stop(ctx); }

/* ---- what the run waits for ---- */

static void count_wait(struct probe_waits *w, enum probe_wait reason, uint64_t n, double until)
{
	w->count[reason] += n;
	if (until > w->until[reason])
		w->until[reason] = until;
}

void probe_engine_waits(const struct probe_engine *e, struct probe_waits *w)
{
	*w = (struct probe_waits){0};
	for (const struct probe_conn *c = e->open; c != NULL; c = c->next)
		if (c->wait != PROBE_WAIT_NONE)
			count_wait(w, (enum probe_wait)c->wait, 1, c->wait_until);
	for (const struct retry *r = e->retries; r != NULL; r = r->next)
		count_wait(w, r->reason, 1, r->at);
	if (e->waiting && e->awaiting_proof > 0)
		count_wait(w, PROBE_WAIT_PROOFS, e->awaiting_proof, e->last_message_at + e->options.wait);
}

double probe_engine_elapsed(const struct probe_engine *e) { return e->started > 0 ? probe_now() - e->started : 0; }

/* ---- life cycle ---- */

struct probe_engine *probe_engine_new(struct event_base *base, const struct probe_engine_options *options,
				      struct store *store, const struct token_secret *secret)
{
	struct probe_engine *e = calloc(1, sizeof *e);
	if (e == NULL)
		return NULL;
	e->base = base;
	e->options = *options;
	e->secret = secret;
	struct recorder_events events = {
		.message_ready = on_message_ready, .proof = on_proof_polled, .failed = on_run_failed, .ctx = e};
	if ((e->recorder = recorder_new(base, store, options->shared_store, &events)) == NULL) {
		free(e);
		return NULL;
	}
	e->tls = SSL_CTX_new(TLS_client_method());
	if (e->tls == NULL) {
		recorder_free(e->recorder);
		free(e);
		return NULL;
	}
	/* We test old servers, not their certificates: accept what they offer. */
	SSL_CTX_set_verify(e->tls, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_security_level(e->tls, 0);
	SSL_CTX_set_min_proto_version(e->tls, TLS1_VERSION);
	/* a server asking for handshake after handshake would keep the loop busy */
	SSL_CTX_set_options(e->tls, SSL_OP_NO_RENEGOTIATION);
	e->sample_timer = event_new(base, -1, EV_PERSIST, on_sample_timer, e);
	e->rate_timer = event_new(base, -1, EV_PERSIST, on_rate_timer, e);
	e->wait_timer = evtimer_new(base, on_wait_timer, e);
	e->feed_event = evtimer_new(base, on_feed_event, e);
	return e;
}

static int index_target(struct probe_engine *e, int32_t index);

int probe_engine_add(struct probe_engine *e, const struct addr *address, uint16_t port, int64_t candidate_id)
{
	return probe_engine_add_with(e, address, port, candidate_id, &e->options.selection);
}

int probe_engine_add_with(struct probe_engine *e, const struct addr *address, uint16_t port, int64_t candidate_id,
			  const struct probe_selection *selection)
{
	uint32_t plan = probe_plan(selection, port);
	if (plan == 0)
		return 0; /* nothing to test on this port for the chosen families */
	if (e->prepared && !e->options.open)
		return -1; /* a closed run: targets come before it */
	if (e->prepared && find_target(e, address, port) >= 0)
		return 0; /* already in the run: one target, one set of messages */
	if (e->count == e->capacity) {
		size_t capacity = e->capacity ? e->capacity * 2 : 1024;
		struct probe_target *grown = realloc(e->targets, capacity * sizeof *grown);
		if (grown == NULL)
			return -1;
		e->targets = grown;
		e->capacity = capacity;
	}
	struct probe_target *t = &e->targets[e->count];
	*t = (struct probe_target){.address = *address, .port = port, .candidate_id = candidate_id};
	t->plan.modules = (uint16_t)plan;
	if (!target_plan_reset(e, t))
		return 0; /* only web tests, and no target to aim them at */
	if (e->prepared) { /* fed during the run: visited after those waiting, in the order fed */
		if (index_target(e, (int32_t)e->count) != 0)
			return -1;
		e->order[e->count] = (int32_t)e->count;
		event_active(e->feed_event, EV_TIMEOUT, 1);
	}
	e->stats.targets = ++e->count;
	return 1;
}

void probe_engine_close(struct probe_engine *e)
{
	e->closed = true;
	if (e->prepared)
		event_active(e->feed_event, EV_TIMEOUT, 1);
}

static void on_feed_event(evutil_socket_t fd, short what, void *arg)
{
	struct probe_engine *e = arg;
	dispatch(e);
	check_done(e);
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Room for the target `index` in the visiting order, the ready ring and the address index. */
static int make_room(struct probe_engine *e, size_t index)
{
	if (index < e->ready_cap && (index + 1) * 2 <= e->by_address_mask + 1)
		return 0;
	size_t cap = e->ready_cap ? e->ready_cap : 16;
	while (cap <= index)
		cap *= 2;
	int32_t *order = realloc(e->order, cap * sizeof *order), *ready = order ? malloc(cap * sizeof *ready) : NULL;
	if (order == NULL || ready == NULL) {
		free(ready);
		if (order != NULL)
			e->order = order;
		return -1;
	}
	e->order = order;
	for (size_t k = 0; k < e->ready_len; k++) /* the ring, unrolled from its head */
		ready[k] = e->ready[(e->ready_head + k) % e->ready_cap];
	free(e->ready);
	e->ready = ready;
	e->ready_head = 0;
	e->ready_cap = cap;
	size_t size = table_size_for(cap);
	if (size > e->by_address_mask + 1 || e->by_address == NULL) {
		int32_t *by = malloc(size * sizeof *by);
		if (by == NULL)
			return -1;
		memset(by, 0xff, size * sizeof *by);
		free(e->by_address);
		e->by_address = by;
		e->by_address_mask = size - 1;
		for (size_t i = 0; i < e->indexed; i++) { /* those indexed so far, again */
			size_t h = addr_hash(&e->targets[i].address, e->targets[i].port) & e->by_address_mask;
			while (e->by_address[h] >= 0)
				h = (h + 1) & e->by_address_mask;
			e->by_address[h] = (int32_t)i;
		}
	}
	return limit_table_reserve(&e->hosts, cap) != 0 || limit_table_reserve(&e->nets, cap) != 0 ? -1 : 0;
}

/* The target's limit slots and its place in the address index. */
static int index_target(struct probe_engine *e, int32_t index)
{
	if (make_room(e, (size_t)index) != 0)
		return -1;
	struct probe_target *t = &e->targets[index];
	struct addr net = network_of(&t->address);
	int64_t host = limit_slot_for(&e->hosts, &t->address), network = limit_slot_for(&e->nets, &net);
	if (host < 0 || network < 0)
		return -1;
	t->host_slot = (uint32_t)host;
	t->net_slot = (uint32_t)network;
	size_t h = addr_hash(&t->address, t->port) & e->by_address_mask;
	while (e->by_address[h] >= 0)
		h = (h + 1) & e->by_address_mask;
	e->by_address[h] = index;
	e->indexed++;
	return 0;
}

static int prepare(struct probe_engine *e)
{
	size_t n = e->count;
	if (limit_table_init(&e->hosts, n, e->options.per_host) != 0 ||
	    limit_table_init(&e->nets, n, e->options.per_net) != 0 || make_room(e, n ? n - 1 : 0) != 0)
		return -1;
	uint64_t seed = e->options.seed ? e->options.seed : 0x2004a11ce5ull;
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		/* Named twice: one target, or it would get every test message twice. */
		if (find_target(e, &e->targets[i].address, e->targets[i].port) >= 0)
			continue;
		e->targets[kept] = e->targets[i];
		if (index_target(e, (int32_t)kept) != 0)
			return -1;
		/* Fisher-Yates, inside-out: no network is visited in sequence. */
		size_t j = (size_t)(xorshift(&seed) % (kept + 1));
		e->order[kept] = e->order[j];
		e->order[j] = (int32_t)kept;
		kept++;
	}
	e->count = kept;
	e->stats.targets = kept;
	e->prepared = true;
	return 0;
}

int probe_engine_run(struct probe_engine *e)
{
	if (e->count == 0 && !e->options.open)
		return 0;
	if (prepare(e) != 0) {
		log_error("verify: out of memory preparing %zu targets", e->count);
		return -1;
	}
	e->started = probe_now();
	if (recorder_begin(e->recorder, e->options.wait, e->options.settings.campaign, e->options.round) != 0)
		return -1;
	e->heap_base = mallinfo2().uordblks;
	struct timeval sample = to_timeval(SAMPLE_INTERVAL);
	event_add(e->sample_timer, &sample);
	if (e->options.rate > 0) {
		struct timeval tick = {0, 10000};
		e->start_budget = 1;
		e->budget_at = probe_now();
		event_add(e->rate_timer, &tick);
	}
	dispatch(e);
	check_done(e);
	event_base_dispatch(e->base);
	event_del(e->sample_timer);
	event_del(e->rate_timer);
	event_del(e->wait_timer);
	event_del(e->feed_event);
	return recorder_end(e->recorder, e->stopping);
}

void probe_engine_stop(struct probe_engine *e)
{
	if (e->stopping)
		return;
	e->stopping = true;
	log_info("verify: stopping; %llu connections in flight stay pending",
		 (unsigned long long)e->stats.in_flight);
	while (e->open != NULL) {
		struct probe_target *t = &e->targets[e->open->target];
		release_target_slots(e, t);
		conn_free(e->open);
	}
	while (e->retries != NULL)
		retry_free(e->retries);
	finish_run(e);
}

const struct probe_stats *probe_engine_stats(const struct probe_engine *e) { return &e->stats; }

size_t probe_engine_conn_size(const struct probe_engine *e)
{
	size_t largest = 0;
	for (size_t i = 0; i < probe_module_count(); i++)
		if (probe_module_at(i)->state_size > largest)
			largest = probe_module_at(i)->state_size;
	return sizeof(struct probe_conn) + largest;
}

void probe_engine_free(struct probe_engine *e)
{
	if (e == NULL)
		return;
	event_base_loop(e->base, EVLOOP_NONBLOCK); /* runs the pending frees */
	while (e->open != NULL) {
		struct probe_conn *c = e->open;
		e->open = c->next;
		conn_destroy(c);
	}
	while (e->retries != NULL)
		retry_free(e->retries);
	event_free(e->sample_timer);
	event_free(e->rate_timer);
	event_free(e->wait_timer);
	event_free(e->feed_event);
	recorder_free(e->recorder);
	SSL_CTX_free(e->tls);
	for (size_t i = 0; i < e->count; i++)
		evidence_free(e->targets[i].evidence);
	free(e->hits);
	free(e->targets);
	free(e->order);
	free(e->ready);
	free(e->by_address);
	limit_table_free(&e->hosts);
	limit_table_free(&e->nets);
	free(e);
}
