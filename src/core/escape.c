#include "core/escape.h"

#include <stdio.h>

char *escape_text(char *dst, size_t size, const char *src, size_t len)
{
	size_t n = 0;
	if (size == 0)
		return dst;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)src[i];
		char piece[5];
		size_t k;
		if (c == '\\' || c == '"')
			k = (size_t)snprintf(piece, sizeof piece, "\\%c", c);
		else if (c >= 0x20 && c < 0x7f)
			k = (size_t)snprintf(piece, sizeof piece, "%c", c);
		else
			k = (size_t)snprintf(piece, sizeof piece, "\\x%02x", c);
		if (n + k >= size)
			break;
		for (size_t j = 0; j < k; j++)
			dst[n++] = piece[j];
	}
	dst[n] = '\0';
	return dst;
}
