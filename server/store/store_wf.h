/*
 * store/store_wf.h - the storage interface of durable workflows: runs,
 * their log entries and signal inboxes (store/workflow.h). A backend's
 * store_ops points at its struct store_wf_ops, a second table in the way
 * that sqlite3_io_methods grew versions: the task interface stays as it
 * was, and a backend without workflows leaves the pointer NULL.
 *
 * The rules of store.h hold: one thread, inside the engine's transaction,
 * time passed in, cairn_status returns with detail in store_errmsg(),
 * outputs written only on success. Rows that a call loads are locked for
 * update where the backend has locks (PostgreSQL), and picks skip rows
 * that another server holds. Every member is required.
 */
#ifndef CAIRN_STORE_WF_H
#define CAIRN_STORE_WF_H

#include "store/workflow.h"

struct store;

struct store_wf_ops {
	/* insert creates a RUNNING, runnable run (ready at now) from st.
	 * When a run holds st->workflow_id already, nothing changes: *id is
	 * that run's and *created false. The unique index decides. */
	int (*insert)(struct store *s, const struct wf_start *st, int64_t now,
	    uint64_t *id, bool *created);
	/* find sets *id to the run of workflow_id; NOT_FOUND if none. */
	int (*find)(struct store *s, const char *workflow_id, uint64_t *id);
	/* load reads run id (wf_run_clear frees it); save writes back every
	 * field that changes after insert. */
	int (*load)(struct store *s, uint64_t id, struct wf_run *run);
	int (*save)(struct store *s, const struct wf_run *run);
	/* get reads run id as load does, for answers that change nothing
	 * (Get, Await, History, whether a run exists): without a lock, so
	 * that reading a run that another server holds neither waits for
	 * it nor takes a lock out of the order of prefetch. */
	int (*get)(struct store *s, uint64_t id, struct wf_run *run);
	/* pick_ready writes into ids up to max runnable runs of queue whose
	 * ready_at <= now, oldest ready first (ready_at, id). */
	int (*pick_ready)(struct store *s, const char *queue, int64_t now,
	    uint32_t max, uint64_t *ids, size_t *n);
	/* pick_expired writes into ids up to max leased runs whose lease
	 * deadline <= now. */
	int (*pick_expired)(struct store *s, int64_t now, uint32_t max,
	    uint64_t *ids, size_t *n);

	/* entry_insert appends e (numbered) to run_id's log. */
	int (*entry_insert)(
	    struct store *s, uint64_t run_id, const struct wf_entry *e);
	/* entry_load reads entry seq of run_id, without its input. */
	int (*entry_load)(struct store *s, uint64_t run_id, uint32_t seq,
	    struct wf_entry *e);
	/* entry_save writes an entry's outcome and references (status,
	 * result, error, resolved_at, resolved_order, task_id, child_run,
	 * fire_at). */
	int (*entry_save)(
	    struct store *s, uint64_t run_id, const struct wf_entry *e);
	/* entries reads the entries q names, in seq order, as an array of
	 * *n (wf_entries_free). */
	int (*entries)(struct store *s, const struct wf_read *q,
	    struct wf_entry **out, size_t *n);
	/* pick_fired writes into refs up to max pending entries whose
	 * fire_at <= now (timers, signal timeouts), earliest first. */
	int (*pick_fired)(struct store *s, int64_t now, uint32_t max,
	    struct wf_ref *refs, size_t *n);
	/* find_wait sets *seq to the oldest pending SIGNAL entry of run_id
	 * named name; NOT_FOUND (without a message) if none. */
	int (*find_wait)(
	    struct store *s, uint64_t run_id, const char *name, uint32_t *seq);

	/* inbox_put keeps a signal for run_id's next wait of its name;
	 * inbox_take removes and returns the oldest one of name (*payload
	 * to free), NOT_FOUND (without a message) if none. */
	int (*inbox_put)(struct store *s, uint64_t run_id, const char *name,
	    const uint8_t *payload, size_t len, int64_t now);
	int (*inbox_take)(struct store *s, uint64_t run_id, const char *name,
	    uint8_t **payload, size_t *len);

	/* list returns up to limit runs that match f with id > after_id, in
	 * id order (wf_run_array_free). */
	int (*list)(struct store *s, const struct wf_filter *f, uint32_t limit,
	    uint64_t after_id, struct wf_run ***out, size_t *n);
	/* stats counts runs per type and state (wf_type_stats_free). */
	int (*stats)(struct store *s, struct wf_type_stats **out, size_t *n);
	/* prune deletes up to limit runs that finished before `before`,
	 * with their logs and inboxes, and sets *n. */
	int (*prune)(
	    struct store *s, int64_t before, uint32_t limit, size_t *n);
};

/*
 * What the rules above the store note for the engine while they apply a
 * request: tasks made due, runs made runnable or finished, so that parked
 * long-polls wake. The engine points struct store's notes at its own for
 * the length of a transaction; NULL: nothing is noted.
 */
struct store_notes {
	void (*due)(void *arg, const char *queue);      /* task queue */
	void (*runnable)(void *arg, const char *queue); /* workflow queue */
	void (*finished)(void *arg);                    /* some run ended */
	/* A lease of a task of queue ended (its slot under max_active is
	 * free again). */
	void (*freed)(void *arg, const char *queue);
	/* A lease of queue was held back by its limits: until the instant
	 * at which its rate limit has a token again, or TASK_TIME_NEVER
	 * when it waits for a lease of the queue to end (max_active). */
	void (*held)(void *arg, const char *queue, int64_t until);
	void *arg;
};

#endif /* CAIRN_STORE_WF_H */
