/*
 * store/sqlite/workflow.c - the SQLite backend's runs, log entries and
 * signal inboxes (store/workflow.h), on the statements of wf_sql.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/sqlite.h"

#define Q(s) ((struct store_sqlite *) (s))

static sqlite3_stmt *
stmt(struct store *s, enum sqw_stmt which)
{
	sqlite3_stmt *st = Q(s)->wf[which];

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return (st);
}

/* done steps a statement that returns no rows. */
static int
done(struct store *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return (rc == SQLITE_DONE ? CAIRN_OK : sq_fail(Q(s), rc, what));
}

int
sqw_prepare(struct store_sqlite *q)
{
	int rv = CAIRN_OK;

	for (int i = 0; i < SQW_COUNT_; i++) {
		int rc = sqlite3_prepare_v3(q->db, sqw_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &q->wf[i], NULL);
		if (rc != SQLITE_OK) {
			return (sq_fail(q, rc, "preparing statements"));
		}
	}
	/* With no run at all, next_wakeup skips the workflow tables
	 * (one process owns the file, so the flag cannot go stale). */
	sqlite3_stmt *st = q->wf[SQW_ANY];
	q->has_runs = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	return (rv);
}

void
sqw_finalize(struct store_sqlite *q)
{
	for (int i = 0; i < SQW_COUNT_; i++) {
		sqlite3_finalize(q->wf[i]);
	}
}

int
sqw_insert(struct store *s, const struct wf_start *st0, int64_t now,
    uint64_t *id, bool *created)
{
	sqlite3_stmt *st = stmt(s, SQW_INSERT);
	int rc;

	sq_bind_text(st, 1, st0->workflow_id);
	sq_bind_text(st, 2, st0->type);
	sq_bind_text(st, 3, st0->queue);
	sq_bind_blob(st, 4, st0->input, st0->input_len);
	sqlite3_bind_int64(st, 5, now);
	sq_bind_nonzero(st, 6, (int64_t) st0->parent_run);
	sq_bind_nonzero(st, 7, st0->parent_seq);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		return (sq_fail(Q(s), rc, "workflow insert"));
	}
	if (sqlite3_changes(Q(s)->db) == 1) {
		*id = (uint64_t) sqlite3_last_insert_rowid(Q(s)->db);
		*created = true;
		Q(s)->has_runs = true;
		return (CAIRN_OK);
	}
	*created = false;
	return (sqw_find(s, st0->workflow_id, id));
}

int
sqw_find(struct store *s, const char *workflow_id, uint64_t *id)
{
	sqlite3_stmt *st = stmt(s, SQW_FIND);
	int rc;

	sq_bind_text(st, 1, workflow_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id = (uint64_t) sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE) {
		return (store_seterr(s, CAIRN_NOT_FOUND,
		    "no workflow run with id '%.128s'", workflow_id));
	}
	return (rc == SQLITE_ROW ? CAIRN_OK : sq_fail(Q(s), rc, "find run"));
}

/* text and blob copy a column, noting a failed allocation in *oom. */
static char *
text(sqlite3_stmt *st, int i, bool *oom)
{
	char *s;

	*oom |= sq_col_text(st, i, &s) != CAIRN_OK;
	return (s);
}

static uint8_t *
blob(sqlite3_stmt *st, int i, size_t *len, bool *oom)
{
	uint8_t *p;

	*oom |= sq_col_blob(st, i, &p, len) != CAIRN_OK;
	return (p);
}

/* read_run fills r from a row of SQW_RUN_COLUMNS. */
static int
read_run(sqlite3_stmt *st, struct wf_run *r)
{
	bool oom = false;
	int i = 0;

	memset(r, 0, sizeof(*r));
	r->id = (uint64_t) sqlite3_column_int64(st, i++);
	r->workflow_id = text(st, i++, &oom);
	r->type = text(st, i++, &oom);
	r->queue = text(st, i++, &oom);
	r->input = blob(st, i++, &r->input_len, &oom);
	r->state = sqlite3_column_int(st, i++);
	r->phase = sqlite3_column_int(st, i++);
	r->ready_at_ms = sqlite3_column_int64(st, i++);
	r->result = blob(st, i++, &r->result_len, &oom);
	r->error = text(st, i++, &oom);
	r->cancel_requested = sqlite3_column_int(st, i++) != 0;
	r->cancel_delivered = sqlite3_column_int(st, i++) != 0;
	r->stuck = sqlite3_column_int(st, i++) != 0;
	r->stuck_reason = text(st, i++, &oom);
	r->next_seq = (uint32_t) sqlite3_column_int64(st, i++);
	r->resolved_count = (uint64_t) sqlite3_column_int64(st, i++);
	r->lease_resolved = (uint64_t) sqlite3_column_int64(st, i++);
	r->task_attempt = (uint32_t) sqlite3_column_int64(st, i++);
	r->failures = (uint32_t) sqlite3_column_int64(st, i++);
	r->worker_id = text(st, i++, &oom);
	const unsigned char *tok = sqlite3_column_text(st, i++);
	snprintf(r->lease_token, sizeof(r->lease_token), "%s",
	    tok != NULL ? (const char *) tok : "");
	r->lease_deadline_ms = sqlite3_column_int64(st, i++);
	r->lease_timeout_ms = sqlite3_column_int64(st, i++);
	r->lease_outcome = sqlite3_column_int(st, i++);
	r->parent_run = (uint64_t) sqlite3_column_int64(st, i++);
	r->parent_seq = (uint32_t) sqlite3_column_int64(st, i++);
	r->created_ms = sqlite3_column_int64(st, i++);
	r->updated_ms = sqlite3_column_int64(st, i++);
	r->finished_ms = sqlite3_column_int64(st, i++);
	if (oom) {
		wf_run_clear(r);
		return (CAIRN_RESOURCE_EXHAUSTED);
	}
	return (CAIRN_OK);
}

int
sqw_load(struct store *s, uint64_t id, struct wf_run *run)
{
	sqlite3_stmt *st = stmt(s, SQW_LOAD);
	int rc, rv;

	sqlite3_bind_int64(st, 1, (sqlite3_int64) id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		rv = read_run(st, run);
		sqlite3_reset(st);
		return (rv == CAIRN_OK ? rv
		                       : store_seterr(s, rv, "out of memory"));
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE) {
		return (store_seterr(s, CAIRN_NOT_FOUND,
		    "workflow run %llu not found", (unsigned long long) id));
	}
	return (sq_fail(Q(s), rc, "load run"));
}

int
sqw_save(struct store *s, const struct wf_run *r)
{
	sqlite3_stmt *st = stmt(s, SQW_SAVE);

	sqlite3_bind_int64(st, 1, (sqlite3_int64) r->id);
	sqlite3_bind_int(st, 2, r->state);
	sqlite3_bind_int(st, 3, r->phase);
	sqlite3_bind_int64(st, 4, r->ready_at_ms);
	if (r->result_len > 0 || r->state == WF_SUCCEEDED) {
		sq_bind_blob(st, 5, r->result, r->result_len);
	}
	sq_bind_text(st, 6, r->error);
	sqlite3_bind_int(st, 7, r->cancel_requested);
	sqlite3_bind_int(st, 8, r->cancel_delivered);
	sqlite3_bind_int(st, 9, r->stuck);
	sq_bind_text(st, 10, r->stuck_reason);
	sqlite3_bind_int64(st, 11, r->next_seq);
	sqlite3_bind_int64(st, 12, (sqlite3_int64) r->resolved_count);
	sqlite3_bind_int64(st, 13, (sqlite3_int64) r->lease_resolved);
	sqlite3_bind_int64(st, 14, r->task_attempt);
	sqlite3_bind_int64(st, 15, r->failures);
	sq_bind_text(st, 16, r->worker_id);
	if (r->lease_token[0] != 0) {
		sq_bind_text(st, 17, r->lease_token);
	}
	sq_bind_nonzero(st, 18, r->lease_deadline_ms);
	sqlite3_bind_int64(st, 19, r->lease_timeout_ms);
	sqlite3_bind_int(st, 20, r->lease_outcome);
	sqlite3_bind_int64(st, 21, r->updated_ms);
	sq_bind_nonzero(st, 22, r->finished_ms);
	return (done(s, st, "save run"));
}

/* pick_ids collects the first column of st's rows into ids. */
static int
pick_ids(struct store *s, sqlite3_stmt *st, uint64_t *ids, size_t max,
    size_t *n, const char *what)
{
	size_t got = 0;
	int rc;

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
sqw_pick_ready(struct store *s, const char *queue, int64_t now, uint32_t max,
    uint64_t *ids, size_t *n)
{
	sqlite3_stmt *st = stmt(s, SQW_PICK_READY);

	sq_bind_text(st, 1, queue);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, max);
	return (pick_ids(s, st, ids, max, n, "pick runnable runs"));
}

int
sqw_pick_expired(
    struct store *s, int64_t now, uint32_t max, uint64_t *ids, size_t *n)
{
	sqlite3_stmt *st = stmt(s, SQW_PICK_EXPIRED);

	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, max);
	return (pick_ids(s, st, ids, max, n, "pick expired runs"));
}

int
sqw_next_wakeup(struct store *s, int64_t now, int64_t *at)
{
	sqlite3_stmt *st;
	int rc;

	*at = TASK_TIME_NEVER;
	if (!Q(s)->has_runs) {
		return (CAIRN_OK);
	}
	st = stmt(s, SQW_NEXT_WAKEUP);
	sqlite3_bind_int64(st, 1, now);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*at = sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	return (rc == SQLITE_ROW ? CAIRN_OK
	                         : sq_fail(Q(s), rc, "workflow wakeup"));
}

int
sqw_entry_insert(struct store *s, uint64_t run_id, const struct wf_entry *e)
{
	sqlite3_stmt *st = stmt(s, SQW_ENTRY_INSERT);

	sqlite3_bind_int64(st, 1, (sqlite3_int64) run_id);
	sqlite3_bind_int64(st, 2, e->seq);
	sqlite3_bind_int(st, 3, e->kind);
	sq_bind_text(st, 4, e->name != NULL ? e->name : "");
	sqlite3_bind_int64(st, 5, (sqlite3_int64) e->input_hash);
	sq_bind_blob(st, 6, e->input, e->input_len);
	sqlite3_bind_int(st, 7, e->status);
	if (e->result_len > 0 || e->status == WF_COMPLETED) {
		sq_bind_blob(st, 8, e->result, e->result_len);
	}
	sq_bind_text(st, 9, e->error);
	sqlite3_bind_int64(st, 10, e->created_ms);
	sq_bind_nonzero(st, 11, e->resolved_ms);
	sqlite3_bind_int64(st, 12, (sqlite3_int64) e->resolved_order);
	sq_bind_nonzero(st, 13, (int64_t) e->task_id);
	sq_bind_nonzero(st, 14, (int64_t) e->child_run);
	sq_bind_nonzero(st, 15, e->fire_at_ms);
	return (done(s, st, "insert entry"));
}

/* read_entry fills e from a row of SQW_ENTRY_COLUMNS, input, attempts,
 * queue. */
static int
read_entry(sqlite3_stmt *st, struct wf_entry *e)
{
	bool oom = false;
	int i = 0;

	memset(e, 0, sizeof(*e));
	e->seq = (uint32_t) sqlite3_column_int64(st, i++);
	e->kind = sqlite3_column_int(st, i++);
	e->name = text(st, i++, &oom);
	e->input_hash = (uint64_t) sqlite3_column_int64(st, i++);
	e->status = sqlite3_column_int(st, i++);
	e->result = blob(st, i++, &e->result_len, &oom);
	e->error = text(st, i++, &oom);
	e->created_ms = sqlite3_column_int64(st, i++);
	e->resolved_ms = sqlite3_column_int64(st, i++);
	e->resolved_order = (uint64_t) sqlite3_column_int64(st, i++);
	e->task_id = (uint64_t) sqlite3_column_int64(st, i++);
	e->child_run = (uint64_t) sqlite3_column_int64(st, i++);
	e->fire_at_ms = sqlite3_column_int64(st, i++);
	e->input = blob(st, i++, &e->input_len, &oom);
	e->attempts = (uint32_t) sqlite3_column_int64(st, i++);
	e->queue = text(st, i++, &oom);
	if (oom) {
		wf_entry_clear(e);
		return (CAIRN_RESOURCE_EXHAUSTED);
	}
	return (CAIRN_OK);
}

int
sqw_entry_load(
    struct store *s, uint64_t run_id, uint32_t seq, struct wf_entry *e)
{
	sqlite3_stmt *st = stmt(s, SQW_ENTRY_LOAD);
	int rc, rv;

	sqlite3_bind_int64(st, 1, (sqlite3_int64) run_id);
	sqlite3_bind_int64(st, 2, seq);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		rv = read_entry(st, e);
		sqlite3_reset(st);
		return (rv == CAIRN_OK ? rv
		                       : store_seterr(s, rv, "out of memory"));
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE) {
		return (store_seterr(s, CAIRN_NOT_FOUND,
		    "run %llu has no entry %u", (unsigned long long) run_id,
		    seq));
	}
	return (sq_fail(Q(s), rc, "load entry"));
}

int
sqw_entry_save(struct store *s, uint64_t run_id, const struct wf_entry *e)
{
	sqlite3_stmt *st = stmt(s, SQW_ENTRY_SAVE);

	sqlite3_bind_int64(st, 1, (sqlite3_int64) run_id);
	sqlite3_bind_int64(st, 2, e->seq);
	sqlite3_bind_int(st, 3, e->status);
	if (e->result_len > 0 || e->status == WF_COMPLETED) {
		sq_bind_blob(st, 4, e->result, e->result_len);
	}
	sq_bind_text(st, 5, e->error);
	sq_bind_nonzero(st, 6, e->resolved_ms);
	sqlite3_bind_int64(st, 7, (sqlite3_int64) e->resolved_order);
	sq_bind_nonzero(st, 8, (int64_t) e->task_id);
	sq_bind_nonzero(st, 9, (int64_t) e->child_run);
	sq_bind_nonzero(st, 10, e->fire_at_ms);
	return (done(s, st, "save entry"));
}

/* read_entries collects every row of st into a new array. */
static int
read_entries(
    struct store *s, sqlite3_stmt *st, struct wf_entry **out, size_t *n)
{
	struct wf_entry *arr = NULL;
	size_t got = 0, cap = 0;
	int rc, rv = CAIRN_OK;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (got == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct wf_entry *p = realloc(arr, ncap * sizeof(*p));
			if (p == NULL) {
				rv = CAIRN_RESOURCE_EXHAUSTED;
				break;
			}
			arr = p;
			cap = ncap;
		}
		if ((rv = read_entry(st, &arr[got])) != CAIRN_OK) {
			break;
		}
		got++;
	}
	sqlite3_reset(st);
	if (rv != CAIRN_OK || rc != SQLITE_DONE) {
		wf_entries_free(arr, got);
		return (rv != CAIRN_OK ? store_seterr(s, rv, "out of memory")
		                       : sq_fail(Q(s), rc, "read entries"));
	}
	*out = arr;
	*n = got;
	return (CAIRN_OK);
}

int
sqw_entries(
    struct store *s, const struct wf_read *q, struct wf_entry **out, size_t *n)
{
	int64_t limit = q->limit > 0 ? (int64_t) q->limit : -1;
	sqlite3_stmt *st;

	if (q->pending_only) {
		st = stmt(s, SQW_ENTRIES_PENDING);
	} else if (q->with_input) {
		st = stmt(s, SQW_HISTORY);
	} else if (q->delta) {
		st = stmt(s, SQW_ENTRIES_DELTA);
		sqlite3_bind_int64(st, 3, (sqlite3_int64) q->after_order);
		sqlite3_bind_int64(st, 4, limit);
	} else {
		st = stmt(s, SQW_ENTRIES);
	}
	sqlite3_bind_int64(st, 1, (sqlite3_int64) q->run_id);
	sqlite3_bind_int64(st, 2, q->after_seq);
	if (!q->delta || q->pending_only || q->with_input) {
		sqlite3_bind_int64(st, 3, limit);
	}
	return (read_entries(s, st, out, n));
}

int
sqw_pick_fired(
    struct store *s, int64_t now, uint32_t max, struct wf_ref *refs, size_t *n)
{
	sqlite3_stmt *st = stmt(s, SQW_PICK_FIRED);
	size_t got = 0;
	int rc;

	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, max);
	while (got < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		refs[got].run_id = (uint64_t) sqlite3_column_int64(st, 0);
		refs[got++].seq = (uint32_t) sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	if (got < max && rc != SQLITE_DONE) {
		return (sq_fail(Q(s), rc, "pick timers"));
	}
	*n = got;
	return (CAIRN_OK);
}

int
sqw_find_wait(
    struct store *s, uint64_t run_id, const char *name, uint32_t *seq)
{
	sqlite3_stmt *st = stmt(s, SQW_FIND_WAIT);
	int rc;

	sqlite3_bind_int64(st, 1, (sqlite3_int64) run_id);
	sq_bind_text(st, 2, name);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*seq = (uint32_t) sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE) {
		return (CAIRN_NOT_FOUND);
	}
	return (rc == SQLITE_ROW ? CAIRN_OK
	                         : sq_fail(Q(s), rc, "find signal wait"));
}

int
sqw_inbox_put(struct store *s, uint64_t run_id, const char *name,
    const uint8_t *payload, size_t len, int64_t now)
{
	sqlite3_stmt *st = stmt(s, SQW_INBOX_PUT);

	sqlite3_bind_int64(st, 1, (sqlite3_int64) run_id);
	sq_bind_text(st, 2, name);
	sq_bind_blob(st, 3, payload, len);
	sqlite3_bind_int64(st, 4, now);
	return (done(s, st, "inbox put"));
}

int
sqw_inbox_take(struct store *s, uint64_t run_id, const char *name,
    uint8_t **payload, size_t *len)
{
	sqlite3_stmt *st = stmt(s, SQW_INBOX_PEEK);
	bool oom = false;
	int64_t id;
	int rc;

	sqlite3_bind_int64(st, 1, (sqlite3_int64) run_id);
	sq_bind_text(st, 2, name);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return (rc == SQLITE_DONE ? CAIRN_NOT_FOUND
		                          : sq_fail(Q(s), rc, "inbox take"));
	}
	id = sqlite3_column_int64(st, 0);
	*payload = blob(st, 1, len, &oom);
	sqlite3_reset(st);
	if (oom) {
		return (store_seterr(
		    s, CAIRN_RESOURCE_EXHAUSTED, "out of memory"));
	}
	st = stmt(s, SQW_INBOX_DELETE);
	sqlite3_bind_int64(st, 1, id);
	int rv = done(s, st, "inbox take");
	if (rv != CAIRN_OK) {
		free(*payload);
		*payload = NULL;
	}
	return (rv);
}

int
sqw_list(struct store *s, const struct wf_filter *f, uint32_t limit,
    uint64_t after_id, struct wf_run ***out, size_t *n)
{
	enum sqw_stmt which = f->type != NULL ? SQW_LIST_TYPE
	    : f->state != 0                   ? SQW_LIST_STATE
	    : f->stuck                        ? SQW_LIST_STUCK
	                                      : SQW_LIST_ANY;
	sqlite3_stmt *st = stmt(s, which);
	struct wf_run **runs = calloc(limit > 0 ? limit : 1u, sizeof(*runs));
	size_t got = 0;
	int rc = SQLITE_DONE, rv = CAIRN_OK;

	if (runs == NULL) {
		return (store_seterr(
		    s, CAIRN_RESOURCE_EXHAUSTED, "out of memory"));
	}
	sqlite3_bind_int64(st, 1, (sqlite3_int64) after_id);
	sqlite3_bind_int64(st, 2, limit);
	sq_bind_text(st, 3, f->type);
	sqlite3_bind_int(st, 4, f->state);
	sq_bind_text(st, 5, f->queue);
	sqlite3_bind_int(st, 6, f->stuck);
	while (got < limit && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((runs[got] = malloc(sizeof(**runs))) == NULL
		    || (rv = read_run(st, runs[got])) != CAIRN_OK) {
			free(runs[got]);
			rv = CAIRN_RESOURCE_EXHAUSTED;
			break;
		}
		got++;
	}
	sqlite3_reset(st);
	if (rv != CAIRN_OK || (got < limit && rc != SQLITE_DONE)) {
		wf_run_array_free(runs, got);
		return (rv != CAIRN_OK ? store_seterr(s, rv, "out of memory")
		                       : sq_fail(Q(s), rc, "list runs"));
	}
	*out = runs;
	*n = got;
	return (CAIRN_OK);
}

int
sqw_stats(struct store *s, struct wf_type_stats **out, size_t *n)
{
	sqlite3_stmt *st = stmt(s, SQW_STATS);
	struct wf_type_stats *arr = NULL;
	size_t got = 0, cap = 0;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *type = (const char *) sqlite3_column_text(st, 0);
		int state = sqlite3_column_int(st, 1);
		if (got == 0 || strcmp(arr[got - 1].type, type) != 0) {
			if (got == cap) {
				size_t ncap = cap ? cap * 2 : 8;
				void *p = realloc(arr, ncap * sizeof(*arr));
				if (p == NULL) {
					goto oom;
				}
				arr = p;
				cap = ncap;
			}
			memset(&arr[got], 0, sizeof(arr[got]));
			if ((arr[got].type = strdup(type)) == NULL) {
				goto oom;
			}
			got++;
		}
		if (state >= WF_RUNNING && state <= WF_TERMINATED) {
			arr[got - 1].count[state]
			    += (uint64_t) sqlite3_column_int64(st, 2);
		}
		arr[got - 1].stuck += (uint64_t) sqlite3_column_int64(st, 3);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		wf_type_stats_free(arr, got);
		return (sq_fail(Q(s), rc, "workflow stats"));
	}
	*out = arr;
	*n = got;
	return (CAIRN_OK);
oom:
	sqlite3_reset(st);
	wf_type_stats_free(arr, got);
	return (store_seterr(s, CAIRN_RESOURCE_EXHAUSTED, "out of memory"));
}

int
sqw_prune(struct store *s, int64_t before, uint32_t limit, size_t *n)
{
	uint64_t ids[256];
	size_t got;
	int rv;

	sqlite3_stmt *st = stmt(s, SQW_PRUNE_PICK);
	sqlite3_bind_int64(st, 1, before);
	sqlite3_bind_int64(st, 2, limit < 256 ? limit : 256);
	if ((rv = pick_ids(
	         s, st, ids, limit < 256 ? limit : 256, &got, "prune runs"))
	    != CAIRN_OK) {
		return (rv);
	}
	for (size_t i = 0; i < got; i++) {
		static const enum sqw_stmt del[]
		    = { SQW_PRUNE_ENTRIES, SQW_PRUNE_INBOX, SQW_PRUNE_RUN };
		for (size_t k = 0; k < 3; k++) {
			st = stmt(s, del[k]);
			sqlite3_bind_int64(st, 1, (sqlite3_int64) ids[i]);
			if ((rv = done(s, st, "prune runs")) != CAIRN_OK) {
				return (rv);
			}
		}
	}
	*n = got;
	return (CAIRN_OK);
}
