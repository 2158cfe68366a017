/*
 * store/sqlite/sqlite.h - internals of the SQLite backend, shared by its
 * files.
 */
#ifndef CAIRN_STORE_SQLITE_H
#define CAIRN_STORE_SQLITE_H

#include <sqlite3.h>

#include "store/store.h"

/* Prepared once at open and reused: the hot path never parses SQL. */
enum sq_stmt {
	SQ_BEGIN,
	SQ_COMMIT,
	SQ_ROLLBACK,
	SQ_INSERT,
	SQ_FIND_KEY,
	SQ_LOAD,
	SQ_SAVE,
	SQ_ADD_EVENT,
	SQ_PICK_DUE,
	SQ_PICK_EXPIRED,
	SQ_NEXT_DUE,
	SQ_NEXT_DEADLINE,
	SQ_LIST_ANY,
	SQ_LIST_STATE,
	SQ_STATS_COUNTS,
	SQ_STATS_DUE,
	SQ_HISTORY,
	SQ_PRUNE_PICK,
	SQ_PRUNE_EVENTS,
	SQ_PRUNE_TASK,
	SQ_REQUEST_GET, /* store/sqlite/requests.c */
	SQ_REQUEST_PUT,
	SQ_REQUEST_PRUNE,
	SQ_COUNT_
};

/* The statements of workflows (store/sqlite/wf_sql.c). */
enum sqw_stmt {
	SQW_INSERT,
	SQW_FIND,
	SQW_LOAD,
	SQW_SAVE,
	SQW_PICK_READY,
	SQW_PICK_EXPIRED,
	SQW_NEXT_WAKEUP,
	SQW_ENTRY_INSERT,
	SQW_ENTRY_LOAD,
	SQW_ENTRY_SAVE,
	SQW_ENTRIES,
	SQW_ENTRIES_DELTA,
	SQW_ENTRIES_PENDING,
	SQW_HISTORY,
	SQW_PICK_FIRED,
	SQW_FIND_WAIT,
	SQW_INBOX_PUT,
	SQW_INBOX_PEEK,
	SQW_INBOX_DELETE,
	SQW_LIST_ANY,
	SQW_LIST_TYPE,
	SQW_LIST_STATE,
	SQW_LIST_STUCK,
	SQW_STATS,
	SQW_PRUNE_PICK,
	SQW_PRUNE_ENTRIES,
	SQW_PRUNE_INBOX,
	SQW_PRUNE_RUN,
	SQW_ANY,
	SQW_COUNT_
};

/* The statements of per-queue settings (store/sqlite/queues.c). */
enum sqq_stmt {
	SQQ_GET,
	SQQ_PUT,
	SQQ_LIST,
	SQQ_ACTIVE,
	SQQ_BUCKET,
	SQQ_COUNT_
};

struct store_sqlite {
	struct store base; /* first: the engine sees a struct store */
	sqlite3 *db;
	char *path;
	sqlite3_stmt *stmt[SQ_COUNT_];
	sqlite3_stmt *wf[SQW_COUNT_];
	sqlite3_stmt *qs[SQQ_COUNT_];
	bool has_runs;  /* some run exists: next_wakeup reads runs too */
	bool read_only; /* store_options.read_only */
};

/* The columns of a run and of a log entry, in the order that
 * store/sqlite/workflow.c reads them. */
#define SQW_RUN_COLUMNS                                                       \
	"id, workflow_id, type, queue, input, state, phase, ready_at, "       \
	"result, error, cancel_requested, cancel_delivered, stuck, "          \
	"stuck_reason, next_seq, resolved_count, lease_resolved, "            \
	"task_attempt, failures, worker_id, lease_token, lease_deadline, "    \
	"lease_timeout, lease_outcome, parent_run, parent_seq, created_at, "  \
	"updated_at, finished_at"
#define SQW_ENTRY_COLUMNS                                                     \
	"seq, kind, name, input_hash, status, result, error, created_at, "    \
	"resolved_at, resolved_order, task_id, child_run, fire_at"

/* The columns of a full task row, in the order sq_read_row expects. */
#define SQ_TASK_COLUMNS                                                       \
	"id, queue, payload, priority, state, run_at, attempt, "              \
	"max_attempts, "                                                      \
	"backoff_initial, backoff_multiplier, backoff_max, "                  \
	"heartbeat_timeout, start_to_close, idempotency_key, details, "       \
	"result, last_error, cancel_requested, worker_id, lease_token, "      \
	"lease_deadline, created_at, updated_at, finished_at, "               \
	"lease_timeout, attempt_deadline, lease_outcome, event_seq, wf_run, " \
	"wf_seq"

/* The SQL of each statement (store/sqlite/sql.c). */
extern const char *const sq_sql[SQ_COUNT_];
/* ... and of workflows, with their schema (store/sqlite/wf_sql.c). */
extern const char *const sqw_sql[SQW_COUNT_];
extern const char sqw_schema[];
/* ... and of schedules (store/sqlite/sched.c). */
extern const char sqs_schema[];
extern const struct store_sched_ops sq_sched_ops;

/* sq_fail records the connection's error on the handle and returns the
 * cairn status that matches SQLite's code rc. */
int sq_fail(struct store_sqlite *q, int rc, const char *what);

/* sq_stmt returns a reset statement, ready to bind. */
sqlite3_stmt *sq_stmt(struct store_sqlite *q, enum sq_stmt which);

/* sq_col_text and sq_col_blob copy column i of st's current row (NULL
 * for SQL NULL); CAIRN_RESOURCE_EXHAUSTED when out of memory.
 * sq_col_i64_or reads an integer column, dflt when it is NULL. */
int sq_col_text(sqlite3_stmt *st, int i, char **out);
int sq_col_blob(sqlite3_stmt *st, int i, uint8_t **out, size_t *len);
int64_t sq_col_i64_or(sqlite3_stmt *st, int i, int64_t dflt);

/* Binding values: sq_bind_blob binds len bytes at p (an empty blob, not
 * NULL, when len is 0), sq_bind_text a string (NULL leaves the parameter
 * NULL), sq_bind_nonzero an integer (0 leaves it NULL). The values must
 * outlive the step (SQLITE_STATIC). */
void sq_bind_blob(sqlite3_stmt *st, int i, const void *p, size_t len);
void sq_bind_text(sqlite3_stmt *st, int i, const char *s);
void sq_bind_nonzero(sqlite3_stmt *st, int i, int64_t v);

/* sq_read_row fills row from the current result row of a statement that
 * selected SQ_TASK_COLUMNS. */
int sq_read_row(sqlite3_stmt *st, struct task_row *row);

/* sq_done steps a statement that returns no rows. */
int sq_done(struct store_sqlite *q, enum sq_stmt which, const char *what);

/* Row-level operations (store/sqlite/rows.c) and reads
 * (store/sqlite/read.c), installed in the backend's ops table. */
int sq_insert(struct store *s, const struct task_spec *spec, int64_t now,
    uint64_t *id, bool *created);
int sq_load(struct store *s, uint64_t id, struct task_row *row);
int sq_save(struct store *s, const struct task_row *row);
int sq_add_event(
    struct store *s, uint64_t id, uint32_t seq, const struct task_event *ev);
int sq_pick_due(struct store *s, const char *queue, int64_t now, uint32_t max,
    uint64_t *ids, size_t *n);
int sq_pick_expired(
    struct store *s, int64_t now, uint32_t max, uint64_t *ids, size_t *n);
int sq_next_wakeup(struct store *s, int64_t now, int64_t *at);
int sq_get(struct store *s, uint64_t id, struct task **out);
int sq_list(struct store *s, const char *queue, cairn_state state,
    uint32_t limit, uint64_t after_id, struct task ***out, size_t *n);
int sq_stats(struct store *s, const char *queue, int64_t now,
    struct queue_stats **out, size_t *n);
int sq_history(
    struct store *s, uint64_t id, struct task_event **out, size_t *n);
int sq_find_key(
    struct store *s, const char *queue, const char *key, uint64_t *id);
int sq_prune(struct store *s, int64_t before, uint32_t limit, size_t *n);
/* sq_wal_hook checkpoints like SQLite's own hook, but reports a failed
 * checkpoint (store/sqlite/wal.c); arg is the store_sqlite. */
int sq_wal_hook(void *arg, sqlite3 *db, const char *name, int frames);
int sq_request_get(struct store *s, const char *key, bool *found,
    uint8_t **result, size_t *len);
int sq_request_put(struct store *s, const char *key, int64_t now,
    const uint8_t *result, size_t len);
int sq_request_prune(
    struct store *s, int64_t before, uint32_t limit, size_t *n);
/* The online backup of the database that uri names
 * (store/sqlite/backup.c). */
int sq_backup(const char *uri, const char *path, bool (*keep_going)(void *arg),
    void *arg, uint64_t *bytes, char *err, size_t errlen);

/* Workflows (store/sqlite/workflow.c): the statements, prepared at open
 * and finalized at close, and the members of sq_wf_ops. */
int sqw_prepare(struct store_sqlite *q);
void sqw_finalize(struct store_sqlite *q);
int sqw_insert(struct store *s, const struct wf_start *st, int64_t now,
    uint64_t *id, bool *created);
int sqw_find(struct store *s, const char *workflow_id, uint64_t *id);
int sqw_load(struct store *s, uint64_t id, struct wf_run *run);
int sqw_save(struct store *s, const struct wf_run *run);
int sqw_pick_ready(struct store *s, const char *queue, int64_t now,
    uint32_t max, uint64_t *ids, size_t *n);
int sqw_pick_expired(
    struct store *s, int64_t now, uint32_t max, uint64_t *ids, size_t *n);
int sqw_next_wakeup(struct store *s, int64_t now, int64_t *at);
int sqw_entry_insert(
    struct store *s, uint64_t run_id, const struct wf_entry *e);
int sqw_entry_load(
    struct store *s, uint64_t run_id, uint32_t seq, struct wf_entry *e);
int sqw_entry_save(struct store *s, uint64_t run_id, const struct wf_entry *e);
int sqw_entries(struct store *s, const struct wf_read *q,
    struct wf_entry **out, size_t *n);
int sqw_pick_fired(struct store *s, int64_t now, uint32_t max,
    struct wf_ref *refs, size_t *n);
int sqw_find_wait(
    struct store *s, uint64_t run_id, const char *name, uint32_t *seq);
int sqw_inbox_put(struct store *s, uint64_t run_id, const char *name,
    const uint8_t *payload, size_t len, int64_t now);
int sqw_inbox_take(struct store *s, uint64_t run_id, const char *name,
    uint8_t **payload, size_t *len);
int sqw_list(struct store *s, const struct wf_filter *f, uint32_t limit,
    uint64_t after_id, struct wf_run ***out, size_t *n);
int sqw_stats(struct store *s, struct wf_type_stats **out, size_t *n);
int sqw_prune(struct store *s, int64_t before, uint32_t limit, size_t *n);

/* Per-queue settings (store/sqlite/queues.c): the table's schema, the
 * statements prepared at open and finalized at close, and the table of
 * calls. */
extern const char sqq_schema[];
extern const struct store_queue_ops sq_queue_ops;
int sqq_prepare(struct store_sqlite *q);
void sqq_finalize(struct store_sqlite *q);

#endif /* CAIRN_STORE_SQLITE_H */
