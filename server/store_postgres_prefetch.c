/*
 * store_postgres_prefetch.c - reading ahead what a transaction will load
 * (store.h, prefetch).
 *
 * A Complete, Heartbeat or Fail loads its task, and an Enqueue or Lease
 * with a request id looks its record up: one round trip each, one after
 * the other, while the rest of the batch waits. Prefetch sends two
 * statements for the whole batch instead, without waiting: the rows (FOR
 * UPDATE, as load locks them) and the records. Their answers arrive with
 * the next call that waits (the sweep of expired leases, at the start of
 * every transaction), so the read-ahead costs no round trip of its own.
 *
 * What was read stays true until this transaction writes it: the rows are
 * locked, so only a save of ours changes one (pg_ahead_saved makes it
 * stale); a record may be added by us (pg_ahead_recorded) or by another
 * server, whose insert then makes ours fail on the key, as without the
 * read-ahead (store_postgres_requests.c).
 */
#include <stdlib.h>
#include <string.h>

#include "store_postgres.h"

#define Q(s) ((struct store_pg *) (s))

void
pg_forget_kept(struct store_pg *q)
{
	pg_forget_picked(q);
	PQclear(q->ahead.rows);
	free(q->ahead.row_ids);
	PQclear(q->ahead.records);
	for (size_t i = 0; i < q->ahead.nkeys; i++) {
		free(q->ahead.keys[i]);
	}
	free(q->ahead.keys);
	memset(&q->ahead, 0, sizeof(q->ahead));
}

/* ids_literal writes ids as a PostgreSQL array literal ("{1,2}"), skipping
 * those that cannot be a task's; NULL when out of memory. */
static char *
ids_literal(const uint64_t *ids, size_t n)
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

/* keys_literal writes keys as an array literal of quoted elements, with
 * '"' and '\' escaped; NULL when out of memory. */
static char *
keys_literal(const char *const *keys, size_t n)
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

int
pg_prefetch(struct store *s, const uint64_t *ids, size_t nids,
    const char *const *keys, size_t nkeys)
{
	struct store_pg *q = Q(s);
	struct pg_params p = { 0 };
	char *lit;
	int rv = CAIRN_OK;

	pg_forget_kept(q);
	if (nids > 0) {
		if ((lit = ids_literal(ids, nids)) == NULL) {
			return (CAIRN_OK); /* only a hint */
		}
		pg_p_text(&p, lit);
		rv = pg_send_kept(
		    q, PG_LOAD_MANY, &p, "prefetch rows", &q->ahead.rows);
		free(lit);
	}
	if (rv == CAIRN_OK && nkeys > 0) {
		if (remember_keys(q, keys, nkeys) != CAIRN_OK
		    || (lit = keys_literal(keys, nkeys)) == NULL) {
			pg_forget_kept(q);
			return (CAIRN_OK);
		}
		memset(&p, 0, sizeof(p));
		pg_p_text(&p, lit);
		rv = pg_send_kept(q, PG_REQUEST_GET_MANY, &p,
		    "prefetch request records", &q->ahead.records);
		free(lit);
	}
	return (rv);
}

/* ready reads the prefetch's answers if they are still on their way, and
 * indexes the rows by id. */
static int
ready(struct store_pg *q)
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
	if (q->ahead.rows != NULL && q->ahead.row_ids == NULL) {
		int n = PQntuples(q->ahead.rows);
		if ((q->ahead.row_ids
		        = calloc((size_t) n + 1, sizeof(uint64_t)))
		    == NULL) {
			PQclear(q->ahead.rows); /* only a hint */
			q->ahead.rows = NULL;
			return (CAIRN_OK);
		}
		for (int i = 0; i < n; i++) {
			q->ahead.row_ids[i]
			    = (uint64_t) pg_i64(q->ahead.rows, i, 0, 0);
		}
		q->ahead.nrows = n;
	}
	return (CAIRN_OK);
}

int
pg_ahead_row(struct store_pg *q, uint64_t id, int *status)
{
	if ((*status = ready(q)) != CAIRN_OK) {
		return (-1);
	}
	for (int i = 0; i < q->ahead.nrows; i++) {
		if (q->ahead.row_ids[i] == id) {
			return (i);
		}
	}
	return (-1);
}

void
pg_ahead_saved(struct store_pg *q, uint64_t id)
{
	for (int i = 0; i < q->ahead.nrows; i++) {
		if (q->ahead.row_ids[i] == id) {
			q->ahead.row_ids[i] = 0;
		}
	}
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
	if ((rv = ready(q)) != CAIRN_OK || q->ahead.records == NULL) {
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
	ssize_t i = asked(q, key);

	if (i >= 0) {
		free(q->ahead.keys[i]);
		q->ahead.keys[i] = NULL;
	}
}
