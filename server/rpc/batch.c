/*
 * rpc/batch.c - CompleteBatch and HeartbeatBatch: many completions or
 * heartbeats in one request, applied by one engine op in one commit, with
 * a result per item. They exist for speed: a worker that holds many tasks
 * pays one round trip and one share of a commit for all of them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/convert.h"
#include "rpc/internal.h"
#include "rpc/handlers.h"

/* new_items checks the size of a batch and allocates its items as the
 * request's scratch; NULL when refused. */
static struct touch_item *
new_items(struct rpc_ctx *c, size_t n)
{
	uint32_t max = c->srv->cfg.limits.max_batch_tasks;

	if (n == 0 || n > max) {
		rpc_refuse(c, CAIRN_INVALID_ARGUMENT,
		    "tasks: a batch has 1 to %u tasks, not %zu", max, n);
		return (NULL);
	}
	if ((c->scratch = calloc(n, sizeof(struct touch_item))) == NULL) {
		rpc_refuse(c, CAIRN_RESOURCE_EXHAUSTED, "out of memory");
	}
	return (c->scratch);
}

/* status_text gives the message of an item's result: empty when OK. */
static char *
status_text(struct touch_item *it)
{
	return (it->status == CAIRN_OK ? "" : it->msg);
}

/* results begins the reply to a batch: NULL when the request was answered
 * already (the engine's error, or no memory for the n results of size
 * bytes; what says what took effect all the same). */
static void *
results(
    struct rpc_ctx *c, size_t n, size_t size, void ***ptrs, const char *what)
{
	void *first;

	if (rpc_done_error(c)) {
		return (NULL);
	}
	if ((first = cairn__pb_array(n, size, ptrs)) == NULL) {
		rpc_refuse(c, CAIRN_RESOURCE_EXHAUSTED,
		    "out of memory; the %s took effect", what);
	}
	return (first);
}

static void
complete_batch_done(struct engine_op *op)
{
	struct rpc_ctx *c = op->arg;
	Cairn__V1__CompleteBatchResponse resp
	    = CAIRN__V1__COMPLETE_BATCH_RESPONSE__INIT;
	size_t n = op->in.batch.n;

	Cairn__V1__BatchResult **ptrs = NULL;
	Cairn__V1__BatchResult *res
	    = results(c, n, sizeof(*res), (void ***) &ptrs, "completions");
	if (res == NULL) {
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct touch_item *it = &op->in.batch.items[i];
		cairn__v1__batch_result__init(&res[i]);
		res[i].code = (Cairn__V1__Code) it->status;
		res[i].message = status_text(it);
	}
	resp.n_results = n;
	resp.results = ptrs;
	c->closure(&resp.base, c);
	free(ptrs);
}

void
rpc_complete_batch(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__CompleteBatchRequest *in,
    Cairn__V1__CompleteBatchResponse_Closure closure, void *data)
{
	struct rpc_ctx *c = data;
	size_t max = c->srv->cfg.limits.max_payload;
	struct touch_item *items;
	size_t n = in->n_tasks;

	for (size_t i = 0; i < n; i++) {
		const Cairn__V1__CompleteRequest *t = in->tasks[i];
		int rv = rpc_check_item(i, t->id, t->lease_token,
		    t->result.len, "result", max, c->msg);
		if (rv != CAIRN_OK) {
			rpc_reply_error(c, rv);
			return;
		}
		if (t->lease_next) {
			rpc_refuse(c, CAIRN_INVALID_ARGUMENT,
			    "tasks[%zu].lease_next: not in a batch", i);
			return;
		}
	}
	if ((items = new_items(c, n)) == NULL) {
		return;
	}
	for (size_t i = 0; i < n; i++) {
		items[i].id = in->tasks[i]->id;
		items[i].token = in->tasks[i]->lease_token;
		items[i].data = in->tasks[i]->result.data;
		items[i].len = in->tasks[i]->result.len;
	}
	c->op.kind = OP_COMPLETE_BATCH;
	c->op.in.batch.items = items;
	c->op.in.batch.n = n;
	rpc_submit(c, (ProtobufCClosure) closure, complete_batch_done);
}

static void
heartbeat_batch_done(struct engine_op *op)
{
	struct rpc_ctx *c = op->arg;
	Cairn__V1__HeartbeatBatchResponse resp
	    = CAIRN__V1__HEARTBEAT_BATCH_RESPONSE__INIT;
	size_t n = op->in.batch.n;

	Cairn__V1__HeartbeatBatchResult **ptrs = NULL;
	Cairn__V1__HeartbeatBatchResult *res
	    = results(c, n, sizeof(*res), (void ***) &ptrs, "heartbeats");
	if (res == NULL) {
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct touch_item *it = &op->in.batch.items[i];
		cairn__v1__heartbeat_batch_result__init(&res[i]);
		res[i].code = (Cairn__V1__Code) it->status;
		res[i].message = status_text(it);
		if (it->status == CAIRN_OK) {
			res[i].cancel_requested = it->cancel_requested;
			res[i].deadline_ms = it->deadline;
		}
	}
	resp.n_results = n;
	resp.results = ptrs;
	c->closure(&resp.base, c);
	free(ptrs);
}

void
rpc_heartbeat_batch(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__HeartbeatBatchRequest *in,
    Cairn__V1__HeartbeatBatchResponse_Closure closure, void *data)
{
	struct rpc_ctx *c = data;
	size_t max = c->srv->cfg.limits.max_payload;
	struct touch_item *items;
	size_t n = in->n_tasks;

	for (size_t i = 0; i < n; i++) {
		const Cairn__V1__HeartbeatRequest *t = in->tasks[i];
		int rv = rpc_check_item(i, t->id, t->lease_token,
		    t->details.len, "details", max, c->msg);
		if (rv != CAIRN_OK) {
			rpc_reply_error(c, rv);
			return;
		}
	}
	if ((items = new_items(c, n)) == NULL) {
		return;
	}
	for (size_t i = 0; i < n; i++) {
		items[i].id = in->tasks[i]->id;
		items[i].token = in->tasks[i]->lease_token;
		items[i].data = in->tasks[i]->details.data;
		items[i].len = in->tasks[i]->details.len;
	}
	c->op.kind = OP_HEARTBEAT_BATCH;
	c->op.in.batch.items = items;
	c->op.in.batch.n = n;
	rpc_submit(c, (ProtobufCClosure) closure, heartbeat_batch_done);
}
