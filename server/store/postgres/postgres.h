/*
 * store/postgres/postgres.h - internals of the PostgreSQL backend, shared by
 * its files, and the one accessor the LISTEN thread needs.
 *
 * One handle holds one libpq connection, used by the engine thread only.
 * Every statement is prepared once per connection (PQprepare) and run with
 * PQexecPrepared: numbers and text go as text parameters, bytea as binary
 * parameters, and every result comes back in binary, so payloads are never
 * escaped and never parsed.
 */
#ifndef CAIRN_STORE_POSTGRES_H
#define CAIRN_STORE_POSTGRES_H

#include <libpq-fe.h>
#include <stdatomic.h>

#include "store/store.h"

/* The prepared statements; named "cairn_<n>" on the connection. */
enum pg_stmt {
	PG_INSERT,
	PG_INSERT_ID,
	PG_NEXT_IDS,
	PG_FIND_KEY,
	PG_LOAD,
	PG_GET,
	PG_SAVE,
	PG_ADD_EVENT,
	PG_PICK_DUE,
	PG_PICK_EXPIRED,
	PG_NEXT_WAKEUP,
	PG_LIST_ANY,
	PG_LIST_STATE,
	PG_STATS_COUNTS,
	PG_STATS_DUE,
	PG_HISTORY,
	PG_PRUNE,
	PG_REQUEST_GET,
	PG_REQUEST_PUT,
	PG_REQUEST_PRUNE,
	PG_LOAD_MANY,
	PG_REQUEST_GET_MANY,
	PG_INSERT_MANY,
	PG_SAVE_MANY,
	PG_ADD_EVENT_MANY,
	PG_COUNT_
};

/* The statements of workflows (store/postgres/wf_sql.c), prepared after
 * the task ones and numbered after them: "cairn_<n>" too. */
enum pgw_stmt {
	PGW_INSERT = PG_COUNT_,
	PGW_FIND,
	PGW_LOAD,
	PGW_SAVE,
	PGW_PICK_READY,
	PGW_PICK_EXPIRED,
	PGW_ENTRY_INSERT,
	PGW_ENTRY_LOAD,
	PGW_ENTRY_SAVE,
	PGW_ENTRIES,
	PGW_ENTRIES_DELTA,
	PGW_ENTRIES_PENDING,
	PGW_HISTORY,
	PGW_PICK_FIRED,
	PGW_FIND_WAIT,
	PGW_INBOX_PUT,
	PGW_INBOX_TAKE,
	PGW_LIST_ANY,
	PGW_LIST_TYPE,
	PGW_LIST_STATE,
	PGW_LIST_STUCK,
	PGW_LIST_QUEUE,
	PGW_STATS,
	PGW_PRUNE,
	PGW_GET,
	PGW_LOCK_RUNS,
	PGW_END_
};

/* The statements of per-queue settings (store/postgres/queues.c),
 * numbered after those of workflows. */
enum pgq_stmt {
	PGQ_GET = PGW_END_,
	PGQ_LIMITS,
	PGQ_PUT,
	PGQ_LIST,
	PGQ_ACTIVE,
	PGQ_BUCKET,
	PGQ_LIMITS_MANY,
	PGQ_GET_MANY,
	PGQ_END_
};

/* The statements of schedules (store/postgres/sched.c), numbered after
 * those of per-queue settings. */
enum pgs_stmt {
	PGS_INSERT = PGQ_END_,
	PGS_LOAD,
	PGS_SAVE,
	PGS_REMOVE,
	PGS_LIST,
	PGS_PICK_DUE,
	PGS_NEXT_FIRE,
	PGS_END_
};

#define PG_SCHEMA_VERSION  6   /* store/postgres/schema.c */
#define PG_MAX_PARAMS      22  /* PGW_SAVE */
#define PG_ID_BLOCK        64  /* task ids taken from the sequence at once */
#define PG_MAX_SENT        256 /* commands in the pipeline before a sync */
#define PG_GATHER_MAX_ROWS 256 /* rows of one kind sent as one statement */

/* Rows read whole by one statement, locked, with their ids (0 once this
 * transaction saved the row, which makes the copy stale). */
struct pg_kept {
	PGresult *r;
	uint64_t *ids;
	int n;
};

/* The due tasks of one queue picked ahead for the leases of a batch:
 * asked for `asked`, read (in kept) fewer only when no more were due. */
struct pg_pool {
	char *queue;
	uint32_t asked;
	struct pg_kept kept;
	/* The queue's limits, read (locked) with the pool when it was
	 * opened late; NULL: not read, or stale (see struct pg_qread). */
	PGresult *limits;
};

/* Per-queue settings read ahead for a transaction
 * (store/postgres/queues.c): the queues asked for, each NULL once this
 * transaction wrote its row (the answer is stale), and the answer. */
struct pg_qread {
	char **names;
	size_t n;
	PGresult *r;
};

/* Writes that need no answer, gathered per kind until they are sent as
 * one statement (store/postgres/gather.c). */
enum pg_gather_kind {
	PG_GATHER_INSERT, /* keyless inserts */
	PG_GATHER_SAVE,
	PG_GATHER_EVENT,
	PG_GATHER_COUNT_
};

/* One parameter's values: a binary array whose header is written when
 * it is sent, then per row a length (-1: NULL) and the bytes. */
struct pg_column {
	char *buf;
	size_t len, cap;
};

struct pg_gather {
	int rows;
	size_t bytes;
	struct pg_column cols[PG_MAX_PARAMS];
	uint64_t *ids; /* the task of each row */
	size_t idcap;
	char *scratch; /* a single row's text values, NUL-terminated */
	size_t scratch_cap;
};

struct store_pg {
	struct store base; /* first: the engine sees a struct store */
	PGconn *conn;      /* NULL while disconnected */
	char *uri;
	char *schema;   /* the schema's name */
	char *schema_q; /* the same, quoted as an identifier */
	enum store_sync sync;
	bool read_only; /* store_options.read_only */
	/* Reconnection (engine thread only): a monotonic clock, read only
	 * to space out the attempts, never as task time. */
	int64_t last_attempt_ms;
	int64_t backoff_ms;
	char lost[160]; /* why the connection went away */
	/* Commands sent since the last sync point, with their names for
	 * error messages (see store/postgres/exec.c). */
	int sent;
	const char *what[PG_MAX_SENT];
	/* Ids taken from the tasks' sequence, not used yet (an insert
	 * without an idempotency key cannot conflict, so it needs no answer
	 * and is pipelined: see pg_insert). */
	int64_t ids[PG_ID_BLOCK];
	int nids, next_id;
	/* The rows that the last pick (due or expired) locked, read whole
	 * with their ids: nobody else can change them before this
	 * transaction ends, so load() of one of them needs no round trip.
	 * picked_ids[i] is 0 once row i was saved (and so is stale). */
	PGresult *picked;
	uint64_t *picked_ids;
	int npicked;
	/* Whether this server has seen workflow runs in the database: then
	 * prefetch locks the runs of a transaction in id order
	 * (store/postgres/wf_locks.c); until then it saves the statement. */
	bool runs_seen;
	/* What prefetch read ahead for this transaction
	 * (store/postgres/prefetch.c): whole rows, locked, with their ids
	 * (0 once saved); the request records found among the keys asked
	 * for (a key is NULL once recorded in this transaction); and per
	 * queue, the due tasks picked for its leases. */
	struct {
		struct pg_kept rows;
		PGresult *records;
		char **keys;
		size_t nkeys;
		int64_t now;
		struct pg_pool *pools;
		size_t npools;
		uint32_t spare; /* more to pick for queues named late */
		/* Settings: of the picks' queues with lock (rows that limit
		 * leases only), and of the enqueues' queues without. */
		struct pg_qread limits, settings;
	} ahead;
	/* Writes gathered, not sent yet; flushing while they are sent. */
	struct pg_gather gather[PG_GATHER_COUNT_];
	bool flushing;
	uint64_t many_sent; /* statements of many rows (tests count them) */
	/* Sync points so far: each is one round trip (tests count them). */
	uint64_t round_trips;
	/* Where pg_sync leaves the result of a command sent with
	 * pg_send_kept, by its position since the last sync. */
	PGresult **keep[PG_MAX_SENT];
	/* The runs that workflow picks locked, read whole
	 * (store/postgres/workflow.c): as picked tasks, a load of one is
	 * answered from them until this transaction saves it (id 0). */
	struct pg_kept *wf_picked;
	size_t nwf_picked;
	/* The server process of conn; read by the LISTEN thread to ignore
	 * notifications that this server's own commits sent. */
	atomic_int backend_pid;
};

/* Parameters of one statement. Values are borrowed: they must outlive the
 * call that sends them (numbers are formatted into num). */
struct pg_params {
	int n;
	const char *v[PG_MAX_PARAMS];
	int len[PG_MAX_PARAMS];
	int fmt[PG_MAX_PARAMS];
	char num[PG_MAX_PARAMS][32];
};

/* The columns of a full task row, in the order pg_read_row expects. */
#define PG_TASK_COLUMNS                                                       \
	"id, queue, payload, priority, state, run_at, attempt, "              \
	"max_attempts, "                                                      \
	"backoff_initial, backoff_multiplier, backoff_max, "                  \
	"heartbeat_timeout, start_to_close, idempotency_key, details, "       \
	"result, last_error, cancel_requested, worker_id, lease_token, "      \
	"lease_deadline, created_at, updated_at, finished_at, "               \
	"lease_timeout, attempt_deadline, lease_outcome, event_seq, wf_run, " \
	"wf_seq"

/* The columns of a run and of a log entry, in the order that
 * store/postgres/workflow.c reads them. */
#define PGW_RUN_COLUMNS                                                       \
	"id, workflow_id, type, queue, input, state, phase, ready_at, "       \
	"result, error, cancel_requested, cancel_delivered, stuck, "          \
	"stuck_reason, next_seq, resolved_count, lease_resolved, "            \
	"task_attempt, failures, worker_id, lease_token, lease_deadline, "    \
	"lease_timeout, lease_outcome, parent_run, parent_seq, created_at, "  \
	"updated_at, finished_at"
#define PGW_ENTRY_COLUMNS                                                     \
	"seq, kind, name, input_hash, status, result, error, created_at, "    \
	"resolved_at, resolved_order, task_id, child_run, fire_at"

extern const char *const pg_sql[PG_COUNT_];
extern const char *const pgw_sql[PGW_END_ - PG_COUNT_];
extern const char pgw_schema[];
extern const struct store_wf_ops pg_wf_ops;
extern const char *const pgq_sql[PGQ_END_ - PGW_END_];
extern const char pgq_schema[];
extern const char pgq_enqueue[];
extern const struct store_queue_ops pg_queue_ops;
extern const char *const pgs_sql[PGS_END_ - PGQ_END_];
extern const char pgs_schema[];
extern const struct store_sched_ops pg_sched_ops;

/* pg_stmt_sql returns the SQL of statement i (a pg_stmt, pgw_stmt,
 * pgq_stmt or pgs_stmt). */
static inline const char *
pg_stmt_sql(int i)
{
	return (i < PG_COUNT_  ? pg_sql[i]
	        : i < PGW_END_ ? pgw_sql[i - PG_COUNT_]
	        : i < PGQ_END_ ? pgq_sql[i - PGW_END_]
	                       : pgs_sql[i - PGQ_END_]);
}

/* pg_migrate creates or migrates the schema on q's connection, under an
 * advisory lock (store/postgres/schema.c). */
int pg_migrate(struct store_pg *q);
/* The advisory lock that says a schema is in use: every cairnd that may
 * write holds it shared for as long as its connection lasts
 * (pg_take_serve_lock), and `cairnd migrate` takes it exclusive, so that
 * it never copies a schema that a server writes, and never writes one
 * that a server uses. $1 is the schema's name. */
#define PG_SERVE_LOCK_KEY "hashtextextended('cairn.serve.' || $1, 0)"

/* pg_take_serve_lock takes the serve lock of q's schema, shared, for the
 * connection's life: FAILED_PRECONDITION while a migration holds it. */
int pg_take_serve_lock(struct store_pg *q);

/* pg_check_version answers FAILED_PRECONDITION unless q's schema exists at
 * PG_SCHEMA_VERSION: a read-only server (store_options.read_only) never
 * creates or upgrades one. */
int pg_check_version(struct store_pg *q);

/* Execution (store/postgres/exec.c). The connection is in pipeline mode
 * once set up; before that (configuration, migration) pg_exec is used. */

/* pg_run sends a prepared statement after whatever pg_defer sent, syncs,
 * and returns its result (binary; the caller PQclear()s it), or NULL with
 * the store's error set and *status the cairn status, which may be that of
 * a deferred write that failed. */
PGresult *pg_run(struct store_pg *q, enum pg_stmt which,
    const struct pg_params *p, const char *what, int *status);

/* pg_defer sends a prepared statement that returns no rows without
 * waiting; its outcome is checked at the next pg_sync. */
int pg_defer(struct store_pg *q, enum pg_stmt which, const struct pg_params *p,
    const char *what);

/* pg_send queues a prepared statement (sql NULL) or a parameterless SQL
 * text (transaction control); pg_sync marks a sync point and reads every
 * result sent since the last one, giving the last command's result in
 * *last (may be NULL) when all succeeded, and returns the status of the
 * first that failed. */
int pg_send(struct store_pg *q, int which, const char *sql,
    const struct pg_params *p, const char *what);
int pg_sync(struct store_pg *q, PGresult **last);

/* pg_exec runs one command outside pipeline mode (set-up only). */
int pg_exec(struct store_pg *q, const char *sql, const char *what);

/* pg_fail records the error of res (which may be NULL) or of the
 * connection on the handle and returns the matching cairn status; a lost
 * connection is CAIRN_UNAVAILABLE and closes the handle's connection, so
 * the next begin reconnects. */
int pg_fail(struct store_pg *q, const PGresult *res, const char *what);

/* pg_lost closes q's connection, remembering why (first line of why). */
void pg_lost(struct store_pg *q, const char *why);

/* pg_send_kept sends a prepared statement without waiting, like
 * pg_defer, and has the next pg_sync leave its result (the caller's to
 * PQclear) in *slot; *slot stays NULL when it failed. */
int pg_send_kept(struct store_pg *q, enum pg_stmt which,
    const struct pg_params *p, const char *what, PGresult **slot);
/* pg_unkeep drops the next sync's pointer to slot: whoever owned it wants
 * that answer no more (the answer is then read and dropped). */
void pg_unkeep(struct store_pg *q, PGresult **slot);

/* Gathered writes (store/postgres/gather.c). pg_gather adds the
 * parameters of a keyless insert, a save or an event (of task id) to
 * those of its kind; pg_flush sends all that is gathered (pg_send calls
 * it first, so no statement is sent ahead of them);
 * pg_gather_drop forgets them (rollback, lost connection); pg_gathered
 * says whether any wait; pg_gather_free releases the buffers. */
int pg_gather(struct store_pg *q, enum pg_gather_kind kind, uint64_t id,
    const struct pg_params *p);
int pg_flush(struct store_pg *q);
void pg_gather_drop(struct store_pg *q);
bool pg_gathered(const struct store_pg *q);
void pg_gather_free(struct store_pg *q);

/* pg_forget_picked drops the rows kept by the last pick; pg_forget_kept
 * drops those and whatever prefetch read (at the end of every
 * transaction). */
void pg_forget_picked(struct store_pg *q);
void pg_forget_kept(struct store_pg *q);
/* pg_kept_clear frees the rows of k and zeroes it. */
void pg_kept_clear(struct pg_kept *k);

/* Prefetch (store/postgres/prefetch.c). pg_ahead_row returns the index of
 * id among the prefetched rows (-1: not there, or saved since), reading
 * the prefetch's answer first if it is still on its way (then *status may
 * be an error). pg_ahead_saved marks id's row stale. pg_ahead_record
 * answers request_get from the prefetch: *known false when key was not
 * asked for (or was recorded since). pg_ahead_recorded marks key as
 * changed by this transaction. */
int pg_prefetch(struct store *s, const struct store_prefetch *pf);
int pg_ahead_row(
    struct store_pg *q, uint64_t id, const PGresult **r, int *status);
void pg_ahead_saved(struct store_pg *q, uint64_t id);
int pg_ahead_record(struct store_pg *q, const char *key, bool *known,
    bool *found, uint8_t **result, size_t *len);
void pg_ahead_recorded(struct store_pg *q, const char *key);
/* pg_ahead_pick answers pick_due from the queue's pool when it can (then
 * *answered is true). */
int pg_ahead_pick(struct store_pg *q, const char *queue, int64_t now,
    uint32_t max, uint64_t *ids, size_t *n, bool *answered);
/* pg_ahead_open_pool, for a queue without a pool while the prefetch said
 * that picks of unnamed queues will come, picks max and that many more
 * now, as the queue's pool (*opened true). */
int pg_ahead_open_pool(struct store_pg *q, const char *queue, int64_t now,
    uint32_t max, bool *opened);

/* pg_ahead_ready reads the prefetch's answers if they are still on their
 * way (store/postgres/prefetch.c). */
int pg_ahead_ready(struct store_pg *q);
/* pg_ahead_pool_limits sets *r to the limits read with queue's pool
 * (NULL: none). When picks of queues not named are expected and queue has
 * no pool yet, it opens one first (at the prefetch's time, for one task
 * and the spare), reading the limits in the same round trip. */
int pg_ahead_pool_limits(
    struct store_pg *q, const char *queue, const PGresult **r);
/* pg_ahead_pool_stale drops the limits read with queue's pool (NULL: every
 * pool's): this transaction wrote them. */
void pg_ahead_pool_stale(struct store_pg *q, const char *queue);
/* pg_text_array writes n strings as an array literal, with '"' and '\'
 * escaped; NULL when out of memory. */
char *pg_text_array(const char *const *s, size_t n);

/* Per-queue settings ahead (store/postgres/queues.c): pgq_prefetch sends
 * the reads of pf's picks' and enqueues' queues; pgq_forget drops them. */
int pgq_prefetch(struct store_pg *q, const struct store_prefetch *pf);
void pgq_forget(struct store_pg *q);

/* Parameter builders (store/postgres/codec.c). */
void pg_p_i64(struct pg_params *p, int64_t v);
void pg_p_f64(struct pg_params *p, double v);
void pg_p_text(struct pg_params *p, const char *s); /* NULL: SQL NULL */
void pg_p_bytes(struct pg_params *p, const void *b, size_t len);
void pg_p_null(struct pg_params *p);

/* Readers of binary result values. */
int64_t pg_i64(const PGresult *r, int row, int col, int64_t if_null);
double pg_f64(const PGresult *r, int row, int col);
/* pg_text and pg_bytes copy a value (NULL for SQL NULL; pg_bytes also for
 * an empty value); they return CAIRN_RESOURCE_EXHAUSTED when out of
 * memory. */
int pg_text(const PGresult *r, int row, int col, char **out);
int pg_bytes(const PGresult *r, int row, int col, uint8_t **out, size_t *len);

/* pg_read_row fills row from a result row that selected PG_TASK_COLUMNS. */
int pg_read_row(const PGresult *r, int i, struct task_row *row);

/* Row-level operations (store/postgres/rows.c) and reads
 * (store/postgres/read.c), installed in the backend's ops table. */
int pg_insert(struct store *s, const struct task_spec *spec, int64_t now,
    uint64_t *id, bool *created);
int pg_load(struct store *s, uint64_t id, struct task_row *row);
int pg_save(struct store *s, const struct task_row *row);
int pg_add_event(
    struct store *s, uint64_t id, uint32_t seq, const struct task_event *ev);
int pg_pick_due(struct store *s, const char *queue, int64_t now, uint32_t max,
    uint64_t *ids, size_t *n);
int pg_pick_expired(
    struct store *s, int64_t now, uint32_t max, uint64_t *ids, size_t *n);
int pg_next_wakeup(struct store *s, int64_t now, int64_t *at);
/* pg_wakeup_of reads the answer of PG_NEXT_WAKEUP. */
int64_t pg_wakeup_of(const PGresult *r);
int pg_get(struct store *s, uint64_t id, struct task **out);
int pg_list(struct store *s, const char *queue, cairn_state state,
    uint32_t limit, uint64_t after_id, struct task ***out, size_t *n);
int pg_stats(struct store *s, const char *queue, int64_t now,
    struct queue_stats **out, size_t *n);
int pg_history(
    struct store *s, uint64_t id, struct task_event **out, size_t *n);
int pg_find_key(
    struct store *s, const char *queue, const char *key, uint64_t *id);
int pg_prune(struct store *s, int64_t before, uint32_t limit, size_t *n);
int pg_request_get(struct store *s, const char *key, bool *found,
    uint8_t **result, size_t *len);
int pg_request_put(struct store *s, const char *key, int64_t now,
    const uint8_t *result, size_t len);
int pg_request_prune(
    struct store *s, int64_t before, uint32_t limit, size_t *n);

/* pg_watch and pg_unwatch are the backend's watch (store_backend.watch):
 * a LISTEN connection on a thread of its own (store/postgres/listen.c). */
struct store_watch *pg_watch(const struct store *s,
    void (*due)(void *arg, const char *queue), void *arg);
void pg_unwatch(struct store_watch *w);

/* pg_backend_pid returns the PostgreSQL process id of q's current
 * connection (0: none). Thread-safe. */
static inline int
pg_backend_pid(const struct store_pg *q)
{
	return (atomic_load(&q->backend_pid));
}

/* Workflows (store/postgres/workflow.c, wf_entries.c). pgw_run and
 * pgw_defer are pg_run and pg_defer for the workflow statements;
 * pgw_forget drops the picked runs (with pg_forget_kept). */
PGresult *pgw_run(struct store_pg *q, enum pgw_stmt which,
    const struct pg_params *p, const char *what, int *status);
int pgw_defer(struct store_pg *q, enum pgw_stmt which,
    const struct pg_params *p, const char *what);
void pgw_forget(struct store_pg *q);
/* pgw_lock_runs sends, within prefetch, the lock of the runs that the
 * transaction will change, in id order; pgw_check_runs sets runs_seen
 * when the database holds a run (before pipeline mode). */
/* pg_ids_literal writes ids as a PostgreSQL array literal ("{1,2}"),
 * skipping those that cannot be a row's; NULL when out of memory. */
char *pg_ids_literal(const uint64_t *ids, size_t n);
int pgw_lock_runs(struct store_pg *q, const struct store_prefetch *pf);
int pgw_check_runs(struct store_pg *q);
/* pgw_p_opt adds an id, an instant or a limit, NULL when 0 (none). */
void pgw_p_opt(struct pg_params *p, int64_t v);
int pgw_entry_insert(
    struct store *s, uint64_t run_id, const struct wf_entry *e);
int pgw_entry_load(
    struct store *s, uint64_t run_id, uint32_t seq, struct wf_entry *e);
int pgw_entry_save(struct store *s, uint64_t run_id, const struct wf_entry *e);
int pgw_entries(struct store *s, const struct wf_read *q,
    struct wf_entry **out, size_t *n);
int pgw_pick_fired(struct store *s, int64_t now, uint32_t max,
    struct wf_ref *refs, size_t *n);
int pgw_find_wait(
    struct store *s, uint64_t run_id, const char *name, uint32_t *seq);
int pgw_inbox_put(struct store *s, uint64_t run_id, const char *name,
    const uint8_t *payload, size_t len, int64_t now);
int pgw_inbox_take(struct store *s, uint64_t run_id, const char *name,
    uint8_t **payload, size_t *len);

/* store_postgres_backend_pid returns the PostgreSQL process id of s's
 * current connection, 0 when s is not connected or not a PostgreSQL
 * store. Thread-safe: the LISTEN thread calls it. */
int store_postgres_backend_pid(const struct store *s);

/* pg_connect opens a connection to uri with Cairn's defaults (connect
 * timeout, TCP keepalives) unless the URI sets its own. Blocks; never
 * NULL except out of memory; the caller checks PQstatus and PQfinish()es
 * it. */
PGconn *pg_connect(const char *uri, const char *application_name);

/* pg_quote_ident returns name as a quoted SQL identifier (malloc'd; the
 * caller frees it), or NULL when out of memory. */
char *pg_quote_ident(const char *name);

#endif /* CAIRN_STORE_POSTGRES_H */
