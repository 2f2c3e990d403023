#include "core/duration.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "core/util.h"

static const struct unit {
	const char *name;
	double seconds;
} units[] = {
	/* longest names first where one is the prefix of another: "ms" before "m" */
	{"d", 86400}, {"h", 3600}, {"ms", 0.001}, {"m", 60}, {"s", 1},
};

const char duration_units[] = "ms, s, m, h, d";

/* More than any wait plughole has a use for, and far from double's limits. */
#define DURATION_MAX (86400.0 * 366 * 100)

/* Digits with at most one '.', at least one digit: its value and length. */
static size_t parse_number(const char *p, size_t len, double *value)
{
	double whole = 0, scale = 1;
	size_t i = 0, digits = 0;
	bool dot = false;
	for (; i < len; i++) {
		if (p[i] >= '0' && p[i] <= '9') {
			if (whole > DURATION_MAX)
				whole = INFINITY; /* however many digits follow: the caller says too long */
			else if (dot)
				whole += (p[i] - '0') * (scale /= 10);
			else
				whole = whole * 10 + (p[i] - '0');
			digits++;
		} else if (p[i] == '.' && !dot) {
			dot = true;
		} else {
			break;
		}
	}
	*value = whole;
	return digits ? i : 0;
}

static const struct unit *parse_unit(const char *p, size_t len, size_t *used)
{
	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		size_t n = strlen(units[i].name);
		if (n <= len && memcmp(p, units[i].name, n) == 0 &&
		    (n == len || !(p[n] >= 'a' && p[n] <= 'z'))) {
			*used = n;
			return &units[i];
		}
	}
	return NULL;
}

int duration_parse(const char *text, size_t len, double *seconds, const char **why)
{
	double total = 0, last_unit = INFINITY;
	size_t pos = 0;
	if (len == 0) {
		*why = "is empty";
		return -1;
	}
	while (pos < len) {
		double number;
		size_t n = parse_number(text + pos, len - pos, &number);
		if (n == 0) {
			*why = text[pos] == '-' ? "is negative" : "is not a duration (a number, then ms, s, m, h or d)";
			return -1;
		}
		pos += n;
		if (pos == len && total == 0 && last_unit == INFINITY) {
			total = number; /* a plain number: seconds */
			break;
		}
		size_t used;
		const struct unit *unit = parse_unit(text + pos, len - pos, &used);
		if (unit == NULL) {
			*why = "has an unknown unit (ms, s, m, h or d)";
			return -1;
		}
		if (!(unit->seconds < last_unit)) {
			*why = "repeats a unit or puts a smaller one first";
			return -1;
		}
		last_unit = unit->seconds;
		total += number * unit->seconds;
		pos += used;
	}
	if (!(total <= DURATION_MAX)) {
		*why = "is too long";
		return -1;
	}
	*seconds = total;
	return 0;
}
