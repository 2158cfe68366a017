/*
 * engine/batch.c - the ops that exist to do more per request: batches of
 * completions and heartbeats (a Complete that also leases the next task is
 * in apply.c with the plain one). Each item of a batch is applied on its own,
 * like the ops of one group commit: a refusal (a lost lease) is that item's
 * answer, a storage fault is the whole op's, so that the engine rolls it back.
 */
#include <stdio.h>

#include "engine/internal.h"
#include "lifecycle/replay.h"

static void
apply_batch(
    struct engine_batch *b, struct engine_op *op, int64_t now, bool complete)
{
	op->status = CAIRN_OK;
	for (size_t i = 0; i < op->in.batch.n; i++) {
		struct touch_item *it = &op->in.batch.items[i];
		it->msg[0] = 0;
		if (complete) {
			it->status = lifecycle_complete(b->store, it->id,
			    it->token, it->data, it->len, now, it->msg);
		} else {
			it->status = lifecycle_heartbeat(b->store, it->id,
			    it->token, it->data, it->len, now,
			    &it->cancel_requested, &it->deadline, it->msg);
		}
		if (engine_is_fault(it->status)) {
			op->status = it->status;
			snprintf(op->msg, sizeof(op->msg), "task %llu: %.200s",
			    (unsigned long long) it->id, it->msg);
			return;
		}
	}
	if (complete) {
		b->terminal_changed = true;
	}
}

void
engine_apply_complete_batch(
    struct engine_batch *b, struct engine_op *op, int64_t now)
{
	apply_batch(b, op, now, true);
}

void
engine_apply_heartbeat_batch(
    struct engine_batch *b, struct engine_op *op, int64_t now)
{
	apply_batch(b, op, now, false);
}
