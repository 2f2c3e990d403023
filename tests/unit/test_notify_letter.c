/* Letters: the model rendered through every shipped template, the CSV, the evidence URL and the return path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/paths.h"
#include "core/util.h"
#include "notify/csv.h"
#include "notify/letter.h"

static const struct letter_agency agencies[] = {
    {"ftc", "United States Federal Trade Commission", "FTC", "secure-your-server@ftc.example.org",
     "servers@ftc.example.org", "en"},
    {"ar", "Argentina: autoridad de protección al consumidor", "AR-CP", "secure-your-server@ar-cp.example.org",
     "servers@ar-cp.example.org", "es"},
    {"cgi", "Comitê Gestor da Internet no Brasil", "CGI.br", "secure-your-server@cgi-br.example.org", NULL,
     "pt-BR"},
    {"mic", "総務省", "MIC", "secure-your-server@mic.example.org", "servers@mic.example.org", "ja"},
};

static const struct letter_host hosts[] = {
    {"192.0.2.25", 25, "open-relay", "percent-hack", 1075385100, "Postfix", 64500, "US", NULL},
    {"2001:db8::8", 3128, "open-proxy-mail", "http-connect", 1075388700, "Squid", 64500, "US", NULL},
    {"192.0.2.26", 1080, "open-proxy-web", "socks5", 1075392300, NULL, 0, NULL, "T-2"},
    {"192.0.2.27", 25, "open-relay", "plain", 1075392300, "Postfix", 64500, "US", NULL},
};

static struct letter sample(const struct letter_agency *agency, bool lead)
{
	return (struct letter){
	    .campaign = "Secure Your Server 2004",
	    .campaign_domain = "letters.example.org",
	    .public_url = "https://sys.example.org/",
	    .agency = *agency,
	    .lead = lead,
	    .participants = agencies,
	    .participant_count = 4,
	    .owner = "Example Networks, Inc.",
	    .owner_handle = "EXNET-1",
	    .contact = "abuse@example.net",
	    .ticket = "SYS-4F2A-9C",
	    .ticket_key = "k3y",
	    .message_id = "<SYS-4F2A-9C.1@letters.example.org>",
	    .date = 1075400000,
	    .unsubscribe_url = "https://sys.example.org/unsubscribe/SYS-4F2A-9C?key=k3y",
	    .unsubscribe_mailto = "unsubscribe+SYS-4F2A-9C@letters.example.org",
	    .hosts = hosts,
	    .host_count = sizeof hosts / sizeof hosts[0],
	};
}

static char templates_dir[4096], guides_dir[4096];

static int setup(void **unused)
{
	data_path("templates", templates_dir, sizeof templates_dir);
	data_path("guides", guides_dir, sizeof guides_dir);
	return 0;
}

static void render(const struct letter *l, const char *agency, const char *language, struct letter_text *text)
{
	struct letter_templates t;
	struct tpl_error err;
	struct guides *g = guides_open(guides_dir);
	if (letter_templates_load(&t, templates_dir, agency, language, &err) != 0)
		fail_msg("%s", err.message);
	if (letter_render(l, &t, g, text, &err) != 0)
		fail_msg("%s", err.message);
	letter_templates_free(&t);
	guides_close(g);
}

static void contains(const char *haystack, const char *needle)
{
	if (strstr(haystack, needle) == NULL)
		fail_msg("missing \"%s\" in:\n%s", needle, haystack);
}

static void lead_letter_in_english(void **unused)
{
	struct letter l = sample(&agencies[0], true);
	struct letter_text text;
	render(&l, "ftc", "en", &text);
	if (getenv("SHOW_LETTER"))
		printf("Subject: %s\n\n%s", text.subject, text.body);
	assert_string_equal(text.subject, "[SYS-4F2A-9C] Open mail relay and open proxy on your network: 4 servers - "
					  "how to secure it");
	contains(text.body, "on behalf of all the agencies");
	contains(text.body, "Example Networks, Inc. (EXNET-1)");
	/* evidence first: every host, its finding, test, time, software and evidence page */
	contains(text.body, "  192.0.2.25:25\n    Finding:  open mail relay");
	contains(text.body, "    Test:     percent-hack\n    When:     2004-01-29 14:05 UTC\n    Software: Postfix\n"
			    "    Evidence: https://sys.example.org/t/SYS-4F2A-9C/k3y\n");
	contains(text.body, "  [2001:db8::8]:3128\n    Finding:  open proxy: it connected us to an outside mail");
	contains(text.body, "    Protocol: http-connect");
	contains(text.body, "    Protocol: socks5\n    When:     2004-01-29 16:05 UTC\n    Evidence: "
			    "https://sys.example.org/t/T-2/k3y\n");
	/* the harm, the 2004 letter's three consequences */
	contains(text.body, "clogged");
	contains(text.body, "costs");
	contains(text.body, "cut off");
	/* one guide per distinct product, actions only, with the first host's check */
	contains(text.body, "=== Postfix: 192.0.2.25:25, 192.0.2.27:25 ===\n\nFix\n---\n");
	contains(text.body, "swaks --server 192.0.2.25 --port 25");
	contains(text.body, "=== Squid: [2001:db8::8]:3128 ===");
	contains(text.body, "curl -sS -x http://[2001:db8::8]:3128");
	contains(text.body, "=== Any proxy: 192.0.2.26:1080 ===");
	assert_null(strstr(text.body, "Why it matters\n---"));
	assert_ptr_equal(strstr(text.body, "=== Postfix"), strstr(text.body, "==="));
	char *second = strstr(strstr(text.body, "=== Postfix") + 1, "=== Postfix");
	assert_null(second);
	/* every participant, and the way out */
	contains(text.body, "  - United States Federal Trade Commission\n  - Argentina");
	contains(text.body, "  - Comitê Gestor da Internet no Brasil\n");
	contains(text.body, "https://sys.example.org/unsubscribe/SYS-4F2A-9C?key=k3y");
	contains(text.body, "unsubscribe+SYS-4F2A-9C@letters.example.org");
	letter_text_free(&text);
}

static void one_host_subject_and_body(void **unused)
{
	struct letter l = sample(&agencies[0], true);
	l.host_count = 1;
	l.owner_handle = NULL;
	struct letter_text text;
	render(&l, "ftc", "en", &text);
	assert_string_equal(text.subject, "[SYS-4F2A-9C] Open mail relay on your network: 192.0.2.25:25 - how to secure it");
	contains(text.body, "To the network administrators of Example Networks, Inc.:\n");
	contains(text.body, "Our tests found a server on your network");
	contains(text.body, "=== Postfix ===");
	letter_text_free(&text);
}

/* Registry text is hostile: control bytes never reach the letter. */
static void hostile_owner_name_is_escaped(void **unused)
{
	struct letter l = sample(&agencies[0], true);
	l.owner = "Evil\r\nBcc: victim@example.com\x1b[2J";
	struct letter_text text;
	render(&l, "ftc", "en", &text);
	contains(text.body, "Evil\xef\xbf\xbd\nBcc: victim@example.com\xef\xbf\xbd[2J");
	letter_text_free(&text);
}

static void other_languages_and_fallback(void **unused)
{
	struct letter l = sample(&agencies[1], false);
	struct letter_text text;
	render(&l, "ar", "es", &text);
	contains(text.subject, "[SYS-4F2A-9C]");
	contains(text.body, "192.0.2.25:25");
	contains(text.body, "=== Postfix");
	letter_text_free(&text);
	l = sample(&agencies[2], false);
	render(&l, "cgi", "pt-BR", &text);
	contains(text.subject, "[SYS-4F2A-9C]");
	contains(text.body, "(secure-your-server@cgi-br.example.org)"); /* no Reply-To: the sender answers */
	letter_text_free(&text);
	l = sample(&agencies[3], false);
	render(&l, "mic", "ja", &text);
	assert_string_equal(text.subject, "[SYS-4F2A-9C] 貴ネットワークのオープンリレーおよびオープンプロキシについて"
					  "（サーバ4台）- 対策のお願い");
	contains(text.body, "  - 総務省\n");
	contains(text.body, "    日時:       2004-01-29 14:05 UTC\n");
	letter_text_free(&text);
	/* a subtag falls back to the language: pt-PT finds pt-BR only if pt exists */
	struct letter_templates t;
	struct tpl_error err;
	assert_int_equal(letter_templates_load(&t, templates_dir, "ftc", "en-GB", &err), 0);
	letter_templates_free(&t);
	assert_int_equal(letter_templates_load(&t, templates_dir, "ftc", "xx", &err), -1);
	contains(err.message, "/ftc/xx: no letter template");
}

/*
 * Every shipped template: strict rendering succeeds, and no letter suggests
 * a law was broken (the seeds' promise), in any language we ship.
 */
static void every_template_keeps_the_promise(void **unused)
{
	static const char *const forbidden[] = {
	    "law",	"legal",    "illegal",	"violat",   "offence",	"offense", "penalt", "fine ", "prosecut",
	    "crime",	"criminal", "ley",	"ilegal",   "delito",	"sanción", "multa",  "crimen", "infracci",
	    "lei ",	"penalidad", "penalidade", "infração", "ilícit",  "culpa",
	    "法律",	"違法",	"違反",	"罰",	"犯罪",
	};
	DIR *agencies_dir = opendir(templates_dir);
	assert_non_null(agencies_dir);
	int seen = 0;
	for (struct dirent *a; (a = readdir(agencies_dir)) != NULL;) {
		if (a->d_name[0] == '.')
			continue;
		char path[4600];
		snprintf(path, sizeof path, "%s/%s", templates_dir, a->d_name);
		DIR *languages = opendir(path);
		if (languages == NULL) /* README.md */
			continue;
		for (struct dirent *lang; (lang = readdir(languages)) != NULL;) {
			if (lang->d_name[0] == '.')
				continue;
			const struct letter_agency *agency = &agencies[0];
			for (size_t i = 0; i < sizeof agencies / sizeof agencies[0]; i++)
				if (strcmp(agencies[i].id, a->d_name) == 0)
					agency = &agencies[i];
			struct letter l = sample(agency, agency == &agencies[0]);
			struct letter_text text;
			render(&l, a->d_name, lang->d_name, &text);
			/* the whole letter, the fix guides included */
			for (size_t f = 0; f < sizeof forbidden / sizeof forbidden[0]; f++) {
				const char *hit = strcasestr(text.body, forbidden[f]);
				if (hit != NULL)
					fail_msg("%s/%s says \"%s\": %.60s", a->d_name, lang->d_name, forbidden[f], hit);
				if (strcasestr(text.subject, forbidden[f]))
					fail_msg("%s/%s subject says \"%s\"", a->d_name, lang->d_name, forbidden[f]);
			}
			seen++;
			letter_text_free(&text);
		}
		closedir(languages);
	}
	closedir(agencies_dir);
	assert_true(seen >= 4);
}

/* A large owner: the body lists the first hosts, the CSV all; without a limit, the body's bound holds. */
static void many_hosts(void **unused)
{
	enum { N = 20000 };
	struct letter_host *many = calloc(N, sizeof *many);
	static char addresses[N][16];
	for (int i = 0; i < N; i++) {
		snprintf(addresses[i], sizeof addresses[i], "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
		many[i] = hosts[i % 4];
		many[i].address = addresses[i];
	}
	struct letter l = sample(&agencies[0], true);
	l.hosts = many;
	l.host_count = N;
	l.max_hosts_listed = 10;
	struct letter_text text;
	render(&l, "ftc", "en", &text);
	contains(text.subject, "20000 servers");
	contains(text.body, "  10.0.0.8:25\n");
	assert_null(strstr(text.body, "\n  10.0.0.10:")); /* not listed (a guide heading may name it) */
	contains(text.body, "  ... and 19990 more servers, listed in the attached CSV file.\n");
	contains(text.body, "=== Postfix: 10.0.0.0:25, 10.0.0.3:25, 10.0.0.4:25, 10.0.0.7:25 (+9996) ===");
	letter_text_free(&text);
	struct textbuf csv;
	textbuf_init(&csv, 4u << 20);
	assert_int_equal(letter_csv(&l, &csv), 0);
	size_t rows = 0;
	for (size_t i = 0; i < csv.len; i++)
		rows += csv.data[i] == '\n';
	assert_int_equal(rows, N + 1);
	textbuf_free(&csv);
	/* every host listed: more than the body may hold, and the error says where */
	l.max_hosts_listed = 0;
	struct letter_templates t;
	struct tpl_error err;
	struct guides *g = guides_open(guides_dir);
	assert_int_equal(letter_templates_load(&t, templates_dir, "ftc", "en", &err), 0);
	assert_int_equal(letter_render(&l, &t, g, &text, &err), -1);
	contains(err.message, "ftc/en/body.txt:");
	contains(err.message, "output larger than its limit");
	assert_null(text.body);
	letter_templates_free(&t);
	guides_close(g);
	free(many);
}

static void hosts_as_csv(void **unused)
{
	struct letter l = sample(&agencies[0], true);
	struct textbuf out;
	textbuf_init(&out, 1 << 16);
	assert_int_equal(letter_csv(&l, &out), 0);
	assert_string_equal(out.data, "timestamp,ip,port,protocol,verdict,asn,country,software,ticket\r\n"
				      "2004-01-29T14:05:00Z,192.0.2.25,25,smtp,open-relay,64500,US,Postfix,SYS-4F2A-9C\r\n"
				      "2004-01-29T15:05:00Z,2001:db8::8,3128,http-connect,open-proxy-mail,64500,US,Squid,"
				      "SYS-4F2A-9C\r\n"
				      "2004-01-29T16:05:00Z,192.0.2.26,1080,socks5,open-proxy-web,,,,T-2\r\n"
				      "2004-01-29T16:05:00Z,192.0.2.27,25,smtp,open-relay,64500,US,Postfix,SYS-4F2A-9C\r\n");
	textbuf_free(&out);
}

static void csv_quotes_by_rfc4180(void **unused)
{
	struct textbuf out;
	textbuf_init(&out, 1 << 10);
	const char *fields[] = {"plain", "a,b", "say \"hi\"", "two\r\nlines", " pad", NULL, "", "\"", "ünï"};
	assert_int_equal(csv_record(&out, fields, sizeof fields / sizeof fields[0]), 0);
	assert_string_equal(out.data, "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\r\nlines\",\" pad\",,,\"\"\"\",ünï\r\n");
	textbuf_free(&out);
	textbuf_init(&out, 8); /* the limit holds */
	assert_int_equal(csv_record(&out, fields, 2), -1);
	textbuf_free(&out);
}

/* Peer text a spreadsheet would run (a banner "=HYPERLINK(...)") starts with an apostrophe; figures do not. */
static void csv_defuses_formulas(void **unused)
{
	struct textbuf out;
	textbuf_init(&out, 1 << 10);
	const char *fields[] = {"=HYPERLINK(\"x\")", "+1+cmd", "@SUM(A1)", "-2+3", "\tx", "-12.5", "+3", "-", "25", "a=b"};
	assert_int_equal(csv_record(&out, fields, ARRAY_SIZE(fields)), 0);
	assert_string_equal(out.data, "\"'=HYPERLINK(\"\"x\"\")\",'+1+cmd,'@SUM(A1),'-2+3,'\tx,-12.5,+3,-,25,a=b\r\n");
	textbuf_free(&out);
}

static void evidence_url_and_return_path(void **unused)
{
	struct letter l = sample(&agencies[0], true);
	char buf[128];
	assert_int_equal(letter_evidence_url(&l, "T-1", buf, sizeof buf), 0);
	assert_string_equal(buf, "https://sys.example.org/t/T-1/k3y");
	l.ticket_key = NULL;
	l.public_url = "https://sys.example.org";
	assert_int_equal(letter_evidence_url(&l, "T-1", buf, sizeof buf), 0);
	assert_string_equal(buf, "https://sys.example.org/t/T-1");
	assert_int_equal(letter_evidence_url(&l, "T-1", buf, 10), -1);
	assert_int_equal(letter_return_path("SYS-4F2A-9C", "letters.example.org", buf, sizeof buf), 0);
	assert_string_equal(buf, "bounces+SYS-4F2A-9C@letters.example.org");
	assert_int_equal(letter_return_path("a@b", "letters.example.org", buf, sizeof buf), -1);
	assert_int_equal(letter_return_path("a b", "letters.example.org", buf, sizeof buf), -1);
	assert_int_equal(letter_return_path("", "letters.example.org", buf, sizeof buf), -1);
	assert_int_equal(letter_return_path("T", NULL, buf, sizeof buf), -1);
	assert_int_equal(letter_return_path("T", "letters.example.org", buf, 12), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(lead_letter_in_english),
	    cmocka_unit_test(one_host_subject_and_body),
	    cmocka_unit_test(hostile_owner_name_is_escaped),
	    cmocka_unit_test(other_languages_and_fallback),
	    cmocka_unit_test(every_template_keeps_the_promise),
	    cmocka_unit_test(many_hosts),
	    cmocka_unit_test(hosts_as_csv),
	    cmocka_unit_test(csv_quotes_by_rfc4180),
	    cmocka_unit_test(csv_defuses_formulas),
	    cmocka_unit_test(evidence_url_and_return_path),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
