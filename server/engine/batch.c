/*
 * engine/batch.c - the ops that exist to do more per request: a Complete
 * that also leases the next task of its queue, and batches of completions
 * and heartbeats. Each item of a batch is applied on its own, like the ops
 * of one group commit: a refusal (a lost lease) is that item's answer, a
 * storage fault is the whole op's, so that the engine rolls it back.
 */
#include <stdio.h>

#include "engine/internal.h"
#include "lifecycle/replay.h"

void
engine_apply_complete(
    struct engine_batch *b, struct engine_op *op, int64_t now)
{
	char queue[TASK_QUEUE_MAX + 1];
	const char *queues[1] = { queue };

	op->out.tasks.tasks = NULL;
	op->out.tasks.n = 0;
	op->status = lifecycle_complete_q(b->store, op->in.touch.id,
	    op->in.touch.token, op->in.touch.data, op->in.touch.len, now,
	    queue, op->msg);
	if (op->status != CAIRN_OK || !op->in.touch.lease_next) {
		return;
	}
	struct lease_request req = {
		.queues = queues,
		.nqueues = 1,
		.max_tasks = 1,
		.worker_id = op->in.touch.worker_id,
		.lease_timeout_ms = op->in.touch.lease_timeout_ms,
	};
	/* Under the Complete's request id: a resent Complete (its reply was
	 * lost) gets the task its first copy leased, not one more. */
	op->status = lifecycle_lease_once(b->store, op->request_id, &req, now,
	    &op->out.tasks.tasks, &op->out.tasks.n, op->msg);
}

void
engine_apply_batch(struct engine_batch *b, struct engine_op *op, int64_t now)
{
	bool complete = op->kind == OP_COMPLETE_BATCH;

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
