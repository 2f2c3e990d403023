/* The campaign tables: letter states checked by the database and moved by compare-and-set,
 * attempts, suppression matching (address, domain and subdomains, networks). */
#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka wants setjmp, stdarg, stddef and stdint first; blank lines keep clang-format from sorting it up */

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "store/store.h"
#include "notify/suppress.h"
#include "track/letters.h"

static char dir[] = "/tmp/plughole-campaigns-XXXXXX";
static char path[256];

static int setup(void **state)
{
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/c.db", dir);
	*state = store_open(path);
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	store_close(*state);
	char cmd[512];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd);
}

static int64_t make_letter(struct store *store, const char *ticket, const char *who)
{
	int64_t campaign = store_campaign_id(store, "t");
	if (campaign == 0) {
		struct store_campaign c = {.name = "t",
					   .created = 1,
					   .verdicts = "open-relay",
					   .domain = "c.test",
					   .key_salt = "00"};
		campaign = store_campaign_insert(store, &c);
		assert_true(campaign > 0);
		assert_int_equal(store_campaign_insert(store, &c), 0); /* the name is taken */
	}
	char contact[64];
	snprintf(contact, sizeof contact, "abuse@%s.example", who);
	struct store_campaign_owner o = {.campaign_id = campaign,
					 .organisation = "Org",
					 .contact = contact,
					 .verdict = "open-relay",
					 .stratum = "-|open-relay",
					 .group = "treatment"};
	int64_t owner = store_campaign_owner_insert(store, &o);
	assert_true(owner > 0);
	char mid[64];
	snprintf(mid, sizeof mid, "<%s.t@c.test>", ticket);
	struct store_letter l = {.campaign_id = campaign,
				 .campaign_owner_id = owner,
				 .ticket = ticket,
				 .ticket_key = "k",
				 .message_id = mid,
				 .recipient = contact,
				 .state = "queued",
				 .created = 1};
	return store_letter_insert(store, &l);
}

static void letter_states_move_by_compare_and_set(void **state)
{
	struct store *store = *state;
	int64_t id = make_letter(store, "AAAAA-AAAAA", "a");
	assert_true(id > 0);
	char buf[32];
	assert_int_equal(store_letter_state(store, id, buf, sizeof buf), 1);
	assert_string_equal(buf, "queued");
	/* two senders claim it: one wins */
	assert_int_equal(store_letter_set_state(store, id, "queued", "sending", NULL, 2), 1);
	assert_int_equal(store_letter_set_state(store, id, "queued", "sending", NULL, 2), 0);
	int64_t attempt = store_letter_attempt_begin(store, id, "smtp://127.0.0.1:25", 2);
	assert_true(attempt > 0);
	assert_int_equal(store_letter_attempt_end(store, attempt, 250, "250 2.0.0 Ok: queued", "accepted", 3),
			 0);
	assert_int_equal(store_letter_set_state(store, id, "sending", "sent", NULL, 3), 1);
	assert_int_equal(store_letter_state(store, id, buf, sizeof buf), 1);
	assert_string_equal(buf, "sent");
	/* the database refuses a state that is not one */
	log_set_level(LOG_QUIET);
	assert_int_equal(store_letter_set_state(store, id, "sent", "mailed", NULL, 4), -1);
	log_set_level(LOG_INFO);
	assert_int_equal(store_letter_state(store, 999, buf, sizeof buf), 0);
	/* a taken ticket is reported as such, to draw another */
	assert_int_equal(make_letter(store, "AAAAA-AAAAA", "b"), 0);
}

static void letters_move_only_as_the_table_says(void **state)
{
	struct store *store = *state;
	int64_t id = make_letter(store, "BBBBB-BBBBB", "c");
	assert_true(id > 0);
	assert_int_equal(letter_apply(store, id, LETTER_EV_ACCEPTED, NULL, 5), LETTER_APPLY_INVALID);
	assert_int_equal(letter_apply(store, id, LETTER_EV_CLAIM, NULL, 5), LETTER_SENDING);
	assert_int_equal(letter_apply(store, id, LETTER_EV_TEMPFAIL, "451 4.3.0 try later", 6),
			 LETTER_DEFERRED);
	assert_int_equal(letter_apply(store, id, LETTER_EV_CLAIM, NULL, 7), LETTER_SENDING);
	assert_int_equal(letter_apply(store, id, LETTER_EV_ACCEPTED, NULL, 8), LETTER_SENT);
	/* sent stays sent: no claim, no second send */
	assert_int_equal(letter_apply(store, id, LETTER_EV_CLAIM, NULL, 9), LETTER_APPLY_INVALID);
	assert_int_equal(letter_apply(store, id, LETTER_EV_BOUNCE, "550 5.1.1 no such user", 10),
			 LETTER_BOUNCED);
	char buf[32];
	assert_int_equal(store_letter_state(store, id, buf, sizeof buf), 1);
	assert_string_equal(buf, "bounced");
	log_set_level(LOG_QUIET);
	assert_int_equal(letter_apply(store, 12345, LETTER_EV_CLAIM, NULL, 11), LETTER_APPLY_ERROR);
	log_set_level(LOG_INFO);
}

struct rows {
	int count;
	char last[8][64]; /* of the last row: the columns named in want[] */
	const char *want[8];
};

static void keep_row(void *ctx, const struct store_row *row)
{
	struct rows *r = ctx;
	if (row->values == NULL)
		return; /* the names alone, before the rows */
	r->count++;
	for (int i = 0; i < row->count; i++)
		for (int w = 0; w < 8 && r->want[w]; w++)
			if (strcmp(row->names[i], r->want[w]) == 0)
				snprintf(r->last[w], sizeof r->last[w], "%s", row->values[i] ? row->values[i] : "NULL");
}

static void letters_list_with_their_hosts(void **state)
{
	struct store *store = *state;
	int64_t id = make_letter(store, "CCCCC-CCCCC", "d");
	int64_t campaign = store_campaign_id(store, "t");
	/* two hosts of the letter's owner, one of them in a suppressed network */
	struct store_campaign_finding h = {.candidate_id = 1,
					   .address = "192.0.2.1",
					   .port = 25,
					   .verdict = "open-relay",
					   .token = "pha",
					   .proved = 100,
					   .contact = "abuse@d.example",
					   .software = "Postfix"};
	int64_t owner = 0;
	struct rows letters = {.want = {"campaign_owner_id", "ticket", "campaign", "domain", "state"}};
	assert_int_equal(store_letters_each(store, campaign, "queued", keep_row, &letters), 0);
	assert_true(letters.count >= 1);
	assert_string_equal(letters.last[1], "CCCCC-CCCCC");
	assert_string_equal(letters.last[2], "t");
	assert_string_equal(letters.last[3], "c.test");
	owner = strtoll(letters.last[0], NULL, 10);
	assert_int_equal(store_campaign_host_insert(store, campaign, owner, &h, NULL), 0);
	h.candidate_id = 2;
	h.address = "192.0.2.2";
	assert_int_equal(store_campaign_host_insert(store, campaign, owner, &h, "network 192.0.2.2: asked"),
			 0);
	struct rows hosts = {.want = {"address", "software", "proved"}};
	assert_int_equal(store_letter_hosts_each(store, id, keep_row, &hosts), 0);
	assert_int_equal(hosts.count, 1);
	assert_string_equal(hosts.last[0], "192.0.2.1");
	assert_string_equal(hosts.last[1], "Postfix");
	assert_string_equal(hosts.last[2], "100");
	struct rows none = {.want = {"ticket"}};
	assert_int_equal(store_letters_each(store, campaign, "bounced", keep_row, &none), 0);
	assert_int_equal(none.count, 1); /* the letter letters_move_only_as_the_table_says bounced */
}

static void suppression_matches_address_domain_network(void **state)
{
	struct store *store = *state;
	struct suppress_rule r;
	const char *why;
	const char *rules[] = {"Abuse@One.example", "@two.example", "198.51.100.0/24", "2001:db8::/32"};
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(suppress_parse(rules[i], strlen(rules[i]), &r, &why), 0);
		assert_int_equal(store_suppression_add(store, suppress_kind_names[r.kind], r.value,
						       r.kind == SUPPRESS_NETWORK ? &r.range : NULL, "why",
						       1),
				 1);
	}
	assert_int_equal(store_suppression_add(store, "domain", "two.example", NULL, "again", 2), 0);
	struct addr in4, out4, in6;
	addr_parse("198.51.100.77", 13, &in4);
	addr_parse("198.51.101.1", 12, &out4);
	addr_parse("2001:db8:5::1", 13, &in6);
	char rule[256];
	assert_int_equal(store_suppressed(store, "ABUSE@one.EXAMPLE", NULL, rule, sizeof rule), 1);
	assert_string_equal(rule, "address abuse@one.example: why");
	assert_int_equal(store_suppressed(store, "other@one.example", NULL, rule, sizeof rule), 0);
	assert_int_equal(store_suppressed(store, "x@two.example", NULL, rule, sizeof rule), 1);
	assert_string_equal(rule, "domain @two.example: why");
	assert_int_equal(store_suppressed(store, "x@mail.Two.example", NULL, rule, sizeof rule), 1);
	/* a name that merely ends in the same letters is another domain */
	assert_int_equal(store_suppressed(store, "x@notwo.example", NULL, rule, sizeof rule), 0);
	assert_int_equal(store_suppressed(store, "x@two.example.net", NULL, rule, sizeof rule), 0);
	assert_int_equal(store_suppressed(store, "x@three.example", &in4, rule, sizeof rule), 1);
	assert_string_equal(rule, "network 198.51.100.0-198.51.100.255: why");
	assert_int_equal(store_suppressed(store, "x@three.example", &out4, rule, sizeof rule), 0);
	assert_int_equal(store_suppressed(store, "x@three.example", &in6, rule, sizeof rule), 1);
	/* the most specific kind wins: the address rule over the network */
	assert_int_equal(store_suppressed(store, "abuse@one.example", &in4, rule, sizeof rule), 1);
	assert_string_equal(rule, "address abuse@one.example: why");
	assert_int_equal(store_suppression_remove(store, "domain", "two.example"), 1);
	assert_int_equal(store_suppression_remove(store, "domain", "two.example"), 0);
	assert_int_equal(store_suppressed(store, "x@two.example", NULL, rule, sizeof rule), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(letter_states_move_by_compare_and_set),
	    cmocka_unit_test(letters_move_only_as_the_table_says),
	    cmocka_unit_test(letters_list_with_their_hosts),
	    cmocka_unit_test(suppression_matches_address_domain_network),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
