/*
 * store/postgres/prefetch.c - reading ahead what a transaction will load
 * (store.h, prefetch).
 *
 * A Complete, Heartbeat or Fail loads its task, an Enqueue or Lease with
 * a request id looks its record up, and a Lease picks due tasks: one round
 * trip each, one after the other, while the rest of the batch waits.
 * Prefetch sends the statements for the whole batch instead, without
 * waiting: the rows (FOR UPDATE, as load locks them), the records, and per
 * queue as many due tasks as the batch's leases may take (FOR UPDATE SKIP
 * LOCKED, as pick_due). Their answers arrive with the next call that waits
 * (the sweep of expired leases, at the start of every transaction), so the
 * read-ahead costs no round trip of its own.
 *
 * What was read stays true until this transaction writes it: the rows are
 * locked, so only a save of ours changes one (pg_ahead_saved makes it
 * stale); a record may be added by us (pg_ahead_recorded) or by another
 * server, whose insert then makes ours fail on the key, as without the
 * read-ahead (store/postgres/requests.c).
 *
 * A pool answers the picks of its queue with its rows that were not saved
 * since. Short of what a pick asks for, it answers alone when it read
 * fewer than it asked for (nothing else was due); otherwise the pick goes
 * to the database. So a task that the batch itself made due (enqueued, or
 * failed for an immediate retry) is not leased by a Lease of the same
 * batch: the two were concurrent, and the Lease may come first. A Lease
 * that waits is woken by that task's commit and takes it in the next
 * transaction, from the next pool, instead of paying a round trip now.
 *
 * The queue of a Complete that leases the next task is its task's, which
 * the prefetch cannot name: the first such pick of a queue takes as many
 * more as the batch has of them, and keeps them as that queue's pool.
 */
#include <stdlib.h>
#include <string.h>

#include "store/postgres/postgres.h"

#define Q(s) ((struct store_pg *) (s))

/* kept_index indexes the rows of k->r by id, once they arrived. */
static void
kept_index(struct pg_kept *k)
{
	if (k->r == NULL || k->ids != NULL) {
		return;
	}
	int n = PQntuples(k->r);
	if ((k->ids = calloc((size_t) n + 1, sizeof(*k->ids))) == NULL) {
		PQclear(k->r); /* only a hint */
		k->r = NULL;
		return;
	}
	for (int i = 0; i < n; i++) {
		k->ids[i] = (uint64_t) pg_i64(k->r, i, 0, 0);
	}
	k->n = n;
}

static int
kept_find(const struct pg_kept *k, uint64_t id)
{
	for (int i = 0; i < k->n; i++) {
		if (k->ids[i] == id) {
			return (i);
		}
	}
	return (-1);
}

char *
pg_ids_literal(const uint64_t *ids, size_t n)
{
	char *out = malloc(n * 21 + 3), *p = out;

	if (out == NULL) {
		return (NULL);
	}
	*p++ = '{';
	for (size_t i = 0; i < n; i++) {
		if (ids[i] == 0 || ids[i] > INT64_MAX) {
			continue;
		}
		p += sprintf(p, "%s%llu", p[-1] == '{' ? "" : ",",
		    (unsigned long long) ids[i]);
	}
	*p++ = '}';
	*p = 0;
	return (out);
}

/* pg_text_array writes keys as an array literal of quoted elements, with
 * '"' and '\' escaped; NULL when out of memory. */
char *
pg_text_array(const char *const *keys, size_t n)
{
	size_t len = 3;
	char *out, *p;

	for (size_t i = 0; i < n; i++) {
		len += 2 * strlen(keys[i]) + 3;
	}
	if ((out = p = malloc(len)) == NULL) {
		return (NULL);
	}
	*p++ = '{';
	for (size_t i = 0; i < n; i++) {
		if (i > 0) {
			*p++ = ',';
		}
		*p++ = '"';
		for (const char *k = keys[i]; *k != 0; k++) {
			if (*k == '"' || *k == '\\') {
				*p++ = '\\';
			}
			*p++ = *k;
		}
		*p++ = '"';
	}
	*p++ = '}';
	*p = 0;
	return (out);
}

/* remember_keys keeps a copy of the keys asked for. */
static int
remember_keys(struct store_pg *q, const char *const *keys, size_t n)
{
	if ((q->ahead.keys = calloc(n, sizeof(*q->ahead.keys))) == NULL) {
		return (CAIRN_RESOURCE_EXHAUSTED);
	}
	for (size_t i = 0; i < n; i++) {
		if ((q->ahead.keys[i] = strdup(keys[i])) == NULL) {
			return (CAIRN_RESOURCE_EXHAUSTED);
		}
		q->ahead.nkeys = i + 1;
	}
	return (CAIRN_OK);
}

/* send_pools sends a pick of the due tasks of every hinted queue. */
static int
send_pools(struct store_pg *q, const struct store_prefetch *pf)
{
	int rv = CAIRN_OK;

	if ((q->ahead.pools = calloc(pf->npicks, sizeof(*q->ahead.pools)))
	    == NULL) {
		return (CAIRN_OK); /* only a hint */
	}
	for (size_t i = 0; i < pf->npicks && rv == CAIRN_OK; i++) {
		struct pg_pool *pool = &q->ahead.pools[i];
		struct pg_params p = { 0 };
		if ((pool->queue = strdup(pf->picks[i].queue)) == NULL) {
			break;
		}
		pool->asked = pf->picks[i].max;
		q->ahead.npools = i + 1;
		pg_p_text(&p, pool->queue);
		pg_p_i64(&p, pf->now);
		pg_p_i64(&p, pool->asked);
		rv = pg_send_kept(
		    q, PG_PICK_DUE, &p, "pick due", &pool->kept.r);
	}
	return (rv);
}

int
pg_prefetch(struct store *s, const struct store_prefetch *pf)
{
	struct store_pg *q = Q(s);
	struct pg_params p = { 0 };
	char *lit;
	int rv = CAIRN_OK;

	pg_forget_kept(q);
	q->ahead.now = pf->now;
	q->ahead.spare = pf->unknown_picks;
	if (pf->nids > 0) {
		if ((lit = pg_ids_literal(pf->ids, pf->nids)) == NULL) {
			return (CAIRN_OK); /* only a hint */
		}
		pg_p_text(&p, lit);
		rv = pg_send_kept(
		    q, PG_LOAD_MANY, &p, "prefetch rows", &q->ahead.rows.r);
		free(lit);
	}
	if (rv == CAIRN_OK) {
		rv = pgw_lock_runs(q, pf);
	}
	if (rv == CAIRN_OK && pf->nkeys > 0) {
		if (remember_keys(q, pf->keys, pf->nkeys) != CAIRN_OK
		    || (lit = pg_text_array(pf->keys, pf->nkeys)) == NULL) {
			pg_forget_kept(q);
			return (CAIRN_OK);
		}
		memset(&p, 0, sizeof(p));
		pg_p_text(&p, lit);
		rv = pg_send_kept(q, PG_REQUEST_GET_MANY, &p,
		    "prefetch request records", &q->ahead.records);
		free(lit);
	}
	/* The limits before the pools: their lock comes first. */
	if (rv == CAIRN_OK) {
		rv = pgq_prefetch(q, pf);
	}
	if (rv == CAIRN_OK && pf->npicks > 0) {
		rv = send_pools(q, pf);
	}
	return (rv);
}

/* ready reads the prefetch's answers if they are still on their way, and
 * indexes the rows by id. */
int
pg_ahead_ready(struct store_pg *q)
{
	bool waiting = false;

	for (int i = 0; i < q->sent && i < PG_MAX_SENT; i++) {
		waiting = waiting || q->keep[i] != NULL;
	}
	if (waiting) {
		int rv = pg_sync(q, NULL);
		if (rv != CAIRN_OK) {
			return (rv);
		}
	}
	kept_index(&q->ahead.rows);
	for (size_t i = 0; i < q->ahead.npools; i++) {
		kept_index(&q->ahead.pools[i].kept);
	}
	return (CAIRN_OK);
}

int
pg_ahead_row(struct store_pg *q, uint64_t id, const PGresult **r, int *status)
{
	int i;

	if ((*status = pg_ahead_ready(q)) != CAIRN_OK) {
		return (-1);
	}
	if ((i = kept_find(&q->ahead.rows, id)) >= 0) {
		*r = q->ahead.rows.r;
		return (i);
	}
	for (size_t p = 0; p < q->ahead.npools; p++) {
		if ((i = kept_find(&q->ahead.pools[p].kept, id)) >= 0) {
			*r = q->ahead.pools[p].kept.r;
			return (i);
		}
	}
	return (-1);
}

void
pg_ahead_saved(struct store_pg *q, uint64_t id)
{
	int i;

	if ((i = kept_find(&q->ahead.rows, id)) >= 0) {
		q->ahead.rows.ids[i] = 0;
	}
	for (size_t p = 0; p < q->ahead.npools; p++) {
		if ((i = kept_find(&q->ahead.pools[p].kept, id)) >= 0) {
			q->ahead.pools[p].kept.ids[i] = 0;
		}
	}
}

static struct pg_pool *
pool_of(struct store_pg *q, const char *queue)
{
	for (size_t i = 0; i < q->ahead.npools; i++) {
		if (strcmp(q->ahead.pools[i].queue, queue) == 0) {
			return (&q->ahead.pools[i]);
		}
	}
	return (NULL);
}

int
pg_ahead_pick(struct store_pg *q, const char *queue, int64_t now, uint32_t max,
    uint64_t *ids, size_t *n, bool *answered)
{
	struct pg_pool *pool = pool_of(q, queue);
	size_t got = 0;
	int rv;

	*answered = false;
	if (pool == NULL || now != q->ahead.now) {
		return (CAIRN_OK);
	}
	if ((rv = pg_ahead_ready(q)) != CAIRN_OK || pool->kept.r == NULL) {
		return (rv); /* not answered: the caller asks itself */
	}
	for (int i = 0; i < pool->kept.n && got < max; i++) {
		if (pool->kept.ids[i] != 0) {
			ids[got++] = pool->kept.ids[i];
		}
	}
	/* Short of max, the pool knows the rest only if it saw all that
	 * was due. */
	if (got == max || (uint32_t) pool->kept.n < pool->asked) {
		*n = got;
		*answered = true;
	}
	return (CAIRN_OK);
}

/* asked returns the index of key among the keys asked for, or -1. */
static ssize_t
asked(const struct store_pg *q, const char *key)
{
	for (size_t i = 0; i < q->ahead.nkeys; i++) {
		if (q->ahead.keys[i] != NULL
		    && strcmp(q->ahead.keys[i], key) == 0) {
			return ((ssize_t) i);
		}
	}
	return (-1);
}

int
pg_ahead_record(struct store_pg *q, const char *key, bool *known, bool *found,
    uint8_t **result, size_t *len)
{
	size_t klen = strlen(key);
	int rv;

	*known = false;
	if (asked(q, key) < 0) {
		return (CAIRN_OK);
	}
	if ((rv = pg_ahead_ready(q)) != CAIRN_OK || q->ahead.records == NULL) {
		return (rv); /* not answered: the caller asks itself */
	}
	*known = true;
	*found = false;
	for (int i = 0; i < PQntuples(q->ahead.records); i++) {
		if ((size_t) PQgetlength(q->ahead.records, i, 0) != klen
		    || memcmp(PQgetvalue(q->ahead.records, i, 0), key, klen)
		        != 0) {
			continue;
		}
		size_t n = (size_t) PQgetlength(q->ahead.records, i, 1);
		uint8_t *copy = malloc(n + 1);
		if (copy == NULL) {
			return (
			    store_seterr(&q->base, CAIRN_RESOURCE_EXHAUSTED,
			        "out of memory reading a request"));
		}
		memcpy(copy, PQgetvalue(q->ahead.records, i, 1), n);
		copy[n] = 0; /* the lifecycle's records are text */
		*result = copy;
		*len = n;
		*found = true;
		break;
	}
	return (CAIRN_OK);
}

void
pg_ahead_recorded(struct store_pg *q, const char *key)
{
	ssize_t i;

	/* Every copy: two requests of a batch may carry one id (a resend),
	 * and the second must then find the first's record. */
	while ((i = asked(q, key)) >= 0) {
		free(q->ahead.keys[i]);
		q->ahead.keys[i] = NULL;
	}
}

int
pg_ahead_open_pool(struct store_pg *q, const char *queue, int64_t now,
    uint32_t max, bool *opened)
{
	struct pg_params p = { 0 };
	struct pg_pool *pools, *pool;
	int rv;

	*opened = false;
	if (q->ahead.spare == 0 || now != q->ahead.now
	    || pool_of(q, queue) != NULL) {
		return (CAIRN_OK);
	}
	/* Answers still on their way are written into the pools: let them
	 * arrive before the array moves. */
	if ((rv = pg_ahead_ready(q)) != CAIRN_OK) {
		return (rv);
	}
	pools
	    = realloc(q->ahead.pools, (q->ahead.npools + 1) * sizeof(*pools));
	if (pools == NULL) {
		return (CAIRN_OK); /* only a hint */
	}
	q->ahead.pools = pools;
	pool = &pools[q->ahead.npools];
	memset(pool, 0, sizeof(*pool));
	if ((pool->queue = strdup(queue)) == NULL) {
		return (CAIRN_OK);
	}
	pool->asked = max + q->ahead.spare;
	q->ahead.npools++;
	/* Its limits in the same round trip, locked first. */
	pg_p_text(&p, queue);
	rv = pg_send_kept(
	    q, (enum pg_stmt) PGQ_LIMITS, &p, "queue limits", &pool->limits);
	if (rv != CAIRN_OK) {
		return (rv);
	}
	pg_p_i64(&p, now);
	pg_p_i64(&p, pool->asked);
	pool->kept.r = pg_run(q, PG_PICK_DUE, &p, "pick due", &rv);
	if (rv == CAIRN_OK) {
		kept_index(&pool->kept);
		*opened = true;
	}
	return (rv);
}

int
pg_ahead_pool_limits(struct store_pg *q, const char *queue, const PGresult **r)
{
	struct pg_pool *pool = pool_of(q, queue);
	bool opened;
	int rv;

	*r = NULL;
	if (pool == NULL) {
		rv = pg_ahead_open_pool(q, queue, q->ahead.now, 1, &opened);
		if (rv != CAIRN_OK || !opened) {
			return (rv);
		}
		pool = pool_of(q, queue);
	}
	*r = pool->limits;
	return (CAIRN_OK);
}

void
pg_ahead_pool_stale(struct store_pg *q, const char *queue)
{
	for (size_t i = 0; i < q->ahead.npools; i++) {
		struct pg_pool *pool = &q->ahead.pools[i];
		if (queue == NULL || strcmp(pool->queue, queue) == 0) {
			pg_unkeep(q, &pool->limits);
			PQclear(pool->limits);
			pool->limits = NULL;
		}
	}
}
