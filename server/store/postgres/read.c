/*
 * store/postgres/read.c - the PostgreSQL backend's reads: rows, lists,
 * stats, history and the next instant something becomes due.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/postgres/postgres.h"

#define Q(s) ((struct store_pg *) (s))

/* read_task copies result row i into a new struct task. */
static int
read_task(const PGresult *r, int i, struct task **out)
{
	struct task_row row;
	struct task *t;
	int rv;

	if ((rv = pg_read_row(r, i, &row)) != CAIRN_OK) {
		return (rv);
	}
	if ((t = malloc(sizeof(*t))) == NULL) {
		task_row_clear(&row);
		return (CAIRN_RESOURCE_EXHAUSTED);
	}
	*t = row.t;
	*out = t;
	return (CAIRN_OK);
}

int
pg_get(struct store *s, uint64_t id, struct task **out)
{
	struct pg_params p = { 0 };
	PGresult *r;
	int rv;

	if (id > INT64_MAX) {
		return (store_seterr(s, CAIRN_NOT_FOUND, "task %llu not found",
		    (unsigned long long) id));
	}
	pg_p_i64(&p, (int64_t) id);
	if ((r = pg_run(Q(s), PG_GET, &p, "get", &rv)) == NULL) {
		return (rv);
	}
	if (PQntuples(r) == 0) {
		rv = store_seterr(s, CAIRN_NOT_FOUND, "task %llu not found",
		    (unsigned long long) id);
	} else if ((rv = read_task(r, 0, out)) != CAIRN_OK) {
		rv = store_seterr(s, rv, "out of memory");
	}
	PQclear(r);
	return (rv);
}

int
pg_list(struct store *s, const char *queue, cairn_state state, uint32_t limit,
    uint64_t after_id, struct task ***out, size_t *n)
{
	struct pg_params p = { 0 };
	struct task **tasks;
	PGresult *r;
	int rv = CAIRN_OK, got = 0, rows;

	pg_p_text(&p, queue);
	pg_p_i64(&p, after_id > INT64_MAX ? INT64_MAX : (int64_t) after_id);
	pg_p_i64(&p, limit);
	if (state != CAIRN_STATE_ANY) {
		pg_p_i64(&p, state);
	}
	r = pg_run(Q(s),
	    state == CAIRN_STATE_ANY ? PG_LIST_ANY : PG_LIST_STATE, &p, "list",
	    &rv);
	if (r == NULL) {
		return (rv);
	}
	rows = PQntuples(r);
	if ((tasks = calloc(rows > 0 ? (size_t) rows : 1, sizeof(*tasks)))
	    == NULL) {
		PQclear(r);
		return (
		    store_seterr(s, CAIRN_RESOURCE_EXHAUSTED, "no memory"));
	}
	for (; got < rows; got++) {
		if ((rv = read_task(r, got, &tasks[got])) != CAIRN_OK) {
			break;
		}
	}
	PQclear(r);
	if (rv != CAIRN_OK) {
		task_array_free(tasks, (size_t) got);
		return (store_seterr(s, rv, "out of memory"));
	}
	*out = tasks;
	*n = (size_t) got;
	return (CAIRN_OK);
}

/* stats_fill applies the rows of one stats query to the array. */
static int
stats_fill(const PGresult *r, bool due, int64_t now, struct queue_stats **arr,
    size_t *cnt, size_t *cap)
{
	for (int i = 0; i < PQntuples(r); i++) {
		struct queue_stats *e
		    = store_stats_slot(arr, cnt, cap, PQgetvalue(r, i, 0));
		if (e == NULL) {
			return (CAIRN_RESOURCE_EXHAUSTED);
		}
		if (due) {
			e->due = (uint64_t) pg_i64(r, i, 1, 0);
			e->oldest_due_age_ms = now - pg_i64(r, i, 2, now);
			continue;
		}
		int64_t state = pg_i64(r, i, 1, 0);
		if (state >= CAIRN_PENDING && state <= CAIRN_CANCELED) {
			e->count[state] = (uint64_t) pg_i64(r, i, 2, 0);
		}
	}
	return (CAIRN_OK);
}

int
pg_stats(struct store *s, const char *queue, int64_t now,
    struct queue_stats **out, size_t *n)
{
	struct queue_stats *arr = NULL;
	size_t cnt = 0, cap = 0;
	struct pg_params p = { 0 };
	PGresult *r;
	int rv;

	pg_p_text(&p, queue != NULL && queue[0] != 0 ? queue : NULL);
	if ((r = pg_run(Q(s), PG_STATS_COUNTS, &p, "stats", &rv)) == NULL) {
		return (rv);
	}
	rv = stats_fill(r, false, now, &arr, &cnt, &cap);
	PQclear(r);
	if (rv != CAIRN_OK) {
		goto fail;
	}
	pg_p_i64(&p, now);
	if ((r = pg_run(Q(s), PG_STATS_DUE, &p, "stats", &rv)) == NULL) {
		queue_stats_free(arr, cnt);
		return (rv);
	}
	rv = stats_fill(r, true, now, &arr, &cnt, &cap);
	PQclear(r);
	if (rv != CAIRN_OK) {
		goto fail;
	}
	*out = arr;
	*n = cnt;
	return (CAIRN_OK);
fail:
	queue_stats_free(arr, cnt);
	return (store_seterr(s, rv, "out of memory"));
}

int
pg_history(struct store *s, uint64_t id, struct task_event **out, size_t *n)
{
	struct pg_params p = { 0 };
	struct task_event *ev;
	PGresult *r;
	int rv = CAIRN_OK, rows, i;

	pg_p_i64(&p, id > INT64_MAX ? 0 : (int64_t) id);
	if ((r = pg_run(Q(s), PG_HISTORY, &p, "history", &rv)) == NULL) {
		return (rv);
	}
	if ((rows = PQntuples(r)) == 0) {
		/* Every task has an "enqueued" event: none means no task. */
		PQclear(r);
		return (store_seterr(s, CAIRN_NOT_FOUND, "task %llu not found",
		    (unsigned long long) id));
	}
	if ((ev = calloc((size_t) rows, sizeof(*ev))) == NULL) {
		PQclear(r);
		return (
		    store_seterr(s, CAIRN_RESOURCE_EXHAUSTED, "no memory"));
	}
	for (i = 0; i < rows && rv == CAIRN_OK; i++) {
		ev[i].at_ms = pg_i64(r, i, 0, 0);
		ev[i].attempt = (uint32_t) pg_i64(r, i, 2, 0);
		if ((rv = pg_text(r, i, 1, &ev[i].kind)) == CAIRN_OK
		    && (rv = pg_text(r, i, 3, &ev[i].worker_id)) == CAIRN_OK) {
			rv = pg_text(r, i, 4, &ev[i].message);
		}
	}
	PQclear(r);
	if (rv != CAIRN_OK) {
		task_events_free(ev, (size_t) rows);
		return (store_seterr(s, rv, "out of memory"));
	}
	*out = ev;
	*n = (size_t) rows;
	return (CAIRN_OK);
}

int
pg_next_wakeup(struct store *s, int64_t now, int64_t *at)
{
	struct pg_params p = { 0 };
	PGresult *r;
	int rv;

	pg_p_i64(&p, now);
	if ((r = pg_run(Q(s), PG_NEXT_WAKEUP, &p, "next wakeup", &rv))
	    == NULL) {
		return (rv);
	}
	*at = pg_wakeup_of(r);
	PQclear(r);
	return (CAIRN_OK);
}

int64_t
pg_wakeup_of(const PGresult *r)
{
	int64_t at = TASK_TIME_NEVER;

	/* The earliest of the instants, one per column (NULL: none). */
	for (int i = 0; i < PQnfields(r); i++) {
		int64_t v = pg_i64(r, 0, i, TASK_TIME_NEVER);
		at = v < at ? v : at;
	}
	return (at);
}

int
pg_find_key(struct store *s, const char *queue, const char *key, uint64_t *id)
{
	struct pg_params p = { 0 };
	PGresult *r;
	int rv = CAIRN_OK;

	pg_p_text(&p, queue);
	pg_p_text(&p, key);
	if ((r = pg_run(Q(s), PG_FIND_KEY, &p, "find_key", &rv)) == NULL) {
		return (rv);
	}
	if (PQntuples(r) == 1) {
		*id = (uint64_t) pg_i64(r, 0, 0, 0);
	} else {
		rv = store_seterr(s, CAIRN_NOT_FOUND,
		    "no task of queue %s has that idempotency key", queue);
	}
	PQclear(r);
	return (rv);
}
