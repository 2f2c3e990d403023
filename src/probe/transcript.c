#include "probe/transcript.h"

#include <stdlib.h>
#include <string.h>

static const char cut_line[] = "-- transcript cut";

void transcript_add(struct transcript *t, const char *prefix, const char *text, size_t len)
{
	if (t->cut)
		return;
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	size_t plen = strlen(prefix);
	/* Room is always left for the line that says the rest was cut. */
	if (t->len + plen + len + 2 + sizeof cut_line + 1 > TRANSCRIPT_MAX) {
		t->cut = true;
		prefix = "";
		plen = 0;
		text = cut_line;
		len = sizeof cut_line - 1;
	}
	size_t need = plen + len + 2; /* the newline and the NUL */
	if (t->len + need > t->cap) {
		size_t cap = t->cap + TRANSCRIPT_STEP;
		while (cap < t->len + need)
			cap += TRANSCRIPT_STEP;
		if (cap > TRANSCRIPT_MAX)
			cap = TRANSCRIPT_MAX;
		char *grown = realloc(t->text, cap);
		if (grown == NULL)
			return;
		t->text = grown;
		t->cap = (uint16_t)cap;
	}
	char *p = t->text + t->len;
	memcpy(p, prefix, plen);
	/* keep the transcript printable: peers send anything */
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)text[i];
		p[plen + i] = (ch >= 32 && ch < 127) || ch == '\n' ? (char)ch : '?';
	}
	p[plen + len] = '\n';
	p[plen + len + 1] = '\0';
	t->len = (uint16_t)(t->len + plen + len + 1);
}

void transcript_free(struct transcript *t)
{
	free(t->text);
	*t = (struct transcript){0};
}
