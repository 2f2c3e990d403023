/*
 * The engine's defaults: one source for the config's [verify] section
 * (core/config.c, which verify's code reads) and 'verify --help'.
 * Seconds are whole numbers here so that the config's table can hold them.
 */
#ifndef PLUGHOLE_PROBE_DEFAULTS_H
#define PLUGHOLE_PROBE_DEFAULTS_H

#define PROBE_DEFAULT_CONCURRENCY 0      /* 0: from the descriptor limit */
#define PROBE_DEFAULT_PER_HOST 1         /* connections in flight to one address */
#define PROBE_DEFAULT_PER_NET 16         /* ... to one /24 or /48 */
#define PROBE_DEFAULT_RATE 5000          /* new connections per second: no SYN floods */
#define PROBE_DEFAULT_CONNECT_TIMEOUT 10 /* seconds */
#define PROBE_DEFAULT_IDLE_TIMEOUT 30    /* seconds per reply */
#define PROBE_DEFAULT_TOTAL_TIMEOUT 300  /* seconds per connection */
#define PROBE_DEFAULT_RETRY_AFTER 300    /* seconds before the first retry; doubles */
#define PROBE_DEFAULT_RETRIES 2
#define PROBE_DEFAULT_WAIT 60            /* seconds to wait for proofs after the last message */
#define PROBE_DEFAULT_PROOF_GRACE 5      /* seconds for a proof before the next variant's message */

#define PROBE_STR(x) PROBE_STR_(x) /* a default as text */
#define PROBE_STR_(x) #x

#endif
