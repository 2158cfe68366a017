/*
 * wf_hash.c - the input hash of workflow log entries: 64-bit FNV-1a, as
 * proto/README.md defines it, so that replay in any language compares the
 * same numbers the server records. Kept apart: it belongs with the wire
 * code that the server and the client share.
 */
#include "cairn.h"

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME  0x100000001b3ULL

uint64_t
cairn_wf_hash(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = FNV_OFFSET;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= FNV_PRIME;
	}
	return (h);
}
