/*
 * store/sqlite/sqlite.c - the SQLite backend: open, schema and migrations,
 * transactions, and its tables (the only symbol the backend exports).
 *
 * The database runs in WAL mode. synchronous=FULL makes COMMIT return only
 * after the WAL is synced; NORMAL (asked for by name only) survives a crash
 * of the process but may lose the last commits on power loss.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite/sqlite.h"

#define SQ_SCHEMA_VERSION 5

/* Migration i brings the schema from version i to i + 1. */
static const char *const migrations[SQ_SCHEMA_VERSION] = {
	/* 0 -> 1: tasks, their history, and the indexes of every query. */
	"CREATE TABLE tasks ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  queue TEXT NOT NULL,"
	"  payload BLOB NOT NULL,"
	"  priority INTEGER NOT NULL,"
	"  state INTEGER NOT NULL,"
	"  run_at INTEGER NOT NULL,"
	"  attempt INTEGER NOT NULL,"
	"  max_attempts INTEGER NOT NULL,"
	"  backoff_initial INTEGER NOT NULL,"
	"  backoff_multiplier REAL NOT NULL,"
	"  backoff_max INTEGER NOT NULL,"
	"  heartbeat_timeout INTEGER NOT NULL,"
	"  start_to_close INTEGER NOT NULL,"
	"  idempotency_key TEXT,"
	"  details BLOB,"
	"  result BLOB,"
	"  last_error TEXT,"
	"  cancel_requested INTEGER NOT NULL DEFAULT 0,"
	"  worker_id TEXT,"
	"  lease_token TEXT,"
	"  lease_deadline INTEGER,"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL,"
	"  finished_at INTEGER,"
	"  lease_timeout INTEGER NOT NULL DEFAULT 0,"
	"  attempt_deadline INTEGER,"
	"  lease_outcome INTEGER NOT NULL DEFAULT 0,"
	"  event_seq INTEGER NOT NULL DEFAULT 0"
	");"
	/* Lease order within a queue, over PENDING tasks only. */
	"CREATE INDEX tasks_lease ON tasks (queue, priority DESC, run_at, id)"
	"  WHERE state = 1;"
	/* When the next delayed task becomes due. */
	"CREATE INDEX tasks_pending_run_at ON tasks (run_at) WHERE state = 1;"
	/* Leases to expire. */
	"CREATE INDEX tasks_active_deadline ON tasks (lease_deadline)"
	"  WHERE state = 2;"
	/* Retention. */
	"CREATE INDEX tasks_finished ON tasks (finished_at) WHERE state >= 3;"
	/* One task per key and queue while it is retained. */
	"CREATE UNIQUE INDEX tasks_idempotency ON tasks (queue, "
	"  idempotency_key) WHERE idempotency_key IS NOT NULL;"
	/* List and stats. */
	"CREATE INDEX tasks_queue_state ON tasks (queue, state, id);"
	"CREATE TABLE events ("
	"  task_id INTEGER NOT NULL,"
	"  seq INTEGER NOT NULL,"
	"  at INTEGER NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  attempt INTEGER NOT NULL,"
	"  worker_id TEXT,"
	"  message TEXT,"
	"  PRIMARY KEY (task_id, seq)"
	") WITHOUT ROWID;",
	/* 1 -> 2: recent request ids, so that a resent request is
	 * answered as the first one was (store/sqlite/requests.c). */
	"CREATE TABLE requests ("
	"  key TEXT PRIMARY KEY,"
	"  at INTEGER NOT NULL,"
	"  result BLOB NOT NULL"
	") WITHOUT ROWID;"
	"CREATE INDEX requests_at ON requests (at);",
	/* 2 -> 3: durable workflows (store/sqlite/wf_sql.c). */
	sqw_schema,
	/* 3 -> 4: per-queue settings (store/sqlite/queues.c). */
	sqq_schema,
	/* 4 -> 5: cron schedules (store/sqlite/sched.c). */
	sqs_schema,
};

static int
sq_exec(struct store_sqlite *q, const char *sql, const char *what)
{
	int rc = sqlite3_exec(q->db, sql, NULL, NULL, NULL);

	return (rc == SQLITE_OK ? CAIRN_OK : sq_fail(q, rc, what));
}

static int
schema_version(struct store_sqlite *q, int *version)
{
	sqlite3_stmt *st;
	int rc
	    = sqlite3_prepare_v2(q->db, "PRAGMA user_version", -1, &st, NULL);

	if (rc != SQLITE_OK) {
		return (sq_fail(q, rc, "reading the schema version"));
	}
	rc = sqlite3_step(st);
	*version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return (rc == SQLITE_ROW
	        ? CAIRN_OK
	        : sq_fail(q, rc, "reading the schema version"));
}

/* migrate brings the schema to SQ_SCHEMA_VERSION, one step per
 * transaction, so that a crash leaves a consistent version behind. */
static int
migrate(struct store_sqlite *q)
{
	int version = 0, rv;
	char sql[64];

	if ((rv = schema_version(q, &version)) != CAIRN_OK) {
		return (rv);
	}
	if (version > SQ_SCHEMA_VERSION) {
		return (store_seterr(&q->base, CAIRN_FAILED_PRECONDITION,
		    "%s has schema version %d; this cairnd knows up to %d",
		    q->path, version, SQ_SCHEMA_VERSION));
	}
	for (; version < SQ_SCHEMA_VERSION; version++) {
		snprintf(
		    sql, sizeof(sql), "PRAGMA user_version = %d", version + 1);
		if ((rv = sq_exec(q, "BEGIN IMMEDIATE", "migrate")) != 0) {
			return (rv);
		}
		if ((rv = sq_exec(q, migrations[version], "migrate")) != 0
		    || (rv = sq_exec(q, sql, "migrate")) != 0
		    || (rv = sq_exec(q, "COMMIT", "migrate")) != 0) {
			sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
			return (rv);
		}
	}
	return (CAIRN_OK);
}

static int
configure(struct store_sqlite *q, const struct store_options *opts)
{
	const char *sync_sql = opts->sync == STORE_SYNC_FULL
	    ? "PRAGMA synchronous = FULL"
	    : "PRAGMA synchronous = NORMAL";
	char *mode = NULL;
	sqlite3_stmt *st;
	int rc, rv;

	sqlite3_busy_timeout(q->db, 5000);
	sqlite3_extended_result_codes(q->db, 1);
	if (opts->external_checkpoints) {
		/* Another process owns checkpoints (store/sqlite/wal.c):
		 * neither SQLite's automatic one nor the one of the last
		 * connection to close. */
		sqlite3_wal_autocheckpoint(q->db, 0);
		sqlite3_db_config(
		    q->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	} else {
		/* Checkpoints run from our hook, so that a failed fsync in
		 * one is seen (store/sqlite/wal.c). */
		sqlite3_wal_hook(q->db, sq_wal_hook, q);
	}
	rc = sqlite3_prepare_v2(
	    q->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
	if (rc != SQLITE_OK) {
		return (sq_fail(q, rc, "setting WAL mode"));
	}
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		mode = strdup((const char *) sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	if (mode == NULL || strcmp(mode, "wal") != 0) {
		free(mode);
		return (store_seterr(&q->base, CAIRN_FAILED_PRECONDITION,
		    "%s: cannot use WAL mode (a read-only or network file "
		    "system?)",
		    q->path));
	}
	free(mode);
	if ((rv = sq_exec(q, sync_sql, "setting synchronous")) != 0) {
		return (rv);
	}
	return (sq_exec(q, "PRAGMA foreign_keys = OFF", "configure"));
}

/* configure_read_only sets up a connection opened read-only
 * (store_options.read_only) and checks that the file holds a store of this
 * version: a copy is served as it is, never upgraded. Nothing here writes:
 * no journal mode, no checkpoint (not even at close). */
static int
configure_read_only(struct store_sqlite *q)
{
	int version = 0, rv;

	sqlite3_busy_timeout(q->db, 5000);
	sqlite3_extended_result_codes(q->db, 1);
	sqlite3_wal_autocheckpoint(q->db, 0);
	sqlite3_db_config(q->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	if ((rv = schema_version(q, &version)) != CAIRN_OK) {
		return (rv);
	}
	if (version != SQ_SCHEMA_VERSION) {
		return (store_seterr(&q->base, CAIRN_FAILED_PRECONDITION,
		    "%s has schema version %d, and a read-only cairnd serves "
		    "only version %d: it never upgrades a copy%s",
		    q->path, version, SQ_SCHEMA_VERSION,
		    version == 0 ? " (is it a Cairn store at all?)" : ""));
	}
	return (CAIRN_OK);
}

static int
prepare_all(struct store_sqlite *q)
{
	for (int i = 0; i < SQ_COUNT_; i++) {
		/* A read-only connection cannot take the write lock of BEGIN
		 * IMMEDIATE; its transactions only read. */
		const char *sql = i == SQ_BEGIN && q->read_only
		    ? "BEGIN DEFERRED"
		    : sq_sql[i];
		int rc = sqlite3_prepare_v3(q->db, sql, -1,
		    SQLITE_PREPARE_PERSISTENT, &q->stmt[i], NULL);
		if (rc != SQLITE_OK) {
			return (sq_fail(q, rc, "preparing statements"));
		}
	}
	return (CAIRN_OK);
}

static void
sq_close(struct store *s)
{
	struct store_sqlite *q = (struct store_sqlite *) s;

	if (q == NULL) {
		return;
	}
	for (int i = 0; i < SQ_COUNT_; i++) {
		sqlite3_finalize(q->stmt[i]);
	}
	sqw_finalize(q);
	sqq_finalize(q);
	sqlite3_close(q->db);
	free(q->path);
	free(q);
}

/* sq_global_config runs once, before SQLite's first use in the process.
 * Memory statistics take a global mutex on every allocation SQLite makes
 * (a dozen per statement); nothing here reads them. */
static void
sq_global_config(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static const struct store_ops sq_ops;

static int
sq_open(const char *uri, const struct store_options *opts, struct store **out,
    char *err, size_t errlen)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	static const struct store_options defaults = { 0 };

	const char *path = uri + strlen("sqlite:");
	struct store_sqlite *q;
	int rc, rv;

	if (path[0] == 0) {
		snprintf(err, errlen, "store URI '%s' names no file", uri);
		return (CAIRN_INVALID_ARGUMENT);
	}
	if ((q = calloc(1, sizeof(*q))) == NULL
	    || (q->path = strdup(path)) == NULL) {
		free(q);
		snprintf(err, errlen, "out of memory");
		return (CAIRN_RESOURCE_EXHAUSTED);
	}
	q->base.ops = &sq_ops;
	opts = opts != NULL ? opts : &defaults;
	q->read_only = opts->read_only;
	pthread_once(&once, sq_global_config);
	/* Read-only: the file must exist, and is never written. SQLite may
	 * still create the -wal and -shm files beside it, which readers of
	 * a WAL database share. */
	rc = sqlite3_open_v2(path, &q->db,
	    (q->read_only ? SQLITE_OPEN_READONLY
	                  : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
	        | SQLITE_OPEN_NOMUTEX,
	    NULL);
	if (rc != SQLITE_OK) {
		rv = sq_fail(q, rc, path);
		goto fail;
	}
	if (q->read_only) {
		rv = configure_read_only(q);
	} else if ((rv = configure(q, opts)) == CAIRN_OK) {
		rv = migrate(q);
	}
	if (rv != CAIRN_OK || (rv = prepare_all(q)) != CAIRN_OK
	    || (rv = sqw_prepare(q)) != CAIRN_OK
	    || (rv = sqq_prepare(q)) != CAIRN_OK) {
		goto fail;
	}
	*out = &q->base;
	return (CAIRN_OK);
fail:
	snprintf(err, errlen, "%s", q->base.errmsg);
	sq_close(&q->base);
	return (rv);
}

static int
sq_begin(struct store *s)
{
	return (sq_done((struct store_sqlite *) s, SQ_BEGIN, "begin"));
}

static int
sq_commit(struct store *s)
{
	struct store_sqlite *q = (struct store_sqlite *) s;
	int rv = sq_done(q, SQ_COMMIT, "commit");

	if (rv != CAIRN_OK && !sqlite3_get_autocommit(q->db)) {
		/* A failed COMMIT can leave the transaction open. */
		sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
	}
	return (rv);
}

static int
sq_rollback(struct store *s)
{
	struct store_sqlite *q = (struct store_sqlite *) s;

	if (sqlite3_get_autocommit(q->db)) {
		return (CAIRN_OK); /* SQLite already rolled back */
	}
	return (sq_done(q, SQ_ROLLBACK, "rollback"));
}

static const struct store_wf_ops sq_wf_ops = {
	.insert = sqw_insert,
	.find = sqw_find,
	.load = sqw_load,
	.get = sqw_load, /* one writer: no locks to avoid */
	.save = sqw_save,
	.pick_ready = sqw_pick_ready,
	.pick_expired = sqw_pick_expired,
	.entry_insert = sqw_entry_insert,
	.entry_load = sqw_entry_load,
	.entry_save = sqw_entry_save,
	.entries = sqw_entries,
	.pick_fired = sqw_pick_fired,
	.find_wait = sqw_find_wait,
	.inbox_put = sqw_inbox_put,
	.inbox_take = sqw_inbox_take,
	.list = sqw_list,
	.stats = sqw_stats,
	.prune = sqw_prune,
};

static const struct store_ops sq_ops = {
	.version = STORE_OPS_VERSION,
	.close = sq_close,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.insert = sq_insert,
	.load = sq_load,
	.save = sq_save,
	.add_event = sq_add_event,
	.pick_due = sq_pick_due,
	.pick_expired = sq_pick_expired,
	.next_wakeup = sq_next_wakeup,
	.get = sq_get,
	.list = sq_list,
	.stats = sq_stats,
	.history = sq_history,
	.find_key = sq_find_key,
	.prune = sq_prune,
	.request_get = sq_request_get,
	.request_put = sq_request_put,
	.request_prune = sq_request_prune,
	.wf = &sq_wf_ops,
	.queues = &sq_queue_ops,
	.sched = &sq_sched_ops,
};

static const char *const schemes[] = { "sqlite:", NULL };

/* The only symbol of this backend that the rest of the server sees. */
const struct store_backend store_sqlite_backend = {
	.version = STORE_OPS_VERSION,
	.name = "sqlite",
	.schemes = schemes,
	.ops = &sq_ops,
	.open = sq_open,
	.backup = sq_backup,
	/* No watch: only this process writes the file (SQLite's lock). */
};
