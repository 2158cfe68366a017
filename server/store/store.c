/*
 * store/store.c - backend selection by URI scheme, and helpers shared by the
 * backends.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

extern const struct store_ops store_sqlite_ops;
#ifdef CAIRN_WITH_POSTGRES
extern const struct store_ops store_postgres_ops;
#endif

struct scheme {
	const char *prefix;
	const struct store_ops *ops;
};

static const struct scheme schemes[] = {
	{ "sqlite:", &store_sqlite_ops },
#ifdef CAIRN_WITH_POSTGRES
	{ "postgres://", &store_postgres_ops },
	{ "postgresql://", &store_postgres_ops },
#endif
};

int
store_open(const char *uri, const struct store_options *opts,
    struct store **out, char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		if (strncmp(uri, schemes[i].prefix, strlen(schemes[i].prefix))
		    == 0) {
			return (
			    schemes[i].ops->open(uri, opts, out, err, errlen));
		}
	}
	snprintf(err, errlen,
	    "unsupported store URI '%s' (expected sqlite:PATH"
#ifdef CAIRN_WITH_POSTGRES
	    " or postgres://..."
#endif
	    ")",
	    uri);
	return (CAIRN_INVALID_ARGUMENT);
}

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
