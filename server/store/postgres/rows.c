/*
 * store/postgres/rows.c - the PostgreSQL backend's row-level writes and
 * picks. Each call is one prepared statement (insert with a taken key is
 * two), inside the engine's open transaction; save, add_event and a
 * keyless insert are gathered (store/postgres/gather.c), sent pipelined
 * and checked by the next call that waits.
 */
#include <stdlib.h>
#include <string.h>

#include "store/postgres/postgres.h"

#define Q(s) ((struct store_pg *) (s))

/* not_found answers for an id that cannot be a task's (bigint ids). */
static int
not_found(struct store *s, uint64_t id)
{
	return (store_seterr(s, CAIRN_NOT_FOUND, "task %llu not found",
	    (unsigned long long) id));
}

/* take_id hands out the next id of the block taken from the sequence,
 * taking a new block when it is used up. */
static int
take_id(struct store_pg *q, int64_t *id)
{
	struct pg_params p = { 0 };
	PGresult *r;
	int rv;

	if (q->next_id == q->nids) {
		pg_p_i64(&p, PG_ID_BLOCK);
		if ((r = pg_run(q, PG_NEXT_IDS, &p, "insert", &rv)) == NULL) {
			return (rv);
		}
		q->nids
		    = PQntuples(r) < PG_ID_BLOCK ? PQntuples(r) : PG_ID_BLOCK;
		for (int i = 0; i < q->nids; i++) {
			q->ids[i] = pg_i64(r, i, 0, 0);
		}
		q->next_id = 0;
		PQclear(r);
		if (q->nids == 0) {
			return (store_seterr(&q->base, CAIRN_INTERNAL,
			    "postgres: insert: the id sequence gave nothing"));
		}
	}
	*id = q->ids[q->next_id++];
	return (CAIRN_OK);
}

int
pg_insert(struct store *s, const struct task_spec *spec, int64_t now,
    uint64_t *id, bool *created)
{
	struct pg_params p = { 0 };
	PGresult *r;
	int64_t new_id = 0;
	int rv;

	/*
	 * Every id comes from a block taken from the sequence ahead (one
	 * round trip per PG_ID_BLOCK tasks), so ids grow within a server,
	 * keyed or not; across servers, as with any sequence, they follow
	 * the order in which the servers took their blocks. Without an
	 * idempotency key nothing can conflict: the insert needs no answer
	 * and is pipelined like a save.
	 */
	if ((rv = take_id(Q(s), &new_id)) != CAIRN_OK) {
		return (rv);
	}
	pg_p_text(&p, spec->queue);
	pg_p_bytes(&p, spec->payload, spec->payload_len);
	pg_p_i64(&p, spec->priority);
	pg_p_i64(&p, spec->run_at_ms);
	pg_p_i64(&p, spec->max_attempts);
	pg_p_i64(&p, spec->retry.initial_ms);
	pg_p_f64(&p, spec->retry.multiplier);
	pg_p_i64(&p, spec->retry.max_ms);
	pg_p_i64(&p, spec->heartbeat_timeout_ms);
	pg_p_i64(&p, spec->start_to_close_ms);
	pg_p_text(&p, spec->idempotency_key);
	pg_p_i64(&p, now);
	pg_p_i64(&p, new_id);
	if (spec->wf_run != 0) {
		pg_p_i64(&p, (int64_t) spec->wf_run);
		pg_p_i64(&p, spec->wf_seq);
	} else {
		pg_p_null(&p);
		pg_p_null(&p);
	}
	if (spec->idempotency_key == NULL) {
		rv = pg_gather(Q(s), PG_GATHER_INSERT, (uint64_t) new_id, &p);
		if (rv == CAIRN_OK) {
			*id = (uint64_t) new_id;
			*created = true;
		}
		return (rv);
	}
	if ((r = pg_run(Q(s), PG_INSERT, &p, "insert", &rv)) == NULL) {
		return (rv);
	}
	if (PQntuples(r) == 1) {
		*id = (uint64_t) pg_i64(r, 0, 0, 0);
		*created = true;
		PQclear(r);
		return (CAIRN_OK);
	}
	PQclear(r);
	/* DO NOTHING fired: the key is taken, answer with its task. In READ
	 * COMMITTED this new statement sees a task that a concurrent
	 * transaction committed while the insert waited for it. */
	memset(&p, 0, sizeof(p));
	pg_p_text(&p, spec->queue);
	pg_p_text(&p, spec->idempotency_key);
	if ((r = pg_run(Q(s), PG_FIND_KEY, &p, "insert", &rv)) == NULL) {
		return (rv);
	}
	if (PQntuples(r) != 1) {
		PQclear(r);
		return (store_seterr(s, CAIRN_INTERNAL,
		    "insert conflicted but no task has the key"));
	}
	*id = (uint64_t) pg_i64(r, 0, 0, 0);
	*created = false;
	PQclear(r);
	return (CAIRN_OK);
}

int
pg_load(struct store *s, uint64_t id, struct task_row *row)
{
	struct pg_params p = { 0 };
	PGresult *r;
	int rv;

	if (id > INT64_MAX) {
		return (not_found(s, id));
	}
	for (int i = 0; i < Q(s)->npicked; i++) {
		if (Q(s)->picked_ids[i] == id) {
			rv = pg_read_row(Q(s)->picked, i, row);
			return (rv == CAIRN_OK
			        ? rv
			        : store_seterr(s, rv, "out of memory"));
		}
	}
	const PGresult *kept = NULL;
	int ahead = pg_ahead_row(Q(s), id, &kept, &rv);
	if (rv != CAIRN_OK) {
		return (rv);
	}
	if (ahead >= 0) {
		rv = pg_read_row(kept, ahead, row);
		return (rv == CAIRN_OK ? rv
		                       : store_seterr(s, rv, "out of memory"));
	}
	pg_p_i64(&p, (int64_t) id);
	if ((r = pg_run(Q(s), PG_LOAD, &p, "load", &rv)) == NULL) {
		return (rv);
	}
	if (PQntuples(r) == 0) {
		rv = not_found(s, id);
	} else if ((rv = pg_read_row(r, 0, row)) != CAIRN_OK) {
		rv = store_seterr(s, rv, "out of memory");
	}
	PQclear(r);
	return (rv);
}

int
pg_save(struct store *s, const struct task_row *row)
{
	const struct task *t = &row->t;
	struct pg_params p = { 0 };

	for (int i = 0; i < Q(s)->npicked; i++) {
		if (Q(s)->picked_ids[i] == t->id) {
			Q(s)->picked_ids[i]
			    = 0; /* the kept row is stale now */
		}
	}
	pg_ahead_saved(Q(s), t->id);
	pg_p_i64(&p, (int64_t) t->id);
	pg_p_i64(&p, t->state);
	pg_p_i64(&p, t->run_at_ms);
	pg_p_i64(&p, t->attempt);
	if (t->details_len > 0) {
		pg_p_bytes(&p, t->details, t->details_len);
	} else {
		pg_p_null(&p);
	}
	/* A task that succeeded without a result keeps an empty one, not
	 * NULL, as in SQLite. */
	if (t->result_len > 0 || t->state == CAIRN_SUCCEEDED) {
		pg_p_bytes(&p, t->result, t->result_len);
	} else {
		pg_p_null(&p);
	}
	pg_p_text(&p, t->last_error);
	pg_p_text(&p, t->cancel_requested ? "true" : "false");
	pg_p_text(&p, t->worker_id);
	pg_p_text(&p, t->lease_token[0] != 0 ? t->lease_token : NULL);
	if (t->state == CAIRN_ACTIVE) {
		pg_p_i64(&p, t->lease_deadline_ms);
	} else {
		pg_p_null(&p);
	}
	pg_p_i64(&p, t->updated_ms);
	if (task_state_is_terminal(t->state)) {
		pg_p_i64(&p, t->finished_ms);
	} else {
		pg_p_null(&p);
	}
	pg_p_i64(&p, row->lease_timeout_ms);
	if (row->attempt_deadline_ms != TASK_TIME_NEVER) {
		pg_p_i64(&p, row->attempt_deadline_ms);
	} else {
		pg_p_null(&p);
	}
	pg_p_i64(&p, row->outcome);
	pg_p_i64(&p, row->event_seq);
	return (pg_gather(Q(s), PG_GATHER_SAVE, t->id, &p));
}

int
pg_add_event(
    struct store *s, uint64_t id, uint32_t seq, const struct task_event *ev)
{
	struct pg_params p = { 0 };

	pg_p_i64(&p, (int64_t) id);
	pg_p_i64(&p, seq);
	pg_p_i64(&p, ev->at_ms);
	pg_p_text(&p, ev->kind);
	pg_p_i64(&p, ev->attempt);
	pg_p_text(&p, ev->worker_id);
	pg_p_text(&p, ev->message);
	return (pg_gather(Q(s), PG_GATHER_EVENT, id, &p));
}

/* collect_ids runs a statement whose first column is a task id and writes
 * up to max of them into ids. With keep, the result is kept as the picked
 * rows (a pick that read whole rows). */
static int
collect_ids(struct store *s, enum pg_stmt which, const struct pg_params *p,
    uint64_t *ids, size_t max, size_t *n, bool keep, const char *what)
{
	struct store_pg *q = Q(s);
	uint64_t *kept = NULL;
	PGresult *r;
	size_t got = 0;
	int rv, rows;

	if ((r = pg_run(q, which, p, what, &rv)) == NULL) {
		return (rv);
	}
	rows = PQntuples(r);
	if (keep && rows > 0
	    && (kept = calloc((size_t) rows, sizeof(*kept))) == NULL) {
		PQclear(r);
		return (
		    store_seterr(s, CAIRN_RESOURCE_EXHAUSTED, "no memory"));
	}
	for (int i = 0; i < rows; i++) {
		uint64_t id = (uint64_t) pg_i64(r, i, 0, 0);
		if (got < max) {
			ids[got++] = id;
		}
		if (kept != NULL) {
			kept[i] = id;
		}
	}
	if (kept != NULL) {
		pg_forget_picked(q);
		q->picked = r;
		q->picked_ids = kept;
		q->npicked = rows;
	} else {
		PQclear(r);
	}
	*n = got;
	return (CAIRN_OK);
}

int
pg_pick_due(struct store *s, const char *queue, int64_t now, uint32_t max,
    uint64_t *ids, size_t *n)
{
	struct pg_params p = { 0 };
	bool answered, opened;
	int rv = pg_ahead_pick(Q(s), queue, now, max, ids, n, &answered);

	if (rv != CAIRN_OK || answered) {
		return (rv);
	}
	rv = pg_ahead_open_pool(Q(s), queue, now, max, &opened);
	if (rv != CAIRN_OK) {
		return (rv);
	}
	if (opened) {
		rv = pg_ahead_pick(Q(s), queue, now, max, ids, n, &answered);
		if (rv != CAIRN_OK || answered) {
			return (rv);
		}
	}
	pg_p_text(&p, queue);
	pg_p_i64(&p, now);
	pg_p_i64(&p, max);
	return (
	    collect_ids(s, PG_PICK_DUE, &p, ids, max, n, true, "pick due"));
}

int
pg_pick_expired(
    struct store *s, int64_t now, uint32_t max, uint64_t *ids, size_t *n)
{
	struct pg_params p = { 0 };

	pg_p_i64(&p, now);
	pg_p_i64(&p, max);
	return (collect_ids(
	    s, PG_PICK_EXPIRED, &p, ids, max, n, true, "pick expired"));
}

int
pg_prune(struct store *s, int64_t before, uint32_t limit, size_t *n)
{
	struct pg_params p = { 0 };
	uint64_t ids[256];

	/* Small batches: the engine calls again soon when one is full. */
	if (limit > 256) {
		limit = 256;
	}
	pg_p_i64(&p, before);
	pg_p_i64(&p, limit);
	return (collect_ids(s, PG_PRUNE, &p, ids, limit, n, false, "prune"));
}
