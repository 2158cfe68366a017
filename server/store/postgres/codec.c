/*
 * store/postgres/codec.c - the bottom of the PostgreSQL backend: statement
 * parameters, binary result values and task rows. Every other file of the
 * backend calls it; it calls none of them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/postgres/postgres.h"

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
	row->wf_run = (uint64_t) pg_i64(r, i, 28, 0);
	row->wf_seq = (uint32_t) pg_i64(r, i, 29, 0);

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
