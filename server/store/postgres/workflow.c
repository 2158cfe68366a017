/*
 * store/postgres/workflow.c - the PostgreSQL backend's runs of durable
 * workflows (store/store_wf.h): insert, load and save, the picks, lists,
 * stats and retention; log entries and inboxes are in wf_entries.c.
 *
 * As for tasks (store/postgres/postgres.c): READ COMMITTED, a run loaded
 * FOR UPDATE and saved in the same transaction, so that its row lock
 * serialises two servers working on one run; the picks take runs FOR
 * UPDATE SKIP LOCKED, which rechecks the conditions on the newest version
 * of each row, so a run that another server has just leased, or whose
 * lease it has just expired, is never taken twice. Writes that need no
 * answer (save) are pipelined (pg_defer); every statement is sent after
 * the gathered task writes (pg_send flushes them first), so that it sees
 * them. Picks read whole rows, and the loads that follow them are
 * answered from those rows until this transaction saves one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/postgres/postgres.h"

#define Q(s)           ((struct store_pg *) (s))
#define PRUNE_MAX_RUNS 256

PGresult *
pgw_run(struct store_pg *q, enum pgw_stmt which, const struct pg_params *p,
    const char *what, int *status)
{
	/* The workflow statements follow the task ones in one numbering
	 * (postgres.h); pg_run names them by number. */
	return (pg_run(q, (enum pg_stmt) which, p, what, status));
}

int
pgw_defer(struct store_pg *q, enum pgw_stmt which, const struct pg_params *p,
    const char *what)
{
	return (pg_defer(q, (enum pg_stmt) which, p, what));
}

void
pgw_p_opt(struct pg_params *p, int64_t v)
{
	if (v != 0) {
		pg_p_i64(p, v);
	} else {
		pg_p_null(p);
	}
}

static void
p_bool(struct pg_params *p, bool b)
{
	pg_p_text(p, b ? "true" : "false");
}

static int
run_not_found(struct store *s, uint64_t id)
{
	return (store_seterr(s, CAIRN_NOT_FOUND, "workflow run %llu not found",
	    (unsigned long long) id));
}

void
pgw_forget(struct store_pg *q)
{
	for (size_t i = 0; i < q->nwf_picked; i++) {
		PQclear(q->wf_picked[i].r);
		free(q->wf_picked[i].ids);
	}
	free(q->wf_picked);
	q->wf_picked = NULL;
	q->nwf_picked = 0;
}

/* read_run fills run from row i of a result of PGW_RUN_COLUMNS. */
static int
read_run(const PGresult *r, int i, struct wf_run *run)
{
	char *token = NULL;
	int rv;

	memset(run, 0, sizeof(*run));
	run->id = (uint64_t) pg_i64(r, i, 0, 0);
	run->state = (int) pg_i64(r, i, 5, 0);
	run->phase = (int) pg_i64(r, i, 6, 0);
	run->ready_at_ms = pg_i64(r, i, 7, 0);
	run->cancel_requested = pg_i64(r, i, 10, 0) != 0;
	run->cancel_delivered = pg_i64(r, i, 11, 0) != 0;
	run->stuck = pg_i64(r, i, 12, 0) != 0;
	run->next_seq = (uint32_t) pg_i64(r, i, 14, 0);
	run->resolved_count = (uint64_t) pg_i64(r, i, 15, 0);
	run->lease_resolved = (uint64_t) pg_i64(r, i, 16, 0);
	run->task_attempt = (uint32_t) pg_i64(r, i, 17, 0);
	run->failures = (uint32_t) pg_i64(r, i, 18, 0);
	run->lease_deadline_ms = pg_i64(r, i, 21, 0);
	run->lease_timeout_ms = pg_i64(r, i, 22, 0);
	run->lease_outcome = (int) pg_i64(r, i, 23, 0);
	run->parent_run = (uint64_t) pg_i64(r, i, 24, 0);
	run->parent_seq = (uint32_t) pg_i64(r, i, 25, 0);
	run->created_ms = pg_i64(r, i, 26, 0);
	run->updated_ms = pg_i64(r, i, 27, 0);
	run->finished_ms = pg_i64(r, i, 28, 0);
	if ((rv = pg_text(r, i, 1, &run->workflow_id)) != 0
	    || (rv = pg_text(r, i, 2, &run->type)) != 0
	    || (rv = pg_text(r, i, 3, &run->queue)) != 0
	    || (rv = pg_bytes(r, i, 4, &run->input, &run->input_len)) != 0
	    || (rv = pg_bytes(r, i, 8, &run->result, &run->result_len)) != 0
	    || (rv = pg_text(r, i, 9, &run->error)) != 0
	    || (rv = pg_text(r, i, 13, &run->stuck_reason)) != 0
	    || (rv = pg_text(r, i, 19, &run->worker_id)) != 0
	    || (rv = pg_text(r, i, 20, &token)) != 0) {
		wf_run_clear(run);
		return (rv);
	}
	if (token != NULL) {
		snprintf(
		    run->lease_token, sizeof(run->lease_token), "%s", token);
		free(token);
	}
	return (CAIRN_OK);
}

/* keep_picked keeps the rows of a pick (r, now owned here) for the loads
 * that follow, and writes up to max of their ids into ids. */
static int
keep_picked(struct store *s, PGresult *r, uint64_t *ids, size_t max, size_t *n)
{
	struct store_pg *q = Q(s);
	int rows = PQntuples(r);
	struct pg_kept *k;
	size_t got = 0;

	k = realloc(q->wf_picked, (q->nwf_picked + 1) * sizeof(*k));
	if (k == NULL) {
		PQclear(r);
		return (
		    store_seterr(s, CAIRN_RESOURCE_EXHAUSTED, "no memory"));
	}
	q->wf_picked = k;
	k = &k[q->nwf_picked];
	if ((k->ids = calloc((size_t) rows + 1, sizeof(*k->ids))) == NULL) {
		PQclear(r);
		return (
		    store_seterr(s, CAIRN_RESOURCE_EXHAUSTED, "no memory"));
	}
	k->r = r;
	k->n = rows;
	q->nwf_picked++;
	for (int i = 0; i < rows; i++) {
		k->ids[i] = (uint64_t) pg_i64(r, i, 0, 0);
		if (got < max) {
			ids[got++] = k->ids[i];
		}
	}
	*n = got;
	return (CAIRN_OK);
}

/* picked finds run id among the picked rows not saved since. */
static const PGresult *
picked(struct store_pg *q, uint64_t id, int *row)
{
	for (size_t i = 0; i < q->nwf_picked; i++) {
		for (int j = 0; j < q->wf_picked[i].n; j++) {
			if (q->wf_picked[i].ids[j] == id) {
				*row = j;
				return (q->wf_picked[i].r);
			}
		}
	}
	return (NULL);
}

static int
pgw_find(struct store *s, const char *workflow_id, uint64_t *id)
{
	struct pg_params p = { 0 };
	PGresult *r;
	int rv;

	pg_p_text(&p, workflow_id);
	if ((r = pgw_run(Q(s), PGW_FIND, &p, "find run", &rv)) == NULL) {
		return (rv);
	}
	if (PQntuples(r) == 0) {
		rv = store_seterr(s, CAIRN_NOT_FOUND,
		    "no workflow run with id '%.128s'", workflow_id);
	} else {
		*id = (uint64_t) pg_i64(r, 0, 0, 0);
	}
	PQclear(r);
	return (rv);
}

static int
pgw_insert(struct store *s, const struct wf_start *st, int64_t now,
    uint64_t *id, bool *created)
{
	struct pg_params p = { 0 };
	PGresult *r;
	int rv;

	pg_p_text(&p, st->workflow_id);
	pg_p_text(&p, st->type);
	pg_p_text(&p, st->queue);
	pg_p_bytes(&p, st->input, st->input_len);
	pg_p_i64(&p, now);
	pgw_p_opt(&p, (int64_t) st->parent_run);
	pgw_p_opt(&p, st->parent_run != 0 ? st->parent_seq : 0);
	if ((r = pgw_run(Q(s), PGW_INSERT, &p, "workflow insert", &rv))
	    == NULL) {
		return (rv);
	}
	Q(s)->runs_seen = true;
	if (PQntuples(r) == 1) {
		*id = (uint64_t) pg_i64(r, 0, 0, 0);
		*created = true;
		PQclear(r);
		return (CAIRN_OK);
	}
	PQclear(r);
	/* DO NOTHING fired: in READ COMMITTED this new statement sees the
	 * run that a concurrent transaction committed while we waited. */
	*created = false;
	return (pgw_find(s, st->workflow_id, id));
}

/* read_one reads run id with statement which (PGW_LOAD or PGW_GET),
 * from the rows of a pick when this transaction holds it already. */
static int
read_one(struct store *s, uint64_t id, struct wf_run *run, enum pgw_stmt which)
{
	struct pg_params p = { 0 };
	const PGresult *kept;
	PGresult *r;
	int i, rv;

	if (id == 0 || id > INT64_MAX) {
		return (run_not_found(s, id));
	}
	if ((kept = picked(Q(s), id, &i)) != NULL) {
		rv = read_run(kept, i, run);
		return (rv == CAIRN_OK ? rv
		                       : store_seterr(s, rv, "out of memory"));
	}
	pg_p_i64(&p, (int64_t) id);
	if ((r = pgw_run(Q(s), which, &p, "load run", &rv)) == NULL) {
		return (rv);
	}
	if (PQntuples(r) == 0) {
		rv = run_not_found(s, id);
	} else if ((rv = read_run(r, 0, run)) != CAIRN_OK) {
		rv = store_seterr(s, rv, "out of memory");
	}
	PQclear(r);
	return (rv);
}

static int
pgw_load(struct store *s, uint64_t id, struct wf_run *run)
{
	/* A server that works on runs locks them at prefetch from now on
	 * (store/postgres/wf_locks.c). */
	Q(s)->runs_seen = true;
	return (read_one(s, id, run, PGW_LOAD));
}

static int
pgw_get(struct store *s, uint64_t id, struct wf_run *run)
{
	return (read_one(s, id, run, PGW_GET));
}

static int
pgw_save(struct store *s, const struct wf_run *run)
{
	struct store_pg *q = Q(s);
	struct pg_params p = { 0 };

	/* The kept copy is stale from now on. */
	for (size_t k = 0; k < q->nwf_picked; k++) {
		for (int j = 0; j < q->wf_picked[k].n; j++) {
			if (q->wf_picked[k].ids[j] == run->id) {
				q->wf_picked[k].ids[j] = 0;
			}
		}
	}
	pg_p_i64(&p, (int64_t) run->id);
	pg_p_i64(&p, run->state);
	pg_p_i64(&p, run->phase);
	pg_p_i64(&p, run->ready_at_ms);
	/* A run that succeeded without a result keeps an empty one, not
	 * NULL, as in SQLite. */
	if (run->result_len > 0 || run->state == WF_SUCCEEDED) {
		pg_p_bytes(&p, run->result, run->result_len);
	} else {
		pg_p_null(&p);
	}
	pg_p_text(&p, run->error);
	p_bool(&p, run->cancel_requested);
	p_bool(&p, run->cancel_delivered);
	p_bool(&p, run->stuck);
	pg_p_text(&p, run->stuck_reason);
	pg_p_i64(&p, run->next_seq);
	pg_p_i64(&p, (int64_t) run->resolved_count);
	pg_p_i64(&p, (int64_t) run->lease_resolved);
	pg_p_i64(&p, run->task_attempt);
	pg_p_i64(&p, run->failures);
	pg_p_text(&p, run->worker_id);
	pg_p_text(&p, run->lease_token[0] != 0 ? run->lease_token : NULL);
	pgw_p_opt(&p, run->lease_deadline_ms);
	pg_p_i64(&p, run->lease_timeout_ms);
	pg_p_i64(&p, run->lease_outcome);
	pg_p_i64(&p, run->updated_ms);
	pgw_p_opt(&p, run->finished_ms);
	return (pgw_defer(q, PGW_SAVE, &p, "save run"));
}

static int
pgw_pick_ready(struct store *s, const char *queue, int64_t now, uint32_t max,
    uint64_t *ids, size_t *n)
{
	struct pg_params p = { 0 };
	PGresult *r;
	int rv;

	pg_p_text(&p, queue);
	pg_p_i64(&p, now);
	pg_p_i64(&p, max);
	r = pgw_run(Q(s), PGW_PICK_READY, &p, "pick runnable runs", &rv);
	return (r == NULL ? rv : keep_picked(s, r, ids, max, n));
}

static int
pgw_pick_expired(
    struct store *s, int64_t now, uint32_t max, uint64_t *ids, size_t *n)
{
	struct pg_params p = { 0 };
	PGresult *r;
	int rv;

	pg_p_i64(&p, now);
	pg_p_i64(&p, max);
	r = pgw_run(Q(s), PGW_PICK_EXPIRED, &p, "pick expired runs", &rv);
	return (r == NULL ? rv : keep_picked(s, r, ids, max, n));
}

static int
pgw_list(struct store *s, const struct wf_filter *f, uint32_t limit,
    uint64_t after_id, struct wf_run ***out, size_t *n)
{
	enum pgw_stmt which = f->type != NULL ? PGW_LIST_TYPE
	    : f->state != 0                   ? PGW_LIST_STATE
	    : f->stuck                        ? PGW_LIST_STUCK
	    : f->queue != NULL                ? PGW_LIST_QUEUE
	                                      : PGW_LIST_ANY;
	struct pg_params p = { 0 };
	struct wf_run **runs;
	PGresult *r;
	int rv = CAIRN_OK, got = 0, rows;

	pg_p_i64(&p, after_id > INT64_MAX ? INT64_MAX : (int64_t) after_id);
	pg_p_i64(&p, limit);
	pg_p_text(&p, f->type);
	pg_p_i64(&p, f->state);
	pg_p_text(&p, f->queue);
	p_bool(&p, f->stuck);
	if ((r = pgw_run(Q(s), which, &p, "list runs", &rv)) == NULL) {
		return (rv);
	}
	rows = PQntuples(r);
	if ((runs = calloc(rows > 0 ? (size_t) rows : 1, sizeof(*runs)))
	    == NULL) {
		PQclear(r);
		return (
		    store_seterr(s, CAIRN_RESOURCE_EXHAUSTED, "no memory"));
	}
	for (; got < rows; got++) {
		if ((runs[got] = malloc(sizeof(**runs))) == NULL) {
			rv = CAIRN_RESOURCE_EXHAUSTED;
			break;
		}
		if ((rv = read_run(r, got, runs[got])) != CAIRN_OK) {
			free(runs[got]);
			break;
		}
	}
	PQclear(r);
	if (rv != CAIRN_OK) {
		wf_run_array_free(runs, (size_t) got);
		return (store_seterr(s, rv, "out of memory"));
	}
	*out = runs;
	*n = (size_t) got;
	return (CAIRN_OK);
}

/* stats_fill adds the rows of PGW_STATS (sorted by type) to arr. */
static int
stats_fill(const PGresult *r, struct wf_type_stats **arr, size_t *got)
{
	size_t cap = 0;

	for (int i = 0; i < PQntuples(r); i++) {
		const char *type = PQgetvalue(r, i, 0);
		int64_t state = pg_i64(r, i, 1, 0);
		if (*got == 0 || strcmp((*arr)[*got - 1].type, type) != 0) {
			if (*got == cap) {
				size_t ncap = cap ? cap * 2 : 8;
				void *a = realloc(*arr, ncap * sizeof(**arr));
				if (a == NULL) {
					return (CAIRN_RESOURCE_EXHAUSTED);
				}
				*arr = a;
				cap = ncap;
			}
			struct wf_type_stats *e = &(*arr)[*got];
			memset(e, 0, sizeof(*e));
			if ((e->type = strdup(type)) == NULL) {
				return (CAIRN_RESOURCE_EXHAUSTED);
			}
			(*got)++;
		}
		struct wf_type_stats *e = &(*arr)[*got - 1];
		if (state >= WF_RUNNING && state <= WF_TERMINATED) {
			e->count[state] += (uint64_t) pg_i64(r, i, 2, 0);
		}
		e->stuck += (uint64_t) pg_i64(r, i, 3, 0);
	}
	return (CAIRN_OK);
}

static int
pgw_stats(struct store *s, struct wf_type_stats **out, size_t *n)
{
	struct pg_params p = { 0 };
	struct wf_type_stats *arr = NULL;
	size_t got = 0;
	PGresult *r;
	int rv;

	if ((r = pgw_run(Q(s), PGW_STATS, &p, "workflow stats", &rv))
	    == NULL) {
		return (rv);
	}
	rv = stats_fill(r, &arr, &got);
	PQclear(r);
	if (rv != CAIRN_OK) {
		wf_type_stats_free(arr, got);
		return (store_seterr(s, rv, "out of memory"));
	}
	*out = arr;
	*n = got;
	return (CAIRN_OK);
}

static int
pgw_prune(struct store *s, int64_t before, uint32_t limit, size_t *n)
{
	struct pg_params p = { 0 };
	PGresult *r;
	int rv;

	/* Small batches: the engine calls again soon when one is full. */
	pg_p_i64(&p, before);
	pg_p_i64(&p, limit < PRUNE_MAX_RUNS ? limit : PRUNE_MAX_RUNS);
	if ((r = pgw_run(Q(s), PGW_PRUNE, &p, "prune runs", &rv)) == NULL) {
		return (rv);
	}
	*n = (size_t) PQntuples(r);
	PQclear(r);
	return (CAIRN_OK);
}

const struct store_wf_ops pg_wf_ops = {
	.insert = pgw_insert,
	.find = pgw_find,
	.load = pgw_load,
	.get = pgw_get,
	.save = pgw_save,
	.pick_ready = pgw_pick_ready,
	.pick_expired = pgw_pick_expired,
	.entry_insert = pgw_entry_insert,
	.entry_load = pgw_entry_load,
	.entry_save = pgw_entry_save,
	.entries = pgw_entries,
	.pick_fired = pgw_pick_fired,
	.find_wait = pgw_find_wait,
	.inbox_put = pgw_inbox_put,
	.inbox_take = pgw_inbox_take,
	.list = pgw_list,
	.stats = pgw_stats,
	.prune = pgw_prune,
};
