/*
 * store/postgres/wf_entries.c - the PostgreSQL backend's log entries and
 * signal inboxes of workflow runs (store/store_wf.h).
 *
 * An entry or an inbox row is written only by a transaction that holds
 * its run (loaded FOR UPDATE by the rules in lifecycle/), so these
 * statements take no lock of their own; the pick of fired timers locks
 * the runs (store/postgres/wf_sql.c). Inserts and saves are pipelined.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/postgres/postgres.h"

#define Q(s) ((struct store_pg *) (s))

/* p_result adds an outcome's bytes: empty, not NULL, when it completed. */
static void
p_result(struct pg_params *p, const struct wf_entry *e)
{
	if (e->result_len > 0 || e->status == WF_COMPLETED) {
		pg_p_bytes(p, e->result, e->result_len);
	} else {
		pg_p_null(p);
	}
}

int
pgw_entry_insert(struct store *s, uint64_t run_id, const struct wf_entry *e)
{
	struct pg_params p = { 0 };

	pg_p_i64(&p, (int64_t) run_id);
	pg_p_i64(&p, e->seq);
	pg_p_i64(&p, e->kind);
	pg_p_text(&p, e->name != NULL ? e->name : "");
	pg_p_i64(&p, (int64_t) e->input_hash); /* the same 64 bits */
	pg_p_bytes(&p, e->input, e->input_len);
	pg_p_i64(&p, e->status);
	p_result(&p, e);
	pg_p_text(&p, e->error);
	pg_p_i64(&p, e->created_ms);
	pgw_p_opt(&p, e->resolved_ms);
	pg_p_i64(&p, (int64_t) e->resolved_order);
	pgw_p_opt(&p, (int64_t) e->task_id);
	pgw_p_opt(&p, (int64_t) e->child_run);
	pgw_p_opt(&p, e->fire_at_ms);
	return (pgw_defer(Q(s), PGW_ENTRY_INSERT, &p, "insert entry"));
}

int
pgw_entry_save(struct store *s, uint64_t run_id, const struct wf_entry *e)
{
	struct pg_params p = { 0 };

	pg_p_i64(&p, (int64_t) run_id);
	pg_p_i64(&p, e->seq);
	pg_p_i64(&p, e->status);
	p_result(&p, e);
	pg_p_text(&p, e->error);
	pgw_p_opt(&p, e->resolved_ms);
	pg_p_i64(&p, (int64_t) e->resolved_order);
	pgw_p_opt(&p, (int64_t) e->task_id);
	pgw_p_opt(&p, (int64_t) e->child_run);
	pgw_p_opt(&p, e->fire_at_ms);
	return (pgw_defer(Q(s), PGW_ENTRY_SAVE, &p, "save entry"));
}

/* read_entry fills e from row i of a result of PGW_ENTRY_COLUMNS, and of
 * input, attempts and queue when the result has them (the history). */
static int
read_entry(const PGresult *r, int i, struct wf_entry *e)
{
	int rv;

	memset(e, 0, sizeof(*e));
	e->seq = (uint32_t) pg_i64(r, i, 0, 0);
	e->kind = (int) pg_i64(r, i, 1, 0);
	e->input_hash = (uint64_t) pg_i64(r, i, 3, 0);
	e->status = (int) pg_i64(r, i, 4, 0);
	e->created_ms = pg_i64(r, i, 7, 0);
	e->resolved_ms = pg_i64(r, i, 8, 0);
	e->resolved_order = (uint64_t) pg_i64(r, i, 9, 0);
	e->task_id = (uint64_t) pg_i64(r, i, 10, 0);
	e->child_run = (uint64_t) pg_i64(r, i, 11, 0);
	e->fire_at_ms = pg_i64(r, i, 12, 0);
	if ((rv = pg_text(r, i, 2, &e->name)) != 0
	    || (rv = pg_bytes(r, i, 5, &e->result, &e->result_len)) != 0
	    || (rv = pg_text(r, i, 6, &e->error)) != 0) {
		wf_entry_clear(e);
		return (rv);
	}
	if (PQnfields(r) > 13) {
		e->attempts = (uint32_t) pg_i64(r, i, 14, 0);
		if ((rv = pg_bytes(r, i, 13, &e->input, &e->input_len)) != 0
		    || (rv = pg_text(r, i, 15, &e->queue)) != 0) {
			wf_entry_clear(e);
			return (rv);
		}
	}
	return (CAIRN_OK);
}

int
pgw_entry_load(
    struct store *s, uint64_t run_id, uint32_t seq, struct wf_entry *e)
{
	struct pg_params p = { 0 };
	PGresult *r;
	int rv;

	pg_p_i64(&p, run_id > INT64_MAX ? 0 : (int64_t) run_id);
	pg_p_i64(&p, seq);
	if ((r = pgw_run(Q(s), PGW_ENTRY_LOAD, &p, "load entry", &rv))
	    == NULL) {
		return (rv);
	}
	if (PQntuples(r) == 0) {
		rv = store_seterr(s, CAIRN_NOT_FOUND,
		    "run %llu has no entry %u", (unsigned long long) run_id,
		    seq);
	} else if ((rv = read_entry(r, 0, e)) != CAIRN_OK) {
		rv = store_seterr(s, rv, "out of memory");
	}
	PQclear(r);
	return (rv);
}

int
pgw_entries(
    struct store *s, const struct wf_read *q, struct wf_entry **out, size_t *n)
{
	struct pg_params p = { 0 };
	enum pgw_stmt which = q->pending_only ? PGW_ENTRIES_PENDING
	    : q->with_input                   ? PGW_HISTORY
	    : q->delta                        ? PGW_ENTRIES_DELTA
	                                      : PGW_ENTRIES;
	struct wf_entry *arr;
	PGresult *r;
	int rv = CAIRN_OK, rows, got = 0;

	pg_p_i64(&p, q->run_id > INT64_MAX ? 0 : (int64_t) q->run_id);
	pg_p_i64(&p, q->after_seq);
	if (which == PGW_ENTRIES_DELTA) {
		pg_p_i64(&p, (int64_t) q->after_order);
	}
	pgw_p_opt(&p, q->limit); /* NULL: no limit */
	if ((r = pgw_run(Q(s), which, &p, "read entries", &rv)) == NULL) {
		return (rv);
	}
	rows = PQntuples(r);
	if ((arr = calloc(rows > 0 ? (size_t) rows : 1, sizeof(*arr)))
	    == NULL) {
		PQclear(r);
		return (
		    store_seterr(s, CAIRN_RESOURCE_EXHAUSTED, "no memory"));
	}
	for (; got < rows; got++) {
		if ((rv = read_entry(r, got, &arr[got])) != CAIRN_OK) {
			break;
		}
	}
	PQclear(r);
	if (rv != CAIRN_OK) {
		wf_entries_free(arr, (size_t) got);
		return (store_seterr(s, rv, "out of memory"));
	}
	*out = arr;
	*n = (size_t) got;
	return (CAIRN_OK);
}

int
pgw_pick_fired(
    struct store *s, int64_t now, uint32_t max, struct wf_ref *refs, size_t *n)
{
	struct pg_params p = { 0 };
	PGresult *r;
	size_t got = 0;
	int rv;

	pg_p_i64(&p, now);
	pg_p_i64(&p, max);
	if ((r = pgw_run(Q(s), PGW_PICK_FIRED, &p, "pick timers", &rv))
	    == NULL) {
		return (rv);
	}
	for (int i = 0; i < PQntuples(r) && got < max; i++) {
		refs[got].run_id = (uint64_t) pg_i64(r, i, 0, 0);
		refs[got++].seq = (uint32_t) pg_i64(r, i, 1, 0);
	}
	PQclear(r);
	*n = got;
	return (CAIRN_OK);
}

int
pgw_find_wait(
    struct store *s, uint64_t run_id, const char *name, uint32_t *seq)
{
	struct pg_params p = { 0 };
	PGresult *r;
	int rv;

	pg_p_i64(&p, run_id > INT64_MAX ? 0 : (int64_t) run_id);
	pg_p_text(&p, name);
	if ((r = pgw_run(Q(s), PGW_FIND_WAIT, &p, "find signal wait", &rv))
	    == NULL) {
		return (rv);
	}
	if (PQntuples(r) == 0) {
		rv = CAIRN_NOT_FOUND;
	} else {
		*seq = (uint32_t) pg_i64(r, 0, 0, 0);
	}
	PQclear(r);
	return (rv);
}

int
pgw_inbox_put(struct store *s, uint64_t run_id, const char *name,
    const uint8_t *payload, size_t len, int64_t now)
{
	struct pg_params p = { 0 };

	pg_p_i64(&p, (int64_t) run_id);
	pg_p_text(&p, name);
	pg_p_bytes(&p, payload, len);
	pg_p_i64(&p, now);
	return (pgw_defer(Q(s), PGW_INBOX_PUT, &p, "inbox put"));
}

int
pgw_inbox_take(struct store *s, uint64_t run_id, const char *name,
    uint8_t **payload, size_t *len)
{
	struct pg_params p = { 0 };
	PGresult *r;
	int rv;

	pg_p_i64(&p, run_id > INT64_MAX ? 0 : (int64_t) run_id);
	pg_p_text(&p, name);
	if ((r = pgw_run(Q(s), PGW_INBOX_TAKE, &p, "inbox take", &rv))
	    == NULL) {
		return (rv);
	}
	if (PQntuples(r) == 0) {
		rv = CAIRN_NOT_FOUND;
	} else if ((rv = pg_bytes(r, 0, 0, payload, len)) != CAIRN_OK) {
		rv = store_seterr(s, rv, "out of memory");
	}
	PQclear(r);
	return (rv);
}
