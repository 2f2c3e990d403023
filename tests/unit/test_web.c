/* The owners' web's pure parts: paths, routes, form fields, languages, password hashes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "web/web.h"

static void paths_with_dot_segments_are_refused(void **unused)
{
	assert_true(web_path_ok("/"));
	assert_true(web_path_ok("/guides/postfix"));
	assert_true(web_path_ok("/t/ABCDE-FGHJK/0123"));
	assert_true(web_path_ok("/guides/a..b")); /* dots inside a name are no traversal */
	assert_false(web_path_ok("/guides/../etc/passwd"));
	assert_false(web_path_ok("/guides/.."));
	assert_false(web_path_ok("/.."));
	assert_false(web_path_ok("/./guides"));
	assert_false(web_path_ok("/guides//postfix"));
	assert_false(web_path_ok("/guides\\..\\x"));
	assert_false(web_path_ok("/guides/a\nb"));
	assert_false(web_path_ok("guides"));
	assert_false(web_path_ok(NULL));
}

static void routes_take_segments_and_name_other_methods(void **unused)
{
	struct web_request req;
	web_handler h = NULL;
	const char *allow = NULL;
	memset(&req, 0, sizeof req);
	assert_int_equal(web_route("GET", "/t/ABCDE-FGHJK/abc", &req, &h, &allow), 0);
	assert_ptr_equal(h, page_ticket);
	assert_int_equal(req.param_count, 2);
	assert_string_equal(req.params[0], "ABCDE-FGHJK");
	assert_string_equal(req.params[1], "abc");
	assert_int_equal(web_route("POST", "/t/A/B/unsubscribe", &req, &h, &allow), 0);
	assert_ptr_equal(h, page_optout);
	assert_int_equal(web_route("GET", "/t/A/B/unsubscribe", &req, &h, &allow), 0);
	assert_ptr_equal(h, page_optout_form);
	assert_int_equal(web_route("GET", "/guides/exim", &req, &h, &allow), 0);
	assert_ptr_equal(h, page_guide);
	assert_int_equal(web_route("GET", "/", &req, &h, &allow), 0);
	assert_ptr_equal(h, page_campaign);
	assert_int_equal(web_route("GET", "/t/A", &req, &h, &allow), 404);
	assert_int_equal(web_route("GET", "/t//B", &req, &h, &allow), 404); /* an empty segment */
	assert_int_equal(web_route("GET", "/guides/exim/x", &req, &h, &allow), 404);
	assert_int_equal(web_route("POST", "/t/A/B", &req, &h, &allow), 405);
	assert_string_equal(allow, "GET, HEAD");
	assert_int_equal(web_route("GET", "/admin/login", &req, &h, &allow), 405);
	assert_string_equal(allow, "POST");
	assert_int_equal(web_route("DELETE", "/t/A/B/unsubscribe", &req, &h, &allow), 405);
	assert_string_equal(allow, "GET, HEAD, POST");
}

static void form_fields_are_decoded_and_bounded(void **unused)
{
	const char *body = "csrf=ab12&password=correct+horse%20battery%21&List-Unsubscribe=One-Click&empty=";
	char buf[64];
	assert_int_equal(web_form_field(body, strlen(body), "password", buf, sizeof buf), 1);
	assert_string_equal(buf, "correct horse battery!");
	assert_int_equal(web_form_field(body, strlen(body), "List-Unsubscribe", buf, sizeof buf), 1);
	assert_string_equal(buf, "One-Click");
	assert_int_equal(web_form_field(body, strlen(body), "empty", buf, sizeof buf), 1);
	assert_string_equal(buf, "");
	assert_int_equal(web_form_field(body, strlen(body), "csr", buf, sizeof buf), 0);
	assert_int_equal(web_form_field(body, strlen(body), "password", buf, 8), -1);
	/* the length bounds it: no NUL needed, nothing past it read */
	assert_int_equal(web_form_field(body, 4, "csrf", buf, sizeof buf), 1);
	assert_string_equal(buf, "");
	assert_int_equal(web_form_field("a=%4", 4, "a", buf, sizeof buf), 1);
	assert_string_equal(buf, "%4"); /* a broken escape stays as it is */
}

static void languages_follow_q_values_and_primary_tags(void **unused)
{
	const char *const have[] = {"en", "es", "pt-BR"};
	assert_string_equal(web_pick_language("es-AR,es;q=0.9,en;q=0.8", have, 3, "en"), "es");
	assert_string_equal(web_pick_language("en;q=0.5, pt-BR", have, 3, "en"), "pt-BR");
	assert_string_equal(web_pick_language("pt", have, 3, "en"), "pt-BR");
	assert_string_equal(web_pick_language("pt-PT;q=0.9, en;q=0.2", have, 3, "en"), "pt-BR");
	assert_string_equal(web_pick_language("de, fr;q=0.5", have, 3, "en"), "en");
	assert_string_equal(web_pick_language("es;q=0, en;q=0.1", have, 3, "en"), "en");
	assert_string_equal(web_pick_language("*", have, 3, "en"), "en");
	assert_string_equal(web_pick_language(NULL, have, 3, "en"), "en");
	assert_string_equal(web_pick_language("", have, 3, "en"), "en");
	assert_string_equal(web_pick_language("ES", have, 3, "en"), "es");
}

static void passwords_hash_with_salt_and_check(void **unused)
{
	char a[256], b[256];
	assert_int_equal(web_password_hash("correct horse battery", a, sizeof a), 0);
	assert_int_equal(web_password_hash("correct horse battery", b, sizeof b), 0);
	assert_memory_equal(a, "$y$", 3); /* yescrypt */
	assert_string_not_equal(a, b);	   /* salted */
	assert_true(web_password_check("correct horse battery", a));
	assert_true(web_password_check("correct horse battery", b));
	assert_false(web_password_check("correct horse batterY", a));
	assert_false(web_password_check("", a));
	assert_false(web_password_check("correct horse battery", "$y$broken"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(paths_with_dot_segments_are_refused),
		cmocka_unit_test(routes_take_segments_and_name_other_methods),
		cmocka_unit_test(form_fields_are_decoded_and_bounded),
		cmocka_unit_test(languages_follow_q_values_and_primary_tags),
		cmocka_unit_test(passwords_hash_with_salt_and_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
