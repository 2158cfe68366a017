/*
 * cairn_wire.h - what both ends of the wire need, in one small static
 * library (cairn_wire) that the server links and that libcairn carries
 * inside it: the status codes and task states with their names
 * (cairn_common.h, installed with cairn.h), random bytes for lease tokens
 * and request ids, the memory of a repeated protobuf field, and the one
 * UTF-8 rule that every string on the wire follows.
 *
 * The cairn__ functions are internal: hidden in libcairn.so, never part of
 * its API.
 */
#ifndef CAIRN_WIRE_H
#define CAIRN_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn_common.h"

/* cairn__random_bytes fills buf with n (at most 256) bytes of the kernel's
 * random source, taken 4 KiB at a time per thread rather than one system
 * call each; every byte is handed out once. False when the kernel has none
 * to give (errno says why). */
bool cairn__random_bytes(void *buf, size_t n);

/* cairn__pb_array allocates, in one zeroed block that the caller frees
 * with free(*ptrs), n pointers followed by the n messages of size bytes
 * they point to: the shape of a repeated message field. Returns the first
 * message, or NULL (and *ptrs untouched) when out of memory or when the
 * size does not fit. */
void *cairn__pb_array(size_t n, size_t size, void ***ptrs);

/* cairn__utf8_seq returns the length of the well-formed UTF-8 sequence at
 * p (n bytes available), or 0 when there is none: no overlong forms, no
 * UTF-16 surrogates, nothing past U+10FFFF. */
size_t cairn__utf8_seq(const uint8_t *p, size_t n);

/* cairn__utf8_valid says whether p[0..n) is well-formed UTF-8, so that
 * every backend can store it as text and every client can print it. */
bool cairn__utf8_valid(const void *p, size_t n);

/* cairn__fnv1a64 is the 64-bit FNV-1a hash of data: the input_hash of
 * workflow log entries (proto/README.md), computed alike by the server and
 * every client. */
uint64_t cairn__fnv1a64(const void *data, size_t len);

#endif /* CAIRN_WIRE_H */
