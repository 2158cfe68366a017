/*
 * engine/park.c - long-polls that found nothing: parked until a commit may
 * satisfy them (woken, then applied again in the next transaction) or
 * their wait ends. Engine thread only.
 */
#include <string.h>

#include "engine/internal.h"

void
engine_list_push(struct engine_list *l, struct engine_op *op)
{
	op->next = NULL;
	if (l->tail != NULL) {
		l->tail->next = op;
	} else {
		l->head = op;
	}
	l->tail = op;
	l->n++;
}

struct engine_op *
engine_list_take(struct engine_list *l)
{
	struct engine_op *head = l->head;

	memset(l, 0, sizeof(*l));
	return (head);
}

void
engine_list_append(struct engine_list *l, struct engine_list *from)
{
	struct engine_op *op = engine_list_take(from);

	while (op != NULL) {
		struct engine_op *next = op->next;
		engine_list_push(l, op);
		op = next;
	}
}

/* remove_if moves every op of l for which pred holds, in order, to out. */
static void
remove_if(struct engine_list *l, bool (*pred)(struct engine_op *, void *),
    void *arg, struct engine_list *out)
{
	struct engine_op *op = engine_list_take(l);

	while (op != NULL) {
		struct engine_op *next = op->next;
		engine_list_push(pred(op, arg) ? out : l, op);
		op = next;
	}
}

/* should_park says whether op found nothing and still has time to wait. */
static bool
should_park(const struct engine_op *op, int64_t now, bool stopping)
{
	if (stopping || op->status != CAIRN_OK || op->wait_until <= now) {
		return (false);
	}
	return (!engine_op_found(op));
}

void
engine_park_settle(struct engine_parking *pk, struct engine_op *list,
    int64_t now, bool stopping)
{
	while (list != NULL) {
		struct engine_op *next = list->next;
		bool park = should_park(list, now, stopping);
		if (park && pk->max > 0
		    && pk->leases.n + pk->awaits.n >= pk->max) {
			/* Each parked op holds a server context: past the
			 * limit, refuse rather than leave none to others. */
			engine_op_clear(list);
			list->status = CAIRN_RESOURCE_EXHAUSTED;
			snprintf(list->msg, sizeof(list->msg),
			    "too many long-polls waiting (%u); retry later",
			    pk->max);
			engine_answer(list);
		} else if (park) {
			engine_op_clear(list);
			bool due = engine_op_class(list->kind)->park
			    == ENGINE_PARK_DUE;
			engine_list_push(
			    due ? &pk->leases : &pk->awaits, list);
		} else {
			engine_answer(list);
		}
		list = next;
	}
}

/* takes_due says whether a parked lease wants a queue that b made tasks
 * due in, and counts the tasks it may take off what is left. */
static bool
takes_due(struct engine_op *op, void *arg)
{
	struct engine_batch *b = arg;
	struct engine_reads r = { 0 };

	if (b->due_overflow) {
		return (true);
	}
	/* The queues it waits on are those its class says it picks from. */
	engine_op_class(op->kind)->reads(op, NULL, &r);
	const struct lease_request *req = r.lease;
	for (size_t q = 0; req != NULL && q < req->nqueues; q++) {
		for (size_t i = 0; i < b->ndue; i++) {
			if (b->due[i].count == 0
			    || strcmp(b->due[i].queue, req->queues[q]) != 0) {
				continue;
			}
			uint32_t k = req->max_tasks;
			b->due[i].count
			    -= k < b->due[i].count ? k : b->due[i].count;
			return (true);
		}
	}
	return (false);
}

void
engine_park_wake(struct engine_parking *pk, struct engine_batch *b)
{
	if (b->ndue > 0 || b->due_overflow) {
		remove_if(&pk->leases, takes_due, b, &pk->woken);
	}
	if (b->terminal_changed) {
		engine_list_append(&pk->woken, &pk->awaits);
	}
}

void
engine_park_wake_leases(struct engine_parking *pk)
{
	engine_list_append(&pk->woken, &pk->leases);
}

static bool
wait_over(struct engine_op *op, void *arg)
{
	const int64_t *now = arg;

	return (op->wait_until <= *now);
}

void
engine_park_expire(struct engine_parking *pk, int64_t now, bool stopping)
{
	struct engine_list done = { 0 }, waited = { 0 };
	int64_t until = stopping ? INT64_MAX : now;

	/* A lease whose wait ended answers empty at once; an await goes
	 * through one more read, which answers it as the task is. */
	remove_if(&pk->leases, wait_over, &until, &done);
	for (struct engine_op *op = engine_list_take(&done); op != NULL;) {
		struct engine_op *next = op->next;
		op->status = CAIRN_OK;
		engine_answer(op);
		op = next;
	}
	remove_if(&pk->awaits, wait_over, &until, &waited);
	for (struct engine_op *op = waited.head; op != NULL; op = op->next) {
		op->wait_until = 0;
	}
	engine_list_append(&pk->woken, &waited);
}

int64_t
engine_park_next_timer(const struct engine_parking *pk, int64_t t)
{
	for (const struct engine_op *o = pk->leases.head; o; o = o->next) {
		t = o->wait_until < t ? o->wait_until : t;
	}
	for (const struct engine_op *o = pk->awaits.head; o; o = o->next) {
		t = o->wait_until < t ? o->wait_until : t;
	}
	return (t);
}
