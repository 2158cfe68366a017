/*
 * pb_array.h - the memory of a repeated message field, for the server's
 * replies and libcairn's requests alike.
 */
#ifndef CAIRN_PB_ARRAY_H
#define CAIRN_PB_ARRAY_H

#include <stddef.h>

/* cairn__pb_array allocates, in one zeroed block that the caller frees
 * with free(*ptrs), n pointers followed by the n messages of size bytes
 * they point to: the shape of a repeated message field. Returns the first
 * message, or NULL (and *ptrs untouched) when out of memory or when the
 * size does not fit. */
void *cairn__pb_array(size_t n, size_t size, void ***ptrs);

#endif /* CAIRN_PB_ARRAY_H */
