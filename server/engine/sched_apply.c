/*
 * engine/sched_apply.c - applying the ops of cron schedules (add, pause or
 * resume, delete, list) inside the engine's transaction. Their ticks are
 * fired by the engine's housekeeping (engine.c), not by an op.
 */
#include <stdio.h>
#include <stdlib.h>

#include "engine/internal.h"
#include "lifecycle/schedule.h"

/* unsupported answers op when the store has no schedules. */
static bool
unsupported(struct engine_batch *b, struct engine_op *op)
{
	if (store_has_schedules(b->store)) {
		return (false);
	}
	op->status = CAIRN_UNIMPLEMENTED;
	snprintf(op->msg, sizeof(op->msg), "this store (%s) has no schedules",
	    store_name(b->store));
	return (true);
}

/* one gives op a one-schedule output, or answers it out of memory. */
static struct schedule *
one(struct engine_op *op)
{
	op->out.sched.v = calloc(1, sizeof(struct schedule));
	if (op->out.sched.v == NULL) {
		op->status = CAIRN_RESOURCE_EXHAUSTED;
		snprintf(op->msg, sizeof(op->msg), "out of memory");
	}
	return (op->out.sched.v);
}

void
engine_apply_sched_add(
    struct engine_batch *b, struct engine_op *op, int64_t now)
{
	struct schedule *out;

	if (unsupported(b, op) || (out = one(op)) == NULL) {
		return;
	}
	op->status = lifecycle_sched_add(b->store, op->in.sched.sc,
	    op->in.sched.flag, op->in.sched.create_queue, now, out, op->msg);
	op->out.sched.n = op->status == CAIRN_OK;
	b->schedules_changed = true;
}

void
engine_apply_sched_pause(
    struct engine_batch *b, struct engine_op *op, int64_t now)
{
	struct schedule *out;

	if (unsupported(b, op) || (out = one(op)) == NULL) {
		return;
	}
	op->status = lifecycle_sched_pause(
	    b->store, op->in.sched.name, op->in.sched.flag, now, out, op->msg);
	op->out.sched.n = op->status == CAIRN_OK;
	b->schedules_changed = true;
}

void
engine_apply_sched_delete(
    struct engine_batch *b, struct engine_op *op, int64_t now)
{
	(void) now;
	if (!unsupported(b, op)) {
		op->status = lifecycle_sched_delete(
		    b->store, op->in.sched.name, op->msg);
	}
}

void
engine_apply_sched_list(
    struct engine_batch *b, struct engine_op *op, int64_t now)
{
	(void) now;
	if (unsupported(b, op)) {
		return;
	}
	op->status
	    = store_sched_list(b->store, &op->out.sched.v, &op->out.sched.n);
	if (op->status != CAIRN_OK) {
		snprintf(
		    op->msg, sizeof(op->msg), "%s", store_errmsg(b->store));
	}
}
