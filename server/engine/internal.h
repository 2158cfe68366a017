/*
 * engine/internal.h - what the engine's files share; not for other
 * modules.
 */
#ifndef CAIRN_ENGINE_INTERNAL_H
#define CAIRN_ENGINE_INTERNAL_H

#include <pthread.h>
#include <stdio.h>

#include "engine/engine.h"

#define ENGINE_DUE_SLOTS 16

struct engine_binds;

/* Queues in which a transaction made work available, with how much. */
struct engine_due {
	bool overflow; /* too many queues to track: wake all */
	size_t n;
	struct {
		char queue[TASK_QUEUE_MAX + 1];
		uint32_t count; /* tasks made due, or runs made runnable */
	} slot[ENGINE_DUE_SLOTS];
};

/* What one transaction changed that parked ops may be waiting for. */
struct engine_batch {
	struct store *store;
	bool terminal_changed;    /* some task may have become terminal */
	bool runs_finished;       /* some run finished */
	bool schedules_changed;   /* a schedule was added or resumed */
	size_t expired;           /* leases ended by the sweep */
	size_t pruned;            /* terminal tasks deleted */
	bool committing;          /* COMMIT was sent: a failure leaves the
	                             outcome unknown; before it, nothing changed */
	struct engine_due due;    /* tasks made due, by queue */
	struct engine_due ready;  /* runs made runnable, by workflow queue */
	struct store_notes notes; /* how the rules tell this batch */
	int64_t now;              /* the transaction's time */
	/* Queues whose leases their limits held back (the engine's, across
	 * transactions), and when the first of those may try again. */
	struct engine_due *held;
	int64_t held_until;
};

/* The notes of queue limits (engine/queue_apply.c): a lease of queue was
 * held back until an instant, or a lease of queue ended. */
void engine_note_held(void *arg, const char *queue, int64_t until);
void engine_note_freed(void *arg, const char *queue);

/* engine_batch_made_due notes that n tasks of queue became due, and
 * engine_batch_made_ready that n runs of workflow queue became runnable
 * (engine/apply.c). */
void engine_batch_made_due(
    struct engine_batch *b, const char *queue, uint32_t n);
void engine_batch_made_ready(
    struct engine_batch *b, const char *queue, uint32_t n);

/* engine_batch_listen points the store's notes at b for its
 * transaction (engine/apply.c). */
void engine_batch_listen(struct engine_batch *b);

/* What an op will read, for the store's prefetch (engine/prefetch.c). */
enum engine_record {
	ENGINE_RECORD_NONE,  /* no request record */
	ENGINE_RECORD_OWN,   /* its request id's, as an Enqueue's */
	ENGINE_RECORD_LEASE, /* its request id's, as a Lease's */
};
struct engine_reads {
	size_t nids;               /* tasks it loads */
	uint64_t run;              /* a run it names by id; 0: none */
	enum engine_record record; /* looked up when it has a request id */
	const struct lease_request *lease; /* queues it picks from, known */
	/* A workflow lease: the workflow queues it picks from. */
	const struct wf_lease_request *wf_lease;
	uint32_t unknown_picks; /* picks from queues not known yet */
	/* An enqueue: its tasks, whose queues' settings it reads. */
	const struct task_spec *specs;
	size_t nspecs;
};

/* Where an op that found nothing waits, and what wakes it. */
enum engine_park {
	ENGINE_PARK_NEVER = 0, /* answered at once */
	ENGINE_PARK_DUE,       /* tasks made due in its lease's queues, or a
	                          timer (a delayed task, an ended lease) */
	ENGINE_PARK_TERMINAL,  /* a task that became terminal */
	ENGINE_PARK_RUNNABLE,  /* runs made runnable in its workflow queues,
	                          or a timer (a retry delay, a lease ended) */
	ENGINE_PARK_RUN_END,   /* a run that finished */
	ENGINE_PARK_COUNT_
};

/*
 * The class of a kind of op (engine/op.c): one entry per kind, so that
 * the engine's files never switch on the kind. Members may be NULL where
 * their comment says.
 */
struct engine_op_class {
	/* apply applies op inside the open transaction: sets op->status
	 * (and op->msg unless OK) and its outputs, and notes in b what it
	 * changed that parked ops may wait for. A status for which
	 * engine_is_fault holds rolls the transaction back. */
	void (*apply)(
	    struct engine_batch *b, struct engine_op *op, int64_t now);
	/* clear frees the outputs op owns and resets them. NULL: none. */
	void (*clear)(struct engine_op *op);
	/* reads says what op will read: the ids of the tasks it loads
	 * (written into ids when not NULL) and the rest in *r, which the
	 * caller zeroed. NULL: nothing worth reading ahead. */
	void (*reads)(
	    const struct engine_op *op, uint64_t *ids, struct engine_reads *r);
	/* park: whether and where op waits when it found nothing; then
	 * wait_ms says how long it may wait (capped by max_wait_ms) and
	 * found whether the applied op has its answer. */
	enum engine_park park;
	int64_t (*wait_ms)(const struct engine_op *op);
	bool (*found)(const struct engine_op *op);
	/* reads_only: op never writes, so a read-only engine
	 * (engine_config.read_only) serves it; every other kind is
	 * refused there, a new kind included until it says so. */
	bool reads_only;
	/* bind notes in bs, after its commit, what the op did to leases
	 * bound to connections (engine/bind.c). NULL: nothing. */
	void (*bind)(
	    struct engine_binds *bs, const struct engine_op *op, int64_t now);
};

/* engine_op_class returns the class of kind (NULL for no kind). */
const struct engine_op_class *engine_op_class(enum engine_op_kind kind);

/* engine_apply applies op inside the open transaction (its class). */
void engine_apply(struct engine_batch *b, struct engine_op *op, int64_t now);

/* engine_op_wait_ms is how long op may wait for an answer (0: it never
 * waits); engine_op_found says whether the applied op has its answer. */
int64_t engine_op_wait_ms(const struct engine_op *op);
bool engine_op_found(const struct engine_op *op);

/* engine_op_reads_only says whether op never writes (its class). */
bool engine_op_reads_only(const struct engine_op *op);

/* The apply member of each class: engine/apply.c, and the batches in
 * engine/batch.c. */
void engine_apply_enqueue(
    struct engine_batch *b, struct engine_op *op, int64_t now);
void engine_apply_lease(
    struct engine_batch *b, struct engine_op *op, int64_t now);
void engine_apply_heartbeat(
    struct engine_batch *b, struct engine_op *op, int64_t now);
void engine_apply_complete(
    struct engine_batch *b, struct engine_op *op, int64_t now);
void engine_apply_fail(
    struct engine_batch *b, struct engine_op *op, int64_t now);
void engine_apply_cancel(
    struct engine_batch *b, struct engine_op *op, int64_t now);
void engine_apply_retry(
    struct engine_batch *b, struct engine_op *op, int64_t now);
void engine_apply_get(
    struct engine_batch *b, struct engine_op *op, int64_t now);
void engine_apply_await(
    struct engine_batch *b, struct engine_op *op, int64_t now);
void engine_apply_list(
    struct engine_batch *b, struct engine_op *op, int64_t now);
void engine_apply_stats(
    struct engine_batch *b, struct engine_op *op, int64_t now);
void engine_apply_history(
    struct engine_batch *b, struct engine_op *op, int64_t now);
void engine_apply_find_key(
    struct engine_batch *b, struct engine_op *op, int64_t now);
void engine_apply_release(
    struct engine_batch *b, struct engine_op *op, int64_t now);
/* ... and of schedules (engine/sched_apply.c). */
void engine_apply_sched_add(
    struct engine_batch *b, struct engine_op *op, int64_t now);
void engine_apply_sched_pause(
    struct engine_batch *b, struct engine_op *op, int64_t now);
void engine_apply_sched_delete(
    struct engine_batch *b, struct engine_op *op, int64_t now);
void engine_apply_sched_list(
    struct engine_batch *b, struct engine_op *op, int64_t now);
/* The bind member of the classes that have one (engine/bind.c). */
void engine_bind_lease(
    struct engine_binds *bs, const struct engine_op *op, int64_t now);
void engine_bind_heartbeat(
    struct engine_binds *bs, const struct engine_op *op, int64_t now);
void engine_bind_complete(
    struct engine_binds *bs, const struct engine_op *op, int64_t now);
void engine_bind_fail(
    struct engine_binds *bs, const struct engine_op *op, int64_t now);
void engine_bind_release(
    struct engine_binds *bs, const struct engine_op *op, int64_t now);
void engine_bind_wf_lease(
    struct engine_binds *bs, const struct engine_op *op, int64_t now);
void engine_bind_wf_heartbeat(
    struct engine_binds *bs, const struct engine_op *op, int64_t now);
void engine_bind_wf_advance(
    struct engine_binds *bs, const struct engine_op *op, int64_t now);
void engine_bind_wf_end(
    struct engine_binds *bs, const struct engine_op *op, int64_t now);
void engine_bind_complete_batch(
    struct engine_binds *bs, const struct engine_op *op, int64_t now);
void engine_bind_heartbeat_batch(
    struct engine_binds *bs, const struct engine_op *op, int64_t now);
void engine_apply_queue_set(
    struct engine_batch *b, struct engine_op *op, int64_t now);
void engine_apply_queue_get(
    struct engine_batch *b, struct engine_op *op, int64_t now);
void engine_apply_queue_list(
    struct engine_batch *b, struct engine_op *op, int64_t now);
void engine_apply_complete_batch(
    struct engine_batch *b, struct engine_op *op, int64_t now);
void engine_apply_heartbeat_batch(
    struct engine_batch *b, struct engine_op *op, int64_t now);
/* ... and of workflows (engine/wf_apply.c). */
void engine_apply_wf_start(
    struct engine_batch *b, struct engine_op *op, int64_t now);
void engine_apply_wf_lease(
    struct engine_batch *b, struct engine_op *op, int64_t now);
void engine_apply_wf_release(
    struct engine_batch *b, struct engine_op *op, int64_t now);
void engine_apply_wf_heartbeat(
    struct engine_batch *b, struct engine_op *op, int64_t now);
void engine_apply_wf_advance(
    struct engine_batch *b, struct engine_op *op, int64_t now);
void engine_apply_wf_fail_task(
    struct engine_batch *b, struct engine_op *op, int64_t now);
void engine_apply_wf_signal(
    struct engine_batch *b, struct engine_op *op, int64_t now);
void engine_apply_wf_cancel(
    struct engine_batch *b, struct engine_op *op, int64_t now);
void engine_apply_wf_terminate(
    struct engine_batch *b, struct engine_op *op, int64_t now);
void engine_apply_wf_get(
    struct engine_batch *b, struct engine_op *op, int64_t now);
void engine_apply_wf_await(
    struct engine_batch *b, struct engine_op *op, int64_t now);
void engine_apply_wf_history(
    struct engine_batch *b, struct engine_op *op, int64_t now);
void engine_apply_wf_list(
    struct engine_batch *b, struct engine_op *op, int64_t now);
void engine_apply_wf_stats(
    struct engine_batch *b, struct engine_op *op, int64_t now);

/* engine_is_fault tells a storage fault (roll the transaction back) from a
 * refusal that changed nothing (answer it and go on), for whole ops and
 * for the items of a batch alike. */
static inline bool
engine_is_fault(int status)
{
	switch (status) {
	case CAIRN_OK:
	case CAIRN_NOT_FOUND:
	case CAIRN_FAILED_PRECONDITION:
	case CAIRN_INVALID_ARGUMENT:
	case CAIRN_ALREADY_EXISTS:
	case CAIRN_OUT_OF_RANGE:  /* a run's log is full */
	case CAIRN_UNIMPLEMENTED: /* a store without workflows */
		return (false);
	default:
		return (true);
	}
}

/* engine_answer hands op its answer (done is called once). */
static inline void
engine_answer(struct engine_op *op)
{
	op->next = NULL;
	op->done(op);
}

/* A list of ops in order, with its length (engine/park.c). */
struct engine_list {
	struct engine_op *head, *tail;
	size_t n;
};
void engine_list_push(struct engine_list *l, struct engine_op *op);
/* engine_list_take empties l and returns its ops, linked by next. */
struct engine_op *engine_list_take(struct engine_list *l);
/* engine_list_append moves every op of from to the end of l. */
void engine_list_append(struct engine_list *l, struct engine_list *from);

/* Parked long-polls (engine/park.c); the engine thread's only. */
struct engine_parking {
	/* By what wakes them, each in arrival order ([NEVER] is empty). */
	struct engine_list parked[ENGINE_PARK_COUNT_];
	struct engine_list woken; /* applied again in the next transaction */
	uint32_t max;             /* parked at most; 0: no limit */
};
/* engine_parked counts the parked ops. */
size_t engine_parked(const struct engine_parking *pk);
/* engine_park_settle answers each op of a committed list, or parks those
 * that found nothing and may still wait (refused past max). */
void engine_park_settle(struct engine_parking *pk, struct engine_op *list,
    int64_t now, bool stopping);
/* engine_park_wake moves to woken the parked ops that b may satisfy;
 * engine_park_wake_leases moves every parked lease, of tasks and of runs
 * (a timer fired). */
void engine_park_wake(struct engine_parking *pk, struct engine_batch *b);
void engine_park_wake_leases(struct engine_parking *pk);
/* engine_park_expire ends the waits that are over (all when stopping). */
void engine_park_expire(struct engine_parking *pk, int64_t now, bool stopping);
/* engine_park_drop_conn answers empty every parked lease that came on
 * conn (its connection closed: nobody would get what it takes). */
void engine_park_drop_conn(struct engine_parking *pk, uint32_t conn);
/* engine_park_next_timer returns the earlier of t and the end of the first
 * wait to end. */
int64_t engine_park_next_timer(const struct engine_parking *pk, int64_t t);

/*
 * Leases bound to the connection that took them (engine/bind.c); the
 * engine thread's only. A hash of the bound leases by task id (open
 * addressing, linear probing), and a ring of the connections that closed
 * lately, so that a request that arrives from one after its close takes
 * nothing.
 */
#define ENGINE_CLOSED_RING 1024
#define ENGINE_WORKER_MAX  128 /* bytes of a worker id kept */
struct engine_bound {
	uint64_t id;        /* task id * 2, run id * 2 + 1; 0: a free slot */
	uint32_t conn;      /* the connection it is bound to */
	int64_t release_at; /* 0: the connection is open */
	char token[TASK_TOKEN_LEN + 1];
	char worker[ENGINE_WORKER_MAX + 1]; /* the lease's worker id */
};
struct engine_binds {
	struct engine_bound *slot;
	size_t cap; /* a power of two, or 0 */
	size_t n;
	size_t pending; /* bound to a closed connection, about (a hint) */
	int64_t grace_ms;
	int64_t next_release; /* no release is due before; NEVER: none */
	uint32_t closed[ENGINE_CLOSED_RING];
	size_t nclosed; /* connections closed so far (ring position) */
};

void engine_binds_free(struct engine_binds *bs);
/* engine_binds_closed says whether conn closed lately. */
bool engine_binds_closed(const struct engine_binds *bs, uint32_t conn);
/* engine_binds_close notes that conn closed at now: its leases are due
 * for release at now + grace. */
void engine_binds_close(struct engine_binds *bs, uint32_t conn, int64_t now);
/* engine_binds_due makes an OP_RELEASE op (allocated; its done frees it)
 * for each lease whose release is due at now, takes it out of bs, and
 * pushes the ops onto l. */
void engine_binds_due(
    struct engine_binds *bs, int64_t now, struct engine_list *l);
/* engine_binds_note records what a committed op did to the bound leases:
 * binds the leases it took, unbinds the ones it ended, and binds again
 * those whose connection closed when a heartbeat came through another
 * (the bind member of the op's class). */
void engine_binds_note(
    struct engine_binds *bs, const struct engine_op *op, int64_t now);

/* engine_prefetch tells the store, right after begin, what the ops of
 * list will read at time now (engine/prefetch.c). */
int engine_prefetch(
    struct store *s, const struct engine_op *list, int64_t now);

/* Engine time: the configured clock, never going back (engine/guard.c). */
struct engine_clock_guard {
	pthread_mutex_t mu;
	int64_t last; /* latest time handed out */
	int64_t skew; /* added to the clock after it stepped back */
};

void engine_clock_guard_init(struct engine_clock_guard *g);
void engine_clock_guard_fini(struct engine_clock_guard *g);
int64_t engine_clock_guard(struct engine_clock_guard *g, int64_t wall);

/* engine_commit_is_fatal says whether a transaction that ended with rv
 * left the store unsafe to go on with (fail-stop). */
bool engine_commit_is_fatal(const struct store *s, int rv);

#endif /* CAIRN_ENGINE_INTERNAL_H */
