#include "probe/verdict.h"

#include <string.h>

static const char *const names[VERDICT_LAST] = {
	[VERDICT_NONE] = "none",
	[VERDICT_OPEN_RELAY] = "open-relay",
	[VERDICT_RELAY_ACCEPTED] = "relay-accepted",
	[VERDICT_OPEN_PROXY_MAIL] = "open-proxy-mail",
	[VERDICT_OPEN_PROXY_WEB] = "open-proxy-web",
	[VERDICT_CLOSED] = "closed",
	[VERDICT_TEMPFAIL] = "tempfail",
	[VERDICT_TIMEOUT] = "timeout",
	[VERDICT_UNREACHABLE] = "unreachable",
	[VERDICT_NOT_SMTP] = "not-smtp",
	[VERDICT_NOT_PROXY] = "not-proxy",
};

const char *verdict_name(enum verdict verdict)
{
	return verdict < VERDICT_LAST ? names[verdict] : "invalid";
}

enum verdict verdict_from_name(const char *name)
{
	for (int v = VERDICT_NONE + 1; v < VERDICT_LAST; v++)
		if (strcmp(names[v], name) == 0)
			return (enum verdict)v;
	return VERDICT_NONE;
}
