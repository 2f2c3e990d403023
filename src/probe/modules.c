/*
 * The probe module registry: every protocol the engine can test, in the
 * order a target's plan tries them, and which ports each is tried on.
 *
 * The rule: a candidate on a relay port (25, 465, 587, 2525 unless changed)
 * gets the relay test; a candidate on any other port gets the proxy modules
 * that claim its port (3128 gets the HTTP ones, 1080 the SOCKS ones, 23 the
 * gateways, ...), and a port nobody claims gets the modules marked any_port.
 * With only one family chosen, a port the other family claims is left for
 * its own run (a finding would end the candidate's wait for its own test),
 * and a port nobody claims gets the chosen family. Modules named by the
 * operator are tried on any port.
 */
#include <string.h>

#include "probe/probe.h"
#include "core/util.h"

/* The order of trial on one port: protocols where we speak first, HTTP
 * before SOCKS (an HTTP server waits for a line end that a SOCKS request never
 * sends, while a SOCKS server rejects an HTTP line at its first byte), SOCKS4
 * before SOCKS5 (likewise), the TLS ones after, and the gateways, which make
 * us wait for a prompt, last. */
static const struct probe_module *const modules[] = {
    &probe_smtp_relay, &probe_http_connect,  &probe_http_post,	&probe_http_get,  &probe_socks4,
    &probe_socks5,     &probe_https_connect, &probe_https_post, &probe_https_get, &probe_socks4a,
    &probe_socks5h,    &probe_wingate,	     &probe_router,
};

_Static_assert(ARRAY_SIZE(modules) <= PROBE_MAX_MODULES, "a plan is a bit set of modules");

/* The test ids of the proxy modules' tokens, stored in proofs: permanent values,
 * never positions (a new module takes a new id, a removed one's is never given
 * again). The relay test's tokens carry its variants' ids (relay_variants.c). */
static const struct {
	const struct probe_module *module;
	uint8_t test;
} proxy_tests[] = {
    {&probe_http_connect, 65}, {&probe_http_post, 66},	 {&probe_http_get, 67},	  {&probe_socks4, 68},
    {&probe_socks5, 69},       {&probe_https_connect, 70}, {&probe_https_post, 71}, {&probe_https_get, 72},
    {&probe_socks4a, 73},      {&probe_socks5h, 74},	   {&probe_wingate, 75},	  {&probe_router, 76},
};

int probe_module_test(const struct probe_module *module)
{
	for (size_t i = 0; i < ARRAY_SIZE(proxy_tests); i++)
		if (proxy_tests[i].module == module)
			return proxy_tests[i].test;
	return -1;
}

const struct probe_module *probe_module_by_test(unsigned test)
{
	for (size_t i = 0; i < ARRAY_SIZE(proxy_tests); i++)
		if (proxy_tests[i].test == test)
			return proxy_tests[i].module;
	return NULL;
}

size_t probe_module_count(void)
{
	return ARRAY_SIZE(modules);
}

const struct probe_module *probe_module_at(size_t index)
{
	return index < probe_module_count() ? modules[index] : NULL;
}

int probe_module_index(const struct probe_module *module)
{
	for (size_t i = 0; i < probe_module_count(); i++)
		if (modules[i] == module)
			return (int)i;
	return -1;
}

const struct probe_module *probe_module_find(const char *name)
{
	for (size_t i = 0; i < probe_module_count(); i++)
		if (strcmp(modules[i]->name, name) == 0)
			return modules[i];
	return NULL;
}

static bool port_in(const uint16_t *ports, uint16_t port)
{
	for (; ports != NULL && *ports != 0; ports++)
		if (*ports == port)
			return true;
	return false;
}

enum claim { CLAIM_PORT, CLAIM_ANY_PORT, CLAIM_PORT_UNCHOSEN };

/* The modules of a family that claim port (their own or the operator's port list), or any port;
 * CLAIM_PORT_UNCHOSEN looks at every module, chosen by the operator or not. */
static uint32_t claiming(const struct probe_selection *s, enum probe_family family, uint16_t port,
			 enum claim how)
{
	uint32_t plan = 0;
	for (size_t i = 0; i < probe_module_count(); i++) {
		const struct probe_module *m = modules[i];
		if (m->family != family ||
		    (how != CLAIM_PORT_UNCHOSEN && s->modules != 0 && !(s->modules & (1u << i))))
			continue;
		bool claims = how == CLAIM_ANY_PORT ? m->any_port || s->modules != 0
						    : port_in(s->ports[i] ? s->ports[i] : m->ports, port);
		if (claims)
			plan |= 1u << i;
	}
	return plan;
}

uint32_t probe_plan(const struct probe_selection *s, uint16_t port)
{
	bool relay = (s->families & PROBE_RELAY) != 0, proxy = (s->families & PROBE_PROXY) != 0;
	uint32_t plan = relay ? claiming(s, PROBE_RELAY, port, CLAIM_PORT) : 0;
	if (plan == 0 && proxy)
		plan = claiming(s, PROBE_PROXY, port, CLAIM_PORT);
	if (plan != 0 || (!relay && !proxy))
		return plan;
	/* Nobody chosen claims the port. */
	if (s->modules == 0 && ((!relay && claiming(s, PROBE_RELAY, port, CLAIM_PORT_UNCHOSEN) != 0) ||
				(!proxy && claiming(s, PROBE_PROXY, port, CLAIM_PORT_UNCHOSEN) != 0)))
		return 0;
	return claiming(s, proxy ? PROBE_PROXY : PROBE_RELAY, port, CLAIM_ANY_PORT);
}
