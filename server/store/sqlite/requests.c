/*
 * store/sqlite/requests.c - the SQLite backend's log of recent request
 * ids (store.h, request_get/put/prune).
 */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/sqlite.h"

#define Q(s) ((struct store_sqlite *) (s))

int
sq_request_get(struct store *s, const char *key, bool *found, uint8_t **result,
    size_t *len)
{
	sqlite3_stmt *st = sq_stmt(Q(s), SQ_REQUEST_GET);
	uint8_t *copy;
	size_t n;
	int rc;

	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		*found = false;
		return (CAIRN_OK);
	}
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return (sq_fail(Q(s), rc, "request_get"));
	}
	n = (size_t) sqlite3_column_bytes(st, 0);
	if ((copy = malloc(n + 1)) == NULL) {
		sqlite3_reset(st);
		return (store_seterr(s, CAIRN_RESOURCE_EXHAUSTED,
		    "out of memory reading a request"));
	}
	if (n > 0) {
		memcpy(copy, sqlite3_column_blob(st, 0), n);
	}
	copy[n] = 0; /* the lifecycle's records are text */
	sqlite3_reset(st);
	*result = copy;
	*len = n;
	*found = true;
	return (CAIRN_OK);
}

int
sq_request_put(struct store *s, const char *key, int64_t now,
    const uint8_t *result, size_t len)
{
	sqlite3_stmt *st = sq_stmt(Q(s), SQ_REQUEST_PUT);

	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_blob64(
	    st, 3, len > 0 ? (const void *) result : "", len, SQLITE_STATIC);
	return (sq_done(Q(s), SQ_REQUEST_PUT, "request_put"));
}

int
sq_request_prune(struct store *s, int64_t before, uint32_t limit, size_t *n)
{
	sqlite3_stmt *st = sq_stmt(Q(s), SQ_REQUEST_PRUNE);
	int rv;

	sqlite3_bind_int64(st, 1, before);
	sqlite3_bind_int64(st, 2, limit);
	if ((rv = sq_done(Q(s), SQ_REQUEST_PRUNE, "request_prune")) != 0) {
		return (rv);
	}
	*n = (size_t) sqlite3_changes(Q(s)->db);
	return (CAIRN_OK);
}
