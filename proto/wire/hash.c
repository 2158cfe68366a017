/*
 * wire/hash.c - the input hash of workflow log entries: 64-bit FNV-1a, as
 * proto/README.md defines it, so that the server records and every
 * replay compares the same numbers.
 */
#include "cairn_wire.h"

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME  0x100000001b3ULL

uint64_t
cairn__fnv1a64(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = FNV_OFFSET;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= FNV_PRIME;
	}
	return (h);
}
