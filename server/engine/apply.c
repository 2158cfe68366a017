/*
 * engine/apply.c - applying one op inside the engine's transaction, and
 * freeing what ops hand back.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "lifecycle/replay.h"

static void
apply_get(struct store *s, struct engine_op *op, uint64_t id)
{
	op->status = store_get(s, id, &op->out.one.task);
	if (op->status != CAIRN_OK) {
		snprintf(op->msg, sizeof(op->msg), "%s", store_errmsg(s));
	}
}

static void
apply_list(struct store *s, struct engine_op *op)
{
	struct task **tasks;
	size_t n;

	op->status = store_list(s, op->in.list.queue, op->in.list.state,
	    op->in.list.limit, op->in.list.after_id, &tasks, &n);
	if (op->status != CAIRN_OK) {
		snprintf(op->msg, sizeof(op->msg), "%s", store_errmsg(s));
		return;
	}
	op->out.tasks.tasks = tasks;
	op->out.tasks.n = n;
	/* A full page may have a next one; an empty next page is cheap. */
	op->out.tasks.next_after_id
	    = n == op->in.list.limit && n > 0 ? tasks[n - 1]->id : 0;
}

void
engine_apply(struct engine_batch *b, struct engine_op *op, int64_t now)
{
	struct store *s = b->store;
	char *m = op->msg;

	op->msg[0] = 0;
	switch (op->kind) {
	case OP_ENQUEUE:
		op->status = lifecycle_enqueue_once(s, op->request_id,
		    op->in.enqueue.specs, op->in.enqueue.n, now,
		    op->out.enqueue.ids, op->out.enqueue.created, m);
		for (size_t i = 0;
		     op->status == CAIRN_OK && i < op->in.enqueue.n; i++) {
			if (op->out.enqueue.created[i]
			    && op->in.enqueue.specs[i].run_at_ms <= now) {
				engine_batch_made_due(
				    b, op->in.enqueue.specs[i].queue, 1);
			}
		}
		break;
	case OP_LEASE:
		op->status = lifecycle_lease_once(s, op->request_id,
		    &op->in.lease.req, now, &op->out.tasks.tasks,
		    &op->out.tasks.n, m);
		break;
	case OP_HEARTBEAT:
		op->status = lifecycle_heartbeat(s, op->in.touch.id,
		    op->in.touch.token, op->in.touch.data, op->in.touch.len,
		    now, &op->out.heartbeat.cancel_requested,
		    &op->out.heartbeat.deadline, m);
		break;
	case OP_COMPLETE:
		engine_apply_complete(b, op, now);
		b->terminal_changed = true;
		break;
	case OP_COMPLETE_BATCH:
	case OP_HEARTBEAT_BATCH:
		engine_apply_batch(b, op, now);
		break;
	case OP_FAIL:
		op->status = lifecycle_fail(s, &op->in.fail, now,
		    &op->out.fail.state, &op->out.fail.run_at, m);
		b->terminal_changed = true;
		break;
	case OP_CANCEL:
		op->status
		    = lifecycle_cancel(s, op->in.id, now, &op->out.state, m);
		b->terminal_changed = true;
		break;
	case OP_RETRY:
		op->status
		    = lifecycle_retry(s, op->in.id, now, &op->out.one.task, m);
		if (op->status == CAIRN_OK) {
			engine_batch_made_due(b, op->out.one.task->queue, 1);
		}
		break;
	case OP_GET:
		apply_get(s, op, op->in.id);
		break;
	case OP_AWAIT:
		task_free(op->out.one.task);
		op->out.one.task = NULL;
		apply_get(s, op, op->in.await.id);
		op->out.one.done = op->status == CAIRN_OK
		    && task_state_is_terminal(op->out.one.task->state);
		break;
	case OP_LIST:
		apply_list(s, op);
		break;
	case OP_STATS:
		op->status = store_stats(s, op->in.stats_queue, now,
		    &op->out.stats.st, &op->out.stats.n);
		if (op->status != CAIRN_OK) {
			snprintf(m, LC_MSG_MAX, "%s", store_errmsg(s));
		}
		break;
	case OP_HISTORY:
		op->status = store_history(
		    s, op->in.id, &op->out.history.ev, &op->out.history.n);
		if (op->status != CAIRN_OK) {
			snprintf(m, LC_MSG_MAX, "%s", store_errmsg(s));
		}
		break;
	}
}

void
engine_op_clear(struct engine_op *op)
{
	switch (op->kind) {
	case OP_LEASE:
	case OP_LIST:
	case OP_COMPLETE: /* the next task, with lease_next */
		task_array_free(op->out.tasks.tasks, op->out.tasks.n);
		op->out.tasks.tasks = NULL;
		op->out.tasks.n = 0;
		break;
	case OP_RETRY:
	case OP_GET:
	case OP_AWAIT:
		task_free(op->out.one.task);
		op->out.one.task = NULL;
		break;
	case OP_STATS:
		queue_stats_free(op->out.stats.st, op->out.stats.n);
		op->out.stats.st = NULL;
		op->out.stats.n = 0;
		break;
	case OP_HISTORY:
		task_events_free(op->out.history.ev, op->out.history.n);
		op->out.history.ev = NULL;
		op->out.history.n = 0;
		break;
	default:
		break;
	}
}
