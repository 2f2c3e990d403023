/* The proxy tests' pure parts: HTTP answers, SOCKS messages, gateway prompts, nonces, plans. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h> /* after what it uses */

#include "probe/fingerprint.h"
#include "probe/probe.h"
#include "probe/proxy_parse.h"
#include "probe/smtp_message.h"

static enum proxy_parse http(const char *text, struct http_response *r)
{
	return http_response_parse(text, strlen(text), r);
}

static void parses_http_answers(void **unused)
{
	struct http_response r;
	const char *ok = "HTTP/1.1 200 Connection established\r\n\r\n220 sink ESMTP\r\n";
	assert_int_equal(http(ok, &r), PROXY_PARSE_DONE);
	assert_int_equal(r.code, 200);
	assert_int_equal(r.minor, 1);
	assert_int_equal(r.head_len, strlen("HTTP/1.1 200 Connection established\r\n\r\n"));
	const char *refused =
	    "HTTP/1.0 403 Forbidden\r\nServer: squid/5.7\r\nVia: 1.1 gw (squid/5.7)\r\n\r\n<html>";
	assert_int_equal(http(refused, &r), PROXY_PARSE_DONE);
	assert_int_equal(r.code, 403);
	const char *value;
	size_t vlen;
	assert_true(http_header_value(refused, r.head_len, "server", &value, &vlen));
	assert_int_equal(vlen, strlen("squid/5.7"));
	assert_memory_equal(value, "squid/5.7", vlen);
	assert_true(http_header_value(refused, r.head_len, "VIA", &value, &vlen));
	assert_false(http_header_value(refused, r.head_len, "Proxy-Agent", &value, &vlen));
	assert_false(http_header_value(refused, r.head_len, "Serv", &value, &vlen)); /* whole names only */
	/* bare LF, no reason phrase */
	assert_int_equal(http("HTTP/1.0 407\nProxy-Authenticate: Basic\n\n", &r), PROXY_PARSE_DONE);
	assert_int_equal(r.code, 407);
	/* incomplete: wait */
	assert_int_equal(http("HTTP/1.", &r), PROXY_PARSE_MORE);
	assert_int_equal(http("HT", &r), PROXY_PARSE_MORE);
	assert_int_equal(http("HTTP/1.0 200 OK\r\nServer: x\r\n", &r), PROXY_PARSE_MORE);
	assert_int_equal(http("", &r), PROXY_PARSE_MORE);
}

static void rejects_what_is_not_http(void **unused)
{
	struct http_response r;
	assert_int_equal(http("220 mx ESMTP\r\n", &r), PROXY_PARSE_BAD);
	assert_int_equal(http("\x05\xff", &r), PROXY_PARSE_BAD);
	assert_int_equal(http("WinGate>", &r), PROXY_PARSE_BAD);
	assert_int_equal(http("HTTP/2 200\r\n\r\n", &r), PROXY_PARSE_BAD);
	assert_int_equal(http("HTTP/1.1 20 OK\r\n\r\n", &r), PROXY_PARSE_BAD);
	assert_int_equal(http("HTTP/1.1 2000 OK\r\n\r\n", &r), PROXY_PARSE_BAD);
	assert_int_equal(http("HTTP/1.1 999 Nine\r\n\r\n", &r), PROXY_PARSE_BAD);
	assert_int_equal(http("HTTP/1.1 200OK\r\n\r\n", &r), PROXY_PARSE_BAD);
	/* an endless head is cut at the bound */
	char endless[PROXY_READ_MAX + 100];
	memset(endless, 'a', sizeof endless);
	memcpy(endless, "HTTP/1.0 200 OK\r\nX: ", 20);
	assert_int_equal(http_response_parse(endless, sizeof endless, &r), PROXY_PARSE_TOO_LONG);
	memcpy(endless, "HTTP/1.0 200 OK", 15); /* an endless status line too */
	assert_int_equal(http_response_parse(endless, sizeof endless, &r), PROXY_PARSE_TOO_LONG);
	assert_int_equal(http_response_parse(endless, 100, &r), PROXY_PARSE_MORE);
}

static void builds_socks_requests(void **unused)
{
	struct addr v4, v6;
	assert_int_equal(addr_parse("127.0.45.1", 10, &v4), 0);
	assert_int_equal(addr_parse("::1", 3, &v6), 0);
	uint8_t out[300];
	size_t n = socks4_request_build(out, sizeof out, &v4, 2525, "ph", false);
	assert_int_equal(n, 8 + 3);
	assert_memory_equal(out, "\x04\x01\x09\xdd\x7f\x00\x2d\x01ph\0", n);
	n = socks4_request_build(out, sizeof out, &v4, 25, "ph", true); /* 4a: 0.0.0.1, then the name */
	assert_memory_equal(out,
			    "\x04\x01\x00\x19\x00\x00\x00\x01ph\0"
			    "127.0.45.1\0",
			    n);
	assert_int_equal(n, 8 + 3 + 11);
	assert_int_equal(socks4_request_build(out, sizeof out, &v6, 25, "ph", false),
			 0);							  /* SOCKS4 has no IPv6 */
	assert_int_equal(socks4_request_build(out, 10, &v4, 25, "ph", false), 0); /* too small */
	n = socks5_request_build(out, sizeof out, &v4, 25, false);
	assert_int_equal(n, 10);
	assert_memory_equal(out, "\x05\x01\x00\x01\x7f\x00\x2d\x01\x00\x19", n);
	n = socks5_request_build(out, sizeof out, &v6, 25, false);
	assert_int_equal(n, 22);
	assert_int_equal(out[3], 4);
	assert_int_equal(out[19], 1);
	n = socks5_request_build(out, sizeof out, &v4, 25, true);
	assert_int_equal(n, 4 + 1 + 10 + 2);
	assert_memory_equal(out,
			    "\x05\x01\x00\x03\x0a"
			    "127.0.45.1\x00\x19",
			    n);
}

static void parses_socks_replies(void **unused)
{
	uint8_t code;
	size_t used;
	assert_int_equal(socks4_reply_parse((const uint8_t *)"\0\x5a\0\0\0\0\0\0", 8, &code),
			 PROXY_PARSE_DONE);
	assert_int_equal(code, SOCKS4_GRANTED);
	assert_int_equal(socks4_reply_parse((const uint8_t *)"\x04\x5b\0\0\0\0\0\0", 8, &code),
			 PROXY_PARSE_DONE);
	assert_int_equal(code, SOCKS4_REJECTED);
	assert_int_equal(socks4_reply_parse((const uint8_t *)"\0\x5a\0", 3, &code), PROXY_PARSE_MORE);
	assert_int_equal(socks4_reply_parse((const uint8_t *)"\x05\xff", 2, &code),
			 PROXY_PARSE_BAD); /* SOCKS5 */
	assert_int_equal(socks4_reply_parse((const uint8_t *)"HTTP/1.0", 8, &code), PROXY_PARSE_BAD);
	assert_int_equal(socks4_reply_parse((const uint8_t *)"\0\x20", 2, &code), PROXY_PARSE_BAD);
	assert_string_equal(socks4_reply_name(92), "rejected: no identd");

	assert_int_equal(socks5_method_parse((const uint8_t *)"\x05\x00", 2, &code), PROXY_PARSE_DONE);
	assert_int_equal(code, SOCKS5_NO_AUTH);
	assert_int_equal(socks5_method_parse((const uint8_t *)"\x05\xff", 2, &code), PROXY_PARSE_DONE);
	assert_int_equal(code, SOCKS5_NO_METHOD);
	assert_int_equal(socks5_method_parse((const uint8_t *)"\x05", 1, &code), PROXY_PARSE_MORE);
	assert_int_equal(socks5_method_parse((const uint8_t *)"\x04\x5a", 2, &code), PROXY_PARSE_BAD);

	const uint8_t v4[] = {5, 0, 0, 1, 127, 0, 0, 1, 0x30, 0x39, 'x'};
	assert_int_equal(socks5_reply_parse(v4, sizeof v4, &code, &used), PROXY_PARSE_DONE);
	assert_int_equal(code, SOCKS5_SUCCEEDED);
	assert_int_equal(used, 10); /* the tunnel's first byte stays */
	assert_int_equal(socks5_reply_parse(v4, 9, &code, &used), PROXY_PARSE_MORE);
	const uint8_t v6[22] = {5, 2, 0, 4};
	assert_int_equal(socks5_reply_parse(v6, sizeof v6, &code, &used), PROXY_PARSE_DONE);
	assert_int_equal(code, 2);
	assert_int_equal(used, 22);
	const uint8_t name[] = {5, 5, 0, 3, 3, 'a', 'b', 'c', 0, 25};
	assert_int_equal(socks5_reply_parse(name, sizeof name, &code, &used), PROXY_PARSE_DONE);
	assert_int_equal(used, 10);
	assert_int_equal(socks5_reply_parse(name, 4, &code, &used), PROXY_PARSE_MORE);
	const uint8_t atyp[] = {5, 0, 0, 9, 0, 0, 0, 0, 0, 0};
	assert_int_equal(socks5_reply_parse(atyp, sizeof atyp, &code, &used), PROXY_PARSE_BAD);
	assert_int_equal(socks5_reply_parse((const uint8_t *)"\0\x5a", 2, &code, &used), PROXY_PARSE_BAD);
	assert_string_equal(socks5_reply_name(2), "not allowed by ruleset");
	assert_string_equal(socks5_reply_name(200), "unknown");
}

static enum gateway_prompt prompt(const char *text)
{
	return gateway_prompt_classify(text, strlen(text));
}

static void classifies_gateway_prompts(void **unused)
{
	assert_int_equal(prompt("WinGate>"), GATEWAY_PROMPT_HOST);
	assert_int_equal(prompt("WinGate> "), GATEWAY_PROMPT_HOST);
	assert_int_equal(prompt("Enter host:"), GATEWAY_PROMPT_HOST);
	assert_int_equal(prompt("Password: "), GATEWAY_PROMPT_PASSWORD);
	assert_int_equal(prompt("Username:"), GATEWAY_PROMPT_ACCOUNT);
	assert_int_equal(prompt("router login:"), GATEWAY_PROMPT_ACCOUNT);
	assert_int_equal(prompt("Router>"), GATEWAY_PROMPT_EXEC);
	assert_int_equal(prompt("gw-1#"), GATEWAY_PROMPT_EXEC);
	assert_int_equal(prompt("Connecting to host"), GATEWAY_PROMPT_NONE);
	assert_int_equal(prompt("<html>"),
			 GATEWAY_PROMPT_EXEC); /* one word and '>': judged by what follows */
	assert_int_equal(prompt("this is a sentence >"), GATEWAY_PROMPT_NONE);
	assert_int_equal(prompt(""), GATEWAY_PROMPT_NONE);
	assert_string_equal(gateway_prompt_names[GATEWAY_PROMPT_EXEC], "exec");

	const char *lines[] = {"% Connection refused by remote host", "Host name lookup failed",
			       "Access denied", "Too many connected users - try again later",
			       "% Bad passwords"};
	for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
		assert_true(gateway_line_refuses(lines[i], strlen(lines[i])));
	const char *fine[] = {"Trying 127.0.45.1, 2525 ... Open", "Connecting to host 127.0.45.1...Connected",
			      "User Access Verification"};
	for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++)
		assert_false(gateway_line_refuses(fine[i], strlen(fine[i])));
}

static void tells_text_from_junk(void **unused)
{
	const char *banner = "\r\n\r\nUser Access Verification\r\n\r\nPassword: \a";
	assert_true(gateway_text_plausible((const uint8_t *)banner, strlen(banner)));
	const char *utf8 = "Willkommen \xc3\xbc\xc3\xa4 bei WinGate\r\nWinGate>";
	assert_true(gateway_text_plausible((const uint8_t *)utf8, strlen(utf8)));
	uint8_t junk[512];
	uint32_t x = 0x2004;
	for (size_t i = 0; i < sizeof junk; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		junk[i] = (uint8_t)(x >> 24);
	}
	assert_false(gateway_text_plausible(junk, sizeof junk));
	assert_true(gateway_text_plausible(junk, 0));
}

static void strips_telnet_commands(void **unused)
{
	/* IAC WILL ECHO, IAC SB ... IAC SE, an escaped 255, data around them */
	const uint8_t in[] = {'a', 255, 251, 1, 'b', 255, 250, 24, 1, 255, 240, 'c', 255, 255, 'd'};
	uint8_t out[sizeof in];
	size_t used, n = telnet_strip(in, sizeof in, out, &used);
	assert_int_equal(used, sizeof in);
	assert_int_equal(n, 5);
	assert_memory_equal(out,
			    "abc\xff"
			    "d",
			    5);
	/* a command cut at the end waits for the rest */
	const uint8_t cut[] = {'x', 255, 253};
	n = telnet_strip(cut, sizeof cut, out, &used);
	assert_int_equal(n, 1);
	assert_int_equal(used, 1);
	const uint8_t sb[] = {255, 250, 24, 1, 2};
	assert_int_equal(telnet_strip(sb, sizeof sb, out, &used), 0);
	assert_int_equal(used, 0);
	/* in place */
	uint8_t buf[] = {'P', 255, 252, 1, 'w'};
	n = telnet_strip(buf, sizeof buf, buf, &used);
	assert_int_equal(n, 2);
	assert_memory_equal(buf, "Pw", 2);
}

static void finds_target_nonces(void **unused)
{
	char nonce[TARGET_NONCE_MAX + 1];
	const char *banner = "220 plughole-target 0123456789abcdef0123456789abcdef sink.test ready\r\n";
	assert_true(target_nonce_find(banner, strlen(banner), nonce));
	assert_string_equal(nonce, "0123456789abcdef0123456789abcdef");
	const char *page =
	    "HTTP/1.0 200 OK\r\nX-Plughole-Nonce: 00ff\r\n\r\nplughole-target 00ff00ff00ff00ff00ff x\r\n";
	assert_true(target_nonce_find(page, strlen(page), nonce));
	assert_string_equal(nonce, "00ff00ff00ff00ff00ff");
	/* cut short by the buffer's end, too short, not hex, absent: no nonce */
	const char *cut = "221 plughole-target 0123456789abcdef0123";
	assert_false(target_nonce_find(cut, strlen(cut), nonce));
	const char *shortish = "plughole-target abcd \r\n";
	assert_false(target_nonce_find(shortish, strlen(shortish), nonce));
	const char *words = "plughole-target is where the nonce goes\r\n";
	assert_false(target_nonce_find(words, strlen(words), nonce));
	const char *block = "HTTP/1.0 200 OK\r\n\r\n<h1>Access to this site is blocked</h1>\r\n";
	assert_false(target_nonce_find(block, strlen(block), nonce));
}

static void detects_proxy_software(void **unused)
{
	const struct {
		const char *text, *software;
	} cases[] = {
	    {"HTTP/1.1 403 Forbidden\r\nServer: squid/5.7\r\n", "Squid"},
	    {"HTTP/1.0 200 Connection established\r\nProxy-agent: tinyproxy/1.11.1\r\n", "tinyproxy"},
	    {"HTTP/1.1 200 OK\r\nServer: Mikrotik HttpProxy\r\n", "MikroTik"},
	    {"HTTP/1.0 403 Forbidden\r\nServer: Apache/2.4.62 (Debian)\r\n", "Apache mod_proxy"},
	    {"WinGate>", "WinGate"},
	    {"User Access Verification", "Cisco IOS"},
	    {"Proxy-agent: Privoxy 3.0.34", "Privoxy"},
	    {"Server: CCProxy", "CCProxy"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *got = fingerprint_detect(FINGERPRINT_PROXY, cases[i].text, strlen(cases[i].text));
		assert_non_null(got);
		assert_string_equal(got, cases[i].software);
	}
	assert_null(fingerprint_detect(FINGERPRINT_PROXY, "HTTP/1.0 200 OK\r\n", 17));
}

static uint32_t bits(const char *const *names)
{
	uint32_t plan = 0;
	for (; *names; names++)
		plan |= 1u << probe_module_index(probe_module_find(*names));
	return plan;
}

static void plans_modules_by_port(void **unused)
{
	struct probe_selection both = {.families = PROBE_RELAY | PROBE_PROXY};
	assert_int_equal(probe_plan(&both, 25), bits((const char *[]){"smtp-relay", NULL}));
	assert_int_equal(probe_plan(&both, 587), bits((const char *[]){"smtp-relay", NULL}));
	assert_int_equal(probe_plan(&both, 3128),
			 bits((const char *[]){"http-connect", "http-post", "http-get", NULL}));
	assert_int_equal(probe_plan(&both, 1080), bits((const char *[]){"socks4", "socks5", NULL}));
	assert_int_equal(probe_plan(&both, 23), bits((const char *[]){"wingate", "router", NULL}));
	assert_int_equal(probe_plan(&both, 443),
			 bits((const char *[]){"https-connect", "https-post", "https-get", NULL}));
	assert_int_equal(probe_plan(&both, 12345),
			 bits((const char *[]){"http-connect", "http-post", "http-get", "socks4", "socks5",
					       "wingate", "router", NULL}));
	/* one family: the other's ports are left for its own run, any other port gets the one */
	struct probe_selection relay = {.families = PROBE_RELAY};
	assert_int_equal(probe_plan(&relay, 12345), bits((const char *[]){"smtp-relay", NULL}));
	assert_int_equal(probe_plan(&relay, 3128), 0);
	struct probe_selection proxy = {.families = PROBE_PROXY};
	assert_int_equal(probe_plan(&proxy, 12345), probe_plan(&both, 12345));
	assert_int_equal(probe_plan(&proxy, 25), 0);
	assert_int_equal(probe_plan(&proxy, 1080), probe_plan(&both, 1080));
	/* named modules: on their ports, or anywhere when no chosen one claims the port */
	struct probe_selection named = {.families = PROBE_PROXY,
					.modules = bits((const char *[]){"socks5h", NULL})};
	assert_int_equal(probe_plan(&named, 3128), bits((const char *[]){"socks5h", NULL}));
	/* ports replaced */
	static const uint16_t socks_here[] = {3128, 0};
	struct probe_selection moved = {.families = PROBE_RELAY | PROBE_PROXY};
	moved.ports[probe_module_index(&probe_socks5)] = socks_here;
	assert_int_equal(probe_plan(&moved, 3128),
			 bits((const char *[]){"http-connect", "http-post", "http-get", "socks5", NULL}));
	assert_int_equal(probe_plan(&moved, 1080), bits((const char *[]){"socks4", NULL}));
	struct probe_selection none = {0};
	assert_int_equal(probe_plan(&none, 25), 0);
	/* the registry: relays first, every name unique, test ids fit a byte */
	assert_ptr_equal(probe_module_at(0), &probe_smtp_relay);
	assert_null(probe_module_at(probe_module_count()));
	for (size_t i = 0; i < probe_module_count(); i++)
		assert_ptr_equal(probe_module_find(probe_module_at(i)->name), probe_module_at(i));
	assert_true(PROBE_TEST_PROXY + probe_module_count() < 256);
}

static void formats_the_test_message(void **unused)
{
	struct smtp_message m = {
	    .kind = "Open proxy test",
	    .tested = "the proxy at 192.0.2.1:3128 (http-connect) forwards connections for anyone",
	    .from = "relaytest@verifier.test",
	    .token = "phtoken",
	    .sink_domain = "sink.test",
	    .variant = "http-connect",
	    .operator_name = "the test CERT",
	    .contact = NULL,
	};
	char out[SMTP_MESSAGE_MAX];
	size_t n = smtp_message_format(&m, 1075372800, out, sizeof out);
	assert_true(n > 0 && n < sizeof out);
	assert_non_null(strstr(out, "To: <phtoken@sink.test>\r\n"));
	assert_non_null(strstr(out, "Subject: Open proxy test phtoken\r\n"));
	assert_non_null(strstr(out, "Date: Thu, 29 Jan 2004 10:40:00 +0000\r\n"));
	assert_non_null(strstr(out, "opt out of further tests: relaytest@verifier.test\r\n"));
	assert_memory_equal(out + n - 5, "\r\n.\r\n", 5);
	assert_int_equal(smtp_message_format(&m, 0, out, 100), 0); /* too small */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(parses_http_answers),	  cmocka_unit_test(rejects_what_is_not_http),
	    cmocka_unit_test(builds_socks_requests),	  cmocka_unit_test(parses_socks_replies),
	    cmocka_unit_test(classifies_gateway_prompts), cmocka_unit_test(strips_telnet_commands),
	    cmocka_unit_test(tells_text_from_junk),	  cmocka_unit_test(finds_target_nonces),
	    cmocka_unit_test(detects_proxy_software),	  cmocka_unit_test(plans_modules_by_port),
	    cmocka_unit_test(formats_the_test_message),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
