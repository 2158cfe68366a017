/*
 * lifecycle/util.h - what the rule files of lifecycle/ share to report and
 * to copy: a store's failure, a refusal, and the replacement of an owned
 * string or buffer. Not for other modules.
 */
#ifndef CAIRN_LIFECYCLE_UTIL_H
#define CAIRN_LIFECYCLE_UTIL_H

#include "lifecycle/lifecycle.h"

/* lc_fault copies the store's detail of a failed call into msg
 * (LC_MSG_MAX bytes; "out of memory" when the store gave none) and
 * returns rv. */
int lc_fault(struct store *s, int rv, char *msg);

/* lc_refuse formats msg and returns rv. */
int lc_refuse(int rv, char *msg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* lc_copy_bytes and lc_copy_str replace *dst (freed) with a copy of src;
 * CAIRN_RESOURCE_EXHAUSTED, changing nothing, when out of memory. */
int lc_copy_bytes(
    uint8_t **dst, size_t *dst_len, const uint8_t *src, size_t len);
int lc_copy_str(char **dst, const char *src);

#endif /* CAIRN_LIFECYCLE_UTIL_H */
