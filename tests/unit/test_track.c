/* Campaigns' pure parts: the control draw, letter state moves, tickets, suppression rules. */
#include <ctype.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka wants setjmp, stdarg, stddef and stdint first; blank lines keep clang-format from sorting it up */

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mailbox.h"
#include "notify/suppress.h"
#include "track/campaign.h"
#include "track/control.h"
#include "track/letter_state.h"
#include "track/ticket.h"

/* ---- control sampling ---- */

#define UNITS 600
static char keys[UNITS][64], strata[UNITS][32];

/* 600 owners in strata of uneven sizes: 7 countries x 3 verdicts, skewed. */
static void make_units(struct control_unit *u, size_t n)
{
	static const char *const countries[] = {"BR", "JP", "KR", "US", "AR", "TW", "-"};
	static const char *const verdicts[] = {"open-relay", "open-proxy-mail", "open-proxy-web"};
	for (size_t i = 0; i < n; i++) {
		snprintf(keys[i], sizeof keys[i], "Owner %zu\nabuse@o%zu.example", i, i);
		snprintf(strata[i], sizeof strata[i], "%s|%.6s", countries[(i * i) % 7],
			 verdicts[i % 3 == 0 ? 0 : (i % 5) % 3]);
		u[i] = (struct control_unit){.key = keys[i], .stratum = strata[i]};
	}
}

static int by_key(const void *a, const void *b)
{
	return strcmp(((const struct control_unit *)a)->key, ((const struct control_unit *)b)->key);
}

static void control_is_reproducible_and_order_free(void **unused)
{
	static struct control_unit a[UNITS], b[UNITS];
	make_units(a, UNITS);
	make_units(b, UNITS);
	long na = control_sample(a, UNITS, 0.25, 42);
	/* b shuffled (a fixed permutation), sampled, sorted back by key */
	for (size_t i = UNITS - 1; i > 0; i--) {
		size_t j = (i * 7919 + 13) % (i + 1);
		struct control_unit t = b[i];
		b[i] = b[j];
		b[j] = t;
	}
	long nb = control_sample(b, UNITS, 0.25, 42);
	assert_int_equal(na, nb);
	qsort(a, UNITS, sizeof a[0], by_key);
	qsort(b, UNITS, sizeof b[0], by_key);
	for (size_t i = 0; i < UNITS; i++)
		assert_int_equal(a[i].control, b[i].control);
	/* another seed draws another group */
	make_units(b, UNITS);
	control_sample(b, UNITS, 0.25, 43);
	qsort(b, UNITS, sizeof b[0], by_key);
	size_t differ = 0;
	for (size_t i = 0; i < UNITS; i++)
		differ += a[i].control != b[i].control;
	assert_true(differ > 20);
}

static void control_share_per_stratum_within_rounding(void **unused)
{
	static struct control_unit u[UNITS];
	const double fractions[] = {0, 0.1, 0.25, 1.0 / 3, 0.5, 0.9};
	for (size_t f = 0; f < sizeof fractions / sizeof fractions[0]; f++) {
		for (uint64_t seed = 0; seed < 5; seed++) {
			make_units(u, UNITS);
			long n = control_sample(u, UNITS, fractions[f], seed);
			assert_int_equal(n, (long)floor(fractions[f] * UNITS + 0.5));
			long counted = 0;
			for (size_t i = 0; i < UNITS; i++) {
				if (u[i].stratum == NULL)
					continue; /* counted with its stratum already */
				const char *stratum = u[i].stratum;
				size_t members = 0, held = 0;
				for (size_t j = i; j < UNITS; j++)
					if (u[j].stratum && strcmp(u[j].stratum, stratum) == 0) {
						members++;
						held += u[j].control;
						if (j != i)
							u[j].stratum = NULL;
					}
				double exact = fractions[f] * (double)members;
				assert_true((double)held >= floor(exact) && (double)held <= ceil(exact));
				counted += (long)held;
			}
			assert_int_equal(counted, n);
		}
	}
}

static void control_small_strata_still_hold_out_the_share(void **unused)
{
	/* twenty strata of one: per-stratum rounding alone would hold out none at 0.3 */
	struct control_unit u[20];
	char k[20][8], s[20][8];
	for (int i = 0; i < 20; i++) {
		snprintf(k[i], sizeof k[i], "k%d", i);
		snprintf(s[i], sizeof s[i], "s%d", i);
		u[i] = (struct control_unit){.key = k[i], .stratum = s[i]};
	}
	assert_int_equal(control_sample(u, 20, 0.3, 9), 6);
	assert_int_equal(control_sample(u, 0, 0.3, 9), 0);
}

/* ---- letter states ---- */

static void letter_moves_are_exactly_the_table(void **unused)
{
	/* the allowed moves, as the issue states them; every other pair is invalid */
	static const struct {
		enum letter_state from;
		enum letter_event event;
		enum letter_state to;
	} allowed[] = {
	    {LETTER_QUEUED, LETTER_EV_CLAIM, LETTER_SENDING},
	    {LETTER_DEFERRED, LETTER_EV_CLAIM, LETTER_SENDING},
	    {LETTER_SENDING, LETTER_EV_ACCEPTED, LETTER_SENT},
	    {LETTER_SENDING, LETTER_EV_TEMPFAIL, LETTER_DEFERRED},
	    {LETTER_SENDING, LETTER_EV_PERMFAIL, LETTER_FAILED},
	    {LETTER_SENT, LETTER_EV_BOUNCE, LETTER_BOUNCED},
	    {LETTER_QUEUED, LETTER_EV_SUPPRESS, LETTER_SUPPRESSED},
	    {LETTER_DEFERRED, LETTER_EV_SUPPRESS, LETTER_SUPPRESSED},
	    {LETTER_QUEUED, LETTER_EV_SKIP, LETTER_SKIPPED},
	    {LETTER_DEFERRED, LETTER_EV_SKIP, LETTER_SKIPPED},
	    {LETTER_SENDING, LETTER_EV_RESOLVE_SENT, LETTER_SENT},
	    {LETTER_SENDING, LETTER_EV_RESOLVE_UNSENT, LETTER_QUEUED},
	};
	for (int s = 0; s < LETTER_STATE_COUNT; s++)
		for (int e = 0; e < LETTER_EVENT_COUNT; e++) {
			enum letter_state want = LETTER_INVALID;
			for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
				if (allowed[i].from == (enum letter_state)s &&
				    allowed[i].event == (enum letter_event)e)
					want = allowed[i].to;
			assert_int_equal(letter_transition((enum letter_state)s, (enum letter_event)e), want);
		}
	/* never sent twice: from sent, bounced, failed no event leads to sending or queued */
	for (int e = 0; e < LETTER_EVENT_COUNT; e++) {
		assert_int_not_equal(letter_transition(LETTER_SENT, (enum letter_event)e), LETTER_SENDING);
		assert_int_not_equal(letter_transition(LETTER_SENT, (enum letter_event)e), LETTER_QUEUED);
		assert_int_equal(letter_transition(LETTER_FAILED, (enum letter_event)e), LETTER_INVALID);
		assert_int_equal(letter_transition(LETTER_BOUNCED, (enum letter_event)e), LETTER_INVALID);
	}
	assert_int_equal(letter_transition(LETTER_INVALID, LETTER_EV_CLAIM), LETTER_INVALID);
}

static void letter_state_names_round_trip(void **unused)
{
	const char *stored[] = {"queued", "sending", "sent",	   "deferred",
				"failed", "bounced", "suppressed", "skipped"};
	assert_int_equal(sizeof stored / sizeof stored[0], LETTER_STATE_COUNT);
	for (int s = 0; s < LETTER_STATE_COUNT; s++) {
		assert_string_equal(letter_state_name((enum letter_state)s), stored[s]);
		assert_int_equal(letter_state_parse(stored[s]), s);
	}
	assert_int_equal(letter_state_parse("Queued"), LETTER_INVALID);
	assert_int_equal(letter_state_parse(NULL), LETTER_INVALID);
	assert_null(letter_state_name(LETTER_STATE_COUNT));
	assert_string_equal(letter_event_name(LETTER_EV_RESOLVE_UNSENT), "resolve-unsent");
}

/* ---- tickets ---- */

static void tickets_have_their_format_and_check(void **unused)
{
	const uint8_t zero[TICKET_RANDOM_BYTES] = {0},
		      ones[TICKET_RANDOM_BYTES] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	char t[TICKET_LEN + 1], back[TICKET_LEN + 1];
	ticket_make(zero, t);
	assert_string_equal(t, "00000-00000");
	ticket_make(ones, t);
	/* the low 45 bits: nine 'Z's, then the check */
	assert_memory_equal(t, "ZZZZZ-ZZZZ", 10);
	uint8_t r[TICKET_RANDOM_BYTES] = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc};
	ticket_make(r, t);
	assert_int_equal(strlen(t), TICKET_LEN);
	assert_int_equal(t[5], '-');
	for (size_t i = 0; i < TICKET_LEN; i++)
		assert_true(i == 5 || strchr("0123456789ABCDEFGHJKMNPQRSTVWXYZ", t[i]) != NULL);
	assert_int_equal(ticket_parse(t, strlen(t), back), 0);
	assert_string_equal(back, t);
	/* forgiving: case, no hyphen, spaces, I/L/O for 1/1/0 */
	char loose[32];
	snprintf(loose, sizeof loose, " %.5s %s", t, t + 6);
	for (char *p = loose; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	assert_int_equal(ticket_parse(loose, strlen(loose), back), 0);
	assert_string_equal(back, t);
	ticket_make(zero, t);
	assert_int_equal(ticket_parse("oOooO-0000o", 11, back), 0);
	assert_string_equal(back, "00000-00000");
	/* every single changed character is caught */
	ticket_make(r, t);
	const char *alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
	for (size_t i = 0; i < TICKET_LEN; i++) {
		if (i == 5)
			continue;
		for (const char *a = alphabet; *a; a++) {
			if (*a == t[i])
				continue;
			char bad[TICKET_LEN + 1];
			memcpy(bad, t, sizeof bad);
			bad[i] = *a;
			assert_int_equal(ticket_parse(bad, TICKET_LEN, back), -1);
		}
	}
	/* wrong lengths and characters */
	assert_int_equal(ticket_parse(t, TICKET_LEN - 1, back), -1);
	assert_int_equal(ticket_parse("00000-000000", 12, back), -1);
	assert_int_equal(ticket_parse("0000U-00000", 11, back), -1);
	assert_int_equal(ticket_parse("", 0, back), -1);
}

static void ticket_keys_are_hmacs(void **unused)
{
	struct token_secret s = {{1, 2, 3}};
	uint8_t k1[TICKET_CAMPAIGN_KEY_LEN], k2[TICKET_CAMPAIGN_KEY_LEN];
	ticket_campaign_key(&s, "00ff", k1);
	ticket_campaign_key(&s, "00fe", k2);
	assert_memory_not_equal(k1, k2, sizeof k1);
	char a[TICKET_KEY_LEN + 1], b[TICKET_KEY_LEN + 1];
	ticket_key(k1, "00000-00000", a);
	ticket_key(k2, "00000-00000", b);
	assert_int_equal(strlen(a), TICKET_KEY_LEN);
	assert_string_not_equal(a, b);
	/* HMAC-SHA256(HMAC-SHA256({1,2,3,0...}, "plughole ticket key\0" "00ff"), "00000-00000"), first 16
	 * bytes, computed with Python's hmac module */
	assert_string_equal(a, "31771173c7920d7ec5c43f3ab856a532");
}

/* ---- suppression rules ---- */

static void suppression_rules_parse(void **unused)
{
	struct suppress_rule r;
	const char *why = NULL;
	assert_int_equal(suppress_parse("Abuse@Example.NET", 17, &r, &why), 0);
	assert_int_equal(r.kind, SUPPRESS_ADDRESS);
	assert_string_equal(r.value, "abuse@example.net");
	assert_int_equal(suppress_parse("@Sub.Example.net", 16, &r, &why), 0);
	assert_int_equal(r.kind, SUPPRESS_DOMAIN);
	assert_string_equal(r.value, "sub.example.net");
	assert_int_equal(suppress_parse("192.0.2.0/24", 12, &r, &why), 0);
	assert_int_equal(r.kind, SUPPRESS_NETWORK);
	assert_string_equal(r.value, "192.0.2.0-192.0.2.255");
	assert_int_equal(suppress_parse("2001:db8::/32", 13, &r, &why), 0);
	assert_string_equal(r.value, "2001:db8::-2001:db8:ffff:ffff:ffff:ffff:ffff:ffff");
	assert_int_equal(suppress_parse("192.0.2.7", 9, &r, &why), 0);
	assert_string_equal(r.value, "192.0.2.7");
	const char *bad[] = {"",
			     "@",
			     "@localhost",
			     "@-a.example",
			     "@a-.example",
			     "@a..example",
			     "@a.example.",
			     "@a_b.example",
			     "a b@example.net",
			     "@example.net@x",
			     "x@",
			     "@x@example.net",
			     "192.0.2.0/33",
			     "300.1.2.3",
			     "nonsense",
			     "<a@example.net>"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		why = NULL;
		assert_int_equal(suppress_parse(bad[i], strlen(bad[i]), &r, &why), -1);
		assert_non_null(why);
	}
	/* a letter's recipient: what campaign create accepts as a mailbox */
	assert_int_equal(mailbox_check("abuse+x@mail.example.org", 24, &why), 0);
	assert_int_equal(mailbox_check("abuse desk, room 12", 19, &why), -1);
	assert_string_equal(why, "no '@'");
	assert_int_equal(mailbox_check("a b@example.org", 15, &why), -1);
	assert_int_equal(mailbox_check("@example.org", 12, &why), -1);
	char domain[64];
	assert_int_equal(suppress_contact_domain("X@Mail.Example.ORG", domain, sizeof domain), 0);
	assert_string_equal(domain, "mail.example.org");
	assert_int_equal(suppress_contact_domain("nodomain", domain, sizeof domain), -1);
}

static void campaign_words_parse(void **unused)
{
	unsigned mask;
	const char *bad;
	size_t badlen;
	assert_int_equal(campaign_verdicts_parse("open-relay", &mask, &bad, &badlen), 0);
	assert_int_equal(mask, 1);
	assert_int_equal(campaign_verdicts_parse("open-proxy-web,open-relay", &mask, &bad, &badlen), 0);
	assert_int_equal(mask, 5);
	assert_int_equal(campaign_verdicts_parse("open-relay,closed", &mask, &bad, &badlen), -1);
	assert_int_equal(badlen, 6);
	assert_memory_equal(bad, "closed", 6);
	assert_int_equal(campaign_verdicts_parse("open-relay,", &mask, &bad, &badlen), -1);
	assert_true(campaign_name_valid("spring-2026_a"));
	assert_false(campaign_name_valid(""));
	assert_false(campaign_name_valid("-x"));
	assert_false(campaign_name_valid("a.b"));
	assert_false(campaign_name_valid("a b"));
	char long_name[66];
	memset(long_name, 'a', 65);
	long_name[65] = '\0';
	assert_false(campaign_name_valid(long_name));
	long_name[64] = '\0';
	assert_true(campaign_name_valid(long_name));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(control_is_reproducible_and_order_free),
	    cmocka_unit_test(control_share_per_stratum_within_rounding),
	    cmocka_unit_test(control_small_strata_still_hold_out_the_share),
	    cmocka_unit_test(letter_moves_are_exactly_the_table),
	    cmocka_unit_test(letter_state_names_round_trip),
	    cmocka_unit_test(tickets_have_their_format_and_check),
	    cmocka_unit_test(ticket_keys_are_hmacs),
	    cmocka_unit_test(suppression_rules_parse),
	    cmocka_unit_test(campaign_words_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
