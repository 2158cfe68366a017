/*
 * store/postgres/requests.c - the PostgreSQL backend's log of recent
 * request ids (store.h, request_get/put/prune; lifecycle/replay.c).
 */
#include <stdlib.h>
#include <string.h>

#include "store/postgres/postgres.h"

#define Q(s) ((struct store_pg *) (s))

int
pg_request_get(struct store *s, const char *key, bool *found, uint8_t **result,
    size_t *len)
{
	struct pg_params p = { 0 };
	uint8_t *copy;
	PGresult *r;
	size_t n;
	bool known;
	int rv;

	rv = pg_ahead_record(Q(s), key, &known, found, result, len);
	if (rv != CAIRN_OK || known) {
		return (rv);
	}
	pg_p_text(&p, key);
	if ((r = pg_run(Q(s), PG_REQUEST_GET, &p, "request_get", &rv))
	    == NULL) {
		return (rv);
	}
	if (PQntuples(r) == 0) {
		PQclear(r);
		*found = false;
		return (CAIRN_OK);
	}
	n = (size_t) PQgetlength(r, 0, 0);
	if ((copy = malloc(n + 1)) == NULL) {
		PQclear(r);
		return (store_seterr(s, CAIRN_RESOURCE_EXHAUSTED,
		    "out of memory reading a request"));
	}
	memcpy(copy, PQgetvalue(r, 0, 0), n);
	copy[n] = 0; /* the lifecycle's records are text */
	PQclear(r);
	*result = copy;
	*len = n;
	*found = true;
	return (CAIRN_OK);
}

int
pg_request_put(struct store *s, const char *key, int64_t now,
    const uint8_t *result, size_t len)
{
	struct pg_params p = { 0 };

	pg_ahead_recorded(Q(s), key);
	pg_p_text(&p, key);
	pg_p_i64(&p, now);
	pg_p_bytes(&p, result, len);
	/*
	 * Deferred like a save. When two servers received one request id at
	 * once, the second insert fails on the key once the first commits
	 * (ABORTED), and the next call that waits reports it: that request
	 * is refused and retried by its client, the engine applies the rest
	 * again, and by then request_get finds the first server's record.
	 */
	return (pg_defer(Q(s), PG_REQUEST_PUT, &p, "request_put"));
}

int
pg_request_prune(struct store *s, int64_t before, uint32_t limit, size_t *n)
{
	struct pg_params p = { 0 };

	/* Nobody needs the count: sent without waiting, like a save. */
	pg_p_i64(&p, before);
	pg_p_i64(&p, limit);
	*n = 0;
	return (pg_defer(Q(s), PG_REQUEST_PRUNE, &p, "request_prune"));
}
