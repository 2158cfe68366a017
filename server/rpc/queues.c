/*
 * rpc/queues.c - the rpcs of per-queue settings: SetQueue, GetQueue,
 * ListQueues, and the conversion of settings to and from the wire (Stats
 * shows them too, rpc/admin.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/convert.h"
#include "rpc/handlers.h"

void
rpc_queue_to_pb(const struct queue_settings *q, struct pb_queue *pb)
{
	cairn__v1__queue_settings__init(&pb->s);
	cairn__v1__rate_limit__init(&pb->rate);
	cairn__v1__retry_policy__init(&pb->retry);
	pb->s.queue = (char *) q->queue;
	pb->s.paused = q->paused;
	pb->s.max_active = q->max_active;
	if (q->rate_count > 0) {
		pb->rate.count = q->rate_count;
		pb->rate.interval_ms = q->rate_interval_ms;
		pb->rate.burst = q->rate_burst;
		pb->s.rate = &pb->rate;
	}
	pb->s.max_attempts = q->max_attempts;
	if (q->retry.initial_ms != 0 || q->retry.multiplier != 0
	    || q->retry.max_ms != 0) {
		pb->retry.initial_backoff_ms = q->retry.initial_ms;
		pb->retry.multiplier = q->retry.multiplier;
		pb->retry.max_backoff_ms = q->retry.max_ms;
		pb->s.retry = &pb->retry;
	}
	pb->s.heartbeat_timeout_ms = q->heartbeat_timeout_ms;
	pb->s.start_to_close_timeout_ms = q->start_to_close_ms;
	pb->s.updated_at_ms = q->updated_ms;
}

/* from_pb fills q from checked settings. */
static void
from_pb(const Cairn__V1__QueueSettings *s, struct queue_settings *q)
{
	memset(q, 0, sizeof(*q));
	snprintf(q->queue, sizeof(q->queue), "%s", s->queue);
	q->paused = s->paused;
	q->max_active = s->max_active;
	if (s->rate != NULL && s->rate->count > 0) {
		q->rate_count = s->rate->count;
		q->rate_interval_ms = s->rate->interval_ms;
		q->rate_burst = s->rate->burst;
	}
	q->max_attempts = s->max_attempts;
	if (s->retry != NULL) {
		q->retry.initial_ms = s->retry->initial_backoff_ms;
		q->retry.multiplier = s->retry->multiplier;
		q->retry.max_ms = s->retry->max_backoff_ms;
	}
	q->heartbeat_timeout_ms = s->heartbeat_timeout_ms;
	q->start_to_close_ms = s->start_to_close_timeout_ms;
}

/* one_done answers SetQueue and GetQueue, which carry one queue. */
static void
one_done(struct engine_op *op)
{
	struct rpc_ctx *c = op->arg;
	struct pb_queue pb;

	if (rpc_done_error(c)) {
		return;
	}
	rpc_queue_to_pb(&op->out.queues.qs[0], &pb);
	if (op->kind == OP_QUEUE_SET) {
		Cairn__V1__SetQueueResponse r
		    = CAIRN__V1__SET_QUEUE_RESPONSE__INIT;
		r.settings = &pb.s;
		c->closure(&r.base, c);
	} else {
		Cairn__V1__GetQueueResponse r
		    = CAIRN__V1__GET_QUEUE_RESPONSE__INIT;
		r.settings = &pb.s;
		c->closure(&r.base, c);
	}
}

void
rpc_set_queue(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__SetQueueRequest *in,
    Cairn__V1__SetQueueResponse_Closure closure, void *data)
{
	struct rpc_ctx *c = data;
	struct queue_settings *q;
	unsigned bits;
	int rv;

	(void) svc;
	if ((rv = rpc_check_queue_set(in, &bits, c->msg)) != CAIRN_OK) {
		rpc_reply_error(c, rv);
		return;
	}
	if ((q = malloc(sizeof(*q))) == NULL) {
		rpc_refuse(c, CAIRN_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	from_pb(in->settings, q);
	c->scratch = q;
	c->op.kind = OP_QUEUE_SET;
	c->op.in.queue.settings = q;
	c->op.in.queue.fields = bits;
	c->op.in.queue.create = in->create;
	rpc_submit(c, (ProtobufCClosure) closure, one_done);
}

void
rpc_get_queue(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__GetQueueRequest *in,
    Cairn__V1__GetQueueResponse_Closure closure, void *data)
{
	struct rpc_ctx *c = data;
	struct queue_settings *q;
	int rv;

	(void) svc;
	if ((rv = rpc_check_queue("queue", in->queue, c->msg)) != CAIRN_OK) {
		rpc_reply_error(c, rv);
		return;
	}
	if ((q = calloc(1, sizeof(*q))) == NULL) {
		rpc_refuse(c, CAIRN_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	snprintf(q->queue, sizeof(q->queue), "%s", in->queue);
	c->scratch = q;
	c->op.kind = OP_QUEUE_GET;
	c->op.in.queue.settings = q;
	rpc_submit(c, (ProtobufCClosure) closure, one_done);
}

static void
list_done(struct engine_op *op)
{
	struct rpc_ctx *c = op->arg;
	Cairn__V1__ListQueuesResponse r
	    = CAIRN__V1__LIST_QUEUES_RESPONSE__INIT;
	size_t n = op->out.queues.n;
	Cairn__V1__QueueSettings **ptrs = NULL;
	struct pb_queue *pb;

	if (rpc_done_error(c)) {
		return;
	}
	pb = calloc(n + 1, sizeof(*pb));
	ptrs = calloc(n + 1, sizeof(*ptrs));
	if (pb == NULL || ptrs == NULL) {
		free(pb);
		free(ptrs);
		rpc_refuse(c, CAIRN_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		rpc_queue_to_pb(&op->out.queues.qs[i], &pb[i]);
		ptrs[i] = &pb[i].s;
	}
	r.queues = ptrs;
	r.n_queues = n;
	c->closure(&r.base, c);
	free(ptrs);
	free(pb);
}

void
rpc_list_queues(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__ListQueuesRequest *in,
    Cairn__V1__ListQueuesResponse_Closure closure, void *data)
{
	struct rpc_ctx *c = data;

	(void) svc;
	(void) in;
	c->op.kind = OP_QUEUE_LIST;
	rpc_submit(c, (ProtobufCClosure) closure, list_done);
}
