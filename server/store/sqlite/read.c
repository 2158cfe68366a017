/*
 * store/sqlite/read.c - the SQLite backend's reads: rows, lists, stats,
 * history and the next instant something becomes due.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/sqlite.h"

#define Q(s) ((struct store_sqlite *) (s))

static int
col_text(sqlite3_stmt *st, int i, char **out)
{
	const unsigned char *v = sqlite3_column_text(st, i);

	*out = NULL;
	if (v == NULL) {
		return (sqlite3_column_type(st, i) == SQLITE_NULL
		        ? CAIRN_OK
		        : CAIRN_RESOURCE_EXHAUSTED);
	}
	return ((*out = strdup((const char *) v)) != NULL
	        ? CAIRN_OK
	        : CAIRN_RESOURCE_EXHAUSTED);
}

static int
col_blob(sqlite3_stmt *st, int i, uint8_t **out, size_t *len)
{
	const void *v = sqlite3_column_blob(st, i);
	size_t n = (size_t) sqlite3_column_bytes(st, i);

	*out = NULL;
	*len = 0;
	if (v == NULL || n == 0) {
		return (CAIRN_OK);
	}
	if ((*out = malloc(n)) == NULL) {
		return (CAIRN_RESOURCE_EXHAUSTED);
	}
	memcpy(*out, v, n);
	*len = n;
	return (CAIRN_OK);
}

static int64_t
col_i64_or(sqlite3_stmt *st, int i, int64_t dflt)
{
	return (sqlite3_column_type(st, i) == SQLITE_NULL
	        ? dflt
	        : sqlite3_column_int64(st, i));
}

int
sq_read_row(sqlite3_stmt *st, struct task_row *row)
{
	struct task *t = &row->t;
	char *token = NULL;
	int rv = CAIRN_OK;

	memset(row, 0, sizeof(*row));
	t->id = (uint64_t) sqlite3_column_int64(st, 0);
	t->priority = sqlite3_column_int(st, 3);
	t->state = (cairn_state) sqlite3_column_int(st, 4);
	t->run_at_ms = sqlite3_column_int64(st, 5);
	t->attempt = (uint32_t) sqlite3_column_int64(st, 6);
	t->max_attempts = (uint32_t) sqlite3_column_int64(st, 7);
	t->retry.initial_ms = sqlite3_column_int64(st, 8);
	t->retry.multiplier = sqlite3_column_double(st, 9);
	t->retry.max_ms = sqlite3_column_int64(st, 10);
	t->heartbeat_timeout_ms = sqlite3_column_int64(st, 11);
	t->start_to_close_ms = sqlite3_column_int64(st, 12);
	t->cancel_requested = sqlite3_column_int(st, 17) != 0;
	t->lease_deadline_ms = col_i64_or(st, 20, 0);
	t->created_ms = sqlite3_column_int64(st, 21);
	t->updated_ms = sqlite3_column_int64(st, 22);
	t->finished_ms = col_i64_or(st, 23, 0);
	row->lease_timeout_ms = sqlite3_column_int64(st, 24);
	row->attempt_deadline_ms = col_i64_or(st, 25, TASK_TIME_NEVER);
	row->outcome = (enum lease_outcome) sqlite3_column_int(st, 26);
	row->event_seq = (uint32_t) sqlite3_column_int64(st, 27);

	if ((rv = col_text(st, 1, &t->queue)) != 0
	    || (rv = col_blob(st, 2, &t->payload, &t->payload_len)) != 0
	    || (rv = col_text(st, 13, &t->idempotency_key)) != 0
	    || (rv = col_blob(st, 14, &t->details, &t->details_len)) != 0
	    || (rv = col_blob(st, 15, &t->result, &t->result_len)) != 0
	    || (rv = col_text(st, 16, &t->last_error)) != 0
	    || (rv = col_text(st, 18, &t->worker_id)) != 0
	    || (rv = col_text(st, 19, &token)) != 0) {
		task_row_clear(row);
		return (rv);
	}
	if (token != NULL) {
		snprintf(t->lease_token, sizeof(t->lease_token), "%s", token);
		free(token);
	}
	return (CAIRN_OK);
}

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
		if (col_text(st, 1, &e->kind) != 0
		    || col_text(st, 3, &e->worker_id) != 0
		    || col_text(st, 4, &e->message) != 0) {
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
		*at = col_i64_or(st, 0, TASK_TIME_NEVER);
	}
	sqlite3_reset(st);
	return (
	    rc == SQLITE_ROW ? CAIRN_OK : sq_fail(Q(s), rc, "next wakeup"));
}

int
sq_next_wakeup(struct store *s, int64_t now, int64_t *at)
{
	int64_t due = TASK_TIME_NEVER, deadline = TASK_TIME_NEVER;
	int rv;

	if ((rv = min_of(s, SQ_NEXT_DUE, now, &due)) != CAIRN_OK
	    || (rv = min_of(s, SQ_NEXT_DEADLINE, now, &deadline))
	        != CAIRN_OK) {
		return (rv);
	}
	*at = due < deadline ? due : deadline;
	return (CAIRN_OK);
}
