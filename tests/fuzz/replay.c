/*
 * Runs the fuzz target without libFuzzer, so that every `make test` puts the
 * parsers through hostile input under the sanitizers: each seed file as it
 * is and in a fixed series of mutations (byte flips, bytes that parsers
 * treat specially, insertions, deletions, repeats, truncations), each under
 * every parser in turn. Deterministic: a failure replays the same way.
 *   fuzz_replay MUTATIONS SEED...
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEED_MAX (64u << 10)
#define INPUT_MAX (2 * SEED_MAX + 2)
#define UNMUTATED 32 /* more than the target has parsers */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t next_random(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static size_t pick(size_t n) { return n ? (size_t)(next_random() % n) : 0; }

/* One to eight edits of buf[1..len) (buf[0] picks the parser); returns the new length. */
static size_t mutate(uint8_t *buf, size_t len)
{
	static const uint8_t special[] = {0,   0xff, '\n', '\r', ' ', '\t', ':', '.', '<', '>', '@',
					  '%', '!',	 '"',  '[',  ']', '{',	'}', ',', '-', '|', '/'};
	for (size_t edits = 1 + pick(8); edits > 0; edits--) {
		size_t at = 1 + pick(len - 1), n = 1 + pick(16);
		switch (pick(6)) {
		case 0:
			if (at < len)
				buf[at] ^= (uint8_t)(1u << pick(8));
			break;
		case 1:
			if (at < len)
				buf[at] = special[pick(sizeof special)];
			break;
		case 2: /* insert a special byte */
			if (len < INPUT_MAX) {
				memmove(buf + at + 1, buf + at, len - at);
				buf[at] = special[pick(sizeof special)];
				len++;
			}
			break;
		case 3: /* delete a few bytes */
			if (at + n <= len) {
				memmove(buf + at, buf + at + n, len - at - n);
				len -= n;
			}
			break;
		case 4: /* repeat a few bytes */
			if (at + n <= len && len + n <= INPUT_MAX) {
				memmove(buf + at + n, buf + at, len - at);
				len += n;
			}
			break;
		default:
			len = at;
			break;
		}
	}
	return len;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: fuzz_replay MUTATIONS SEED...\n");
		return 2;
	}
	long mutations = strtol(argv[1], NULL, 10);
	uint8_t *seed = malloc(SEED_MAX + 1), *input = malloc(INPUT_MAX);
	unsigned long runs = 0;
	if (seed == NULL || input == NULL)
		return 1;
	for (int f = 2; f < argc; f++) {
		FILE *file = fopen(argv[f], "rb");
		if (file == NULL) {
			perror(argv[f]);
			return 1;
		}
		size_t len = fread(seed + 1, 1, SEED_MAX, file);
		fclose(file);
		/* first the seed as it is under every parser, then mutations */
		for (long i = 0; i < UNMUTATED + mutations; i++) {
			seed[0] = (uint8_t)i; /* the target takes it modulo its parser count */
			memcpy(input, seed, len + 1);
			size_t n = i < UNMUTATED ? len + 1 : mutate(input, len + 1);
			LLVMFuzzerTestOneInput(input, n);
			runs++;
		}
	}
	printf("fuzz_replay: %lu inputs through the parsers, no fault\n", runs);
	free(seed);
	free(input);
	return 0;
}
