/*
 * What proxies say, parsed from raw bytes, and what we say to them: HTTP
 * response heads, SOCKS4/4a and SOCKS5 requests and replies, telnet-style
 * gateway prompts, and the nonce of the sink's TCP target. Pure functions
 * over (buffer, length): fuzzable, unit-tested without sockets.
 */
#ifndef PLUGHOLE_PROXY_PARSE_H
#define PLUGHOLE_PROXY_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"

/* Bytes a proxy may send in one phase (its answer, a tunnel's preamble) before it gets a verdict. */
#define PROXY_READ_MAX 4096

enum proxy_parse {
	PROXY_PARSE_DONE = 1,
	PROXY_PARSE_MORE = 0,	  /* incomplete: wait for more bytes */
	PROXY_PARSE_BAD = -1,	  /* not this protocol */
	PROXY_PARSE_TOO_LONG = -2 /* no end within PROXY_READ_MAX */
};

/* ---- HTTP ---- */

struct http_response {
	int code;	 /* 100..599 */
	int minor;	 /* HTTP/1.minor */
	size_t head_len; /* the status line and headers through the blank line */
};

/* "HTTP/1.x NNN reason" and headers up to the blank line (CRLF or bare LF). */
enum proxy_parse http_response_parse(const char *buf, size_t len, struct http_response *out);
/* The trimmed value of header name (case-insensitive) in a response head; false when absent. */
bool http_header_value(const char *head, size_t len, const char *name, const char **value, size_t *vlen);

/* ---- SOCKS (RFC 1928, SOCKS4 and 4a) ---- */

enum {
	SOCKS4_GRANTED = 90,
	SOCKS4_REJECTED = 91,
	SOCKS5_NO_AUTH = 0x00,
	SOCKS5_USERPASS = 0x02,
	SOCKS5_NO_METHOD = 0xff,
	SOCKS5_SUCCEEDED = 0x00,
	/* 3-6: the proxy tried the destination (network, host unreachable, refused, TTL expired) */
	SOCKS5_NET_UNREACHABLE = 0x03,
	SOCKS5_TTL_EXPIRED = 0x06,
};

/* A CONNECT request; by_name sends the address as text (SOCKS4a / SOCKS5 domain type). Its length, 0 if it
 * cannot be expressed. */
size_t socks4_request_build(uint8_t *out, size_t size, const struct addr *to, uint16_t port, const char *user,
			    bool by_name);
size_t socks5_request_build(uint8_t *out, size_t size, const struct addr *to, uint16_t port, bool by_name);

/* The 8-byte SOCKS4 reply; *code is 90..93. */
enum proxy_parse socks4_reply_parse(const uint8_t *buf, size_t len, uint8_t *code);
/* The SOCKS5 method selection: 2 bytes, version 5. */
enum proxy_parse socks5_method_parse(const uint8_t *buf, size_t len, uint8_t *method);
/* The SOCKS5 reply to CONNECT with its bound address; *consumed is its length. */
enum proxy_parse socks5_reply_parse(const uint8_t *buf, size_t len, uint8_t *code, size_t *consumed);
const char *socks4_reply_name(uint8_t code);
const char *socks5_reply_name(uint8_t code);

/* ---- telnet-style gateways (WinGate, Cisco-style routers) ---- */

enum gateway_prompt {
	GATEWAY_PROMPT_NONE,	 /* nothing to answer yet */
	GATEWAY_PROMPT_HOST,	 /* asks where to connect: "WinGate>", "Enter host:" */
	GATEWAY_PROMPT_PASSWORD, /* "Password:" */
	GATEWAY_PROMPT_ACCOUNT,	 /* "Username:", "login:": an account we do not have */
	GATEWAY_PROMPT_EXEC,	 /* a router's command prompt: "Router>", "gw#" */
	GATEWAY_PROMPT_LAST
};
extern const char *const gateway_prompt_names[GATEWAY_PROMPT_LAST];

/*
 * Removes telnet commands (IAC sequences) from in, writing the data to out
 * (which may be in). Returns the data length; *consumed is how much of in
 * was used (a sequence cut at the end waits for the rest).
 */
size_t telnet_strip(const uint8_t *in, size_t len, uint8_t *out, size_t *consumed);
/* What a prompt (the text after the last line end) asks for. */
enum gateway_prompt gateway_prompt_classify(const char *prompt, size_t len);
/* Whether a gateway's line reports a failed connection or login ("% Connection refused"). */
bool gateway_line_refuses(const char *line, size_t len);
/* Whether bytes (telnet commands removed) look like a terminal's text rather than binary junk. */
bool gateway_text_plausible(const uint8_t *buf, size_t len);

/* ---- the sink's TCP target ---- */

#define TARGET_NONCE_MAX 64 /* hex digits */

/* The nonce after "plughole-target " in text (a banner, its reply, a page); false when none. */
bool target_nonce_find(const char *text, size_t len, char nonce[TARGET_NONCE_MAX + 1]);

#endif
