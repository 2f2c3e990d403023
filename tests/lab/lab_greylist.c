/*
 * Greylisting memory: an open-addressing table of (client, sender, recipient)
 * triplets per host, as postgrey keys them (a 64-bit hash of the four stands
 * for the triplet), and the time each was first seen. It grows to a cap and is then forgotten in
 * one go, as a real greylister's database expires: bounded memory whatever
 * the clients do.
 */
#include <stdlib.h>

#include "lab.h"

#define LAB_GREYLIST_MIN (1u << 12)
#define LAB_GREYLIST_MAX (1u << 22) /* 64 MiB of slots at most */

struct lab_greylist_slot {
	uint64_t key; /* the triplet's hash, never zero: zero marks an empty slot */
	time_t first_seen;
};

struct lab_greylist {
	struct lab_greylist_slot *slots;
	size_t size, used; /* size is a power of two */
};

struct lab_greylist *lab_greylist_new(void)
{
	struct lab_greylist *list = calloc(1, sizeof *list);
	if (list == NULL)
		return NULL;
	list->slots = calloc(LAB_GREYLIST_MIN, sizeof *list->slots);
	if (list->slots == NULL) {
		free(list);
		return NULL;
	}
	list->size = LAB_GREYLIST_MIN;
	return list;
}

void lab_greylist_free(struct lab_greylist *list)
{
	if (list == NULL)
		return;
	free(list->slots);
	free(list);
}

static struct lab_greylist_slot *lab_greylist_slot(struct lab_greylist_slot *slots, size_t size, uint64_t key)
{
	size_t i = (size_t)((key * 0x9e3779b97f4a7c15ull) >> 20) & (size - 1);
	while (slots[i].key != 0 && slots[i].key != key)
		i = (i + 1) & (size - 1);
	return &slots[i];
}

/* Doubles the table, or empties it at the cap; -1 if memory ran out. */
static int lab_greylist_grow(struct lab_greylist *list)
{
	size_t size = list->size * 2;
	struct lab_greylist_slot *slots;
	if (size > LAB_GREYLIST_MAX) {
		for (size_t i = 0; i < list->size; i++)
			list->slots[i].key = 0;
		list->used = 0;
		return 0;
	}
	slots = calloc(size, sizeof *slots);
	if (slots == NULL)
		return -1;
	for (size_t i = 0; i < list->size; i++)
		if (list->slots[i].key != 0)
			*lab_greylist_slot(slots, size, list->slots[i].key) = list->slots[i];
	free(list->slots);
	list->slots = slots;
	list->size = size;
	return 0;
}

/* FNV-1a over the bytes of s and its terminating NUL (so "ab","c" differs from "a","bc"). */
static uint64_t lab_greylist_mix(uint64_t h, const char *s)
{
	do
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	while (*s++ != '\0');
	return h;
}

long lab_greylist_age(struct lab_greylist *list, uint32_t client, uint32_t host, const char *sender,
		      const char *recipient, time_t now)
{
	uint64_t key = (0xcbf29ce484222325ull ^ ((uint64_t)client << 32 | host)) * 0x100000001b3ull;
	key = lab_greylist_mix(lab_greylist_mix(key, sender), recipient);
	key += key == 0;
	struct lab_greylist_slot *slot = lab_greylist_slot(list->slots, list->size, key);
	if (slot->key == key)
		return (long)(now - slot->first_seen);
	if (list->used * 2 >= list->size) {
		if (lab_greylist_grow(list) != 0)
			return 0; /* out of memory: keep greylisting, which is the safe answer */
		slot = lab_greylist_slot(list->slots, list->size, key);
	}
	slot->key = key;
	slot->first_seen = now;
	list->used++;
	return 0;
}
