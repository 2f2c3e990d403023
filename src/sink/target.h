/*
 * The sink's plain TCP target: what a client there may say first. An HTTP
 * request line gets a page with the connection's nonce; anything else is
 * recorded as it came.
 */
#ifndef PLUGHOLE_SINK_TARGET_H
#define PLUGHOLE_SINK_TARGET_H

#include <stddef.h>

enum sink_target_method { TARGET_METHOD_GET, TARGET_METHOD_HEAD, TARGET_METHOD_POST, TARGET_METHOD_LAST };
extern const char *const sink_target_method_names[TARGET_METHOD_LAST];

struct sink_target_request {
	enum sink_target_method method;
	const char *path; /* points into the line: origin-form "/x" or absolute-form "http://h/x" */
	size_t path_len;
	int minor_version; /* HTTP/1.x */
};

/* "GET /path HTTP/1.1" and the like; 0 when line[0..len) is one, -1 otherwise. */
int sink_target_request_parse(const char *line, size_t len, struct sink_target_request *out);

#endif
