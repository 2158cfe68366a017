/*
 * engine/op.c - the class of each kind of op: one entry per kind says how
 * the engine applies it, frees what it hands back, tells the store what it
 * will read, and whether it waits. The engine's files ask the class and
 * never switch on the kind, so a new kind of op is one entry here and its
 * apply function.
 */
#include <stdlib.h>

#include "engine/internal.h"
#include "lifecycle/replay.h"

/* Outputs: tasks (lease, list, the next task of a Complete), one task
 * (retry, get, await), stats, history. */

static void
clear_tasks(struct engine_op *op)
{
	task_array_free(op->out.tasks.tasks, op->out.tasks.n);
	op->out.tasks.tasks = NULL;
	op->out.tasks.n = 0;
}

static void
clear_one(struct engine_op *op)
{
	task_free(op->out.one.task);
	op->out.one.task = NULL;
}

static void
clear_stats(struct engine_op *op)
{
	queue_stats_free(op->out.stats.st, op->out.stats.n);
	op->out.stats.st = NULL;
	op->out.stats.n = 0;
	free(op->out.stats.qs);
	op->out.stats.qs = NULL;
	op->out.stats.nqs = 0;
}

static void
clear_queues(struct engine_op *op)
{
	free(op->out.queues.qs);
	op->out.queues.qs = NULL;
	op->out.queues.n = 0;
}

static void
clear_history(struct engine_op *op)
{
	task_events_free(op->out.history.ev, op->out.history.n);
	op->out.history.ev = NULL;
	op->out.history.n = 0;
}

/* Outputs of workflows: a leased run, an advance's entries, one run with
 * entries (start, get, await, history), runs (list), stats. */

static void
clear_wf_leased(struct engine_op *op)
{
	wf_leased_clear(&op->out.wf_leased);
}

static void
clear_wf_advanced(struct engine_op *op)
{
	wf_advanced_clear(&op->out.wf_advanced);
}

static void
clear_wf(struct engine_op *op)
{
	wf_run_free(op->out.wf.run);
	op->out.wf.run = NULL;
	wf_entries_free(op->out.wf.entries, op->out.wf.n);
	op->out.wf.entries = NULL;
	op->out.wf.n = 0;
}

static void
clear_wf_runs(struct engine_op *op)
{
	wf_run_array_free(op->out.wf_runs.runs, op->out.wf_runs.n);
	op->out.wf_runs.runs = NULL;
	op->out.wf_runs.n = 0;
}

static void
clear_wf_stats(struct engine_op *op)
{
	wf_type_stats_free(op->out.wf_stats.st, op->out.wf_stats.n);
	op->out.wf_stats.st = NULL;
	op->out.wf_stats.n = 0;
}

static void
clear_sched(struct engine_op *op)
{
	schedules_free(op->out.sched.v, op->out.sched.n);
	op->out.sched.v = NULL;
	op->out.sched.n = 0;
}

/* What each kind reads (engine/prefetch.c). */

static void
reads_enqueue(
    const struct engine_op *op, uint64_t *ids, struct engine_reads *r)
{
	(void) ids;
	r->record = ENGINE_RECORD_OWN;
	r->specs = op->in.enqueue.specs;
	r->nspecs = op->in.enqueue.n;
}

static void
reads_lease(const struct engine_op *op, uint64_t *ids, struct engine_reads *r)
{
	(void) ids;
	r->record = ENGINE_RECORD_LEASE;
	r->lease = &op->in.lease.req;
}

static void
reads_heartbeat(
    const struct engine_op *op, uint64_t *ids, struct engine_reads *r)
{
	if (ids != NULL) {
		ids[0] = op->in.touch.id;
	}
	r->nids = 1;
}

/* A Complete loads its task; one that leases the next task also looks its
 * record up as a Lease's, and picks from its task's queue, not known
 * yet. */
static void
reads_complete(
    const struct engine_op *op, uint64_t *ids, struct engine_reads *r)
{
	reads_heartbeat(op, ids, r);
	if (op->in.touch.lease_next) {
		r->record = ENGINE_RECORD_LEASE;
		r->unknown_picks = 1;
	}
}

static void
reads_fail(const struct engine_op *op, uint64_t *ids, struct engine_reads *r)
{
	if (ids != NULL) {
		ids[0] = op->in.fail.id;
	}
	r->nids = 1;
}

static void
reads_release(
    const struct engine_op *op, uint64_t *ids, struct engine_reads *r)
{
	if (ids != NULL) {
		ids[0] = op->in.release.id;
	}
	r->nids = 1;
}

static void
reads_id(const struct engine_op *op, uint64_t *ids, struct engine_reads *r)
{
	if (ids != NULL) {
		ids[0] = op->in.id;
	}
	r->nids = 1;
}

static void
reads_batch(const struct engine_op *op, uint64_t *ids, struct engine_reads *r)
{
	for (size_t i = 0; ids != NULL && i < op->in.batch.n; i++) {
		ids[i] = op->in.batch.items[i].id;
	}
	r->nids = op->in.batch.n;
}

/* A workflow lease reads nothing ahead (its rows are few), but says
 * which queues it picks from, so that parking wakes it for them. */
static void
reads_wf_lease(
    const struct engine_op *op, uint64_t *ids, struct engine_reads *r)
{
	(void) ids;
	r->wf_lease = &op->in.wf_lease.req;
}

/* The ops that change one run, which they name by run_id (or else by
 * workflow_id, which the store resolves as it applies): the run is locked
 * with the others of the transaction, in id order. */
static void
reads_wf_run(const struct engine_op *op, uint64_t *ids, struct engine_reads *r)
{
	(void) ids;
	r->run = op->in.wf.run_id;
}

static void
reads_wf_advance(
    const struct engine_op *op, uint64_t *ids, struct engine_reads *r)
{
	(void) ids;
	r->run = op->in.wf_advance.run_id;
}

/* Long-polls. */

static int64_t
wait_lease(const struct engine_op *op)
{
	return (op->in.lease.wait_ms);
}

static bool
found_lease(const struct engine_op *op)
{
	return (op->out.tasks.n > 0);
}

static int64_t
wait_await(const struct engine_op *op)
{
	return (op->in.await.wait_ms);
}

static bool
found_await(const struct engine_op *op)
{
	return (op->out.one.done);
}

static int64_t
wait_wf_lease(const struct engine_op *op)
{
	return (op->in.wf_lease.wait_ms);
}

static bool
found_wf_lease(const struct engine_op *op)
{
	return (op->out.wf_leased.run.id != 0);
}

static int64_t
wait_wf_await(const struct engine_op *op)
{
	return (op->in.wf.wait_ms);
}

static bool
found_wf_await(const struct engine_op *op)
{
	return (op->out.wf.done);
}

static const struct engine_op_class classes[] = {
	[OP_ENQUEUE] = {
	    .apply = engine_apply_enqueue,
	    .reads = reads_enqueue,
	},
	[OP_LEASE] = {
	    .apply = engine_apply_lease,
	    .clear = clear_tasks,
	    .reads = reads_lease,
	    .park = ENGINE_PARK_DUE,
	    .wait_ms = wait_lease,
	    .found = found_lease,
	    .bind = engine_bind_lease,
	},
	[OP_HEARTBEAT] = {
	    .apply = engine_apply_heartbeat,
	    .reads = reads_heartbeat,
	    .bind = engine_bind_heartbeat,
	},
	[OP_COMPLETE] = {
	    .apply = engine_apply_complete,
	    .clear = clear_tasks, /* the next task, with lease_next */
	    .reads = reads_complete,
	    .bind = engine_bind_complete,
	},
	[OP_FAIL] = {
	    .apply = engine_apply_fail,
	    .reads = reads_fail,
	    .bind = engine_bind_fail,
	},
	[OP_CANCEL] = {
	    .apply = engine_apply_cancel,
	    .reads = reads_id,
	},
	[OP_RETRY] = {
	    .apply = engine_apply_retry,
	    .clear = clear_one,
	    .reads = reads_id,
	},
	[OP_GET] = {
	    .apply = engine_apply_get,
	    .clear = clear_one,
	    .reads_only = true,
	},
	[OP_LIST] = {
	    .apply = engine_apply_list,
	    .clear = clear_tasks,
	    .reads_only = true,
	},
	[OP_STATS] = {
	    .apply = engine_apply_stats,
	    .clear = clear_stats,
	    .reads_only = true,
	},
	[OP_AWAIT] = {
	    .apply = engine_apply_await,
	    .clear = clear_one,
	    .park = ENGINE_PARK_TERMINAL,
	    .wait_ms = wait_await,
	    .found = found_await,
	    .reads_only = true,
	},
	[OP_HISTORY] = {
	    .apply = engine_apply_history,
	    .clear = clear_history,
	    .reads_only = true,
	},
	[OP_COMPLETE_BATCH] = {
	    .apply = engine_apply_complete_batch,
	    .reads = reads_batch,
	    .bind = engine_bind_complete_batch,
	},
	[OP_HEARTBEAT_BATCH] = {
	    .apply = engine_apply_heartbeat_batch,
	    .reads = reads_batch,
	    .bind = engine_bind_heartbeat_batch,
	},
	[OP_WF_START] = {
	    .apply = engine_apply_wf_start,
	    .clear = clear_wf,
	},
	[OP_WF_LEASE] = {
	    .apply = engine_apply_wf_lease,
	    .clear = clear_wf_leased,
	    .reads = reads_wf_lease,
	    .park = ENGINE_PARK_RUNNABLE,
	    .wait_ms = wait_wf_lease,
	    .found = found_wf_lease,
	    .bind = engine_bind_wf_lease,
	},
	[OP_WF_HEARTBEAT] = {
	    .apply = engine_apply_wf_heartbeat,
	    .reads = reads_wf_run,
	    .bind = engine_bind_wf_heartbeat,
	},
	[OP_WF_ADVANCE] = {
	    .apply = engine_apply_wf_advance,
	    .reads = reads_wf_advance,
	    .clear = clear_wf_advanced,
	    .bind = engine_bind_wf_advance,
	},
	[OP_WF_FAIL_TASK] = {
	    .apply = engine_apply_wf_fail_task,
	    .reads = reads_wf_run,
	    .bind = engine_bind_wf_end,
	},
	[OP_WF_SIGNAL] = {
	    .apply = engine_apply_wf_signal,
	    .reads = reads_wf_run,
	},
	[OP_WF_CANCEL] = {
	    .apply = engine_apply_wf_cancel,
	    .reads = reads_wf_run,
	},
	[OP_WF_TERMINATE] = {
	    .apply = engine_apply_wf_terminate,
	    .reads = reads_wf_run,
	},
	[OP_WF_GET] = {
	    .apply = engine_apply_wf_get,
	    .clear = clear_wf,
	    .reads_only = true,
	},
	[OP_WF_LIST] = {
	    .apply = engine_apply_wf_list,
	    .clear = clear_wf_runs,
	    .reads_only = true,
	},
	[OP_WF_HISTORY] = {
	    .apply = engine_apply_wf_history,
	    .clear = clear_wf,
	    .reads_only = true,
	},
	[OP_WF_AWAIT] = {
	    .apply = engine_apply_wf_await,
	    .clear = clear_wf,
	    .park = ENGINE_PARK_RUN_END,
	    .wait_ms = wait_wf_await,
	    .found = found_wf_await,
	    .reads_only = true,
	},
	[OP_WF_STATS] = {
	    .apply = engine_apply_wf_stats,
	    .clear = clear_wf_stats,
	    .reads_only = true,
	},
	[OP_FIND_KEY] = {
	    .apply = engine_apply_find_key,
	    .clear = clear_tasks,
	    .reads_only = true,
	},
	[OP_RELEASE] = {
	    .apply = engine_apply_release,
	    .reads = reads_release,
	    .bind = engine_bind_release,
	},
	[OP_WF_RELEASE] = {
	    .apply = engine_apply_wf_release,
	    .bind = engine_bind_wf_end,
	},
	[OP_QUEUE_SET] = {
	    .apply = engine_apply_queue_set,
	    .clear = clear_queues,
	},
	[OP_QUEUE_GET] = {
	    .apply = engine_apply_queue_get,
	    .clear = clear_queues,
	    .reads_only = true,
	},
	[OP_QUEUE_LIST] = {
	    .apply = engine_apply_queue_list,
	    .clear = clear_queues,
	    .reads_only = true,
	},
	[OP_SCHED_ADD] = {
	    .apply = engine_apply_sched_add,
	    .clear = clear_sched,
	},
	[OP_SCHED_PAUSE] = {
	    .apply = engine_apply_sched_pause,
	    .clear = clear_sched,
	},
	[OP_SCHED_DELETE] = {
	    .apply = engine_apply_sched_delete,
	},
	[OP_SCHED_LIST] = {
	    .apply = engine_apply_sched_list,
	    .clear = clear_sched,
	    .reads_only = true,
	},
};

_Static_assert(sizeof(classes) / sizeof(classes[0]) == OP_KIND_COUNT_,
    "every op kind has its class");

const struct engine_op_class *
engine_op_class(enum engine_op_kind kind)
{
	return ((unsigned) kind < OP_KIND_COUNT_ ? &classes[kind] : NULL);
}

void
engine_apply(struct engine_batch *b, struct engine_op *op, int64_t now)
{
	op->msg[0] = 0;
	classes[op->kind].apply(b, op, now);
}

void
engine_op_clear(struct engine_op *op)
{
	const struct engine_op_class *k = engine_op_class(op->kind);

	if (k != NULL && k->clear != NULL) {
		k->clear(op);
	}
}

int64_t
engine_op_wait_ms(const struct engine_op *op)
{
	const struct engine_op_class *k = &classes[op->kind];

	return (k->park != ENGINE_PARK_NEVER ? k->wait_ms(op) : 0);
}

bool
engine_op_found(const struct engine_op *op)
{
	const struct engine_op_class *k = &classes[op->kind];

	return (k->park == ENGINE_PARK_NEVER || k->found(op));
}

bool
engine_op_reads_only(const struct engine_op *op)
{
	return (classes[op->kind].reads_only);
}
