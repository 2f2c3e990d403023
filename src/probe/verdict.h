/* Verdicts for one address:port (DESIGN.md), with their names. */
#ifndef PLUGHOLE_VERDICT_H
#define PLUGHOLE_VERDICT_H

enum verdict {
	VERDICT_NONE = 0, /* not yet decided */
	VERDICT_OPEN_RELAY,
	VERDICT_RELAY_ACCEPTED,
	VERDICT_OPEN_PROXY_MAIL,
	VERDICT_OPEN_PROXY_WEB,
	VERDICT_CLOSED,
	VERDICT_TEMPFAIL,
	VERDICT_TIMEOUT,
	VERDICT_UNREACHABLE,
	VERDICT_NOT_SMTP,
	VERDICT_NOT_PROXY,
	VERDICT_LAST,
};

const char *verdict_name(enum verdict verdict);
/* VERDICT_NONE when name is not a verdict. */
enum verdict verdict_from_name(const char *name);

#endif
