/*
 * crash_check.c - the history the clients of the crash harness saw, and
 * the checks over it and over the database (see crash.h).
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crash.h"

#define GROW(arr, n, cap)                                                     \
	do {                                                                  \
		if ((n) == (cap)) {                                           \
			(cap) = (cap) ? 2 * (cap) : 256;                      \
			(arr) = realloc((arr), (cap) * sizeof(*(arr)));       \
			if ((arr) == NULL) {                                  \
				abort();                                      \
			}                                                     \
		}                                                             \
	} while (0)

void
history_init(struct history *h)
{
	memset(h, 0, sizeof(*h));
	pthread_mutex_init(&h->mu, NULL);
}

void
history_free(struct history *h)
{
	free(h->enq);
	free(h->del);
	free(h->ok);
	free(h->done);
	pthread_mutex_destroy(&h->mu);
}

static struct delivery *
find_delivery(struct history *h, uint64_t id, const char *token)
{
	for (size_t i = h->ndel; i-- > 0;) {
		if (h->del[i].id == id
		    && strcmp(h->del[i].token, token) == 0) {
			return (&h->del[i]);
		}
	}
	return (NULL);
}

void
history_enqueued(struct history *h, uint64_t id, int64_t sent)
{
	pthread_mutex_lock(&h->mu);
	GROW(h->enq, h->nenq, h->capenq);
	h->enq[h->nenq++] = (struct enqueued) { id, sent, wall_ms(), false };
	pthread_mutex_unlock(&h->mu);
}

bool
history_delivered(struct history *h, uint64_t id, uint32_t attempt,
    const char *token, int64_t deadline)
{
	bool live = deadline > wall_ms();

	pthread_mutex_lock(&h->mu);
	if (find_delivery(h, id, token) != NULL) {
		pthread_mutex_unlock(&h->mu);
		return (false); /* a replayed lease, seen already */
	}
	if (!live) {
		/* A replayed answer whose lease has ended: not a grant. */
		h->dead_on_arrival++;
		pthread_mutex_unlock(&h->mu);
		return (false);
	}
	GROW(h->del, h->ndel, h->capdel);
	struct delivery *d = &h->del[h->ndel++];
	memset(d, 0, sizeof(*d));
	d->id = id;
	d->attempt = attempt;
	snprintf(d->token, sizeof(d->token), "%s", token);
	d->grant = deadline - CRASH_LEASE_MS;
	d->deadline = deadline;
	pthread_mutex_unlock(&h->mu);
	return (true);
}

void
history_end_sent(
    struct history *h, uint64_t id, const char *token, int64_t sent, int kind)
{
	struct delivery *d;

	pthread_mutex_lock(&h->mu);
	if ((d = find_delivery(h, id, token)) != NULL && d->end_send == 0) {
		d->end_send = sent;
	}
	(void) kind;
	pthread_mutex_unlock(&h->mu);
}

void
history_fail_unknown(struct history *h, uint64_t id, const char *token)
{
	struct delivery *d;

	pthread_mutex_lock(&h->mu);
	if ((d = find_delivery(h, id, token)) != NULL) {
		d->failed = true;
	}
	pthread_mutex_unlock(&h->mu);
}

void
history_ok(struct history *h, uint64_t id, const char *token, int64_t sent,
    int64_t deadline, int kind)
{
	struct delivery *d;

	pthread_mutex_lock(&h->mu);
	GROW(h->ok, h->nok, h->capok);
	h->ok[h->nok].id = id;
	snprintf(h->ok[h->nok].token, sizeof(h->ok[0].token), "%s", token);
	h->ok[h->nok++].sent = sent;
	if ((d = find_delivery(h, id, token)) != NULL) {
		if (kind == CALL_HEARTBEAT && deadline > d->deadline) {
			d->deadline = deadline;
		}
		d->failed |= kind == CALL_FAIL;
	}
	if (kind == CALL_COMPLETE) {
		GROW(h->done, h->ndone, h->capdone);
		struct completion *c = &h->done[h->ndone++];
		memset(c, 0, sizeof(*c));
		c->id = id;
		snprintf(c->token, sizeof(c->token), "%s", token);
		c->sent = d != NULL && d->end_send != 0 ? d->end_send : sent;
		c->acked = wall_ms();
	} else if (kind == CALL_FAIL) {
		h->fails_acked++;
	}
	pthread_mutex_unlock(&h->mu);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

	return (x < y ? -1 : x > y);
}

/* The store's view: every task's id, state, attempt and result. */
#define row crash_row

/* A PostgreSQL store instead of the SQLite file (crash_use_postgres). */
static const char *pg_uri, *pg_schema;

void
crash_use_postgres(const char *uri, const char *schema)
{
	pg_uri = uri;
	pg_schema = schema;
}

#ifndef CRASH_WITH_POSTGRES
struct crash_row *
crash_rows_pg(const char *uri, const char *schema, bool final,
    struct counts *c, size_t *n)
{
	(void) uri, (void) schema, (void) final, (void) c;
	*n = 0;
	fprintf(stderr, "crash_check: built without libpq\n");
	return (NULL);
}
#endif

static int
cmp_row(const void *a, const void *b)
{
	return (cmp_u64(
	    &((const struct row *) a)->id, &((const struct row *) b)->id));
}

static struct row *
load_rows(sqlite3 *db, size_t *n)
{
	sqlite3_stmt *st;
	struct row *rows = NULL;
	size_t cap = 0;

	*n = 0;
	if (sqlite3_prepare_v2(db,
	        "SELECT id, state, attempt, result FROM tasks ORDER BY id", -1,
	        &st, NULL)
	    != SQLITE_OK) {
		return (NULL);
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		GROW(rows, *n, cap);
		struct row *r = &rows[(*n)++];
		r->id = (uint64_t) sqlite3_column_int64(st, 0);
		r->state = sqlite3_column_int(st, 1);
		r->attempt = sqlite3_column_int(st, 2);
		snprintf(r->result, sizeof(r->result), "%.*s",
		    sqlite3_column_bytes(st, 3),
		    (const char *) sqlite3_column_blob(st, 3));
	}
	sqlite3_finalize(st);
	return (rows);
}

static uint64_t
scalar(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	uint64_t v = UINT64_MAX;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK
	    && sqlite3_step(st) == SQLITE_ROW) {
		v = (uint64_t) sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	return (v);
}

uint64_t
check_store(struct history *h, const struct dsrv *s, bool final,
    struct counts *c, int64_t *oldest_lost)
{
	sqlite3 *db;
	struct row *rows, key, *r;
	size_t n;
	uint64_t lost = 0;

	*oldest_lost = 0;
	if (pg_uri != NULL) {
		db = NULL;
		rows = crash_rows_pg(pg_uri, pg_schema, final, c, &n);
		if (rows == NULL) {
			c->integrity_failures++;
			return (0);
		}
	} else if (sqlite3_open_v2(s->db, &db, SQLITE_OPEN_READWRITE, NULL)
	    != SQLITE_OK) {
		c->integrity_failures++;
		sqlite3_close(db);
		return (0);
	} else {
		sqlite3_busy_timeout(db, 5000);
		rows = load_rows(db, &n);
	}
	pthread_mutex_lock(&h->mu);
	for (size_t i = 0; i < h->nenq; i++) {
		key.id = h->enq[i].id;
		r = bsearch(&key, rows, n, sizeof(*rows), cmp_row);
		if (r == NULL && !h->enq[i].lost) {
			h->enq[i].lost = true;
			lost++;
			if (*oldest_lost == 0
			    || h->enq[i].acked < *oldest_lost) {
				*oldest_lost = h->enq[i].acked;
			}
		}
	}
	for (size_t i = 0; i < h->ndone; i++) {
		char want[48];
		key.id = h->done[i].id;
		r = bsearch(&key, rows, n, sizeof(*rows), cmp_row);
		snprintf(want, sizeof(want), "done:%s", h->done[i].token);
		if (!h->done[i].reverted
		    && (r == NULL || r->state != CAIRN_SUCCEEDED
		        || strcmp(r->result, want) != 0)) {
			h->done[i].reverted = true;
			c->reverted++;
		}
	}
	c->lost += lost;
	c->acked_enqueues = h->nenq;
	c->acked_completions = h->ndone;
	pthread_mutex_unlock(&h->mu);
	for (size_t i = 0; final && i < n; i++) {
		c->over_attempts += rows[i].attempt > CRASH_MAX_ATTEMPTS;
	}
	if (final && db != NULL) {
		c->dup_keys = scalar(db, CRASH_SQL_DUP_KEYS);
		c->dup_payloads = scalar(db, CRASH_SQL_DUP_PAYLOADS);
	}
	free(rows);
	sqlite3_close(db);
	return (lost);
}

static int
cmp_delivery(const void *a, const void *b)
{
	const struct delivery *x = a, *y = b;

	if (x->id != y->id) {
		return (x->id < y->id ? -1 : 1);
	}
	return (x->grant < y->grant ? -1 : x->grant > y->grant);
}

/* first_of returns the index of the first delivery of id (sorted). */
static size_t
first_of(const struct history *h, uint64_t id)
{
	size_t lo = 0, hi = h->ndel;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (h->del[mid].id < id) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return (lo);
}

void
check_history(struct history *h, struct counts *c)
{
	pthread_mutex_lock(&h->mu);
	qsort(h->del, h->ndel, sizeof(*h->del), cmp_delivery);
	c->deliveries = h->ndel;
	for (size_t i = 0; i < h->ndel; i++) {
		struct delivery *d = &h->del[i], *next = &h->del[i + 1];
		c->over_attempts += d->attempt > CRASH_MAX_ATTEMPTS;
		if (i + 1 == h->ndel || next->id != d->id) {
			continue;
		}
		/* The next lease of the task: a duplicate delivery unless
		 * this one was failed on purpose. */
		c->duplicate_deliveries += !d->failed;
		int64_t end = d->end_send != 0 && d->end_send < d->deadline
		    ? d->end_send
		    : d->deadline;
		c->double_leases += next->grant < end;
	}
	/* An OK with a token after a newer lease of its task was granted. */
	for (size_t k = 0; k < h->nok; k++) {
		struct okcall *o = &h->ok[k];
		int64_t mine = -1;
		for (size_t i = first_of(h, o->id);
		     i < h->ndel && h->del[i].id == o->id; i++) {
			if (strcmp(h->del[i].token, o->token) == 0) {
				mine = h->del[i].grant;
			} else if (mine >= 0 && h->del[i].grant > mine
			    && h->del[i].grant < o->sent) {
				c->stale_accepted++;
				break;
			}
		}
	}
	/* A lease granted after a completion was acknowledged. */
	for (size_t k = 0; k < h->ndone; k++) {
		for (size_t i = first_of(h, h->done[k].id);
		     i < h->ndel && h->del[i].id == h->done[k].id; i++) {
			if (h->del[i].grant > h->done[k].acked) {
				c->delivered_after_done++;
				break;
			}
		}
	}
	pthread_mutex_unlock(&h->mu);
}
