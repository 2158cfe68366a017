/*
 * store/sqlite/read.c - the SQLite backend's reads: rows, lists, stats,
 * history and the next instant something becomes due.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/sqlite.h"

#define Q(s) ((struct store_sqlite *) (s))

/* read_task copies the current row of st into a new struct task. */
static int
read_task(sqlite3_stmt *st, struct task **out)
{
	struct task_row row;
	struct task *t;
	int rv;

	if ((rv = sq_read_row(st, &row)) != CAIRN_OK) {
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
sq_get(struct store *s, uint64_t id, struct task **out)
{
	struct task_row row;
	struct task *t;
	int rv;

	if ((rv = sq_load(s, id, &row)) != CAIRN_OK) {
		return (rv);
	}
	if ((t = malloc(sizeof(*t))) == NULL) {
		task_row_clear(&row);
		return (store_seterr(
		    s, CAIRN_RESOURCE_EXHAUSTED, "out of memory"));
	}
	*t = row.t;
	*out = t;
	return (CAIRN_OK);
}

int
sq_list(struct store *s, const char *queue, cairn_state state, uint32_t limit,
    uint64_t after_id, struct task ***out, size_t *n)
{
	enum sq_stmt which
	    = state == CAIRN_STATE_ANY ? SQ_LIST_ANY : SQ_LIST_STATE;
	sqlite3_stmt *st = sq_stmt(Q(s), which);
	struct task **tasks = calloc(limit > 0 ? limit : 1, sizeof(*tasks));
	size_t got = 0;
	int rc = SQLITE_DONE, rv = CAIRN_OK;

	if (tasks == NULL) {
		return (
		    store_seterr(s, CAIRN_RESOURCE_EXHAUSTED, "no memory"));
	}
	sqlite3_bind_text(st, 1, queue, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64) after_id);
	sqlite3_bind_int64(st, 3, limit);
	if (state != CAIRN_STATE_ANY) {
		sqlite3_bind_int(st, 4, state);
	}
	while (got < limit && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((rv = read_task(st, &tasks[got])) != CAIRN_OK) {
			break;
		}
		got++;
	}
	sqlite3_reset(st);
	if (rv == CAIRN_OK && got < limit && rc != SQLITE_DONE) {
		rv = sq_fail(Q(s), rc, "list");
	} else if (rv != CAIRN_OK) {
		rv = store_seterr(s, rv, "out of memory");
	}
	if (rv != CAIRN_OK) {
		task_array_free(tasks, got);
		return (rv);
	}
	*out = tasks;
	*n = got;
	return (CAIRN_OK);
}

int
sq_stats(struct store *s, const char *queue, int64_t now,
    struct queue_stats **out, size_t *n)
{
	struct queue_stats *arr = NULL, *e;
	size_t cnt = 0, cap = 0;
	sqlite3_stmt *st = sq_stmt(Q(s), SQ_STATS_COUNTS);
	int rc;

	if (queue != NULL && queue[0] != 0) {
		sqlite3_bind_text(st, 1, queue, -1, SQLITE_STATIC);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int state = sqlite3_column_int(st, 1);
		e = store_stats_slot(&arr, &cnt, &cap,
		    (const char *) sqlite3_column_text(st, 0));
		if (e == NULL) {
			rc = SQLITE_NOMEM;
			break;
		}
		if (state >= CAIRN_PENDING && state <= CAIRN_CANCELED) {
			e->count[state]
			    = (uint64_t) sqlite3_column_int64(st, 2);
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		goto fail;
	}
	st = sq_stmt(Q(s), SQ_STATS_DUE);
	if (queue != NULL && queue[0] != 0) {
		sqlite3_bind_text(st, 1, queue, -1, SQLITE_STATIC);
	}
	sqlite3_bind_int64(st, 2, now);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		e = store_stats_slot(&arr, &cnt, &cap,
		    (const char *) sqlite3_column_text(st, 0));
		if (e == NULL) {
			rc = SQLITE_NOMEM;
			break;
		}
		e->due = (uint64_t) sqlite3_column_int64(st, 1);
		e->oldest_due_age_ms = now - sqlite3_column_int64(st, 2);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		goto fail;
	}
	*out = arr;
	*n = cnt;
	return (CAIRN_OK);
fail:
	queue_stats_free(arr, cnt);
	return (sq_fail(Q(s), rc, "stats"));
}

int
sq_history(struct store *s, uint64_t id, struct task_event **out, size_t *n)
{
	sqlite3_stmt *st = sq_stmt(Q(s), SQ_HISTORY);
	struct task_event *ev = NULL;
	size_t cnt = 0, cap = 0;
	int rc;

	sqlite3_bind_int64(st, 1, (sqlite3_int64) id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cnt == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct task_event *p = realloc(ev, ncap * sizeof(*p));
			if (p == NULL) {
				rc = SQLITE_NOMEM;
				break;
			}
			ev = p;
			cap = ncap;
		}
		struct task_event *e = &ev[cnt++];
		memset(e, 0, sizeof(*e));
		e->at_ms = sqlite3_column_int64(st, 0);
		e->attempt = (uint32_t) sqlite3_column_int64(st, 2);
		if (sq_col_text(st, 1, &e->kind) != 0
		    || sq_col_text(st, 3, &e->worker_id) != 0
		    || sq_col_text(st, 4, &e->message) != 0) {
			rc = SQLITE_NOMEM;
			break;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		task_events_free(ev, cnt);
		return (sq_fail(Q(s), rc, "history"));
	}
	if (cnt == 0) {
		/* Every task has an "enqueued" event: none means no task. */
		free(ev);
		return (store_seterr(s, CAIRN_NOT_FOUND, "task %llu not found",
		    (unsigned long long) id));
	}
	*out = ev;
	*n = cnt;
	return (CAIRN_OK);
}

static int
min_of(struct store *s, enum sq_stmt which, int64_t now, int64_t *at)
{
	sqlite3_stmt *st = sq_stmt(Q(s), which);
	int rc;

	if (which == SQ_NEXT_DUE) {
		sqlite3_bind_int64(st, 1, now);
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*at = sq_col_i64_or(st, 0, TASK_TIME_NEVER);
	}
	sqlite3_reset(st);
	return (
	    rc == SQLITE_ROW ? CAIRN_OK : sq_fail(Q(s), rc, "next wakeup"));
}

int
sq_next_wakeup(struct store *s, int64_t now, int64_t *at)
{
	int64_t due = TASK_TIME_NEVER, deadline = TASK_TIME_NEVER;
	int64_t wf = TASK_TIME_NEVER;
	int rv;

	if ((rv = min_of(s, SQ_NEXT_DUE, now, &due)) != CAIRN_OK
	    || (rv = min_of(s, SQ_NEXT_DEADLINE, now, &deadline)) != CAIRN_OK
	    || (rv = sqw_next_wakeup(s, now, &wf)) != CAIRN_OK) {
		return (rv);
	}
	*at = due < deadline ? due : deadline;
	*at = wf < *at ? wf : *at;
	return (CAIRN_OK);
}

int
sq_find_key(struct store *s, const char *queue, const char *key, uint64_t *id)
{
	sqlite3_stmt *st = sq_stmt(Q(s), SQ_FIND_KEY);
	int rc;

	sqlite3_bind_text(st, 1, queue, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id = (uint64_t) sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE) {
		return (store_seterr(s, CAIRN_NOT_FOUND,
		    "no task of queue %s has that idempotency key", queue));
	}
	return (rc == SQLITE_ROW ? CAIRN_OK : sq_fail(Q(s), rc, "find_key"));
}
