/* plughole-lab's proxy parsers and the rule that tunnels stay on the loopback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "lab.h"
#include "lab_proxy.h"

static struct lab_config config_with_sink(void)
{
	struct lab_config c;
	lab_config_defaults(&c);
	c.have_sink = true;
	c.sink.sin_family = AF_INET;
	c.sink.sin_addr.s_addr = htonl(0x7f002c01); /* 127.0.44.1 */
	c.sink.sin_port = htons(2525);
	c.sink_domain = "sink.test";
	return c;
}

static void dest(const struct lab_config *c, const char *host, enum lab_dest_result want,
		 const char *want_addr)
{
	union lab_sockaddr out;
	char text[INET6_ADDRSTRLEN];
	enum lab_dest_result r = lab_dest_name(c, host, strlen(host), 25, &out);
	assert_int_equal(r, want);
	if (want_addr == NULL)
		return;
	if (out.sa.sa_family == AF_INET) {
		inet_ntop(AF_INET, &out.in.sin_addr, text, sizeof text);
		assert_int_equal(ntohs(out.in.sin_port), 25);
	} else {
		assert_int_equal(out.sa.sa_family, AF_INET6);
		inet_ntop(AF_INET6, &out.in6.sin6_addr, text, sizeof text);
		assert_int_equal(ntohs(out.in6.sin6_port), 25);
	}
	assert_string_equal(text, want_addr);
}

static void destinations_stay_on_the_loopback(void **state)
{
	struct lab_config c = config_with_sink(), bare;
	lab_config_defaults(&bare);
	dest(&c, "127.0.44.2", LAB_DEST_OK, "127.0.44.2");
	dest(&c, "127.255.255.254", LAB_DEST_OK, "127.255.255.254");
	dest(&c, "::1", LAB_DEST_OK, "::1");
	dest(&c, "[::1]", LAB_DEST_OK, "::1");
	dest(&c, "0.0.0.0", LAB_DEST_FORBIDDEN, NULL);
	dest(&c, "10.0.0.1", LAB_DEST_FORBIDDEN, NULL);
	dest(&c, "126.255.255.255", LAB_DEST_FORBIDDEN, NULL);
	dest(&c, "128.0.0.1", LAB_DEST_FORBIDDEN, NULL);
	dest(&c, "192.0.2.1", LAB_DEST_FORBIDDEN, NULL);
	dest(&c, "::2", LAB_DEST_FORBIDDEN, NULL);
	dest(&c, "::ffff:127.0.0.1", LAB_DEST_FORBIDDEN, NULL);
	dest(&c, "2001:db8::1", LAB_DEST_FORBIDDEN, NULL);
	/* Names: only the sink's, resolved by the lab itself. */
	dest(&c, "localhost", LAB_DEST_OK, "127.0.44.1");
	dest(&c, "LOCALHOST.", LAB_DEST_OK, "127.0.44.1");
	dest(&c, "sink.test", LAB_DEST_OK, "127.0.44.1");
	dest(&c, "mx.Sink.Test", LAB_DEST_OK, "127.0.44.1");
	dest(&c, "notsink.test", LAB_DEST_UNKNOWN, NULL);
	dest(&c, "sink.test.example", LAB_DEST_UNKNOWN, NULL);
	dest(&c, "example.com", LAB_DEST_UNKNOWN, NULL);
	dest(&c, "127.1", LAB_DEST_UNKNOWN, NULL);
	dest(&c, "", LAB_DEST_UNKNOWN, NULL);
	dest(&c, "[]", LAB_DEST_UNKNOWN, NULL);
	dest(&bare, "localhost", LAB_DEST_UNKNOWN, NULL); /* no --sink: no names */
	assert_int_equal(lab_dest_name(&c, "local\0host", 10, 25, &(union lab_sockaddr){0}),
			 LAB_DEST_UNKNOWN);
}

static void binary_destinations(void **state)
{
	union lab_sockaddr out;
	uint8_t v6[16] = {0};
	assert_int_equal(lab_dest_v4(0x7f000001, 25, &out), LAB_DEST_OK);
	assert_int_equal(lab_dest_v4(0x7f000001, 0, &out), LAB_DEST_FORBIDDEN);
	assert_int_equal(lab_dest_v4(0xc0000201, 25, &out), LAB_DEST_FORBIDDEN);
	assert_int_equal(lab_dest_v4(0, 25, &out), LAB_DEST_FORBIDDEN);
	v6[15] = 1;
	assert_int_equal(lab_dest_v6(v6, 25, &out), LAB_DEST_OK);
	assert_int_equal(lab_sockaddr_len(&out), sizeof(struct sockaddr_in6));
	v6[15] = 2;
	assert_int_equal(lab_dest_v6(v6, 25, &out), LAB_DEST_FORBIDDEN);
}

static void request(const char *line, int want, enum lab_http_method method, const char *host, uint16_t port,
		    const char *path)
{
	struct lab_http_request r;
	assert_int_equal(lab_http_request_parse(line, strlen(line), &r), want);
	if (want != 0)
		return;
	assert_int_equal(r.method, method);
	assert_int_equal(r.host_len, strlen(host));
	assert_memory_equal(r.host, host, r.host_len);
	assert_int_equal(r.port, port);
	assert_int_equal(r.path_len, strlen(path));
	assert_memory_equal(r.path, path, r.path_len);
}

static void parses_http_requests(void **state)
{
	struct lab_http_request r;
	request("CONNECT 127.0.0.1:25 HTTP/1.0", 0, LAB_METHOD_CONNECT, "127.0.0.1", 25, "");
	request("CONNECT [::1]:443 HTTP/1.1", 0, LAB_METHOD_CONNECT, "::1", 443, "");
	request("CONNECT mx.sink.test:2525 HTTP/1.1", 0, LAB_METHOD_CONNECT, "mx.sink.test", 2525, "");
	request("GET http://127.0.44.2:8080/x?y=1 HTTP/1.0", 0, LAB_METHOD_GET, "127.0.44.2", 8080, "/x?y=1");
	request("GET http://127.0.44.2 HTTP/1.1", 0, LAB_METHOD_GET, "127.0.44.2", 80, "/");
	request("GET HTTP://[::1]/a HTTP/1.1", 0, LAB_METHOD_GET, "::1", 80, "/a");
	request("POST http://127.0.44.1:25/ HTTP/1.0", 0, LAB_METHOD_POST, "127.0.44.1", 25, "/");
	request("PUT http://127.0.44.1/ HTTP/1.0", 0, LAB_METHOD_OTHER, "127.0.44.1", 80, "/");
	request("CONNECT 127.0.0.1 HTTP/1.0", -1, 0, NULL, 0, NULL);   /* CONNECT needs a port */
	request("CONNECT 127.0.0.1:0 HTTP/1.0", -1, 0, NULL, 0, NULL); /* port 0 */
	request("CONNECT 127.0.0.1:65536 HTTP/1.0", -1, 0, NULL, 0, NULL);
	request("CONNECT 127.0.0.1:+25 HTTP/1.0", -1, 0, NULL, 0, NULL);
	request("CONNECT [::1 HTTP/1.0", -1, 0, NULL, 0, NULL);
	request("GET / HTTP/1.0", -1, 0, NULL, 0, NULL); /* origin form: not for a proxy */
	request("GET https://127.0.0.1/ HTTP/1.0", -1, 0, NULL, 0, NULL);
	request("GET http://user@127.0.0.1/ HTTP/1.0", -1, 0, NULL, 0, NULL);
	request("GET http://:80/ HTTP/1.0", -1, 0, NULL, 0, NULL);
	request("GET http://127.0.0.1/ HTTP/2.0", -1, 0, NULL, 0, NULL);
	request("GET http://127.0.0.1/ HTTP/1.10", -1, 0, NULL, 0, NULL);
	request("GET http://127.0.0.1/", -1, 0, NULL, 0, NULL);
	request("get http://127.0.0.1/ HTTP/1.0", -1, 0, NULL, 0, NULL); /* methods are case-sensitive */
	request(" GET http://127.0.0.1/ HTTP/1.0", -1, 0, NULL, 0, NULL);
	request("", -1, 0, NULL, 0, NULL);
	assert_int_equal(lab_http_request_parse("GET http://127.0.0.1/ HTTP/1.0", 10, &r),
			 -1); /* len is the bound */
}

static void finds_http_headers(void **state)
{
	static const char head[] =
	    "Host: a\r\ncontent-length:  42 \r\nX-Empty:\r\nContent-Type: text/plain\r\n";
	const char *v;
	size_t len;
	assert_int_equal(lab_http_header(head, strlen(head), "Content-Length", &v, &len), 0);
	assert_int_equal(len, 2);
	assert_memory_equal(v, "42", 2);
	assert_int_equal(lab_http_header(head, strlen(head), "X-Empty", &v, &len), 0);
	assert_int_equal(len, 0);
	assert_int_equal(lab_http_header(head, strlen(head), "Content", &v, &len), -1);
	assert_int_equal(lab_http_header(head, strlen(head), "Transfer-Encoding", &v, &len), -1);
	assert_int_equal(lab_http_header(head, 7, "Host", &v, &len), 0); /* no final CRLF */
	assert_memory_equal(v, "a", 1);
}

static void parses_socks4(void **state)
{
	struct lab_socks_request r;
	static const uint8_t plain[] = {4, 1, 0, 25, 127, 0, 44, 1, 'u', 0};
	static const uint8_t named[] = {4, 1, 0, 25, 0, 0, 0, 1, 0, 'm', 'x', '.', 's', 0};
	static const uint8_t empty_name[] = {4, 1, 0, 25, 0, 0, 0, 1, 0, 0};
	uint8_t long_user[8 + 300];
	assert_int_equal(lab_socks4_parse(plain, sizeof plain, &r), sizeof plain);
	assert_int_equal(r.atyp, LAB_SOCKS_ATYP_V4);
	assert_int_equal(r.port, 25);
	assert_memory_equal(r.addr, plain + 4, 4);
	for (size_t n = 0; n < sizeof plain; n++)
		assert_int_equal(lab_socks4_parse(plain, n, &r), 0);
	assert_int_equal(lab_socks4_parse(named, sizeof named, &r), sizeof named);
	assert_int_equal(r.atyp, LAB_SOCKS_ATYP_NAME);
	assert_string_equal(r.name, "mx.s");
	assert_int_equal(lab_socks4_parse(named, sizeof named - 1, &r), 0);
	assert_int_equal(lab_socks4_parse(empty_name, sizeof empty_name, &r), -1);
	assert_int_equal(lab_socks4_parse((const uint8_t *)"\x05\x01\x00", 3, &r), -1);
	memset(long_user, 'a', sizeof long_user);
	memcpy(long_user, plain, 8);
	assert_int_equal(lab_socks4_parse(long_user, sizeof long_user, &r), -1);
}

static void parses_socks5(void **state)
{
	struct lab_socks_request r;
	bool no_auth, password;
	static const uint8_t v4[] = {5, 1, 0, 1, 127, 0, 44, 1, 0x09, 0xdd};
	static const uint8_t name[] = {5, 1, 0, 3, 9, 'l', 'o', 'c', 'a', 'l', 'h', 'o', 's', 't', 0, 25};
	static const uint8_t nul_name[] = {5, 1, 0, 3, 2, 'a', 0, 0, 25};
	uint8_t v6[22] = {5, 1, 0, 4};
	v6[19] = 1;
	v6[21] = 25;
	assert_int_equal(
	    lab_socks5_greeting_parse((const uint8_t *)"\x05\x02\x02\x00", 4, &no_auth, &password), 4);
	assert_true(no_auth && password);
	assert_int_equal(lab_socks5_greeting_parse((const uint8_t *)"\x05\x01\x02", 3, &no_auth, &password),
			 3);
	assert_true(!no_auth && password);
	assert_int_equal(lab_socks5_greeting_parse((const uint8_t *)"\x05\x02\x00", 3, &no_auth, &password),
			 0);
	assert_int_equal(lab_socks5_greeting_parse((const uint8_t *)"\x05\x00", 2, &no_auth, &password), -1);
	assert_int_equal(lab_socks5_greeting_parse((const uint8_t *)"\x04\x01", 2, &no_auth, &password), -1);
	assert_int_equal(lab_socks5_request_parse(v4, sizeof v4, &r), sizeof v4);
	assert_int_equal(r.atyp, LAB_SOCKS_ATYP_V4);
	assert_int_equal(r.port, 2525);
	for (size_t n = 0; n < sizeof v4; n++)
		assert_int_equal(lab_socks5_request_parse(v4, n, &r), 0);
	assert_int_equal(lab_socks5_request_parse(v6, sizeof v6, &r), sizeof v6);
	assert_int_equal(r.atyp, LAB_SOCKS_ATYP_V6);
	assert_int_equal(r.addr[15], 1);
	assert_int_equal(r.port, 25);
	assert_int_equal(lab_socks5_request_parse(name, sizeof name, &r), sizeof name);
	assert_string_equal(r.name, "localhost");
	assert_int_equal(lab_socks5_request_parse(nul_name, sizeof nul_name, &r), -1);
	assert_int_equal(lab_socks5_request_parse((const uint8_t *)"\x05\x01\x00\x07\x00", 5, &r), -1);
	assert_int_equal(lab_socks5_auth_parse((const uint8_t *)"\x01\x01u\x01p", 5), 5);
	assert_int_equal(lab_socks5_auth_parse((const uint8_t *)"\x01\x01u\x02p", 5), 0);
	assert_int_equal(lab_socks5_auth_parse((const uint8_t *)"\x01\x00\x00", 3), 3);
	assert_int_equal(lab_socks5_auth_parse((const uint8_t *)"\x05\x01u\x01p", 5), -1);
}

static void target(const char *line, uint16_t default_port, int want, const char *host, uint16_t port)
{
	char out[LAB_NAME_MAX + 1];
	uint16_t p = 0;
	assert_int_equal(lab_gateway_target_parse(line, strlen(line), default_port, out, &p), want);
	if (want != 0)
		return;
	assert_string_equal(out, host);
	assert_int_equal(p, port);
}

static void parses_gateway_targets(void **state)
{
	target("127.0.44.1:25", 0, 0, "127.0.44.1", 25);
	target("127.0.44.1 25", 0, 0, "127.0.44.1", 25);
	target("  mx.sink.test\t2525  ", 0, 0, "mx.sink.test", 2525);
	target("[::1]:25", 0, 0, "::1", 25);
	target("[::1] 25", 0, 0, "::1", 25);
	target("::1", 23, 0, "::1", 23);
	target("127.0.44.1", 23, 0, "127.0.44.1", 23);
	target("127.0.44.1", 0, -1, NULL, 0);
	target("127.0.44.1:", 0, -1, NULL, 0);
	target("127.0.44.1:x", 23, -1, NULL, 0);
	target("127.0.44.1 25 26", 0, -1, NULL, 0);
	target("[::1", 23, -1, NULL, 0);
	target("", 23, -1, NULL, 0);
	target("   ", 23, -1, NULL, 0);
	target(":25", 0, -1, NULL, 0);
}

static void proxy_rows_are_appended(void **state)
{
	/* The numbers are addresses (127.20.B.N) in others' tests: they never move. */
	assert_int_equal(LAB_TEMPFAIL, 14);
	assert_int_equal(LAB_HTTP_CONNECT_OPEN, 15);
	assert_int_equal(LAB_PROXY_SILENT, 28);
	assert_int_equal(lab_behaviour_find("socks5-refuse", 13), LAB_SOCKS5_REFUSE);
	assert_string_equal(lab_behaviours[LAB_HTTP_CONNECT_443].verdict, "open-proxy-web");
	assert_string_equal(lab_behaviours[LAB_BLOCK_PAGE].verdict, "not-proxy");
	assert_null(lab_behaviours[LAB_SOCKS5_OPEN].software);
	struct lab_host router = {.behaviour = LAB_ROUTER}, wingate = {.behaviour = LAB_WINGATE};
	assert_string_equal(lab_behaviours[LAB_ROUTER].software(&router), "Cisco IOS");
	assert_string_equal(lab_behaviours[LAB_WINGATE].software(&wingate), "WinGate");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(destinations_stay_on_the_loopback),
	    cmocka_unit_test(binary_destinations),
	    cmocka_unit_test(parses_http_requests),
	    cmocka_unit_test(finds_http_headers),
	    cmocka_unit_test(parses_socks4),
	    cmocka_unit_test(parses_socks5),
	    cmocka_unit_test(parses_gateway_targets),
	    cmocka_unit_test(proxy_rows_are_appended),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
