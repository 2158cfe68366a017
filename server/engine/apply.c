/*
 * engine/apply.c - applying one op of each kind inside the engine's
 * transaction (the apply member of its class, op.c), and noting in the
 * batch what it changed that parked ops may wait for.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "lifecycle/replay.h"

static void
add_due(struct engine_due *d, const char *queue, uint32_t n)
{
	for (size_t i = 0; i < d->n; i++) {
		if (strcmp(d->slot[i].queue, queue) == 0) {
			d->slot[i].count += n;
			return;
		}
	}
	if (d->n == ENGINE_DUE_SLOTS) {
		d->overflow = true;
		return;
	}
	snprintf(d->slot[d->n].queue, sizeof(d->slot[0].queue), "%s", queue);
	d->slot[d->n++].count = n;
}

void
engine_batch_made_due(struct engine_batch *b, const char *queue, uint32_t n)
{
	add_due(&b->due, queue, n);
}

void
engine_batch_made_ready(struct engine_batch *b, const char *queue, uint32_t n)
{
	add_due(&b->ready, queue, n);
}

static void
note_due(void *arg, const char *queue)
{
	engine_batch_made_due(arg, queue, 1);
}

static void
note_runnable(void *arg, const char *queue)
{
	engine_batch_made_ready(arg, queue, 1);
}

static void
note_finished(void *arg)
{
	struct engine_batch *b = arg;

	b->runs_finished = true;
}

void
engine_batch_listen(struct engine_batch *b)
{
	b->notes = (struct store_notes) {
		.due = note_due,
		.runnable = note_runnable,
		.finished = note_finished,
		.freed = engine_note_freed,
		.held = engine_note_held,
		.arg = b,
	};
	b->store->notes = &b->notes;
}

/* store_failed copies the store's message into op when status failed. */
static void
store_failed(struct store *s, struct engine_op *op)
{
	if (op->status != CAIRN_OK) {
		snprintf(op->msg, sizeof(op->msg), "%s", store_errmsg(s));
	}
}

void
engine_apply_enqueue(struct engine_batch *b, struct engine_op *op, int64_t now)
{
	op->status = lifecycle_enqueue_once(b->store, op->request_id,
	    op->in.enqueue.specs, op->in.enqueue.n, now, op->out.enqueue.ids,
	    op->out.enqueue.created, op->msg);
	for (size_t i = 0; op->status == CAIRN_OK && i < op->in.enqueue.n;
	     i++) {
		if (op->out.enqueue.created[i]
		    && op->in.enqueue.specs[i].run_at_ms <= now) {
			engine_batch_made_due(
			    b, op->in.enqueue.specs[i].queue, 1);
		}
	}
}

void
engine_apply_lease(struct engine_batch *b, struct engine_op *op, int64_t now)
{
	op->status
	    = lifecycle_lease_once(b->store, op->request_id, &op->in.lease.req,
	        now, &op->out.tasks.tasks, &op->out.tasks.n, op->msg);
}

void
engine_apply_heartbeat(
    struct engine_batch *b, struct engine_op *op, int64_t now)
{
	op->status = lifecycle_heartbeat(b->store, op->in.touch.id,
	    op->in.touch.token, op->in.touch.data, op->in.touch.len, now,
	    &op->out.heartbeat.cancel_requested, &op->out.heartbeat.deadline,
	    op->msg);
}

/* A Complete, and with lease_next the lease of the next due task of its
 * task's queue, in the same transaction. */
void
engine_apply_complete(
    struct engine_batch *b, struct engine_op *op, int64_t now)
{
	char queue[TASK_QUEUE_MAX + 1];
	const char *queues[1] = { queue };

	b->terminal_changed = true;
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
engine_apply_fail(struct engine_batch *b, struct engine_op *op, int64_t now)
{
	op->status = lifecycle_fail(b->store, &op->in.fail, now,
	    &op->out.fail.state, &op->out.fail.run_at, op->msg);
	b->terminal_changed = true;
}

void
engine_apply_release(struct engine_batch *b, struct engine_op *op, int64_t now)
{
	char queue[TASK_QUEUE_MAX + 1];

	op->status = lifecycle_release(b->store, &op->in.release, now,
	    &op->out.fail.state, &op->out.fail.run_at, queue, op->msg);
	b->terminal_changed = true;
	if (op->status == CAIRN_OK && op->out.fail.state == CAIRN_PENDING
	    && op->out.fail.run_at <= now) {
		/* Back at once: a parked lease of its queue may take it. */
		engine_batch_made_due(b, queue, 1);
	}
}

void
engine_apply_cancel(struct engine_batch *b, struct engine_op *op, int64_t now)
{
	op->status = lifecycle_cancel(
	    b->store, op->in.id, now, &op->out.state, op->msg);
	b->terminal_changed = true;
}

void
engine_apply_retry(struct engine_batch *b, struct engine_op *op, int64_t now)
{
	op->status = lifecycle_retry(
	    b->store, op->in.id, now, &op->out.one.task, op->msg);
	if (op->status == CAIRN_OK) {
		engine_batch_made_due(b, op->out.one.task->queue, 1);
	}
}

void
engine_apply_get(struct engine_batch *b, struct engine_op *op, int64_t now)
{
	(void) now;
	op->status = store_get(b->store, op->in.id, &op->out.one.task);
	store_failed(b->store, op);
}

void
engine_apply_await(struct engine_batch *b, struct engine_op *op, int64_t now)
{
	(void) now;
	/* Applied again each time it wakes: the last read is the answer. */
	task_free(op->out.one.task);
	op->out.one.task = NULL;
	op->status = store_get(b->store, op->in.await.id, &op->out.one.task);
	store_failed(b->store, op);
	op->out.one.done = op->status == CAIRN_OK
	    && task_state_is_terminal(op->out.one.task->state);
}

void
engine_apply_list(struct engine_batch *b, struct engine_op *op, int64_t now)
{
	struct task **tasks;
	size_t n;

	(void) now;
	op->status = store_list(b->store, op->in.list.queue, op->in.list.state,
	    op->in.list.limit, op->in.list.after_id, &tasks, &n);
	if (op->status != CAIRN_OK) {
		store_failed(b->store, op);
		return;
	}
	op->out.tasks.tasks = tasks;
	op->out.tasks.n = n;
	/* A full page may have a next one; an empty next page is cheap. */
	op->out.tasks.next_after_id
	    = n == op->in.list.limit && n > 0 ? tasks[n - 1]->id : 0;
}

void
engine_apply_stats(struct engine_batch *b, struct engine_op *op, int64_t now)
{
	op->status = store_stats(b->store, op->in.stats_queue, now,
	    &op->out.stats.st, &op->out.stats.n);
	if (op->status == CAIRN_OK && store_has_queues(b->store)) {
		op->status = store_queue_list(
		    b->store, &op->out.stats.qs, &op->out.stats.nqs);
	}
	store_failed(b->store, op);
}

void
engine_apply_history(struct engine_batch *b, struct engine_op *op, int64_t now)
{
	(void) now;
	op->status = store_history(
	    b->store, op->in.id, &op->out.history.ev, &op->out.history.n);
	store_failed(b->store, op);
}

void
engine_apply_find_key(
    struct engine_batch *b, struct engine_op *op, int64_t now)
{
	size_t n = op->in.find_key.n, found = 0;
	struct task **tasks = calloc(n > 0 ? n : 1, sizeof(*tasks));
	uint64_t id;

	(void) now;
	if (tasks == NULL) {
		op->status = CAIRN_RESOURCE_EXHAUSTED;
		snprintf(op->msg, sizeof(op->msg), "out of memory");
		return;
	}
	op->status = CAIRN_OK;
	for (size_t i = 0; i < n && op->status == CAIRN_OK; i++) {
		op->status = store_find_key(b->store,
		    op->in.find_key.queues[i], op->in.find_key.key, &id);
		if (op->status == CAIRN_OK) {
			op->status = store_get(b->store, id, &tasks[found]);
			found += op->status == CAIRN_OK;
		} else if (op->status == CAIRN_NOT_FOUND) {
			op->status = CAIRN_OK;
		}
	}
	store_failed(b->store, op);
	if (op->status != CAIRN_OK) {
		task_array_free(tasks, found);
		return;
	}
	op->out.tasks.tasks = tasks;
	op->out.tasks.n = found;
}
