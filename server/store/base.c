/*
 * store/base.c - what every backend builds on, below them all: the error
 * text on the handle, the slots of a stats answer, and freeing a row.
 * store.c, above the backends, chooses them; this file calls none.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

int
store_seterr(struct store *s, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->errmsg, sizeof(s->errmsg), fmt, ap);
	va_end(ap);
	return (status);
}

void
task_row_clear(struct task_row *row)
{
	task_clear(&row->t);
	memset(row, 0, sizeof(*row));
}

struct queue_stats *
store_stats_slot(
    struct queue_stats **arr, size_t *n, size_t *cap, const char *queue)
{
	for (size_t i = 0; i < *n; i++) {
		if (strcmp((*arr)[i].queue, queue) == 0) {
			return (&(*arr)[i]);
		}
	}
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		struct queue_stats *p = realloc(*arr, ncap * sizeof(*p));
		if (p == NULL) {
			return (NULL);
		}
		*arr = p;
		*cap = ncap;
	}
	struct queue_stats *e = &(*arr)[*n];
	memset(e, 0, sizeof(*e));
	if ((e->queue = strdup(queue)) == NULL) {
		return (NULL);
	}
	(*n)++;
	return (e);
}
