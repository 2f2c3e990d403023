/* The format table, detection, and what the parsers share. */
#include "feeds/feed.h"
#include "core/util.h"

#include <string.h>

const struct feed_format *const feed_formats[] = {
	&feed_plain,	    &feed_zmap,	     &feed_rbldnsd,   &feed_csv,	 &feed_zmap_csv,     &feed_masscan_list,
	&feed_masscan_json, &feed_nmap_xml, &feed_nmap_grep, &feed_intelmq_csv, &feed_intelmq_json,
};
const size_t feed_format_count = ARRAY_SIZE(feed_formats);

const struct feed_format *feed_format_find(const char *name)
{
	for (size_t i = 0; i < feed_format_count; i++)
		if (strcmp(feed_formats[i]->name, name) == 0)
			return feed_formats[i];
	return NULL;
}

const struct feed_format *feed_format_detect(const char *sample, size_t len, const char **why)
{
	const struct feed_format *best = &feed_plain;
	int best_score = 0;
	*why = "no format's evidence in the first lines: plain, the default";
	for (size_t i = 0; i < feed_format_count; i++) {
		const char *evidence = NULL;
		int score = feed_formats[i]->detect ? feed_formats[i]->detect(sample, len, &evidence) : 0;
		if (score > best_score) {
			best = feed_formats[i];
			best_score = score;
			*why = evidence;
		}
	}
	return best;
}

void feed_state_init(struct feed_state *state)
{
	memset(state, 0, sizeof *state);
	state->address_column = state->port_column = state->success_column = -1;
	state->delimiter = ',';
}

const char *feed_skip_space(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

size_t feed_trim(const char *line, size_t len)
{
	while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t' || line[len - 1] == '\r'))
		len--;
	return len;
}

const char *feed_sample_line(const char **cursor, const char *end, size_t *len)
{
	while (*cursor < end) {
		const char *start = *cursor;
		const char *nl = memchr(start, '\n', (size_t)(end - start));
		const char *stop = nl ? nl : end;
		*cursor = nl ? nl + 1 : end;
		size_t n = feed_trim(start, (size_t)(stop - start));
		const char *first = feed_skip_space(start, start + n);
		if (first < start + n) {
			*len = (size_t)(start + n - first);
			return first;
		}
	}
	return NULL;
}

size_t feed_field_len(const char *p, const char *end, const char *stop)
{
	const char *q = p;
	while (q < end && strchr(stop, *q) == NULL)
		q++;
	return (size_t)(q - p);
}
