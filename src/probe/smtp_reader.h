/*
 * The one SMTP reply reader of the probes: the relay test and the proxy
 * tunnel's SMTP client take each reply from a connection's input through it.
 * The parsing is smtp_reply_parse's (pure, fuzzed); this is the I/O around it.
 */
#ifndef PLUGHOLE_SMTP_READER_H
#define PLUGHOLE_SMTP_READER_H

#include "probe/probe.h"
#include "probe/smtp_reply.h"

#define SMTP_REPLY_TEXT (SMTP_REPLY_MAX + 2) /* a reply's bytes, CRLF and all */

/*
 * The next whole reply in conn's input, never looking past SMTP_REPLY_TEXT
 * bytes: its first and last lines go to the transcript, its bytes into text,
 * and it leaves the input. SMTP_REPLY_INCOMPLETE: wait for more bytes.
 * MALFORMED or TOO_LONG: nothing is taken, the caller judges the bytes (a
 * proxy gateway's status line before the far end's banner).
 */
enum smtp_reply_status smtp_reply_read(struct probe_conn *conn, struct smtp_reply *reply, char text[SMTP_REPLY_TEXT]);

#endif
