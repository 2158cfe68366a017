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

size_t
engine_parked(const struct engine_parking *pk)
{
	size_t n = 0;

	for (int k = 0; k < ENGINE_PARK_COUNT_; k++) {
		n += pk->parked[k].n;
	}
	return (n);
}

void
engine_park_settle(struct engine_parking *pk, struct engine_op *list,
    int64_t now, bool stopping)
{
	while (list != NULL) {
		struct engine_op *next = list->next;
		bool park = should_park(list, now, stopping);
		if (park && pk->max > 0 && engine_parked(pk) >= pk->max) {
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
			engine_list_push(
			    &pk->parked[engine_op_class(list->kind)->park],
			    list);
		} else {
			engine_answer(list);
		}
		list = next;
	}
}

/* takes counts, in d, the work that a lease of at most max items from
 * queue may take, and says whether there is any. */
static bool
takes(struct engine_due *d, const char *queue, uint32_t max)
{
	for (size_t i = 0; i < d->n; i++) {
		if (d->slot[i].count == 0
		    || strcmp(d->slot[i].queue, queue) != 0) {
			continue;
		}
		d->slot[i].count
		    -= max < d->slot[i].count ? max : d->slot[i].count;
		return (true);
	}
	return (false);
}

/* takes_due says whether a parked lease wants a queue that b made tasks
 * due in, and counts the tasks it may take off what is left. */
static bool
takes_due(struct engine_op *op, void *arg)
{
	struct engine_batch *b = arg;
	struct engine_reads r = { 0 };

	if (b->due.overflow) {
		return (true);
	}
	/* The queues it waits on are those its class says it picks from. */
	engine_op_class(op->kind)->reads(op, NULL, &r);
	const struct lease_request *req = r.lease;
	for (size_t q = 0; req != NULL && q < req->nqueues; q++) {
		if (takes(&b->due, req->queues[q], req->max_tasks)) {
			return (true);
		}
	}
	return (false);
}

/* takes_ready is takes_due for a parked lease of runs, which takes one. */
static bool
takes_ready(struct engine_op *op, void *arg)
{
	struct engine_batch *b = arg;
	struct engine_reads r = { 0 };

	if (b->ready.overflow) {
		return (true);
	}
	engine_op_class(op->kind)->reads(op, NULL, &r);
	const struct wf_lease_request *req = r.wf_lease;
	for (size_t q = 0; req != NULL && q < req->nqueues; q++) {
		if (takes(&b->ready, req->queues[q], 1)) {
			return (true);
		}
	}
	return (false);
}

void
engine_park_wake(struct engine_parking *pk, struct engine_batch *b)
{
	if (b->due.n > 0 || b->due.overflow) {
		remove_if(
		    &pk->parked[ENGINE_PARK_DUE], takes_due, b, &pk->woken);
	}
	if (b->ready.n > 0 || b->ready.overflow) {
		remove_if(&pk->parked[ENGINE_PARK_RUNNABLE], takes_ready, b,
		    &pk->woken);
	}
	if (b->terminal_changed) {
		engine_list_append(
		    &pk->woken, &pk->parked[ENGINE_PARK_TERMINAL]);
	}
	if (b->runs_finished) {
		engine_list_append(
		    &pk->woken, &pk->parked[ENGINE_PARK_RUN_END]);
	}
}

void
engine_park_wake_leases(struct engine_parking *pk)
{
	engine_list_append(&pk->woken, &pk->parked[ENGINE_PARK_DUE]);
	engine_list_append(&pk->woken, &pk->parked[ENGINE_PARK_RUNNABLE]);
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
	int64_t until = stopping ? INT64_MAX : now;

	for (int k = ENGINE_PARK_NEVER + 1; k < ENGINE_PARK_COUNT_; k++) {
		struct engine_list over = { 0 };
		remove_if(&pk->parked[k], wait_over, &until, &over);
		if (k == ENGINE_PARK_DUE || k == ENGINE_PARK_RUNNABLE) {
			/* A lease whose wait ended answers empty at once. */
			for (struct engine_op *op = engine_list_take(&over);
			     op != NULL;) {
				struct engine_op *next = op->next;
				op->status = CAIRN_OK;
				engine_answer(op);
				op = next;
			}
			continue;
		}
		/* An await goes through one more read, which answers it as
		 * the task or run is. */
		for (struct engine_op *op = over.head; op; op = op->next) {
			op->wait_until = 0;
		}
		engine_list_append(&pk->woken, &over);
	}
}

static bool
on_conn(struct engine_op *op, void *arg)
{
	return (op->conn == *(const uint32_t *) arg);
}

void
engine_park_drop_conn(struct engine_parking *pk, uint32_t conn)
{
	static const int leases[] = { ENGINE_PARK_DUE, ENGINE_PARK_RUNNABLE };
	struct engine_list gone = { 0 };

	if (conn == 0) {
		return;
	}
	for (size_t k = 0; k < sizeof(leases) / sizeof(leases[0]); k++) {
		remove_if(&pk->parked[leases[k]], on_conn, &conn, &gone);
	}
	for (struct engine_op *op = engine_list_take(&gone); op != NULL;) {
		struct engine_op *next = op->next;
		op->status = CAIRN_OK; /* empty; nobody reads it */
		engine_answer(op);
		op = next;
	}
}

int64_t
engine_park_next_timer(const struct engine_parking *pk, int64_t t)
{
	for (int k = 0; k < ENGINE_PARK_COUNT_; k++) {
		for (const struct engine_op *o = pk->parked[k].head; o;
		     o = o->next) {
			t = o->wait_until < t ? o->wait_until : t;
		}
	}
	return (t);
}
