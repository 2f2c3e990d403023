#include "track/ticket.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

enum { DATA_CHARS = 9, BASE = 32 };

static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/* Crockford's decoding: case-insensitive, I and L read as 1, O as 0. */
static int value_of(char c)
{
	c = (char)toupper((unsigned char)c);
	if (c == 'I' || c == 'L')
		return 1;
	if (c == 'O')
		return 0;
	const char *p = c ? strchr(alphabet, c) : NULL;
	return p ? (int)(p - alphabet) : -1;
}

/* Luhn mod 32 over the values, rightmost doubled first: the check value that makes the sum 0. */
static int check_value(const int *values, size_t n)
{
	int factor = 2, sum = 0;
	for (size_t i = n; i-- > 0;) {
		int addend = factor * values[i];
		factor = factor == 2 ? 1 : 2;
		sum += addend / BASE + addend % BASE;
	}
	return (BASE - sum % BASE) % BASE;
}

static void write_ticket(const int values[DATA_CHARS + 1], char out[TICKET_LEN + 1])
{
	size_t w = 0;
	for (size_t i = 0; i < DATA_CHARS + 1; i++) {
		if (i == 5)
			out[w++] = '-';
		out[w++] = alphabet[values[i]];
	}
	out[w] = '\0';
}

void ticket_make(const uint8_t random[TICKET_RANDOM_BYTES], char out[TICKET_LEN + 1])
{
	uint64_t bits = 0;
	for (size_t i = 0; i < TICKET_RANDOM_BYTES; i++)
		bits = bits << 8 | random[i];
	int values[DATA_CHARS + 1];
	for (size_t i = 0; i < DATA_CHARS; i++)
		values[i] = (int)((bits >> (5 * (DATA_CHARS - 1 - i))) & 31);
	values[DATA_CHARS] = check_value(values, DATA_CHARS);
	write_ticket(values, out);
}

int ticket_parse(const char *text, size_t len, char out[TICKET_LEN + 1])
{
	int values[DATA_CHARS + 1];
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '-' || text[i] == ' ')
			continue;
		int v = value_of(text[i]);
		if (v < 0 || n == DATA_CHARS + 1)
			return -1;
		values[n++] = v;
	}
	if (n != DATA_CHARS + 1 || check_value(values, DATA_CHARS) != values[DATA_CHARS])
		return -1;
	write_ticket(values, out);
	return 0;
}

void ticket_campaign_key(const struct token_secret *secret, const char *salt,
			 uint8_t key[TICKET_CAMPAIGN_KEY_LEN])
{
	static const char label[] = "plughole ticket key"; /* with its NUL: the label ends before the salt */
	uint8_t data[sizeof label + 128];
	size_t salt_len = strnlen(salt, 128);
	memcpy(data, label, sizeof label);
	memcpy(data + sizeof label, salt, salt_len);
	unsigned int n = 0;
	HMAC(EVP_sha256(), secret->key, sizeof secret->key, data, sizeof label + salt_len, key, &n);
}

void ticket_key(const uint8_t key[TICKET_CAMPAIGN_KEY_LEN], const char *ticket, char out[TICKET_KEY_LEN + 1])
{
	uint8_t mac[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	HMAC(EVP_sha256(), key, TICKET_CAMPAIGN_KEY_LEN, (const uint8_t *)ticket, strlen(ticket), mac, &n);
	for (size_t i = 0; i < TICKET_KEY_LEN / 2; i++)
		sprintf(out + 2 * i, "%02x", mac[i]);
	out[TICKET_KEY_LEN] = '\0';
}
