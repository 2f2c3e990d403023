/* The plan of tests for one target (probe/plan.c): its steps and its verdict ranking, without sockets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "probe/plan.h"

static uint16_t bit(const struct probe_module *m) { return (uint16_t)(1u << probe_module_index(m)); }

/* Runs the plan with every step answering verdict; returns the steps as "module@aim" in out. */
static int walk(struct plan *p, enum verdict verdict, const struct probe_module **modules, int *aims, int max)
{
	int n = 0;
	do {
		assert_true(n < max);
		modules[n] = p->module;
		aims[n++] = p->aim;
		plan_note(p, verdict);
	} while (plan_next(p, verdict, false, true));
	return n;
}

static void ranks_verdicts(void **unused)
{
	assert_true(plan_verdict_rank(VERDICT_OPEN_PROXY_MAIL) > plan_verdict_rank(VERDICT_OPEN_PROXY_WEB));
	assert_true(plan_verdict_rank(VERDICT_OPEN_PROXY_WEB) > plan_verdict_rank(VERDICT_CLOSED));
	assert_true(plan_verdict_rank(VERDICT_CLOSED) > plan_verdict_rank(VERDICT_NOT_PROXY));
	assert_true(plan_verdict_rank(VERDICT_NOT_PROXY) > plan_verdict_rank(VERDICT_TIMEOUT));
	assert_true(plan_verdict_rank(VERDICT_TIMEOUT) > plan_verdict_rank(VERDICT_UNREACHABLE));
	assert_true(plan_verdict_rank(VERDICT_UNREACHABLE) > plan_verdict_rank(VERDICT_NONE));
	struct plan p;
	assert_true(plan_reset(&p, bit(&probe_socks5), 1));
	assert_true(plan_note(&p, VERDICT_CLOSED));
	assert_false(plan_note(&p, VERDICT_NOT_PROXY)); /* a worse one leaves the best */
	assert_int_equal(p.verdict, VERDICT_CLOSED);
	assert_true(plan_note(&p, VERDICT_OPEN_PROXY_WEB));
	assert_int_equal(p.verdict, VERDICT_OPEN_PROXY_WEB);
}

static void each_module_at_each_aim(void **unused)
{
	struct plan p;
	assert_true(plan_reset(&p, bit(&probe_http_connect) | bit(&probe_socks5), 2));
	const struct probe_module *m[16];
	int aims[16];
	int n = walk(&p, VERDICT_CLOSED, m, aims, 16);
	/* registry order; the SMTP port first, then each TCP target */
	assert_int_equal(n, 6);
	assert_ptr_equal(m[0], &probe_http_connect);
	assert_int_equal(aims[0], 0);
	assert_ptr_equal(m[1], &probe_http_connect);
	assert_int_equal(aims[1], 1);
	assert_int_equal(aims[2], 2);
	assert_ptr_equal(m[3], &probe_socks5);
	assert_int_equal(aims[3], 0);
	assert_int_equal(aims[5], 2);
	assert_int_equal(p.verdict, VERDICT_CLOSED);
}

static void a_module_without_mail_starts_at_the_web(void **unused)
{
	struct plan p;
	assert_true(plan_reset(&p, bit(&probe_http_get), 1));
	assert_ptr_equal(p.module, &probe_http_get);
	assert_int_equal(p.aim, 1);
	/* no TCP target: nothing it can aim at */
	assert_false(plan_reset(&p, bit(&probe_http_get), 0));
}

static void proven_web_skips_other_web_aims(void **unused)
{
	struct plan p;
	assert_true(plan_reset(&p, bit(&probe_http_connect) | bit(&probe_socks5), 1));
	plan_note(&p, VERDICT_CLOSED);
	assert_true(plan_next(&p, VERDICT_CLOSED, false, true)); /* http-connect at the web target */
	assert_int_equal(p.aim, 1);
	plan_note(&p, VERDICT_OPEN_PROXY_WEB);
	assert_true(plan_next(&p, VERDICT_OPEN_PROXY_WEB, false, true));
	assert_ptr_equal(p.module, &probe_socks5); /* its mail aim still counts */
	assert_int_equal(p.aim, 0);
	plan_note(&p, VERDICT_CLOSED);
	assert_false(plan_next(&p, VERDICT_CLOSED, false, true)); /* the web is proven: no web aim left */
	assert_int_equal(p.verdict, VERDICT_OPEN_PROXY_WEB);
}

static void ends_early(void **unused)
{
	uint16_t all = bit(&probe_http_connect) | bit(&probe_http_post) | bit(&probe_socks5);
	struct plan p;
	assert_true(plan_reset(&p, all, 1));
	assert_false(plan_next(&p, VERDICT_OPEN_PROXY_MAIL, false, true)); /* proven for mail */
	assert_true(plan_reset(&p, all, 1));
	assert_false(plan_next(&p, VERDICT_TIMEOUT, false, true)); /* answers nothing in time */
	assert_true(plan_reset(&p, all, 1));
	assert_false(plan_next(&p, VERDICT_UNREACHABLE, false, false)); /* takes no connection */
	assert_true(plan_reset(&p, all, 1));
	assert_true(plan_next(&p, VERDICT_UNREACHABLE, false, true)); /* reset after connecting: go on */
}

static void not_proxy_skips_the_group(void **unused)
{
	struct plan p;
	assert_true(plan_reset(&p, bit(&probe_http_connect) | bit(&probe_http_post) | bit(&probe_socks5), 1));
	assert_true(plan_next(&p, VERDICT_NOT_PROXY, false, true));
	assert_ptr_equal(p.module, &probe_socks5); /* http-post speaks the same wire protocol */
	assert_int_equal(p.aim, 0);
	/* whole: the module's other aims go too, the next module stays */
	assert_true(plan_reset(&p, bit(&probe_http_connect) | bit(&probe_http_post), 1));
	assert_true(plan_next(&p, VERDICT_CLOSED, true, true));
	assert_ptr_equal(p.module, &probe_http_post);
	assert_int_equal(p.aim, 0);
}

static void the_relay_test_is_one_step(void **unused)
{
	struct plan p;
	assert_true(plan_reset(&p, bit(&probe_smtp_relay), 2));
	assert_ptr_equal(p.module, &probe_smtp_relay);
	assert_int_equal(p.aim, 0);
	assert_false(plan_next(&p, VERDICT_CLOSED, false, true));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ranks_verdicts),
		cmocka_unit_test(each_module_at_each_aim),
		cmocka_unit_test(a_module_without_mail_starts_at_the_web),
		cmocka_unit_test(proven_web_skips_other_web_aims),
		cmocka_unit_test(ends_early),
		cmocka_unit_test(not_proxy_skips_the_group),
		cmocka_unit_test(the_relay_test_is_one_step),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
