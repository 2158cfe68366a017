/*
 * pb_array.c - one block for a repeated message field (cairn_wire.h).
 */
#include <stdint.h>
#include <stdlib.h>

#include "cairn_wire.h"

void *
cairn__pb_array(size_t n, size_t size, void ***ptrs)
{
	void **p;

	/* As calloc(n, size) would, refuse a size that does not fit. */
	if (n > (SIZE_MAX - 1) / (sizeof(*p) + size)) {
		return (NULL);
	}
	if ((p = calloc(1, n * (sizeof(*p) + size) + 1)) == NULL) {
		return (NULL);
	}
	/* The messages follow the pointers, so they stay 8-byte aligned. */
	char *first = (char *) (p + n);
	for (size_t i = 0; i < n; i++) {
		p[i] = first + i * size;
	}
	*ptrs = p;
	return (first);
}
