/*
 * engine/wf_apply.c - applying the ops of durable workflows inside the
 * engine's transaction (the apply members of their classes, op.c). The
 * rules are lifecycle/workflow.h's; what they change that parked ops wait
 * for reaches the batch through the store's notes.
 */
#include <stdio.h>
#include <stdlib.h>

#include "engine/internal.h"

/* has_workflows refuses an op on a store without workflows. */
static bool
has_workflows(struct engine_batch *b, struct engine_op *op)
{
	if (store_has_workflows(b->store)) {
		return (true);
	}
	op->status = CAIRN_UNIMPLEMENTED;
	snprintf(op->msg, sizeof(op->msg), "this store (%s) has no workflows",
	    b->store->backend != NULL ? b->store->backend->name : "unknown");
	return (false);
}

/* find names the run of an op on one run; false (status set) if none. */
static bool
find(struct engine_batch *b, struct engine_op *op, uint64_t *id)
{
	if (!has_workflows(b, op)) {
		return (false);
	}
	op->status = lifecycle_wf_find(
	    b->store, op->in.wf.workflow_id, op->in.wf.run_id, id, op->msg);
	return (op->status == CAIRN_OK);
}

/* load_run reads run id into op->out.wf.run, for an answer: without
 * locking it (store_wf_ops.get). */
static void
load_run(struct engine_batch *b, struct engine_op *op, uint64_t id)
{
	struct wf_run *r = calloc(1, sizeof(*r));

	if (r == NULL) {
		op->status = CAIRN_RESOURCE_EXHAUSTED;
		snprintf(op->msg, sizeof(op->msg), "out of memory");
		return;
	}
	if ((op->status = store_wf_get(b->store, id, r)) != CAIRN_OK) {
		snprintf(
		    op->msg, sizeof(op->msg), "%s", store_errmsg(b->store));
		free(r);
		return;
	}
	op->out.wf.run = r;
}

void
engine_apply_wf_start(
    struct engine_batch *b, struct engine_op *op, int64_t now)
{
	uint64_t id;

	if (!has_workflows(b, op)) {
		return;
	}
	op->status = lifecycle_wf_start(b->store, &op->in.wf_start,
	    op->request_id, now, &id, &op->out.wf.created, op->msg);
	if (op->status == CAIRN_OK) {
		load_run(b, op, id);
	}
}

void
engine_apply_wf_lease(
    struct engine_batch *b, struct engine_op *op, int64_t now)
{
	/* Applied again each time it wakes: the last answer counts. */
	wf_leased_clear(&op->out.wf_leased);
	if (has_workflows(b, op)) {
		op->status = lifecycle_wf_lease(b->store, &op->in.wf_lease.req,
		    op->request_id, now, &op->out.wf_leased, op->msg);
	}
}

void
engine_apply_wf_release(
    struct engine_batch *b, struct engine_op *op, int64_t now)
{
	if (has_workflows(b, op)) {
		op->status = lifecycle_wf_release(
		    b->store, op->in.wf.run_id, op->in.wf.token, now, op->msg);
	}
}

void
engine_apply_wf_heartbeat(
    struct engine_batch *b, struct engine_op *op, int64_t now)
{
	uint64_t id;

	if (find(b, op, &id)) {
		op->status = lifecycle_wf_heartbeat(b->store, id,
		    op->in.wf.token, now, &op->out.wf.cancel_requested,
		    &op->out.wf.at, op->msg);
	}
}

void
engine_apply_wf_advance(
    struct engine_batch *b, struct engine_op *op, int64_t now)
{
	if (has_workflows(b, op)) {
		op->status = lifecycle_wf_advance(b->store, &op->in.wf_advance,
		    op->request_id, now, &op->out.wf_advanced, op->msg);
	}
}

void
engine_apply_wf_fail_task(
    struct engine_batch *b, struct engine_op *op, int64_t now)
{
	uint64_t id;

	if (find(b, op, &id)) {
		op->status = lifecycle_wf_fail_task(b->store, id,
		    op->in.wf.token, op->in.wf.text, op->in.wf.flag, now,
		    &op->out.wf.at, op->msg);
	}
}

void
engine_apply_wf_signal(
    struct engine_batch *b, struct engine_op *op, int64_t now)
{
	uint64_t id;

	if (find(b, op, &id)) {
		op->status = lifecycle_wf_signal(b->store, id, op->in.wf.name,
		    op->in.wf.data, op->in.wf.len, op->request_id, now,
		    &op->out.wf.delivered, op->msg);
		op->out.wf.run_id = id;
	}
}

void
engine_apply_wf_cancel(
    struct engine_batch *b, struct engine_op *op, int64_t now)
{
	uint64_t id;

	if (find(b, op, &id)) {
		op->status = lifecycle_wf_cancel(b->store, id, op->in.wf.text,
		    now, &op->out.wf.state, op->msg);
	}
}

void
engine_apply_wf_terminate(
    struct engine_batch *b, struct engine_op *op, int64_t now)
{
	uint64_t id;

	if (find(b, op, &id)) {
		op->status = lifecycle_wf_terminate(b->store, id,
		    op->in.wf.text, now, &op->out.wf.state, op->msg);
	}
}

void
engine_apply_wf_get(struct engine_batch *b, struct engine_op *op, int64_t now)
{
	uint64_t id;

	(void) now;
	if (find(b, op, &id)) {
		load_run(b, op, id);
	}
}

void
engine_apply_wf_await(
    struct engine_batch *b, struct engine_op *op, int64_t now)
{
	/* Applied again each time it wakes: the last read is the answer. */
	wf_run_free(op->out.wf.run);
	op->out.wf.run = NULL;
	engine_apply_wf_get(b, op, now);
	op->out.wf.done = op->status == CAIRN_OK
	    && wf_state_is_terminal(op->out.wf.run->state);
}

void
engine_apply_wf_history(
    struct engine_batch *b, struct engine_op *op, int64_t now)
{
	uint64_t id;

	(void) now;
	if (!find(b, op, &id)) {
		return;
	}
	load_run(b, op, id);
	if (op->status != CAIRN_OK) {
		return;
	}
	struct wf_read q = {
		.run_id = id,
		.after_seq = op->in.wf.after_seq,
		.with_input = true,
		.limit = op->in.wf.limit,
	};
	op->status = store_wf_entries(
	    b->store, &q, &op->out.wf.entries, &op->out.wf.n);
	if (op->status != CAIRN_OK) {
		snprintf(
		    op->msg, sizeof(op->msg), "%s", store_errmsg(b->store));
		return;
	}
	size_t n = op->out.wf.n;
	op->out.wf.next_after_seq = n == op->in.wf.limit && n > 0
	    ? op->out.wf.entries[n - 1].seq
	    : 0;
}

void
engine_apply_wf_list(struct engine_batch *b, struct engine_op *op, int64_t now)
{
	size_t n;

	(void) now;
	if (!has_workflows(b, op)) {
		return;
	}
	op->status = store_wf_list(b->store, &op->in.wf_list.filter,
	    op->in.wf_list.limit, op->in.wf_list.after_id,
	    &op->out.wf_runs.runs, &op->out.wf_runs.n);
	if (op->status != CAIRN_OK) {
		snprintf(
		    op->msg, sizeof(op->msg), "%s", store_errmsg(b->store));
		return;
	}
	n = op->out.wf_runs.n;
	op->out.wf_runs.next_after_id = n == op->in.wf_list.limit && n > 0
	    ? op->out.wf_runs.runs[n - 1]->id
	    : 0;
}

void
engine_apply_wf_stats(
    struct engine_batch *b, struct engine_op *op, int64_t now)
{
	(void) now;
	if (!has_workflows(b, op)) {
		return;
	}
	op->status = store_wf_stats(
	    b->store, &op->out.wf_stats.st, &op->out.wf_stats.n);
	if (op->status != CAIRN_OK) {
		snprintf(
		    op->msg, sizeof(op->msg), "%s", store_errmsg(b->store));
	}
}
