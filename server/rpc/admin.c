/*
 * rpc/admin.c - the rpcs that operators and producers use to steer and
 * inspect tasks: Cancel and Retry (both change a task), Get, List, Stats,
 * Await, History, and Ping, which touches no storage. (The worker's rpcs
 * are in work.c, the batches in batch.c, Backup in backup.c.)
 */
#include <stdlib.h>
#include <string.h>
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

/* settings_of returns the settings of queue among the n of qs, or NULL. */
static const struct queue_settings *
settings_of(const struct queue_settings *qs, size_t n, const char *queue)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(qs[i].queue, queue) == 0) {
			return (&qs[i]);
		}
	}
	return (NULL);
}

/* extra_queues counts the configured queues that hold no task, which
 * Stats shows too (with zero counts), as asked for. */
static size_t
extra_queues(const struct engine_op *op)
{
	const char *only = op->in.stats_queue;
	size_t extra = 0;

	for (size_t i = 0; i < op->out.stats.nqs; i++) {
		const char *q = op->out.stats.qs[i].queue;
		bool counted = false;
		for (size_t k = 0; k < op->out.stats.n && !counted; k++) {
			counted = strcmp(op->out.stats.st[k].queue, q) == 0;
		}
		extra += !counted && (only == NULL || strcmp(only, q) == 0);
	}
	return (extra);
}

static void
stats_done(struct engine_op *op)
{
	struct rpc_ctx *c = op->arg;
	Cairn__V1__StatsResponse resp = CAIRN__V1__STATS_RESPONSE__INIT;
	size_t n = op->out.stats.n, total, next;
	const struct queue_settings *qs = op->out.stats.qs, *set;
	size_t nqs = op->out.stats.nqs;

	if (rpc_done_error(c)) {
		return;
	}
	total = n + extra_queues(op);
	Cairn__V1__QueueStats **ptrs = NULL;
	Cairn__V1__QueueStats *out
	    = cairn__pb_array(total, sizeof(*out), (void ***) &ptrs);
	struct pb_queue *pb = calloc(total + 1, sizeof(*pb));
	if (out == NULL || pb == NULL) {
		free(ptrs);
		free(pb);
		rpc_refuse(c, CAIRN_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct queue_stats *s = &op->out.stats.st[i];
		cairn__v1__queue_stats__init(&out[i]);
		out[i].queue = s->queue;
		out[i].pending = s->count[CAIRN_PENDING];
		out[i].active = s->count[CAIRN_ACTIVE];
		out[i].succeeded = s->count[CAIRN_SUCCEEDED];
		out[i].failed = s->count[CAIRN_FAILED];
		out[i].canceled = s->count[CAIRN_CANCELED];
		out[i].due = s->due;
		out[i].oldest_due_age_ms = s->oldest_due_age_ms;
		if ((set = settings_of(qs, nqs, s->queue)) != NULL) {
			rpc_queue_to_pb(set, &pb[i]);
			out[i].settings = &pb[i].s;
		}
	}
	next = n;
	for (size_t i = 0; i < nqs && next < total; i++) {
		bool counted = false;
		for (size_t k = 0; k < n && !counted; k++) {
			counted
			    = strcmp(op->out.stats.st[k].queue, qs[i].queue)
			    == 0;
		}
		if (counted
		    || (op->in.stats_queue != NULL
		        && strcmp(op->in.stats_queue, qs[i].queue) != 0)) {
			continue;
		}
		cairn__v1__queue_stats__init(&out[next]);
		out[next].queue = (char *) qs[i].queue;
		rpc_queue_to_pb(&qs[i], &pb[next]);
		out[next].settings = &pb[next].s;
		next++;
	}
	resp.n_queues = total;
	resp.queues = ptrs;
	c->closure(&resp.base, c);
	free(ptrs);
	free(pb);
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
