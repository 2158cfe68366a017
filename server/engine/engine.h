/*
 * engine/engine.h - the engine: one thread that owns the store's write
 * connection and applies requests with group commit.
 *
 * Requests arrive from any thread as engine_op structs (engine_submit).
 * The engine thread takes every op waiting in its queue, applies them all
 * in one transaction, commits, and only then calls each op's done callback
 * (on the engine thread). Leases and awaits with a wait that find nothing
 * are parked and retried when a commit makes tasks due in their queue, when
 * a delayed task or an expired lease comes due, or answered when their wait
 * ends. A timer also expires leases and prunes old terminal tasks.
 */
#ifndef CAIRN_ENGINE_H
#define CAIRN_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "lifecycle/lifecycle.h"
#include "lifecycle/workflow.h"

enum engine_op_kind {
	OP_ENQUEUE,
	OP_LEASE,
	OP_HEARTBEAT,
	OP_COMPLETE,
	OP_FAIL,
	OP_CANCEL,
	OP_RETRY,
	OP_GET,
	OP_LIST,
	OP_STATS,
	OP_AWAIT,
	OP_HISTORY,
	OP_COMPLETE_BATCH,  /* engine/batch.c */
	OP_HEARTBEAT_BATCH, /* engine/batch.c */
	OP_WF_START,        /* workflows: engine/wf_apply.c */
	OP_WF_LEASE,
	OP_WF_HEARTBEAT,
	OP_WF_ADVANCE,
	OP_WF_FAIL_TASK,
	OP_WF_SIGNAL,
	OP_WF_CANCEL,
	OP_WF_TERMINATE,
	OP_WF_GET,
	OP_WF_LIST,
	OP_WF_HISTORY,
	OP_WF_AWAIT,
	OP_WF_STATS,
	OP_FIND_KEY,   /* the dashboard's search (ops/api.c) */
	OP_RELEASE,    /* a lease given back (engine/bind.c too) */
	OP_WF_RELEASE, /* a run's lease of a closed connection (bind.c) */
	OP_QUEUE_SET,  /* per-queue settings: engine/queue_apply.c */
	OP_QUEUE_GET,
	OP_QUEUE_LIST,
	OP_SCHED_ADD, /* schedules: engine/sched_apply.c */
	OP_SCHED_PAUSE,
	OP_SCHED_DELETE,
	OP_SCHED_LIST,
	OP_KIND_COUNT_ /* a new kind: its class in engine/op.c */
};

/* One item of a batch of completions or heartbeats: the inputs, which the
 * submitter owns, then what the engine wrote for it. */
struct touch_item {
	uint64_t id;
	const char *token;
	const uint8_t *data; /* result or details */
	size_t len;
	int status;            /* cairn_status of this item */
	bool cancel_requested; /* heartbeat */
	int64_t deadline;      /* heartbeat */
	char msg[LC_MSG_MAX];  /* when status != OK */
};

/*
 * One request. The submitter owns the op and everything its inputs point
 * to until done is called; outputs are set by the engine and owned by the
 * op from then on (engine_op_clear frees them).
 */
struct engine_op {
	enum engine_op_kind kind;
	/* The client's id of this request (NULL: none). A resent Enqueue
	 * or Lease with the same id is answered as the first one was. */
	const char *request_id;
	/* The connection the request came on (the rpc layer's id for it;
	 * 0: none), and whether the leases it takes are bound to it: they
	 * end soon after it closes (engine_conn_closed). A lease from a
	 * connection that has closed takes nothing. */
	uint32_t conn;
	bool bind_conn;
	union {
		struct {
			struct task_spec *specs;
			size_t n;
		} enqueue;
		struct {
			struct lease_request req;
			int64_t wait_ms;
		} lease;
		struct {
			uint64_t id;
			const char *token;
			const uint8_t *data; /* details or result */
			size_t len;
			/* Complete only: also lease the next due task of the
			 * task's queue (into out.tasks), with these. */
			bool lease_next;
			const char *worker_id;
			int64_t lease_timeout_ms;
		} touch; /* heartbeat and complete */
		struct {
			struct touch_item *items; /* n, results in place */
			size_t n;
		} batch; /* complete and heartbeat batches */
		struct fail_request fail;
		struct release_request release;
		/* Schedules: add (sc; flag: replace), pause (name; flag:
		 * paused, else resume), delete (name), list. */
		struct {
			const struct schedule *sc;
			const char *name;
			bool flag;
			bool create_queue; /* add: any queue name */
		} sched;
		uint64_t id; /* cancel, retry, get, history */
		struct {
			const char *queue;
			cairn_state state;
			uint32_t limit;
			uint64_t after_id;
		} list;
		const char *stats_queue; /* NULL: all */
		struct {
			uint64_t id;
			int64_t wait_ms;
		} await;
		struct wf_start wf_start;
		struct {
			struct wf_lease_request req;
			int64_t wait_ms;
		} wf_lease;
		struct wf_advance wf_advance;
		/* The ops on one run, named by run_id or else workflow_id:
		 * heartbeat, fail_task (text, flag: non-determinism),
		 * signal (name, data), cancel and terminate (text: the
		 * reason), get, history (after_seq, limit), await
		 * (wait_ms). */
		struct {
			const char *workflow_id;
			uint64_t run_id;
			const char *token;
			const char *name;
			const uint8_t *data;
			size_t len;
			const char *text;
			bool flag;
			int64_t wait_ms;
			uint32_t after_seq;
			uint32_t limit;
		} wf;
		struct {
			struct wf_filter filter;
			uint32_t limit;
			uint64_t after_id;
		} wf_list;
		/* The tasks that hold an idempotency key, one seek per queue
		 * named (out.tasks, in the order of the queues). */
		struct {
			const char *const *queues;
			size_t n;
			const char *key;
		} find_key;
		/* Set: the fields of settings that QUEUE_F_ bits name, in
		 * settings->queue (create: also a queue never seen); get:
		 * settings->queue only. */
		struct {
			const struct queue_settings *settings;
			unsigned fields;
			bool create;
		} queue;
	} in;

	int status;           /* cairn_status, set before done */
	char msg[LC_MSG_MAX]; /* when status != OK */
	union {
		struct {
			uint64_t *ids; /* n, supplied by the submitter */
			bool *created; /* n, supplied by the submitter */
		} enqueue;
		struct {
			struct task **tasks; /* lease, list, complete next,
			                        find_key */
			size_t n;
			uint64_t next_after_id;
		} tasks;
		struct {
			bool cancel_requested;
			int64_t deadline;
		} heartbeat;
		struct {
			cairn_state state;
			int64_t run_at;
		} fail;            /* fail and release */
		cairn_state state; /* cancel */
		struct {
			struct task *task; /* retry, get, await */
			bool done;         /* await: terminal */
		} one;
		struct {
			struct queue_stats *st;
			size_t n;
			/* Every configured queue's settings, by name. */
			struct queue_settings *qs;
			size_t nqs;
		} stats;
		/* Set and get: one; list: every configured queue. */
		struct {
			struct queue_settings *qs;
			size_t n;
		} queues;
		struct {
			struct task_event *ev;
			size_t n;
		} history;
		struct wf_leased wf_leased;
		struct wf_advanced wf_advanced;
		/* The ops on one run: what each sets of these. */
		struct {
			struct wf_run *run;    /* start, get, await, history */
			bool created;          /* start */
			uint64_t run_id;       /* signal: the run it reached */
			bool done;             /* await: finished */
			bool cancel_requested; /* heartbeat */
			int64_t at; /* heartbeat: deadline; fail: retry */
			int state;  /* cancel, terminate */
			uint32_t delivered;       /* signal */
			struct wf_entry *entries; /* history */
			size_t n;
			uint32_t next_after_seq;
		} wf;
		struct {
			struct wf_run **runs;
			size_t n;
			uint64_t next_after_id;
		} wf_runs;
		struct {
			struct wf_type_stats *st;
			size_t n;
		} wf_stats;
		struct {
			struct schedule *v; /* add, pause: one; list: n */
			size_t n;
		} sched;
	} out;

	/* done is called once, on the engine thread, after the commit that
	 * made the op's effect durable (or with an error status). */
	void (*done)(struct engine_op *op);
	void *arg;

	/* Engine bookkeeping. */
	struct engine_op *next;
	int64_t wait_until;
};

#define ENGINE_MAX_OPS_PER_COMMIT 1024

struct engine_config {
	struct store *store;
	/* clock returns the time in ms since the epoch; NULL: the system
	 * clock. Tests pass a clock they control. */
	int64_t (*clock)(void *arg);
	void *clock_arg;
	/* Zero: the defaults of the options table (ops/options.c). */
	int64_t retention_ms; /* terminal tasks and runs kept (--retention) */
	int64_t max_wait_ms;  /* longest long-poll (--max-wait) */
	/* Requests taken into one transaction at most (not an option);
	 * 0: ENGINE_MAX_OPS_PER_COMMIT. */
	uint32_t max_ops_per_commit;
	/* Parked long-polls (leases and awaits) at most; one more that
	 * would park is answered RESOURCE_EXHAUSTED. 0: no limit. */
	uint32_t max_parked;
	/* How long the leases bound to a connection outlive it, so that a
	 * worker that reconnects and heartbeats keeps them (--disconnect-
	 * grace); 0: the default. */
	int64_t disconnect_grace_ms;
	/* Called once, on the engine thread, when a storage failure made
	 * the store unsafe (engine_failed); from then on every op is
	 * answered UNAVAILABLE without touching storage. The process is
	 * expected to stop and be restarted. NULL: nothing is called. */
	void (*on_fatal)(void *arg);
	void *fatal_arg;
	/* Serve a copy for inspection (cairnd --read-only): ops that
	 * write are answered FAILED_PRECONDITION without touching the
	 * store, and nothing runs on a timer (no lease expiry, no timers of
	 * runs, no pruning); awaits answer at once, since nothing here can
	 * change. The store is opened read-only too. */
	bool read_only;
};

/* Counters, for tests and metrics. */
struct engine_counters {
	uint64_t commits;
	uint64_t ops;
	uint64_t failed_commits;
	uint64_t parked;
	uint64_t expired;
	uint64_t pruned;
};

struct engine;

/* engine_start starts the engine thread on cfg->store (which it uses
 * exclusively until engine_stop). */
int engine_start(struct engine **out, const struct engine_config *cfg);

/* engine_submit queues op; thread-safe. Returns CAIRN_UNAVAILABLE (and
 * does not call done) when the engine is stopping. */
int engine_submit(struct engine *e, struct engine_op *op);

/* engine_notify_due tells the engine that tasks of queue may have become
 * due through another path than its own commits (another server sharing
 * the database); parked leases of that queue try again. A queue written
 * "@name" is a workflow queue whose runs became runnable; "!" means some
 * run finished. Thread-safe. */
void engine_notify_due(struct engine *e, const char *queue);

/* engine_conn_closed tells the engine that connection conn (as in
 * engine_op.conn) closed: its parked leases are answered empty, and the
 * leases bound to it are released after the grace period unless a
 * heartbeat with their token arrives first. Thread-safe. */
void engine_conn_closed(struct engine *e, uint32_t conn);

/* engine_kick makes the engine re-check its timers now (tests that move
 * their clock call it). */
void engine_kick(struct engine *e);

/* engine_stop applies every queued op, answers parked ones (empty lease,
 * await not done), stops the thread. engine_free frees the engine but not
 * the store. */
void engine_stop(struct engine *e);
void engine_free(struct engine *e);

void engine_get_counters(struct engine *e, struct engine_counters *c);

/* engine_failed says whether a storage failure stopped the engine from
 * committing (see engine_config.on_fatal). */
bool engine_failed(struct engine *e);

/* engine_op_clear frees the outputs of op and resets them. */
void engine_op_clear(struct engine_op *op);

/* engine_now reads the engine's clock. */
int64_t engine_now(struct engine *e);

#endif /* CAIRN_ENGINE_H */
