/*
 * rpc/admin.c - the rpcs that operators and producers use to steer and
 * inspect tasks: Cancel and Retry (both change a task), Get, List, Stats,
 * Await, History, and Ping, which touches no storage. (The worker's rpcs
 * are in work.c, the batches in batch.c, Backup in backup.c.)
 */
#include <stdlib.h>
#include <time.h>

#include "rpc/convert.h"
#include "rpc/handlers.h"

#define LIST_DEFAULT 100
#define LIST_MAX     1000

static void
cancel_done(struct engine_op *op)
{
	struct rpc_ctx *c = op->arg;
	Cairn__V1__CancelResponse resp = CAIRN__V1__CANCEL_RESPONSE__INIT;

	if (!rpc_done_error(c)) {
		resp.state = (Cairn__V1__TaskState) op->out.state;
		c->closure(&resp.base, c);
	}
}

void
rpc_cancel(Cairn__V1__Queue_Service *svc, const Cairn__V1__CancelRequest *in,
    Cairn__V1__CancelResponse_Closure closure, void *data)
{
	struct rpc_ctx *c = data;
	int rv = rpc_check_id("id", in->id, c->msg);

	if (rv != CAIRN_OK) {
		rpc_reply_error(c, rv);
		return;
	}
	c->op.kind = OP_CANCEL;
	c->op.in.id = in->id;
	rpc_submit(c, (ProtobufCClosure) closure, cancel_done);
}

/* one_task_done answers Retry, Get and Await, which carry one task. */
static void
one_task_done(struct engine_op *op)
{
	struct rpc_ctx *c = op->arg;
	struct pb_task pb;

	if (rpc_done_error(c)) {
		return;
	}
	rpc_task_to_pb(op->out.one.task, &pb);
	switch (op->kind) {
	case OP_RETRY: {
		Cairn__V1__RetryResponse r = CAIRN__V1__RETRY_RESPONSE__INIT;
		r.task = &pb.task;
		c->closure(&r.base, c);
		break;
	}
	case OP_AWAIT: {
		Cairn__V1__AwaitResponse r = CAIRN__V1__AWAIT_RESPONSE__INIT;
		r.task = &pb.task;
		r.done = op->out.one.done;
		c->closure(&r.base, c);
		break;
	}
	default: {
		Cairn__V1__GetResponse r = CAIRN__V1__GET_RESPONSE__INIT;
		r.task = &pb.task;
		c->closure(&r.base, c);
		break;
	}
	}
}

void
rpc_retry(Cairn__V1__Queue_Service *svc, const Cairn__V1__RetryRequest *in,
    Cairn__V1__RetryResponse_Closure closure, void *data)
{
	struct rpc_ctx *c = data;
	int rv = rpc_check_id("id", in->id, c->msg);

	if (rv != CAIRN_OK) {
		rpc_reply_error(c, rv);
		return;
	}
	c->op.kind = OP_RETRY;
	c->op.in.id = in->id;
	rpc_submit(c, (ProtobufCClosure) closure, one_task_done);
}

void
rpc_get(Cairn__V1__Queue_Service *svc, const Cairn__V1__GetRequest *in,
    Cairn__V1__GetResponse_Closure closure, void *data)
{
	struct rpc_ctx *c = data;
	int rv = rpc_check_id("id", in->id, c->msg);

	if (rv != CAIRN_OK) {
		rpc_reply_error(c, rv);
		return;
	}
	c->op.kind = OP_GET;
	c->op.in.id = in->id;
	rpc_submit(c, (ProtobufCClosure) closure, one_task_done);
}

void
rpc_await(Cairn__V1__Queue_Service *svc, const Cairn__V1__AwaitRequest *in,
    Cairn__V1__AwaitResponse_Closure closure, void *data)
{
	struct rpc_ctx *c = data;
	int rv;

	if ((rv = rpc_check_id("id", in->id, c->msg)) != CAIRN_OK
	    || (rv = rpc_check_duration("wait_ms", in->wait_ms, c->msg))
	        != CAIRN_OK) {
		rpc_reply_error(c, rv);
		return;
	}
	c->op.kind = OP_AWAIT;
	c->op.in.await.id = in->id;
	c->op.in.await.wait_ms = in->wait_ms;
	rpc_submit(c, (ProtobufCClosure) closure, one_task_done);
}

static void
list_done(struct engine_op *op)
{
	struct rpc_ctx *c = op->arg;
	Cairn__V1__ListResponse resp = CAIRN__V1__LIST_RESPONSE__INIT;

	if (rpc_done_error(c)) {
		return;
	}
	resp.tasks = rpc_tasks_to_pb(op->out.tasks.tasks, op->out.tasks.n);
	if (resp.tasks == NULL) {
		rpc_refuse(c, CAIRN_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	resp.n_tasks = op->out.tasks.n;
	resp.next_after_id = op->out.tasks.next_after_id;
	c->closure(&resp.base, c);
	free(resp.tasks);
}

void
rpc_list(Cairn__V1__Queue_Service *svc, const Cairn__V1__ListRequest *in,
    Cairn__V1__ListResponse_Closure closure, void *data)
{
	struct rpc_ctx *c = data;

	int rv = rpc_check_queue("queue", in->queue, c->msg);

	if (rv != CAIRN_OK) {
		rpc_reply_error(c, rv);
		return;
	}
	if ((int) in->state < 0
	    || in->state > CAIRN__V1__TASK_STATE__CANCELED) {
		rpc_refuse(c, CAIRN_INVALID_ARGUMENT,
		    "state: unknown value %d", (int) in->state);
		return;
	}
	if (in->limit > LIST_MAX || in->after_id > INT64_MAX) {
		rpc_refuse(c, CAIRN_INVALID_ARGUMENT,
		    "limit: at most %d; after_id: a task id", LIST_MAX);
		return;
	}
	c->op.kind = OP_LIST;
	c->op.in.list.queue = in->queue;
	c->op.in.list.state = (cairn_state) in->state;
	c->op.in.list.limit = in->limit == 0 ? LIST_DEFAULT : in->limit;
	c->op.in.list.after_id = in->after_id;
	rpc_submit(c, (ProtobufCClosure) closure, list_done);
}

static void
stats_done(struct engine_op *op)
{
	struct rpc_ctx *c = op->arg;
	Cairn__V1__StatsResponse resp = CAIRN__V1__STATS_RESPONSE__INIT;
	size_t n = op->out.stats.n;

	if (rpc_done_error(c)) {
		return;
	}
	Cairn__V1__QueueStats **ptrs = NULL;
	Cairn__V1__QueueStats *qs
	    = cairn__pb_array(n, sizeof(*qs), (void ***) &ptrs);
	if (qs == NULL) {
		free(ptrs);
		rpc_refuse(c, CAIRN_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct queue_stats *s = &op->out.stats.st[i];
		cairn__v1__queue_stats__init(&qs[i]);
		qs[i].queue = s->queue;
		qs[i].pending = s->count[CAIRN_PENDING];
		qs[i].active = s->count[CAIRN_ACTIVE];
		qs[i].succeeded = s->count[CAIRN_SUCCEEDED];
		qs[i].failed = s->count[CAIRN_FAILED];
		qs[i].canceled = s->count[CAIRN_CANCELED];
		qs[i].due = s->due;
		qs[i].oldest_due_age_ms = s->oldest_due_age_ms;
	}
	resp.n_queues = n;
	resp.queues = ptrs;
	c->closure(&resp.base, c);
	free(ptrs);
}

void
rpc_stats(Cairn__V1__Queue_Service *svc, const Cairn__V1__StatsRequest *in,
    Cairn__V1__StatsResponse_Closure closure, void *data)
{
	struct rpc_ctx *c = data;

	int rv;

	if (in->queue[0] != 0
	    && (rv = rpc_check_queue("queue", in->queue, c->msg))
	        != CAIRN_OK) {
		rpc_reply_error(c, rv);
		return;
	}
	c->op.kind = OP_STATS;
	c->op.in.stats_queue = in->queue[0] != 0 ? in->queue : NULL;
	rpc_submit(c, (ProtobufCClosure) closure, stats_done);
}

static void
history_done(struct engine_op *op)
{
	struct rpc_ctx *c = op->arg;
	Cairn__V1__HistoryResponse resp = CAIRN__V1__HISTORY_RESPONSE__INIT;
	size_t n = op->out.history.n;

	if (rpc_done_error(c)) {
		return;
	}
	Cairn__V1__Event **ptrs = NULL;
	Cairn__V1__Event *ev
	    = cairn__pb_array(n, sizeof(*ev), (void ***) &ptrs);
	if (ev == NULL) {
		free(ptrs);
		rpc_refuse(c, CAIRN_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct task_event *e = &op->out.history.ev[i];
		cairn__v1__event__init(&ev[i]);
		ev[i].at_ms = e->at_ms;
		ev[i].kind = e->kind;
		ev[i].attempt = e->attempt;
		ev[i].worker_id = e->worker_id != NULL ? e->worker_id : "";
		ev[i].message = e->message != NULL ? e->message : "";
	}
	resp.n_events = n;
	resp.events = ptrs;
	c->closure(&resp.base, c);
	free(ptrs);
}

void
rpc_history(Cairn__V1__Queue_Service *svc, const Cairn__V1__HistoryRequest *in,
    Cairn__V1__HistoryResponse_Closure closure, void *data)
{
	struct rpc_ctx *c = data;
	int rv = rpc_check_id("id", in->id, c->msg);

	if (rv != CAIRN_OK) {
		rpc_reply_error(c, rv);
		return;
	}
	c->op.kind = OP_HISTORY;
	c->op.in.id = in->id;
	rpc_submit(c, (ProtobufCClosure) closure, history_done);
}

void
rpc_ping(Cairn__V1__Queue_Service *svc, const Cairn__V1__PingRequest *in,
    Cairn__V1__PingResponse_Closure closure, void *data)
{
	struct rpc_ctx *c = data;
	Cairn__V1__PingResponse resp = CAIRN__V1__PING_RESPONSE__INIT;

	resp.server_time_ms = engine_now(c->srv->engine);
	resp.version = (char *) c->srv->cfg.version;
	closure(&resp, c);
}
