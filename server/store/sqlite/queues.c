/*
 * store/sqlite/queues.c - the SQLite backend's per-queue settings
 * (store/store_queue.h). One process owns the file, so get needs no lock:
 * the engine's transaction is the only writer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/sqlite.h"

#define Q(s) ((struct store_sqlite *) (s))

/* The columns of a queue's row, in the order read_row reads them. */
#define SQQ_COLUMNS                                                           \
	"name, paused, max_active, rate_count, rate_interval, rate_burst, "   \
	"max_attempts, backoff_initial, backoff_multiplier, backoff_max, "    \
	"heartbeat_timeout, start_to_close, updated_at, bucket_credit, "      \
	"bucket_at"

const char sqq_schema[] = "CREATE TABLE queues ("
                          "  name TEXT PRIMARY KEY,"
                          "  paused INTEGER NOT NULL DEFAULT 0,"
                          "  max_active INTEGER NOT NULL DEFAULT 0,"
                          "  rate_count INTEGER NOT NULL DEFAULT 0,"
                          "  rate_interval INTEGER NOT NULL DEFAULT 0,"
                          "  rate_burst INTEGER NOT NULL DEFAULT 0,"
                          "  max_attempts INTEGER NOT NULL DEFAULT 0,"
                          "  backoff_initial INTEGER NOT NULL DEFAULT 0,"
                          "  backoff_multiplier REAL NOT NULL DEFAULT 0,"
                          "  backoff_max INTEGER NOT NULL DEFAULT 0,"
                          "  heartbeat_timeout INTEGER NOT NULL DEFAULT 0,"
                          "  start_to_close INTEGER NOT NULL DEFAULT 0,"
                          "  updated_at INTEGER NOT NULL,"
                          "  bucket_credit INTEGER NOT NULL DEFAULT 0,"
                          "  bucket_at INTEGER NOT NULL DEFAULT 0"
                          ") WITHOUT ROWID;";

static const char *const sqq_sql[SQQ_COUNT_] = {
	[SQQ_GET] = "SELECT " SQQ_COLUMNS " FROM queues WHERE name = ?1",
	[SQQ_PUT] = "INSERT OR REPLACE INTO queues (" SQQ_COLUMNS ") VALUES "
	            "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
	            "?14, ?15)",
	[SQQ_LIST] = "SELECT " SQQ_COLUMNS " FROM queues ORDER BY name",
	[SQQ_ACTIVE] = "SELECT count(*) FROM tasks WHERE queue = ?1 AND "
	               "state = 2",
	[SQQ_BUCKET] = "UPDATE queues SET bucket_credit = ?2, bucket_at = ?3 "
	               "WHERE name = ?1",
};

int
sqq_prepare(struct store_sqlite *q)
{
	for (int i = 0; i < SQQ_COUNT_; i++) {
		int rc = sqlite3_prepare_v3(q->db, sqq_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &q->qs[i], NULL);
		if (rc != SQLITE_OK) {
			return (sq_fail(q, rc, "preparing statements"));
		}
	}
	return (CAIRN_OK);
}

void
sqq_finalize(struct store_sqlite *q)
{
	for (int i = 0; i < SQQ_COUNT_; i++) {
		sqlite3_finalize(q->qs[i]);
	}
}

static void
read_row(sqlite3_stmt *st, struct queue_settings *out)
{
	const unsigned char *name = sqlite3_column_text(st, 0);

	memset(out, 0, sizeof(*out));
	snprintf(out->queue, sizeof(out->queue), "%s",
	    name != NULL ? (const char *) name : "");
	out->paused = sqlite3_column_int64(st, 1) != 0;
	out->max_active = (uint32_t) sqlite3_column_int64(st, 2);
	out->rate_count = (uint32_t) sqlite3_column_int64(st, 3);
	out->rate_interval_ms = sqlite3_column_int64(st, 4);
	out->rate_burst = (uint32_t) sqlite3_column_int64(st, 5);
	out->max_attempts = (uint32_t) sqlite3_column_int64(st, 6);
	out->retry.initial_ms = sqlite3_column_int64(st, 7);
	out->retry.multiplier = sqlite3_column_double(st, 8);
	out->retry.max_ms = sqlite3_column_int64(st, 9);
	out->heartbeat_timeout_ms = sqlite3_column_int64(st, 10);
	out->start_to_close_ms = sqlite3_column_int64(st, 11);
	out->updated_ms = sqlite3_column_int64(st, 12);
	out->bucket_credit = sqlite3_column_int64(st, 13);
	out->bucket_at_ms = sqlite3_column_int64(st, 14);
}

static int
sqq_get(
    struct store *s, const char *queue, bool lock, struct queue_settings *out)
{
	sqlite3_stmt *st = Q(s)->qs[SQQ_GET];
	struct queue_settings row;
	int rc;

	sqlite3_bind_text(st, 1, queue, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		read_row(st, &row);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		return (sq_fail(Q(s), rc, "queue get"));
	}
	/* With lock, the lease path wants only a row that limits it. */
	if (rc == SQLITE_DONE || (lock && !queue_settings_limited(&row))) {
		return (CAIRN_NOT_FOUND);
	}
	*out = row;
	return (CAIRN_OK);
}

static int
step_done(struct store_sqlite *q, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return (rc == SQLITE_DONE ? CAIRN_OK : sq_fail(q, rc, what));
}

static int
sqq_put(struct store *s, const struct queue_settings *r)
{
	sqlite3_stmt *st = Q(s)->qs[SQQ_PUT];

	sqlite3_bind_text(st, 1, r->queue, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, r->paused);
	sqlite3_bind_int64(st, 3, r->max_active);
	sqlite3_bind_int64(st, 4, r->rate_count);
	sqlite3_bind_int64(st, 5, r->rate_interval_ms);
	sqlite3_bind_int64(st, 6, r->rate_burst);
	sqlite3_bind_int64(st, 7, r->max_attempts);
	sqlite3_bind_int64(st, 8, r->retry.initial_ms);
	sqlite3_bind_double(st, 9, r->retry.multiplier);
	sqlite3_bind_int64(st, 10, r->retry.max_ms);
	sqlite3_bind_int64(st, 11, r->heartbeat_timeout_ms);
	sqlite3_bind_int64(st, 12, r->start_to_close_ms);
	sqlite3_bind_int64(st, 13, r->updated_ms);
	sqlite3_bind_int64(st, 14, r->bucket_credit);
	sqlite3_bind_int64(st, 15, r->bucket_at_ms);
	return (step_done(Q(s), st, "queue put"));
}

static int
sqq_list(struct store *s, struct queue_settings **out, size_t *n)
{
	sqlite3_stmt *st = Q(s)->qs[SQQ_LIST];
	struct queue_settings *arr = NULL, *grown;
	size_t cnt = 0, cap = 0;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cnt == cap) {
			cap = cap == 0 ? 8 : cap * 2;
			if ((grown = realloc(arr, cap * sizeof(*arr)))
			    == NULL) {
				sqlite3_reset(st);
				free(arr);
				return (
				    store_seterr(s, CAIRN_RESOURCE_EXHAUSTED,
				        "out of memory listing queues"));
			}
			arr = grown;
		}
		read_row(st, &arr[cnt++]);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		free(arr);
		return (sq_fail(Q(s), rc, "queue list"));
	}
	*out = arr;
	*n = cnt;
	return (CAIRN_OK);
}

static int
sqq_active(struct store *s, const char *queue, uint32_t *n)
{
	sqlite3_stmt *st = Q(s)->qs[SQQ_ACTIVE];
	int64_t v = 0;
	int rc;

	sqlite3_bind_text(st, 1, queue, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		v = sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW) {
		return (sq_fail(Q(s), rc, "queue active"));
	}
	*n = v > UINT32_MAX ? UINT32_MAX : (uint32_t) v;
	return (CAIRN_OK);
}

static int
sqq_bucket(struct store *s, const char *queue, int64_t credit, int64_t at)
{
	sqlite3_stmt *st = Q(s)->qs[SQQ_BUCKET];

	sqlite3_bind_text(st, 1, queue, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, credit);
	sqlite3_bind_int64(st, 3, at);
	return (step_done(Q(s), st, "queue bucket"));
}

const struct store_queue_ops sq_queue_ops = {
	.get = sqq_get,
	.put = sqq_put,
	.list = sqq_list,
	.active = sqq_active,
	.bucket = sqq_bucket,
};
