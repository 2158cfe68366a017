/*
 * random.h - random bytes from the kernel, for lease tokens (server) and
 * request ids (libcairn): shared by both.
 */
#ifndef CAIRN_RANDOM_H
#define CAIRN_RANDOM_H

#include <stdbool.h>
#include <stddef.h>

/* cairn__random_bytes fills buf with n (at most 256) bytes of the kernel's
 * random source, taken 4 KiB at a time per thread rather than one system
 * call each; every byte is handed out once. False when the kernel has none
 * to give (errno says why). */
bool cairn__random_bytes(void *buf, size_t n);

#endif /* CAIRN_RANDOM_H */
