/*
 * store/sqlite/exec.c - the bottom of the SQLite backend, which every other
 * file of it calls and which calls none of them: running a prepared
 * statement, mapping SQLite's errors to cairn statuses, and reading a task
 * row.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/sqlite.h"

int
sq_fail(struct store_sqlite *q, int rc, const char *what)
{
	int status;

	switch (rc & 0xff) {
	case SQLITE_FULL:
		status = CAIRN_RESOURCE_EXHAUSTED;
		break;
	case SQLITE_NOMEM:
		status = CAIRN_RESOURCE_EXHAUSTED;
		break;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_CANTOPEN:
		status = CAIRN_UNAVAILABLE;
		break;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		status = CAIRN_DATA_LOSS;
		q->base.io_failed = true;
		break;
	case SQLITE_IOERR:
		/* A failed write or fsync: what is on disk is unknown, and
		 * the engine must not commit on this handle again. */
		status = CAIRN_INTERNAL;
		q->base.io_failed = true;
		break;
	default:
		status = CAIRN_INTERNAL;
		break;
	}
	return (store_seterr(&q->base, status, "sqlite: %s: %s", what,
	    q->db != NULL ? sqlite3_errmsg(q->db) : sqlite3_errstr(rc)));
}

sqlite3_stmt *
sq_stmt(struct store_sqlite *q, enum sq_stmt which)
{
	sqlite3_stmt *st = q->stmt[which];

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return (st);
}

int
sq_done(struct store_sqlite *q, enum sq_stmt which, const char *what)
{
	int rc = sqlite3_step(q->stmt[which]);

	sqlite3_reset(q->stmt[which]);
	return (rc == SQLITE_DONE ? CAIRN_OK : sq_fail(q, rc, what));
}

int
sq_col_text(sqlite3_stmt *st, int i, char **out)
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

int
sq_col_blob(sqlite3_stmt *st, int i, uint8_t **out, size_t *len)
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

int64_t
sq_col_i64_or(sqlite3_stmt *st, int i, int64_t dflt)
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
	t->lease_deadline_ms = sq_col_i64_or(st, 20, 0);
	t->created_ms = sqlite3_column_int64(st, 21);
	t->updated_ms = sqlite3_column_int64(st, 22);
	t->finished_ms = sq_col_i64_or(st, 23, 0);
	row->lease_timeout_ms = sqlite3_column_int64(st, 24);
	row->attempt_deadline_ms = sq_col_i64_or(st, 25, TASK_TIME_NEVER);
	row->outcome = (enum lease_outcome) sqlite3_column_int(st, 26);
	row->event_seq = (uint32_t) sqlite3_column_int64(st, 27);
	row->wf_run = (uint64_t) sqlite3_column_int64(st, 28);
	row->wf_seq = (uint32_t) sqlite3_column_int64(st, 29);

	if ((rv = sq_col_text(st, 1, &t->queue)) != 0
	    || (rv = sq_col_blob(st, 2, &t->payload, &t->payload_len)) != 0
	    || (rv = sq_col_text(st, 13, &t->idempotency_key)) != 0
	    || (rv = sq_col_blob(st, 14, &t->details, &t->details_len)) != 0
	    || (rv = sq_col_blob(st, 15, &t->result, &t->result_len)) != 0
	    || (rv = sq_col_text(st, 16, &t->last_error)) != 0
	    || (rv = sq_col_text(st, 18, &t->worker_id)) != 0
	    || (rv = sq_col_text(st, 19, &token)) != 0) {
		task_row_clear(row);
		return (rv);
	}
	if (token != NULL) {
		snprintf(t->lease_token, sizeof(t->lease_token), "%s", token);
		free(token);
	}
	return (CAIRN_OK);
}

void
sq_bind_blob(sqlite3_stmt *st, int i, const void *p, size_t len)
{
	/* SQLITE_STATIC: the caller's buffer outlives the step. */
	sqlite3_bind_blob64(st, i, len > 0 ? p : "", len, SQLITE_STATIC);
}

void
sq_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s != NULL) {
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	}
}

void
sq_bind_nonzero(sqlite3_stmt *st, int i, int64_t v)
{
	if (v != 0) {
		sqlite3_bind_int64(st, i, v);
	}
}
