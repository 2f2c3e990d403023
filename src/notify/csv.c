#include "notify/csv.h"

#include <stdbool.h>
#include <string.h>

static bool needs_quotes(const char *s, size_t n)
{
	if (n > 0 && (s[0] == ' ' || s[n - 1] == ' '))
		return true;
	for (size_t i = 0; i < n; i++)
		if (s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n')
			return true;
	return false;
}

/* [+-]digits[.digits]: a figure, never a formula. */
static bool is_number(const char *s, size_t n)
{
	size_t i = s[0] == '+' || s[0] == '-' ? 1 : 0, digits = 0;
	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++, digits++;
	if (digits > 0 && i < n && s[i] == '.')
		for (i++; i < n && s[i] >= '0' && s[i] <= '9';)
			i++;
	return digits > 0 && i == n;
}

bool csv_formula_like(const char *s, size_t n)
{
	return n > 1 && s[0] != '\0' && strchr("=+-@\t\r", s[0]) != NULL && !is_number(s, n);
}

int csv_field(struct textbuf *out, const char *s, size_t n)
{
	bool formula = csv_formula_like(s, n);
	if (!formula && !needs_quotes(s, n))
		return textbuf_append(out, s, n);
	if (!needs_quotes(s, n))
		return textbuf_append(out, "'", 1) == 0 ? textbuf_append(out, s, n) : -1;
	int rc = textbuf_append(out, formula ? "\"'" : "\"", formula ? 2 : 1);
	size_t run = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (s[i] != '"')
			continue;
		rc = textbuf_append(out, s + run, i + 1 - run); /* up to and with the quote, */
		run = i;					/* which is written again */
	}
	if (rc == 0)
		rc = textbuf_append(out, s + run, n - run);
	return rc == 0 ? textbuf_append(out, "\"", 1) : -1;
}

int csv_record(struct textbuf *out, const char *const *fields, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		const char *f = fields[i] ? fields[i] : "";
		if ((i > 0 && textbuf_append(out, ",", 1) != 0) || csv_field(out, f, strlen(f)) != 0)
			return -1;
	}
	return textbuf_append(out, "\r\n", 2);
}
