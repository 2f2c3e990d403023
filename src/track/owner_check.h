/*
 * Owner-requested checks (issue 14, "test again now" and "test my own
 * server"): the back end the web server calls. A check verifies a ticket's
 * hosts with the tests of their frozen verdicts, or one requesting address
 * on the relay port and the common proxy ports (owner_check_ports), into a
 * round of kind 'owner' (requested_by "ticket:T" or "address:A"), kept out
 * of every campaign's recheck numbering and outcomes. The check runs in a
 * child process (this binary's `plughole recheck --ticket T --round ID` or
 * `--address A --round ID`), so the caller never blocks; the caller reaps
 * it (waitpid, or SIGCHLD ignored). owner_check_status reads the result per
 * host at any time.
 *
 * Refused, with a reason, when: the ticket or address was checked in the
 * last OWNER_CHECK_INTERVAL seconds, or (an address) another address of its
 * /24 (IPv6: /64), or a host of the check was in another check of that time
 * (a ticket's host asked for by address, or the other way round);
 * OWNER_CHECK_RUNNING_MAX checks run already (begun however long ago); the address
 * (or every host of the ticket) is excluded or opted out.
 */
#ifndef PLUGHOLE_OWNER_CHECK_H
#define PLUGHOLE_OWNER_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include "core/addr.h"
#include "core/exclude.h"
#include "store/store.h"

/* The limits, all here. */
#define OWNER_CHECK_INTERVAL 600   /* seconds between checks of one ticket, one address, one /24 or /64 */
#define OWNER_CHECK_RUNNING_MAX 4  /* owner checks running at once */
#define OWNER_CHECK_START_GRACE 30 /* seconds a new check counts as running before its child holds its lock  \
				    */
#define OWNER_CHECK_NET_V4 24	   /* the network an address check's rate limit covers */
#define OWNER_CHECK_NET_V6 64

/* The ports an address check tests, and with which tests (PROBE_RELAY, PROBE_PROXY). */
struct owner_check_port {
	uint16_t port;
	unsigned families;
};
extern const struct owner_check_port owner_check_ports[];
extern const size_t owner_check_port_count;

struct owner_check_options {
	const char *binary;	 /* this plughole; NULL: /proc/self/exe */
	const char *db_path;	 /* the store */
	const char *config_path; /* NULL: none */
	/* verify's options for the child (its sink, timeouts, --allow-loopback ...), NULL-terminated, or NULL
	 */
	const char *const *verify_args;
	const struct exclusion_list *exclusions; /* the caller's (exclude.conf, opt-out): excluded, refused */
	const char *log_path;			 /* the child's stdout and stderr; NULL: /dev/null */
	/* tests only: the ports an address check tests instead of owner_check_ports (0-terminated, relay test
	 * on the first, proxy tests on the others) */
	const uint16_t *ports;
};

/*
 * Starts a check of ticket (address NULL) or of address (ticket NULL) at now:
 * returns the round's id (> 0) with the child's pid in *child; 0 when refused
 * (reason copied: a sentence for the owner); -1 on an error (logged, reason
 * copied too).
 */
int64_t owner_check_start(struct store *store, const struct owner_check_options *options, const char *ticket,
			  const char *address, time_t now, pid_t *child, char *reason, size_t reasonlen);

/* A host's state in an owner round. */
/* not-tested: the check ended (its process died, or it was interrupted) before this host had a verdict. */
enum owner_check_state { OWNER_PENDING, OWNER_OPEN, OWNER_FIXED, OWNER_GONE, OWNER_INCONCLUSIVE, OWNER_NOT_TESTED };
const char *owner_check_state_name(enum owner_check_state state);
/* A verdict's state: open (any open verdict), fixed (closed), gone (unreachable), else inconclusive. */
enum owner_check_state owner_check_state_of(const char *verdict);

struct owner_check_host {
	char address[ADDR_STRLEN];
	uint16_t port;
	char verdict[24]; /* "" while pending */
	enum owner_check_state state;
};
struct owner_check_status {
	int64_t round;
	char requested_by[128];
	bool finished;			/* the round is done, or its process is gone */
	bool interrupted;		/* of those, it ended before testing every host */
	struct owner_check_host *hosts; /* malloc'd */
	size_t count;
};
/*
 * Per host of the round: pending while its process runs and the host has
 * no verdict yet, then open / fixed / gone / inconclusive (no verdict from a
 * round that ended: inconclusive). 1 and *out (free with
 * owner_check_status_free), 0 no such owner round, -1 error.
 */
int owner_check_status(struct store *store, const char *db_path, int64_t round, const uint16_t *ports,
		       struct owner_check_status *out);
void owner_check_status_free(struct owner_check_status *status);
/* The status as lines "ADDRESS:PORT STATE VERDICT" after a line "round ID REQUESTED_BY finished|interrupted|running"; 0
 * or -1. */
int owner_check_print(struct store *store, const char *db_path, int64_t round, const uint16_t *ports,
		      FILE *out);

/* "ticket:T" or "address:A" into buf. */
void owner_check_requested_by(const char *ticket, const char *address, char *buf, size_t size);
/*
 * The check's hosts (the ticket's frozen hosts, or the address on each
 * port) without a row in round yet, to fn, as store_recheck_hosts_each does
 * (an address's candidates are made when missing). ports: as in the options. 0 or -1.
 */
int owner_check_targets_each(struct store *store, const char *ticket, const char *address,
			     const uint16_t *ports, int64_t round, store_host_fn fn, void *ctx);

#endif
