/*
 * store/store.h - the storage interface.
 *
 * A backend has two tables, as SQLite has sqlite3_vfs beside
 * sqlite3_io_methods: a struct store_backend for what is done with the
 * database that a URI names (open it, back it up, watch it for changes
 * made by other processes), chosen by the URI's scheme, and a struct
 * store_ops for what is done through one open handle. The handle embeds
 * struct store first, so that the engine holds one pointer whatever the
 * backend. Each backend's folder exports one symbol, its store_backend. The
 * interface is row-level on purpose: the lifecycle rules (fencing, retries,
 * expiry) are written once in lifecycle.c on top of it, so every backend
 * applies them identically.
 *
 * Threading: one thread (the engine's) owns a store handle and makes every
 * store_ops call; a handle is never shared between threads. Every call may
 * block on I/O. The store_backend's calls say which thread makes them. Calls
 * other than open/close/begin/commit/rollback are made inside a transaction
 * that the engine brackets with begin and commit, so that many requests share
 * one commit.
 *
 * Time: the current time is always passed in (now, in ms since the epoch);
 * a backend never reads the clock, so tests control it.
 *
 * Errors: calls return a cairn_status. CAIRN_OK on success; a missing row
 * is CAIRN_NOT_FOUND; an engine fault is CAIRN_UNAVAILABLE (connection),
 * CAIRN_RESOURCE_EXHAUSTED (disk full) or CAIRN_INTERNAL, with detail in
 * store_errmsg(). Output parameters are written only on success.
 */
#ifndef CAIRN_STORE_H
#define CAIRN_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store_queue.h"
#include "store/store_sched.h"
#include "store/store_wf.h"
#include "store/task.h"

#define STORE_ERRMSG_MAX 256

/* Durability of a commit. */
enum store_sync {
	STORE_SYNC_FULL = 0, /* synced before COMMIT returns (the default) */
	STORE_SYNC_NORMAL_UNSAFE, /* may lose the last commits on power loss */
};

struct store_options {
	enum store_sync sync;
	const char *schema; /* PostgreSQL schema name; NULL: "cairn" */
	/* SQLite: never checkpoint the WAL (not even when closing), so that
	 * another process (Litestream) owns checkpoints. */
	bool external_checkpoints;
	/* Serve a copy without ever writing to it (cairnd --read-only):
	 * no schema creation or upgrade (a schema of another version is
	 * refused), no checkpoint, and transactions that cannot write
	 * (SQLite: the file opened read-only; PostgreSQL: read-only
	 * transactions). */
	bool read_only;
};

/* A task row with the lease bookkeeping the lifecycle rules need. */
struct task_row {
	struct task t;
	int64_t lease_timeout_ms;    /* extension per heartbeat */
	int64_t attempt_deadline_ms; /* start-to-close; TASK_TIME_NEVER */
	enum lease_outcome outcome;  /* how the last lease ended */
	uint32_t event_seq;          /* events recorded so far */
	uint64_t wf_run;             /* an activity's run; 0: none */
	uint32_t wf_seq;             /* and its entry */
};

struct store;

/* What a transaction is about to read, at time now: the tasks it loads,
 * the workflow runs its ops name, the request records it looks up, and
 * for each queue the most tasks that its leases may pick, plus those of
 * queues it cannot name yet (store_ops.prefetch). */
struct store_pick_hint {
	const char *queue;
	uint32_t max;
};
struct store_prefetch {
	int64_t now;
	const uint64_t *ids;
	size_t nids;
	const uint64_t *runs;
	size_t nruns;
	const char *const *keys;
	size_t nkeys;
	const struct store_pick_hint *picks;
	size_t npicks;
	/* Tasks that picks of queues not known yet may take (a Complete
	 * that leases the next task of its task's queue). */
	uint32_t unknown_picks;
	/* Queues whose settings (store_queue_ops.get without lock) the
	 * transaction reads: those its enqueues put tasks in. The picks'
	 * queues are read with lock. */
	const char *const *settings;
	size_t nsettings;
};

/* The version of struct store_ops and struct store_backend that this
 * build speaks (nng's NNI_PROTOCOL_V3 idea). Both tables of a backend name
 * it; store_open refuses a backend whose tables say anything else, or that
 * lacks a required member, before it calls any of its functions. */
#define STORE_OPS_VERSION 2

/*
 * The calls on one open handle. Every member is required unless its
 * comment says "NULL:"; store_open checks that.
 */
struct store_ops {
	int version; /* STORE_OPS_VERSION */

	/* close releases everything; NULL is a no-op. */
	void (*close)(struct store *s);

	/* Transaction brackets. commit returns only when the transaction is
	 * as durable as the store's sync mode promises. */
	int (*begin)(struct store *s);
	int (*commit)(struct store *s);
	int (*rollback)(struct store *s);

	/* insert creates a PENDING task from spec (defaults already applied,
	 * run_at resolved). When the queue already holds a task with the
	 * spec's idempotency key, nothing changes: *id is that task's and
	 * *created false. The store's unique index decides, not a lookup. */
	int (*insert)(struct store *s, const struct task_spec *spec,
	    int64_t now, uint64_t *id, bool *created);
	/* load reads one row, locked for update where the engine has locks.
	 * Caller frees row->t's members with task_row_clear. */
	int (*load)(struct store *s, uint64_t id, struct task_row *row);
	/* save writes back every mutable field of row (not the payload,
	 * queue, spec fields or created time). */
	int (*save)(struct store *s, const struct task_row *row);
	/* add_event appends one history event to task id with number seq. */
	int (*add_event)(struct store *s, uint64_t id, uint32_t seq,
	    const struct task_event *ev);

	/* pick_due writes into ids up to max PENDING tasks of queue with
	 * run_at <= now, in lease order (priority desc, run_at, id), skipping
	 * rows that another server holds locked. Sets *n. */
	int (*pick_due)(struct store *s, const char *queue, int64_t now,
	    uint32_t max, uint64_t *ids, size_t *n);
	/* pick_expired writes into ids up to max ACTIVE tasks whose lease
	 * deadline is <= now. Sets *n. */
	int (*pick_expired)(struct store *s, int64_t now, uint32_t max,
	    uint64_t *ids, size_t *n);
	/* next_wakeup sets *at to the earliest future instant at which a
	 * PENDING task becomes due or a lease ends (TASK_TIME_NEVER: none). */
	int (*next_wakeup)(struct store *s, int64_t now, int64_t *at);

	/* commit_wakeup, when not NULL, is next_wakeup then commit in one
	 * go, for a backend that pays a round trip per call: *at is set
	 * when it returns CAIRN_OK. */
	int (*commit_wakeup)(struct store *s, int64_t now, int64_t *at);

	/* get returns a full task in *out (caller frees with task_free). */
	int (*get)(struct store *s, uint64_t id, struct task **out);
	/* list returns up to limit tasks of queue (state 0: any) with
	 * id > after_id in id order, as an array of *n (task_array_free). */
	int (*list)(struct store *s, const char *queue, cairn_state state,
	    uint32_t limit, uint64_t after_id, struct task ***out, size_t *n);
	/* stats returns counts per queue (queue NULL: all), sorted by name
	 * (queue_stats_free). */
	int (*stats)(struct store *s, const char *queue, int64_t now,
	    struct queue_stats **out, size_t *n);
	/* history returns the events of task id, oldest first
	 * (task_events_free); NOT_FOUND when the task does not exist. */
	int (*history)(
	    struct store *s, uint64_t id, struct task_event **out, size_t *n);
	/* find_key sets *id to the task of queue that holds the idempotency
	 * key, or answers NOT_FOUND: one seek in the unique index of
	 * (queue, key), the one insert relies on. */
	int (*find_key)(
	    struct store *s, const char *queue, const char *key, uint64_t *id);
	/* prune deletes up to limit terminal tasks finished before `before`,
	 * with their events, and sets *n to how many. */
	int (*prune)(
	    struct store *s, int64_t before, uint32_t limit, size_t *n);

	/* The log of recent request ids (lifecycle/replay.c): a resent
	 * Enqueue or Lease is answered from it as the first one was. NULL
	 * (all three or none): nothing is deduplicated. */
	/* request_get looks up key: *found says whether it was recorded;
	 * if so *result (free()) holds the *len bytes recorded with it. */
	int (*request_get)(struct store *s, const char *key, bool *found,
	    uint8_t **result, size_t *len);
	/* request_put records key with result at now, in the open
	 * transaction, so that it is durable with the changes it
	 * describes. A key that exists already is an error. */
	int (*request_put)(struct store *s, const char *key, int64_t now,
	    const uint8_t *result, size_t len);
	/* request_prune deletes up to limit keys recorded before `before`
	 * and sets *n to how many (0 from a backend that sends the delete
	 * without waiting for it). */
	int (*request_prune)(
	    struct store *s, int64_t before, uint32_t limit, size_t *n);

	/* prefetch is a hint, given right after begin (see struct
	 * store_prefetch). A backend that pays a round trip per call reads
	 * it all in one and answers the calls from what it read (rows
	 * locked as load and pick_due lock them) until this transaction
	 * changes it or ends. It may defer reading the answer to its next
	 * call that waits, so errors may surface there. NULL: a backend
	 * with no use for the hint; correctness never depends on it. */
	int (*prefetch)(struct store *s, const struct store_prefetch *pf);

	/* flush is called when the engine has applied a request: a backend
	 * that gathers writes to send many rows in one statement sends
	 * them now, while the engine goes on. A failure means the writes
	 * are lost and the transaction cannot commit. NULL: nothing is
	 * ever gathered. */
	int (*flush)(struct store *s);

	/* Runs, log entries and inboxes of durable workflows
	 * (store/store_wf.h). NULL: a backend without workflows (their
	 * rpcs answer UNIMPLEMENTED). next_wakeup (and commit_wakeup)
	 * include their instants: a run ready after its retry delay, a
	 * run's lease deadline, a timer or signal timeout. */
	const struct store_wf_ops *wf;

	/* Per-queue settings (store/store_queue.h). NULL: a backend
	 * without them (leases obey no limits; their rpcs answer
	 * UNIMPLEMENTED). */
	const struct store_queue_ops *queues;
	/* Cron schedules (store/store_sched.h). NULL: a backend without
	 * them (their rpcs answer UNIMPLEMENTED). */
	const struct store_sched_ops *sched;
};

/* A watch of the database for changes that other processes make
 * (store_backend.watch); the backend's own struct. */
struct store_watch;

/*
 * A backend as a whole. Every member is required unless its comment says
 * "NULL:"; store_open checks that.
 */
struct store_backend {
	int version;      /* STORE_OPS_VERSION */
	const char *name; /* "sqlite", "postgres": for logs and metrics */
	/* The URI prefixes it serves ("sqlite:"), ending with NULL. */
	const char *const *schemes;
	/* The table of every handle it opens. */
	const struct store_ops *ops;

	/* open connects to / opens the store named by uri (the part after
	 * the scheme is the backend's), creates or migrates the schema, and
	 * sets *out, whose ops are this backend's. On failure writes a
	 * message into err. Any thread. */
	int (*open)(const char *uri, const struct store_options *opts,
	    struct store **out, char *err, size_t errlen);

	/* backup writes a consistent copy of the database that uri names
	 * into a new file at path (never over an existing one) and checks it
	 * before it returns. It runs on a thread of its own while the engine
	 * goes on with its handle, so it opens what it needs and writes its
	 * message into err. Between steps it calls keep_going(arg) and stops
	 * with CAIRN_CANCELLED when that returns false. Sets *bytes to the
	 * size of the copy. NULL: no online backup in this backend (the rpc
	 * answers UNIMPLEMENTED). */
	int (*backup)(const char *uri, const char *path,
	    bool (*keep_going)(void *arg), void *arg, uint64_t *bytes,
	    char *err, size_t errlen);

	/* watch starts watching the database of the open handle s for tasks
	 * that other processes sharing it made due: a thread of the
	 * backend's calls due(arg, queue) for each such change, and not for
	 * s's own commits. s stays open until unwatch; the watch reads only
	 * what of s is safe from another thread. Returns NULL when it could
	 * not start (it logs why). NULL: nothing to watch (only this process
	 * writes the database). */
	struct store_watch *(*watch)(const struct store *s,
	    void (*due)(void *arg, const char *queue), void *arg);
	/* unwatch stops the watch's thread and frees w; NULL is a no-op.
	 * NULL only when watch is. */
	void (*unwatch)(struct store_watch *w);
};

/* The base that every backend handle embeds as its first member. */
struct store {
	const struct store_ops *ops;
	const struct store_backend *backend; /* set by store_open */
	/* Set by the engine for a transaction (store/store_wf.h). */
	const struct store_notes *notes;
	char errmsg[STORE_ERRMSG_MAX];
	/* Set by the backend when a call hit an I/O error (a failed write
	 * or fsync): the engine then stops committing on this handle. */
	bool io_failed;
};

/* store_open picks the backend by the scheme of uri ("sqlite:PATH",
 * "postgres://..." or "postgresql://...") and opens it (store_open_with).
 * On success *out is the caller's, to close with store_close. */
int store_open(const char *uri, const struct store_options *opts,
    struct store **out, char *err, size_t errlen);

/* store_open_with opens uri with backend b, once it has checked b's
 * tables (version and required members): a backend that fails the check
 * is refused with CAIRN_INTERNAL and never called. */
int store_open_with(const struct store_backend *b, const char *uri,
    const struct store_options *opts, struct store **out, char *err,
    size_t errlen);

/* store_backend_of returns the backend that serves uri's scheme, or NULL
 * when none of this build's does. */
const struct store_backend *store_backend_of(const char *uri);

/* store_name returns the name of s's backend ("sqlite"). */
static inline const char *
store_name(const struct store *s)
{
	return (s->backend->name);
}

/* store_can_backup says whether the backend of uri has an online
 * backup. */
bool store_can_backup(const char *uri);

/* store_backup copies the database that uri names into a new file at
 * path (store_backend.backup says how, and on which thread); it answers
 * CAIRN_UNIMPLEMENTED when the backend has no online backup. */
int store_backup(const char *uri, const char *path,
    bool (*keep_going)(void *arg), void *arg, uint64_t *bytes, char *err,
    size_t errlen);

/* store_watch starts the backend's watch of s's database (see
 * store_backend.watch): due(arg, queue) is called from another thread
 * whenever another process made tasks of queue due. Returns NULL when the
 * backend has nothing to watch or the watch could not start (logged). Stop
 * it with store_unwatch before closing s. */
struct store_watch *store_watch(const struct store *s,
    void (*due)(void *arg, const char *queue), void *arg);
void store_unwatch(const struct store *s, struct store_watch *w);

/* store_errmsg returns the detail of the last failed call on s. */
static inline const char *
store_errmsg(const struct store *s)
{
	return (s->errmsg);
}

/* store_seterr formats a message into s->errmsg and returns status. */
int store_seterr(struct store *s, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* store_stats_slot returns the entry of queue in a growing array of *n
 * (capacity *cap), appending a zeroed one when it is not there yet; NULL
 * when out of memory. Backends build their stats answers with it. */
struct queue_stats *store_stats_slot(
    struct queue_stats **arr, size_t *n, size_t *cap, const char *queue);

/* task_row_clear frees what row owns and zeroes it. */
void task_row_clear(struct task_row *row);

/* Wrappers, so that callers never write s->ops->x. */
static inline void
store_close(struct store *s)
{
	if (s != NULL) {
		s->ops->close(s);
	}
}
static inline int
store_begin(struct store *s)
{
	return (s->ops->begin(s));
}
static inline int
store_commit(struct store *s)
{
	return (s->ops->commit(s));
}
static inline int
store_rollback(struct store *s)
{
	return (s->ops->rollback(s));
}
static inline int
store_insert(struct store *s, const struct task_spec *spec, int64_t now,
    uint64_t *id, bool *created)
{
	return (s->ops->insert(s, spec, now, id, created));
}
static inline int
store_load(struct store *s, uint64_t id, struct task_row *row)
{
	return (s->ops->load(s, id, row));
}
static inline int
store_save(struct store *s, const struct task_row *row)
{
	return (s->ops->save(s, row));
}
static inline int
store_add_event(
    struct store *s, uint64_t id, uint32_t seq, const struct task_event *ev)
{
	return (s->ops->add_event(s, id, seq, ev));
}
static inline int
store_pick_due(struct store *s, const char *queue, int64_t now, uint32_t max,
    uint64_t *ids, size_t *n)
{
	return (s->ops->pick_due(s, queue, now, max, ids, n));
}
static inline int
store_pick_expired(
    struct store *s, int64_t now, uint32_t max, uint64_t *ids, size_t *n)
{
	return (s->ops->pick_expired(s, now, max, ids, n));
}
static inline int
store_next_wakeup(struct store *s, int64_t now, int64_t *at)
{
	return (s->ops->next_wakeup(s, now, at));
}
static inline int
store_get(struct store *s, uint64_t id, struct task **out)
{
	return (s->ops->get(s, id, out));
}
static inline int
store_list(struct store *s, const char *queue, cairn_state state,
    uint32_t limit, uint64_t after_id, struct task ***out, size_t *n)
{
	return (s->ops->list(s, queue, state, limit, after_id, out, n));
}
static inline int
store_stats(struct store *s, const char *queue, int64_t now,
    struct queue_stats **out, size_t *n)
{
	return (s->ops->stats(s, queue, now, out, n));
}
static inline int
store_history(struct store *s, uint64_t id, struct task_event **out, size_t *n)
{
	return (s->ops->history(s, id, out, n));
}
static inline int
store_find_key(
    struct store *s, const char *queue, const char *key, uint64_t *id)
{
	return (s->ops->find_key(s, queue, key, id));
}
static inline int
store_prune(struct store *s, int64_t before, uint32_t limit, size_t *n)
{
	return (s->ops->prune(s, before, limit, n));
}

static inline int
store_request_get(struct store *s, const char *key, bool *found,
    uint8_t **result, size_t *len)
{
	if (s->ops->request_get == NULL) {
		*found = false;
		return (CAIRN_OK);
	}
	return (s->ops->request_get(s, key, found, result, len));
}
static inline int
store_request_put(struct store *s, const char *key, int64_t now,
    const uint8_t *result, size_t len)
{
	return (s->ops->request_put == NULL
	        ? CAIRN_OK
	        : s->ops->request_put(s, key, now, result, len));
}
static inline int
store_request_prune(struct store *s, int64_t before, uint32_t limit, size_t *n)
{
	*n = 0;
	return (s->ops->request_prune == NULL
	        ? CAIRN_OK
	        : s->ops->request_prune(s, before, limit, n));
}
static inline bool
store_commits_with_wakeup(const struct store *s)
{
	return (s->ops->commit_wakeup != NULL);
}
/* store_commit_wakeup reads when the engine must next wake up (*at, set
 * on CAIRN_OK) and commits: in one go when the backend can, else
 * next_wakeup then commit. *committing becomes true once COMMIT is on its
 * way: a failure after that leaves the outcome unknown, a failure before
 * it leaves the transaction open for the caller to roll back. */
static inline int
store_commit_wakeup(
    struct store *s, int64_t now, int64_t *at, bool *committing)
{
	int rv;

	if (s->ops->commit_wakeup != NULL) {
		*committing = true;
		return (s->ops->commit_wakeup(s, now, at));
	}
	if ((rv = s->ops->next_wakeup(s, now, at)) != CAIRN_OK) {
		return (rv);
	}
	*committing = true;
	return (s->ops->commit(s));
}
static inline bool
store_wants_prefetch(const struct store *s)
{
	return (s->ops->prefetch != NULL);
}
static inline int
store_flush(struct store *s)
{
	return (s->ops->flush != NULL ? s->ops->flush(s) : CAIRN_OK);
}

static inline int
store_prefetch(struct store *s, const struct store_prefetch *pf)
{
	return (s->ops->prefetch == NULL
	            || (pf->nids == 0 && pf->nkeys == 0 && pf->npicks == 0
	                && pf->unknown_picks == 0 && pf->nsettings == 0)
	        ? CAIRN_OK
	        : s->ops->prefetch(s, pf));
}

/* Workflow wrappers (store/store_wf.h). */
static inline bool
store_has_workflows(const struct store *s)
{
	return (s->ops->wf != NULL);
}
static inline int
store_wf_insert(struct store *s, const struct wf_start *st, int64_t now,
    uint64_t *id, bool *created)
{
	return (s->ops->wf->insert(s, st, now, id, created));
}
static inline int
store_wf_find(struct store *s, const char *workflow_id, uint64_t *id)
{
	return (s->ops->wf->find(s, workflow_id, id));
}
static inline int
store_wf_load(struct store *s, uint64_t id, struct wf_run *run)
{
	return (s->ops->wf->load(s, id, run));
}
static inline int
store_wf_get(struct store *s, uint64_t id, struct wf_run *run)
{
	return (s->ops->wf->get(s, id, run));
}
static inline int
store_wf_save(struct store *s, const struct wf_run *run)
{
	return (s->ops->wf->save(s, run));
}
static inline int
store_wf_pick_ready(struct store *s, const char *queue, int64_t now,
    uint32_t max, uint64_t *ids, size_t *n)
{
	return (s->ops->wf->pick_ready(s, queue, now, max, ids, n));
}
static inline int
store_wf_pick_expired(
    struct store *s, int64_t now, uint32_t max, uint64_t *ids, size_t *n)
{
	return (s->ops->wf->pick_expired(s, now, max, ids, n));
}
static inline int
store_wf_entry_insert(
    struct store *s, uint64_t run_id, const struct wf_entry *e)
{
	return (s->ops->wf->entry_insert(s, run_id, e));
}
static inline int
store_wf_entry_load(
    struct store *s, uint64_t run_id, uint32_t seq, struct wf_entry *e)
{
	return (s->ops->wf->entry_load(s, run_id, seq, e));
}
static inline int
store_wf_entry_save(struct store *s, uint64_t run_id, const struct wf_entry *e)
{
	return (s->ops->wf->entry_save(s, run_id, e));
}
static inline int
store_wf_entries(
    struct store *s, const struct wf_read *q, struct wf_entry **out, size_t *n)
{
	return (s->ops->wf->entries(s, q, out, n));
}
static inline int
store_wf_pick_fired(
    struct store *s, int64_t now, uint32_t max, struct wf_ref *refs, size_t *n)
{
	return (s->ops->wf->pick_fired(s, now, max, refs, n));
}
static inline int
store_wf_find_wait(
    struct store *s, uint64_t run_id, const char *name, uint32_t *seq)
{
	return (s->ops->wf->find_wait(s, run_id, name, seq));
}
static inline int
store_wf_inbox_put(struct store *s, uint64_t run_id, const char *name,
    const uint8_t *payload, size_t len, int64_t now)
{
	return (s->ops->wf->inbox_put(s, run_id, name, payload, len, now));
}
static inline int
store_wf_inbox_take(struct store *s, uint64_t run_id, const char *name,
    uint8_t **payload, size_t *len)
{
	return (s->ops->wf->inbox_take(s, run_id, name, payload, len));
}
static inline int
store_wf_list(struct store *s, const struct wf_filter *f, uint32_t limit,
    uint64_t after_id, struct wf_run ***out, size_t *n)
{
	return (s->ops->wf->list(s, f, limit, after_id, out, n));
}
static inline int
store_wf_stats(struct store *s, struct wf_type_stats **out, size_t *n)
{
	return (s->ops->wf->stats(s, out, n));
}
static inline int
store_wf_prune(struct store *s, int64_t before, uint32_t limit, size_t *n)
{
	*n = 0;
	return (s->ops->wf == NULL ? CAIRN_OK
	                           : s->ops->wf->prune(s, before, limit, n));
}

/* Per-queue settings wrappers (store/store_queue.h). */
static inline bool
store_has_queues(const struct store *s)
{
	return (s->ops->queues != NULL);
}
static inline int
store_queue_get(
    struct store *s, const char *queue, bool lock, struct queue_settings *out)
{
	return (s->ops->queues == NULL
	        ? CAIRN_NOT_FOUND
	        : s->ops->queues->get(s, queue, lock, out));
}
static inline int
store_queue_put(struct store *s, const struct queue_settings *q)
{
	return (s->ops->queues->put(s, q));
}
static inline int
store_queue_list(struct store *s, struct queue_settings **out, size_t *n)
{
	return (s->ops->queues->list(s, out, n));
}
static inline int
store_queue_active(struct store *s, const char *queue, uint32_t *n)
{
	return (s->ops->queues->active(s, queue, n));
}
static inline int
store_queue_bucket(
    struct store *s, const char *queue, int64_t credit, int64_t at)
{
	return (s->ops->queues->bucket(s, queue, credit, at));
}

/* Schedules (store/store_sched.h); store_has_schedules says whether the
 * backend has them. */
static inline bool
store_has_schedules(const struct store *s)
{
	return (s->ops->sched != NULL);
}
static inline int
store_sched_insert(struct store *s, const struct schedule *sc)
{
	return (s->ops->sched->insert(s, sc));
}
static inline int
store_sched_load(struct store *s, const char *name, struct schedule *out)
{
	return (s->ops->sched->load(s, name, out));
}
static inline int
store_sched_save(struct store *s, const struct schedule *sc)
{
	return (s->ops->sched->save(s, sc));
}
static inline int
store_sched_remove(struct store *s, const char *name)
{
	return (s->ops->sched->remove(s, name));
}
static inline int
store_sched_list(struct store *s, struct schedule **out, size_t *n)
{
	return (s->ops->sched->list(s, out, n));
}
static inline int
store_sched_pick_due(
    struct store *s, int64_t now, uint32_t max, char ***names, size_t *n)
{
	return (s->ops->sched->pick_due(s, now, max, names, n));
}
static inline int
store_sched_next_fire(struct store *s, int64_t *at)
{
	return (s->ops->sched->next_fire(s, at));
}

/* Notes for the engine (struct store_notes); no-ops when none is set. */
static inline void
store_note_due(struct store *s, const char *queue)
{
	if (s->notes != NULL && s->notes->due != NULL) {
		s->notes->due(s->notes->arg, queue);
	}
}
static inline void
store_note_runnable(struct store *s, const char *queue)
{
	if (s->notes != NULL && s->notes->runnable != NULL) {
		s->notes->runnable(s->notes->arg, queue);
	}
}
static inline void
store_note_freed(struct store *s, const char *queue)
{
	if (s->notes != NULL && s->notes->freed != NULL) {
		s->notes->freed(s->notes->arg, queue);
	}
}
static inline void
store_note_held(struct store *s, const char *queue, int64_t until)
{
	if (s->notes != NULL && s->notes->held != NULL) {
		s->notes->held(s->notes->arg, queue, until);
	}
}
static inline void
store_note_finished(struct store *s)
{
	if (s->notes != NULL && s->notes->finished != NULL) {
		s->notes->finished(s->notes->arg);
	}
}

#endif /* CAIRN_STORE_H */
