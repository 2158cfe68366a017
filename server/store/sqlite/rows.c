/*
 * store/sqlite/rows.c - the SQLite backend's row-level writes and picks.
 */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/sqlite.h"

#define Q(s) ((struct store_sqlite *) (s))

int
sq_insert(struct store *s, const struct task_spec *spec, int64_t now,
    uint64_t *id, bool *created)
{
	sqlite3_stmt *st = sq_stmt(Q(s), SQ_INSERT);
	int rc;

	sqlite3_bind_text(st, 1, spec->queue, -1, SQLITE_STATIC);
	sq_bind_blob(st, 2, spec->payload, spec->payload_len);
	sqlite3_bind_int(st, 3, spec->priority);
	sqlite3_bind_int64(st, 4, spec->run_at_ms);
	sqlite3_bind_int64(st, 5, spec->max_attempts);
	sqlite3_bind_int64(st, 6, spec->retry.initial_ms);
	sqlite3_bind_double(st, 7, spec->retry.multiplier);
	sqlite3_bind_int64(st, 8, spec->retry.max_ms);
	sqlite3_bind_int64(st, 9, spec->heartbeat_timeout_ms);
	sqlite3_bind_int64(st, 10, spec->start_to_close_ms);
	sq_bind_text(st, 11, spec->idempotency_key);
	sqlite3_bind_int64(st, 12, now);
	if (spec->wf_run != 0) {
		sqlite3_bind_int64(st, 13, (sqlite3_int64) spec->wf_run);
		sqlite3_bind_int64(st, 14, spec->wf_seq);
	}
	/* No RETURNING: SQLite runs it through an ephemeral table that it
	 * builds and frees on every insert (half the insert's cost). The
	 * engine owns the connection, so the row count and the last rowid
	 * are this statement's. */
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		return (sq_fail(Q(s), rc, "insert"));
	}
	if (sqlite3_changes(Q(s)->db) == 1) {
		*id = (uint64_t) sqlite3_last_insert_rowid(Q(s)->db);
		*created = true;
		return (CAIRN_OK);
	}
	/* DO NOTHING fired: the key is taken, answer with its task. */
	st = sq_stmt(Q(s), SQ_FIND_KEY);
	sqlite3_bind_text(st, 1, spec->queue, -1, SQLITE_STATIC);
	sq_bind_text(st, 2, spec->idempotency_key);
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		sqlite3_reset(st);
		return (rc == SQLITE_DONE ? store_seterr(s, CAIRN_INTERNAL,
		            "insert conflicted but no task has the key")
		                          : sq_fail(Q(s), rc, "insert"));
	}
	*id = (uint64_t) sqlite3_column_int64(st, 0);
	*created = false;
	sqlite3_reset(st);
	return (CAIRN_OK);
}

int
sq_load(struct store *s, uint64_t id, struct task_row *row)
{
	sqlite3_stmt *st = sq_stmt(Q(s), SQ_LOAD);
	int rc, rv;

	sqlite3_bind_int64(st, 1, (sqlite3_int64) id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		rv = sq_read_row(st, row);
		sqlite3_reset(st);
		return (rv == CAIRN_OK ? rv
		                       : store_seterr(s, rv, "out of memory"));
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE) {
		return (store_seterr(s, CAIRN_NOT_FOUND, "task %llu not found",
		    (unsigned long long) id));
	}
	return (sq_fail(Q(s), rc, "load"));
}

int
sq_save(struct store *s, const struct task_row *row)
{
	const struct task *t = &row->t;
	sqlite3_stmt *st = sq_stmt(Q(s), SQ_SAVE);

	sqlite3_bind_int64(st, 1, (sqlite3_int64) t->id);
	sqlite3_bind_int(st, 2, t->state);
	sqlite3_bind_int64(st, 3, t->run_at_ms);
	sqlite3_bind_int64(st, 4, t->attempt);
	if (t->details_len > 0) {
		sq_bind_blob(st, 5, t->details, t->details_len);
	}
	if (t->result_len > 0 || t->state == CAIRN_SUCCEEDED) {
		sq_bind_blob(st, 6, t->result, t->result_len);
	}
	sq_bind_text(st, 7, t->last_error);
	sqlite3_bind_int(st, 8, t->cancel_requested);
	sq_bind_text(st, 9, t->worker_id);
	if (t->lease_token[0] != 0) {
		sqlite3_bind_text(st, 10, t->lease_token, -1, SQLITE_STATIC);
	}
	if (t->state == CAIRN_ACTIVE) {
		sqlite3_bind_int64(st, 11, t->lease_deadline_ms);
	}
	sqlite3_bind_int64(st, 12, t->updated_ms);
	if (task_state_is_terminal(t->state)) {
		sqlite3_bind_int64(st, 13, t->finished_ms);
	}
	sqlite3_bind_int64(st, 14, row->lease_timeout_ms);
	if (row->attempt_deadline_ms != TASK_TIME_NEVER) {
		sqlite3_bind_int64(st, 15, row->attempt_deadline_ms);
	}
	sqlite3_bind_int(st, 16, row->outcome);
	sqlite3_bind_int64(st, 17, row->event_seq);
	return (sq_done(Q(s), SQ_SAVE, "save"));
}

int
sq_add_event(
    struct store *s, uint64_t id, uint32_t seq, const struct task_event *ev)
{
	sqlite3_stmt *st = sq_stmt(Q(s), SQ_ADD_EVENT);

	sqlite3_bind_int64(st, 1, (sqlite3_int64) id);
	sqlite3_bind_int64(st, 2, seq);
	sqlite3_bind_int64(st, 3, ev->at_ms);
	sqlite3_bind_text(st, 4, ev->kind, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, ev->attempt);
	sq_bind_text(st, 6, ev->worker_id);
	sq_bind_text(st, 7, ev->message);
	return (sq_done(Q(s), SQ_ADD_EVENT, "add event"));
}

/* collect_ids steps st and writes its first column into ids. */
static int
collect_ids(struct store *s, sqlite3_stmt *st, uint64_t *ids, size_t max,
    size_t *n, const char *what)
{
	size_t got = 0;
	int rc = SQLITE_DONE;

	while (got < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		ids[got++] = (uint64_t) sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	if (got < max && rc != SQLITE_DONE) {
		return (sq_fail(Q(s), rc, what));
	}
	*n = got;
	return (CAIRN_OK);
}

int
sq_pick_due(struct store *s, const char *queue, int64_t now, uint32_t max,
    uint64_t *ids, size_t *n)
{
	sqlite3_stmt *st = sq_stmt(Q(s), SQ_PICK_DUE);

	sqlite3_bind_text(st, 1, queue, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, max);
	return (collect_ids(s, st, ids, max, n, "pick due"));
}

int
sq_pick_expired(
    struct store *s, int64_t now, uint32_t max, uint64_t *ids, size_t *n)
{
	sqlite3_stmt *st = sq_stmt(Q(s), SQ_PICK_EXPIRED);

	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, max);
	return (collect_ids(s, st, ids, max, n, "pick expired"));
}

int
sq_prune(struct store *s, int64_t before, uint32_t limit, size_t *n)
{
	sqlite3_stmt *st = sq_stmt(Q(s), SQ_PRUNE_PICK);
	uint64_t ids[256];
	size_t got = 0;
	int rv;

	if (limit > 256) {
		limit = 256;
	}
	sqlite3_bind_int64(st, 1, before);
	sqlite3_bind_int64(st, 2, limit);
	if ((rv = collect_ids(s, st, ids, limit, &got, "prune")) != 0) {
		return (rv);
	}
	for (size_t i = 0; i < got; i++) {
		st = sq_stmt(Q(s), SQ_PRUNE_EVENTS);
		sqlite3_bind_int64(st, 1, (sqlite3_int64) ids[i]);
		if ((rv = sq_done(Q(s), SQ_PRUNE_EVENTS, "prune")) != 0) {
			return (rv);
		}
		st = sq_stmt(Q(s), SQ_PRUNE_TASK);
		sqlite3_bind_int64(st, 1, (sqlite3_int64) ids[i]);
		if ((rv = sq_done(Q(s), SQ_PRUNE_TASK, "prune")) != 0) {
			return (rv);
		}
	}
	*n = got;
	return (CAIRN_OK);
}
