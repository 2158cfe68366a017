/*
 * store/sqlite/sched.c - the SQLite backend's cron schedules
 * (store/store_sched.h). Schedules are few and read about once a second,
 * so their statements are prepared per call rather than kept.
 */
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/sqlite.h"

#define Q(s) ((struct store_sqlite *) (s))

#define COLUMNS                                                               \
	"name, cron, zone, queue, payload, priority, max_attempts, "          \
	"backoff_initial, backoff_multiplier, backoff_max, "                  \
	"heartbeat_timeout, start_to_close, missed, paused, next_fire, "      \
	"last_fire, last_task, created_at, updated_at"

const char sqs_schema[]
    = "CREATE TABLE schedules ("
      "  name TEXT PRIMARY KEY,"
      "  cron TEXT NOT NULL,"
      "  zone TEXT NOT NULL,"
      "  queue TEXT NOT NULL,"
      "  payload BLOB NOT NULL,"
      "  priority INTEGER NOT NULL,"
      "  max_attempts INTEGER NOT NULL,"
      "  backoff_initial INTEGER NOT NULL,"
      "  backoff_multiplier REAL NOT NULL,"
      "  backoff_max INTEGER NOT NULL,"
      "  heartbeat_timeout INTEGER NOT NULL,"
      "  start_to_close INTEGER NOT NULL,"
      "  missed INTEGER NOT NULL,"
      "  paused INTEGER NOT NULL,"
      "  next_fire INTEGER NOT NULL,"
      "  last_fire INTEGER NOT NULL,"
      "  last_task INTEGER NOT NULL,"
      "  created_at INTEGER NOT NULL,"
      "  updated_at INTEGER NOT NULL"
      ") WITHOUT ROWID;"
      "CREATE INDEX schedules_next ON schedules (next_fire) WHERE paused = 0;";

/* prepare returns a statement of sql, or NULL with the error set. */
static sqlite3_stmt *
prepare(struct store *s, const char *sql, int *rv)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(Q(s)->db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK) {
		*rv = sq_fail(Q(s), rc, "preparing a schedule statement");
		return (NULL);
	}
	return (st);
}

/* finish steps st, which returns no rows, and finalizes it. */
static int
finish(struct store *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);
	int rv = rc == SQLITE_DONE ? CAIRN_OK : sq_fail(Q(s), rc, what);

	sqlite3_finalize(st);
	return (rv);
}

/* bind_fields binds sc's fields from the cron on, as parameters
 * 2 to 19 (1 is the name). */
static void
bind_fields(sqlite3_stmt *st, const struct schedule *sc)
{
	sq_bind_text(st, 2, sc->cron);
	sq_bind_text(st, 3, sc->zone != NULL ? sc->zone : "");
	sq_bind_text(st, 4, sc->queue);
	sq_bind_blob(st, 5, sc->payload, sc->payload_len);
	sqlite3_bind_int64(st, 6, sc->priority);
	sqlite3_bind_int64(st, 7, sc->max_attempts);
	sqlite3_bind_int64(st, 8, sc->retry.initial_ms);
	sqlite3_bind_double(st, 9, sc->retry.multiplier);
	sqlite3_bind_int64(st, 10, sc->retry.max_ms);
	sqlite3_bind_int64(st, 11, sc->heartbeat_timeout_ms);
	sqlite3_bind_int64(st, 12, sc->start_to_close_ms);
	sqlite3_bind_int64(st, 13, sc->missed);
	sqlite3_bind_int64(st, 14, sc->paused);
	sqlite3_bind_int64(st, 15, sc->next_fire_ms);
	sqlite3_bind_int64(st, 16, sc->last_fire_ms);
	sqlite3_bind_int64(st, 17, (int64_t) sc->last_task_id);
	sqlite3_bind_int64(st, 18, sc->created_ms);
	sqlite3_bind_int64(st, 19, sc->updated_ms);
}

/* read_row fills sc from the current row of a statement of COLUMNS. */
static int
read_row(sqlite3_stmt *st, struct schedule *sc)
{
	int rv;

	memset(sc, 0, sizeof(*sc));
	if ((rv = sq_col_text(st, 0, &sc->name)) != 0
	    || (rv = sq_col_text(st, 1, &sc->cron)) != 0
	    || (rv = sq_col_text(st, 2, &sc->zone)) != 0
	    || (rv = sq_col_text(st, 3, &sc->queue)) != 0
	    || (rv = sq_col_blob(st, 4, &sc->payload, &sc->payload_len))
	        != 0) {
		schedule_clear(sc);
		return (rv);
	}
	sc->priority = (int32_t) sqlite3_column_int64(st, 5);
	sc->max_attempts = (uint32_t) sqlite3_column_int64(st, 6);
	sc->retry.initial_ms = sqlite3_column_int64(st, 7);
	sc->retry.multiplier = sqlite3_column_double(st, 8);
	sc->retry.max_ms = sqlite3_column_int64(st, 9);
	sc->heartbeat_timeout_ms = sqlite3_column_int64(st, 10);
	sc->start_to_close_ms = sqlite3_column_int64(st, 11);
	sc->missed = (int) sqlite3_column_int64(st, 12);
	sc->paused = sqlite3_column_int64(st, 13) != 0;
	sc->next_fire_ms = sqlite3_column_int64(st, 14);
	sc->last_fire_ms = sqlite3_column_int64(st, 15);
	sc->last_task_id = (uint64_t) sqlite3_column_int64(st, 16);
	sc->created_ms = sqlite3_column_int64(st, 17);
	sc->updated_ms = sqlite3_column_int64(st, 18);
	return (CAIRN_OK);
}

static int
sqs_insert(struct store *s, const struct schedule *sc)
{
	int rv = CAIRN_OK;
	sqlite3_stmt *st = prepare(s,
	    "INSERT INTO schedules (" COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, "
	    "?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, "
	    "?19)",
	    &rv);

	if (st == NULL) {
		return (rv);
	}
	sq_bind_text(st, 1, sc->name);
	bind_fields(st, sc);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if ((rc & 0xff) == SQLITE_CONSTRAINT) {
		return (store_seterr(s, CAIRN_ALREADY_EXISTS,
		    "schedule '%s' exists", sc->name));
	}
	return (rc == SQLITE_DONE ? CAIRN_OK
	                          : sq_fail(Q(s), rc, "inserting a schedule"));
}

static int
sqs_load(struct store *s, const char *name, struct schedule *out)
{
	int rv = CAIRN_OK;
	sqlite3_stmt *st = prepare(
	    s, "SELECT " COLUMNS " FROM schedules WHERE name = ?1", &rv);

	if (st == NULL) {
		return (rv);
	}
	sq_bind_text(st, 1, name);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		rv = read_row(st, out);
		rv = rv == CAIRN_OK ? rv : store_seterr(s, rv, "no memory");
	} else if (rc == SQLITE_DONE) {
		rv = store_seterr(
		    s, CAIRN_NOT_FOUND, "schedule '%s' not found", name);
	} else {
		rv = sq_fail(Q(s), rc, "loading a schedule");
	}
	sqlite3_finalize(st);
	return (rv);
}

static int
sqs_save(struct store *s, const struct schedule *sc)
{
	int rv = CAIRN_OK;
	sqlite3_stmt *st = prepare(s,
	    "UPDATE schedules SET cron = ?2, zone = ?3, queue = ?4, "
	    "payload = ?5, priority = ?6, max_attempts = ?7, "
	    "backoff_initial = ?8, backoff_multiplier = ?9, backoff_max = "
	    "?10, "
	    "heartbeat_timeout = ?11, start_to_close = ?12, missed = ?13, "
	    "paused = ?14, next_fire = ?15, last_fire = ?16, last_task = ?17, "
	    "updated_at = ?19 WHERE name = ?1",
	    &rv);

	if (st == NULL) {
		return (rv);
	}
	sq_bind_text(st, 1, sc->name);
	bind_fields(st, sc);
	return (finish(s, st, "saving a schedule"));
}

static int
sqs_remove(struct store *s, const char *name)
{
	int rv = CAIRN_OK;
	sqlite3_stmt *st
	    = prepare(s, "DELETE FROM schedules WHERE name = ?1", &rv);

	if (st == NULL) {
		return (rv);
	}
	sq_bind_text(st, 1, name);
	if ((rv = finish(s, st, "deleting a schedule")) != CAIRN_OK) {
		return (rv);
	}
	return (sqlite3_changes(Q(s)->db) > 0
	        ? CAIRN_OK
	        : store_seterr(
	            s, CAIRN_NOT_FOUND, "schedule '%s' not found", name));
}

static int
sqs_list(struct store *s, struct schedule **out, size_t *n)
{
	struct schedule *v = NULL;
	size_t got = 0, cap = 0;
	int rv = CAIRN_OK, rc;
	sqlite3_stmt *st = prepare(
	    s, "SELECT " COLUMNS " FROM schedules ORDER BY name", &rv);

	if (st == NULL) {
		return (rv);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (got == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			struct schedule *nv = realloc(v, cap * sizeof(*v));
			if (nv == NULL) {
				rv = CAIRN_RESOURCE_EXHAUSTED;
				break;
			}
			v = nv;
		}
		if ((rv = read_row(st, &v[got])) != CAIRN_OK) {
			break;
		}
		got++;
	}
	sqlite3_finalize(st);
	if (rv == CAIRN_OK && rc != SQLITE_DONE) {
		rv = sq_fail(Q(s), rc, "listing schedules");
	} else if (rv != CAIRN_OK) {
		rv = store_seterr(s, rv, "no memory");
	}
	if (rv != CAIRN_OK) {
		schedules_free(v, got);
		return (rv);
	}
	*out = v;
	*n = got;
	return (CAIRN_OK);
}

static int
sqs_pick_due(
    struct store *s, int64_t now, uint32_t max, char ***names, size_t *n)
{
	char **v = calloc(max > 0 ? max : 1, sizeof(*v));
	size_t got = 0;
	int rv = CAIRN_OK, rc;
	sqlite3_stmt *st = v == NULL ? NULL
	                             : prepare(s,
	                                 "SELECT name FROM schedules WHERE "
	                                 "paused = 0 AND next_fire <= ?1 "
	                                 "ORDER BY next_fire LIMIT ?2",
	                                 &rv);

	if (st == NULL) {
		free(v);
		return (v == NULL ? store_seterr(
		            s, CAIRN_RESOURCE_EXHAUSTED, "no memory")
		                  : rv);
	}
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, max);
	while (got < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((rv = sq_col_text(st, 0, &v[got])) != CAIRN_OK) {
			break;
		}
		got++;
	}
	sqlite3_finalize(st);
	if (rv == CAIRN_OK && got < max && rc != SQLITE_DONE) {
		rv = sq_fail(Q(s), rc, "picking due schedules");
	} else if (rv != CAIRN_OK) {
		rv = store_seterr(s, rv, "no memory");
	}
	if (rv != CAIRN_OK) {
		names_free(v, got);
		return (rv);
	}
	*names = v;
	*n = got;
	return (CAIRN_OK);
}

static int
sqs_next_fire(struct store *s, int64_t *at)
{
	int rv = CAIRN_OK;
	sqlite3_stmt *st = prepare(
	    s, "SELECT min(next_fire) FROM schedules WHERE paused = 0", &rv);

	if (st == NULL) {
		return (rv);
	}
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*at = sq_col_i64_or(st, 0, TASK_TIME_NEVER);
	} else {
		rv = sq_fail(Q(s), rc, "reading the next tick");
	}
	sqlite3_finalize(st);
	return (rv);
}

const struct store_sched_ops sq_sched_ops = {
	.insert = sqs_insert,
	.load = sqs_load,
	.save = sqs_save,
	.remove = sqs_remove,
	.list = sqs_list,
	.pick_due = sqs_pick_due,
	.next_fire = sqs_next_fire,
};
