/*
 * rpc/work.c - the rpcs that producers and workers make: Enqueue, Lease,
 * Heartbeat, Complete, Fail and Release. Each handler validates its request,
 * turns it into an engine op, and replies from the op's done callback
 * once the engine has committed.
 */
#include <stdlib.h>
#include <string.h>

#include "rpc/convert.h"
#include "rpc/internal.h"
#include "rpc/handlers.h"

#define MAX_LEASE_QUEUES 16

static void
enqueue_done(struct engine_op *op)
{
	struct rpc_ctx *c = op->arg;
	Cairn__V1__EnqueueResponse resp = CAIRN__V1__ENQUEUE_RESPONSE__INIT;
	size_t n = op->in.enqueue.n;

	if (rpc_done_error(c)) {
		return;
	}
	Cairn__V1__EnqueueResult **ptrs = NULL;
	Cairn__V1__EnqueueResult *res
	    = cairn__pb_array(n, sizeof(*res), (void ***) &ptrs);
	if (res == NULL) {
		free(ptrs);
		rpc_refuse(c, CAIRN_RESOURCE_EXHAUSTED,
		    "out of memory; the tasks were enqueued");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		cairn__v1__enqueue_result__init(&res[i]);
		res[i].id = op->out.enqueue.ids[i];
		res[i].created = op->out.enqueue.created[i];
	}
	resp.n_results = n;
	resp.results = ptrs;
	c->closure(&resp.base, c);
	free(ptrs);
}

void
rpc_enqueue(Cairn__V1__Queue_Service *svc, const Cairn__V1__EnqueueRequest *in,
    Cairn__V1__EnqueueResponse_Closure closure, void *data)
{
	struct rpc_ctx *c = data;
	size_t n = in->n_tasks;
	uint32_t max = c->srv->cfg.limits.max_batch_tasks;

	if (n == 0 || n > max) {
		rpc_refuse(c, CAIRN_INVALID_ARGUMENT,
		    "tasks: a batch has 1 to %u tasks, not %zu", max, n);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		int rv = rpc_check_spec(
		    i, in->tasks[i], c->srv->cfg.limits.max_payload, c->msg);
		if (rv != CAIRN_OK) {
			rpc_reply_error(c, rv);
			return;
		}
	}
	/* One block: specs, ids, created flags. */
	size_t size
	    = n * (sizeof(struct task_spec) + sizeof(uint64_t) + sizeof(bool));
	if ((c->scratch = calloc(1, size)) == NULL) {
		rpc_refuse(c, CAIRN_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	struct task_spec *specs = c->scratch;
	uint64_t *ids = (uint64_t *) (specs + n);
	bool *created = (bool *) (ids + n);
	for (size_t i = 0; i < n; i++) {
		rpc_spec_from_pb(in->tasks[i], &specs[i]);
	}
	c->op.kind = OP_ENQUEUE;
	c->op.in.enqueue.specs = specs;
	c->op.in.enqueue.n = n;
	c->op.out.enqueue.ids = ids;
	c->op.out.enqueue.created = created;
	rpc_submit(c, (ProtobufCClosure) closure, enqueue_done);
}

static void
lease_done(struct engine_op *op)
{
	struct rpc_ctx *c = op->arg;
	Cairn__V1__LeaseResponse resp = CAIRN__V1__LEASE_RESPONSE__INIT;
	size_t n = op->out.tasks.n;

	if (rpc_done_error(c)) {
		return;
	}
	Cairn__V1__Task **tasks = rpc_tasks_to_pb(op->out.tasks.tasks, n);
	Cairn__V1__LeasedTask **ptrs = NULL;
	Cairn__V1__LeasedTask *lt
	    = cairn__pb_array(n, sizeof(*lt), (void ***) &ptrs);
	if (tasks == NULL || lt == NULL) {
		free(tasks);
		free(ptrs);
		rpc_refuse(c, CAIRN_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		cairn__v1__leased_task__init(&lt[i]);
		lt[i].task = tasks[i];
		lt[i].lease_token = op->out.tasks.tasks[i]->lease_token;
		lt[i].deadline_ms = op->out.tasks.tasks[i]->lease_deadline_ms;
	}
	resp.n_tasks = n;
	resp.tasks = ptrs;
	c->closure(&resp.base, c);
	free(ptrs);
	free(tasks);
}

void
rpc_lease(Cairn__V1__Queue_Service *svc, const Cairn__V1__LeaseRequest *in,
    Cairn__V1__LeaseResponse_Closure closure, void *data)
{
	struct rpc_ctx *c = data;
	uint32_t max = in->max_tasks == 0 ? 1 : in->max_tasks;
	char *m = c->msg;
	int rv;

	if (in->n_queues == 0 || in->n_queues > MAX_LEASE_QUEUES) {
		rpc_refuse(c, CAIRN_INVALID_ARGUMENT,
		    "queues: name 1 to %d queues", MAX_LEASE_QUEUES);
		return;
	}
	for (size_t i = 0; i < in->n_queues; i++) {
		if ((rv = rpc_check_queue("queues", in->queues[i], m))
		    != CAIRN_OK) {
			rpc_reply_error(c, rv);
			return;
		}
	}
	if (max > LC_LEASE_MAX) {
		rpc_refuse(c, CAIRN_INVALID_ARGUMENT,
		    "max_tasks: at most %d, not %u", LC_LEASE_MAX, max);
		return;
	}
	if ((rv = rpc_check_duration("wait_ms", in->wait_ms, m)) != CAIRN_OK
	    || (rv = rpc_check_duration(
	            "lease_timeout_ms", in->lease_timeout_ms, m))
	        != CAIRN_OK
	    || (rv = rpc_check_text(
	            "worker_id", in->worker_id, RPC_WORKER_ID_MAX, m))
	        != CAIRN_OK) {
		rpc_reply_error(c, rv);
		return;
	}
	c->op.kind = OP_LEASE;
	c->op.in.lease.req = (struct lease_request) {
		.queues = (const char *const *) in->queues,
		.nqueues = in->n_queues,
		.max_tasks = max,
		.worker_id = in->worker_id,
		.lease_timeout_ms = in->lease_timeout_ms,
	};
	c->op.in.lease.wait_ms = in->wait_ms;
	c->op.bind_conn = in->release_on_disconnect;
	rpc_submit(c, (ProtobufCClosure) closure, lease_done);
}

static void
heartbeat_done(struct engine_op *op)
{
	struct rpc_ctx *c = op->arg;
	Cairn__V1__HeartbeatResponse resp
	    = CAIRN__V1__HEARTBEAT_RESPONSE__INIT;

	if (rpc_done_error(c)) {
		return;
	}
	resp.cancel_requested = op->out.heartbeat.cancel_requested;
	resp.deadline_ms = op->out.heartbeat.deadline;
	c->closure(&resp.base, c);
}

void
rpc_heartbeat(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__HeartbeatRequest *in,
    Cairn__V1__HeartbeatResponse_Closure closure, void *data)
{
	struct rpc_ctx *c = data;
	size_t max = c->srv->cfg.limits.max_payload;
	char *m = c->msg;
	int rv;

	if ((rv = rpc_check_id("id", in->id, m)) != CAIRN_OK
	    || (rv = rpc_check_token("lease_token", in->lease_token, m))
	        != CAIRN_OK
	    || (rv = rpc_check_bytes("details", in->details.len, max, m))
	        != CAIRN_OK) {
		rpc_reply_error(c, rv);
		return;
	}
	c->op.kind = OP_HEARTBEAT;
	c->op.in.touch.id = in->id;
	c->op.in.touch.token = in->lease_token;
	c->op.in.touch.data = in->details.data;
	c->op.in.touch.len = in->details.len;
	rpc_submit(c, (ProtobufCClosure) closure, heartbeat_done);
}

static void
complete_done(struct engine_op *op)
{
	struct rpc_ctx *c = op->arg;
	Cairn__V1__CompleteResponse resp = CAIRN__V1__COMPLETE_RESPONSE__INIT;
	Cairn__V1__LeasedTask next;
	struct pb_task pb;

	if (rpc_done_error(c)) {
		return;
	}
	if (op->out.tasks.n > 0) { /* lease_next found one */
		rpc_leased_to_pb(op->out.tasks.tasks[0], &next, &pb);
		resp.next = &next;
	}
	c->closure(&resp.base, c);
}

void
rpc_complete(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__CompleteRequest *in,
    Cairn__V1__CompleteResponse_Closure closure, void *data)
{
	struct rpc_ctx *c = data;
	size_t max = c->srv->cfg.limits.max_payload;
	char *m = c->msg;
	int rv;

	if ((rv = rpc_check_id("id", in->id, m)) != CAIRN_OK
	    || (rv = rpc_check_token("lease_token", in->lease_token, m))
	        != CAIRN_OK
	    || (rv = rpc_check_bytes("result", in->result.len, max, m))
	        != CAIRN_OK) {
		rpc_reply_error(c, rv);
		return;
	}
	if (in->lease_next
	    && ((rv = rpc_check_duration(
	             "lease_timeout_ms", in->lease_timeout_ms, m))
	            != CAIRN_OK
	        || (rv = rpc_check_text(
	                "worker_id", in->worker_id, RPC_WORKER_ID_MAX, m))
	            != CAIRN_OK)) {
		rpc_reply_error(c, rv);
		return;
	}
	c->op.kind = OP_COMPLETE;
	c->op.in.touch.id = in->id;
	c->op.in.touch.token = in->lease_token;
	c->op.in.touch.data = in->result.data;
	c->op.in.touch.len = in->result.len;
	c->op.in.touch.lease_next = in->lease_next;
	c->op.in.touch.worker_id = in->worker_id;
	c->op.in.touch.lease_timeout_ms = in->lease_timeout_ms;
	rpc_submit(c, (ProtobufCClosure) closure, complete_done);
}

static void
fail_done(struct engine_op *op)
{
	struct rpc_ctx *c = op->arg;
	Cairn__V1__FailResponse resp = CAIRN__V1__FAIL_RESPONSE__INIT;

	if (rpc_done_error(c)) {
		return;
	}
	resp.state = (Cairn__V1__TaskState) op->out.fail.state;
	resp.run_at_ms = op->out.fail.run_at;
	c->closure(&resp.base, c);
}

void
rpc_fail(Cairn__V1__Queue_Service *svc, const Cairn__V1__FailRequest *in,
    Cairn__V1__FailResponse_Closure closure, void *data)
{
	struct rpc_ctx *c = data;
	char *m = c->msg;
	int rv;

	if ((rv = rpc_check_id("id", in->id, m)) != CAIRN_OK
	    || (rv = rpc_check_token("lease_token", in->lease_token, m))
	        != CAIRN_OK
	    || (rv = rpc_check_text("error", in->error, RPC_ERROR_MAX, m))
	        != CAIRN_OK
	    || (rv = rpc_check_duration(
	            "retry_delay_ms", in->retry_delay_ms, m))
	        != CAIRN_OK) {
		rpc_reply_error(c, rv);
		return;
	}
	c->op.kind = OP_FAIL;
	c->op.in.fail = (struct fail_request) {
		.id = in->id,
		.token = in->lease_token,
		.error = in->error,
		.non_retryable = in->non_retryable,
		.retry_delay_ms = in->retry_delay_ms,
	};
	rpc_submit(c, (ProtobufCClosure) closure, fail_done);
}

static void
release_done(struct engine_op *op)
{
	struct rpc_ctx *c = op->arg;
	Cairn__V1__ReleaseResponse resp = CAIRN__V1__RELEASE_RESPONSE__INIT;

	if (rpc_done_error(c)) {
		return;
	}
	resp.state = (Cairn__V1__TaskState) op->out.fail.state;
	resp.run_at_ms = op->out.fail.run_at;
	c->closure(&resp.base, c);
}

void
rpc_release(Cairn__V1__Queue_Service *svc, const Cairn__V1__ReleaseRequest *in,
    Cairn__V1__ReleaseResponse_Closure closure, void *data)
{
	struct rpc_ctx *c = data;
	char *m = c->msg;
	int rv;

	if ((rv = rpc_check_id("id", in->id, m)) != CAIRN_OK
	    || (rv = rpc_check_token("lease_token", in->lease_token, m))
	        != CAIRN_OK
	    || (rv = rpc_check_text("reason", in->reason, RPC_ERROR_MAX, m))
	        != CAIRN_OK) {
		rpc_reply_error(c, rv);
		return;
	}
	c->op.kind = OP_RELEASE;
	c->op.in.release = (struct release_request) {
		.id = in->id,
		.token = in->lease_token,
		.reason = in->reason,
		.count_attempt = in->count_attempt,
	};
	rpc_submit(c, (ProtobufCClosure) closure, release_done);
}
