/*
 * lifecycle/util.c - reporting and copying for the rule files
 * (lifecycle/util.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lifecycle/util.h"

int
lc_fault(struct store *s, int rv, char *msg)
{
	snprintf(msg, LC_MSG_MAX, "%s",
	    rv == CAIRN_RESOURCE_EXHAUSTED && store_errmsg(s)[0] == 0
	        ? "out of memory"
	        : store_errmsg(s));
	return (rv);
}

int
lc_refuse(int rv, char *msg, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, LC_MSG_MAX, fmt, ap);
	va_end(ap);
	return (rv);
}

int
lc_copy_bytes(uint8_t **dst, size_t *dst_len, const uint8_t *src, size_t len)
{
	uint8_t *copy = NULL;

	if (len > 0) {
		if ((copy = malloc(len)) == NULL) {
			return (CAIRN_RESOURCE_EXHAUSTED);
		}
		memcpy(copy, src, len);
	}
	free(*dst);
	*dst = copy;
	*dst_len = len;
	return (CAIRN_OK);
}

int
lc_copy_str(char **dst, const char *src)
{
	char *copy = NULL;

	if (src != NULL && (copy = strdup(src)) == NULL) {
		return (CAIRN_RESOURCE_EXHAUSTED);
	}
	free(*dst);
	*dst = copy;
	return (CAIRN_OK);
}
