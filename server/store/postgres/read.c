/*
 * store/postgres/read.c - the PostgreSQL backend's parameters and binary
 * results, and its reads: rows, lists, stats, history and the next instant
 * something becomes due.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/postgres/postgres.h"

#define Q(s) ((struct store_pg *) (s))

void
pg_p_i64(struct pg_params *p, int64_t v)
{
	snprintf(p->num[p->n], sizeof(p->num[0]), "%lld", (long long) v);
	p->v[p->n] = p->num[p->n];
	p->len[p->n] = 0;
	p->fmt[p->n++] = 0;
}

void
pg_p_f64(struct pg_params *p, double v)
{
	/* 17 significant digits read back as the same double. */
	snprintf(p->num[p->n], sizeof(p->num[0]), "%.17g", v);
	p->v[p->n] = p->num[p->n];
	p->len[p->n] = 0;
	p->fmt[p->n++] = 0;
}

void
pg_p_text(struct pg_params *p, const char *s)
{
	p->v[p->n] = s;
	p->len[p->n] = 0;
	p->fmt[p->n++] = 0;
}

void
pg_p_bytes(struct pg_params *p, const void *b, size_t len)
{
	/* Binary format: sent as is, no escaping. An empty value is an
	 * empty bytea, not NULL. */
	p->v[p->n] = len > 0 ? (const char *) b : "";
	p->len[p->n] = (int) len;
	p->fmt[p->n++] = 1;
}

void
pg_p_null(struct pg_params *p)
{
	pg_p_text(p, NULL);
}

static uint64_t
big_endian(const char *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++) {
		v = v << 8 | (uint8_t) p[i];
	}
	return (v);
}

int64_t
pg_i64(const PGresult *r, int row, int col, int64_t if_null)
{
	const char *p = PQgetvalue(r, row, col);

	if (PQgetisnull(r, row, col)) {
		return (if_null);
	}
	/* The width says the type: bigint, integer, smallint, boolean. */
	switch (PQgetlength(r, row, col)) {
	case 8:
		return ((int64_t) big_endian(p, 8));
	case 4:
		return ((int32_t) (uint32_t) big_endian(p, 4));
	case 2:
		return ((int16_t) (uint16_t) big_endian(p, 2));
	case 1:
		return ((uint8_t) p[0]);
	default:
		return (0);
	}
}

double
pg_f64(const PGresult *r, int row, int col)
{
	uint64_t bits;
	double d = 0;

	if (!PQgetisnull(r, row, col) && PQgetlength(r, row, col) == 8) {
		bits = big_endian(PQgetvalue(r, row, col), 8);
		memcpy(&d, &bits, sizeof(d));
	}
	return (d);
}

int
pg_text(const PGresult *r, int row, int col, char **out)
{
	*out = NULL;
	if (PQgetisnull(r, row, col)) {
		return (CAIRN_OK);
	}
	*out = strndup(
	    PQgetvalue(r, row, col), (size_t) PQgetlength(r, row, col));
	return (*out != NULL ? CAIRN_OK : CAIRN_RESOURCE_EXHAUSTED);
}

int
pg_bytes(const PGresult *r, int row, int col, uint8_t **out, size_t *len)
{
	size_t n = (size_t) PQgetlength(r, row, col);

	*out = NULL;
	*len = 0;
	if (PQgetisnull(r, row, col) || n == 0) {
		return (CAIRN_OK);
	}
	if ((*out = malloc(n)) == NULL) {
		return (CAIRN_RESOURCE_EXHAUSTED);
	}
	memcpy(*out, PQgetvalue(r, row, col), n);
	*len = n;
	return (CAIRN_OK);
}

int
pg_read_row(const PGresult *r, int i, struct task_row *row)
{
	struct task *t = &row->t;
	char *token = NULL;
	int rv;

	memset(row, 0, sizeof(*row));
	t->id = (uint64_t) pg_i64(r, i, 0, 0);
	t->priority = (int32_t) pg_i64(r, i, 3, 0);
	t->state = (cairn_state) pg_i64(r, i, 4, 0);
	t->run_at_ms = pg_i64(r, i, 5, 0);
	t->attempt = (uint32_t) pg_i64(r, i, 6, 0);
	t->max_attempts = (uint32_t) pg_i64(r, i, 7, 0);
	t->retry.initial_ms = pg_i64(r, i, 8, 0);
	t->retry.multiplier = pg_f64(r, i, 9);
	t->retry.max_ms = pg_i64(r, i, 10, 0);
	t->heartbeat_timeout_ms = pg_i64(r, i, 11, 0);
	t->start_to_close_ms = pg_i64(r, i, 12, 0);
	t->cancel_requested = pg_i64(r, i, 17, 0) != 0;
	t->lease_deadline_ms = pg_i64(r, i, 20, 0);
	t->created_ms = pg_i64(r, i, 21, 0);
	t->updated_ms = pg_i64(r, i, 22, 0);
	t->finished_ms = pg_i64(r, i, 23, 0);
	row->lease_timeout_ms = pg_i64(r, i, 24, 0);
	row->attempt_deadline_ms = pg_i64(r, i, 25, TASK_TIME_NEVER);
	row->outcome = (enum lease_outcome) pg_i64(r, i, 26, 0);
	row->event_seq = (uint32_t) pg_i64(r, i, 27, 0);

	if ((rv = pg_text(r, i, 1, &t->queue)) != 0
	    || (rv = pg_bytes(r, i, 2, &t->payload, &t->payload_len)) != 0
	    || (rv = pg_text(r, i, 13, &t->idempotency_key)) != 0
	    || (rv = pg_bytes(r, i, 14, &t->details, &t->details_len)) != 0
	    || (rv = pg_bytes(r, i, 15, &t->result, &t->result_len)) != 0
	    || (rv = pg_text(r, i, 16, &t->last_error)) != 0
	    || (rv = pg_text(r, i, 18, &t->worker_id)) != 0
	    || (rv = pg_text(r, i, 19, &token)) != 0) {
		task_row_clear(row);
		return (rv);
	}
	if (token != NULL) {
		snprintf(t->lease_token, sizeof(t->lease_token), "%s", token);
		free(token);
	}
	return (CAIRN_OK);
}

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
	int64_t due = pg_i64(r, 0, 0, TASK_TIME_NEVER);
	int64_t deadline = pg_i64(r, 0, 1, TASK_TIME_NEVER);

	return (due < deadline ? due : deadline);
}
