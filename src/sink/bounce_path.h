/*
 * The sink's path for mail that comes back for letters: a message whose
 * recipient is a VERP address (bounces+TICKET@) or an unsubscribe address
 * (unsubscribe+TICKET@) of the sink's domain is no test message; it goes to
 * notify/bounce.h (kept raw and bounded, parsed, applied to its letter).
 */
#ifndef PLUGHOLE_SINK_BOUNCE_PATH_H
#define PLUGHOLE_SINK_BOUNCE_PATH_H

#include <stdbool.h>
#include <stddef.h>

#include "sink/sink_internal.h"

/* Whether the envelope is for letters (any recipient a VERP or unsubscribe address). */
bool sink_bounce_path_wanted(const struct sink_envelope *envelope);
/* Handles it: 0 (the client gets 250), -1 when the store failed (451). */
int sink_bounce_path(struct sink *sink, const struct sink_envelope *envelope, const char *msg, size_t len);

#endif
