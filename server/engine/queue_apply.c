/*
 * engine/queue_apply.c - applying the ops on per-queue settings (SetQueue,
 * GetQueue, ListQueues) inside the engine's transaction, and the notes by
 * which a queue's limits hold leases back and wake them again.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"

/* A lease held back by a limit wakes at least this often, should the end
 * of a lease that frees its slot go unnoted (another server's, with no
 * watch). */
#define HELD_RECHECK_MS 1000

static bool
held_has(const struct engine_due *h, const char *queue)
{
	for (size_t i = 0; i < h->n; i++) {
		if (strcmp(h->slot[i].queue, queue) == 0) {
			return (true);
		}
	}
	return (h->overflow);
}

void
engine_note_held(void *arg, const char *queue, int64_t until)
{
	struct engine_batch *b = arg;
	struct engine_due *h = b->held;

	if (until == TASK_TIME_NEVER) {
		until = b->now + HELD_RECHECK_MS;
	}
	b->held_until = until < b->held_until ? until : b->held_until;
	if (h == NULL || held_has(h, queue)) {
		return;
	}
	if (h->n == ENGINE_DUE_SLOTS) {
		h->overflow = true;
		return;
	}
	snprintf(h->slot[h->n].queue, sizeof(h->slot[0].queue), "%s", queue);
	h->slot[h->n++].count = 1;
}

void
engine_note_freed(void *arg, const char *queue)
{
	struct engine_batch *b = arg;

	/* Only a queue whose leases were held: an end of a lease elsewhere
	 * wakes nobody. */
	if (b->held != NULL && held_has(b->held, queue)) {
		engine_batch_made_due(b, queue, 1);
	}
}

static void refuse(struct engine_op *op, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
refuse(struct engine_op *op, int status, const char *fmt, ...)
{
	va_list ap;

	op->status = status;
	va_start(ap, fmt);
	vsnprintf(op->msg, sizeof(op->msg), fmt, ap);
	va_end(ap);
}

static void
store_fault(struct store *s, struct engine_op *op, int rv)
{
	op->status = rv;
	snprintf(op->msg, sizeof(op->msg), "%s", store_errmsg(s));
}

/* known says whether queue holds a task (of any state). */
static int
known(struct store *s, const char *queue, bool *yes)
{
	struct task **tasks = NULL;
	size_t n = 0;
	int rv = store_list(s, queue, 0, 1, 0, &tasks, &n);

	if (rv == CAIRN_OK) {
		*yes = n > 0;
		task_array_free(tasks, n);
	}
	return (rv);
}

/* merge copies the fields of in that bits name into q. */
static void
merge(struct queue_settings *q, const struct queue_settings *in, unsigned bits)
{
	if (bits & QUEUE_F_PAUSED) {
		q->paused = in->paused;
	}
	if (bits & QUEUE_F_MAX_ACTIVE) {
		q->max_active = in->max_active;
	}
	if (bits & QUEUE_F_RATE) {
		q->rate_count = in->rate_count;
		q->rate_interval_ms = in->rate_interval_ms;
		q->rate_burst = in->rate_burst;
		q->bucket_credit
		    = 0; /* a new rate starts with a full bucket */
		q->bucket_at_ms = 0;
	}
	if (bits & QUEUE_F_MAX_ATTEMPTS) {
		q->max_attempts = in->max_attempts;
	}
	if (bits & QUEUE_F_RETRY) {
		q->retry = in->retry;
	}
	if (bits & QUEUE_F_HEARTBEAT) {
		q->heartbeat_timeout_ms = in->heartbeat_timeout_ms;
	}
	if (bits & QUEUE_F_START_TO_CLOSE) {
		q->start_to_close_ms = in->start_to_close_ms;
	}
}

static struct queue_settings *
one_copy(const struct queue_settings *q)
{
	struct queue_settings *c = malloc(sizeof(*c));

	if (c != NULL) {
		*c = *q;
	}
	return (c);
}

void
engine_apply_queue_set(
    struct engine_batch *b, struct engine_op *op, int64_t now)
{
	const struct queue_settings *in = op->in.queue.settings;
	struct queue_settings q;
	bool seen = false;
	int rv;

	if (!store_has_queues(b->store)) {
		refuse(op, CAIRN_UNIMPLEMENTED,
		    "this store has no per-queue settings");
		return;
	}
	rv = store_queue_get(b->store, in->queue, false, &q);
	if (rv == CAIRN_NOT_FOUND) {
		memset(&q, 0, sizeof(q));
		snprintf(q.queue, sizeof(q.queue), "%s", in->queue);
		if (!op->in.queue.create
		    && (rv = known(b->store, in->queue, &seen)) != CAIRN_OK) {
			store_fault(b->store, op, rv);
			return;
		}
		if (!op->in.queue.create && !seen) {
			refuse(op, CAIRN_NOT_FOUND,
			    "queue '%s' has no tasks and no settings; set "
			    "create (the CLI's --create) to configure it "
			    "before its first task",
			    in->queue);
			return;
		}
	} else if (rv != CAIRN_OK) {
		store_fault(b->store, op, rv);
		return;
	}
	merge(&q, in, op->in.queue.fields);
	q.updated_ms = now;
	if ((rv = store_queue_put(b->store, &q)) != CAIRN_OK) {
		store_fault(b->store, op, rv);
		return;
	}
	if ((op->out.queues.qs = one_copy(&q)) == NULL) {
		refuse(op, CAIRN_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	op->out.queues.n = 1;
	op->status = CAIRN_OK;
	/* Leases parked on the old limits try the new ones. */
	engine_batch_made_due(b, q.queue, UINT32_MAX / 2);
}

void
engine_apply_queue_get(
    struct engine_batch *b, struct engine_op *op, int64_t now)
{
	const char *queue = op->in.queue.settings->queue;
	struct queue_settings q;
	bool seen = false;
	int rv;

	(void) now;
	rv = store_queue_get(b->store, queue, false, &q);
	if (rv == CAIRN_NOT_FOUND) {
		/* A queue that exists by its tasks has the defaults. */
		if ((rv = known(b->store, queue, &seen)) != CAIRN_OK) {
			store_fault(b->store, op, rv);
			return;
		}
		if (!seen) {
			refuse(op, CAIRN_NOT_FOUND,
			    "queue '%s' has no tasks and no settings", queue);
			return;
		}
		memset(&q, 0, sizeof(q));
		snprintf(q.queue, sizeof(q.queue), "%s", queue);
	} else if (rv != CAIRN_OK) {
		store_fault(b->store, op, rv);
		return;
	}
	if ((op->out.queues.qs = one_copy(&q)) == NULL) {
		refuse(op, CAIRN_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	op->out.queues.n = 1;
	op->status = CAIRN_OK;
}

void
engine_apply_queue_list(
    struct engine_batch *b, struct engine_op *op, int64_t now)
{
	int rv;

	(void) now;
	op->out.queues.qs = NULL;
	op->out.queues.n = 0;
	if (!store_has_queues(b->store)) {
		op->status = CAIRN_OK;
		return;
	}
	rv = store_queue_list(b->store, &op->out.queues.qs, &op->out.queues.n);
	if (rv != CAIRN_OK) {
		store_fault(b->store, op, rv);
		return;
	}
	op->status = CAIRN_OK;
}
