/*
 * rpc/workflow.c - the rpcs of workflow workers and of starting runs:
 * StartWorkflow, LeaseWorkflow, HeartbeatWorkflow, AdvanceWorkflow and
 * FailWorkflowTask. Each handler validates its request (wf_validate.h),
 * turns it into an engine op, and replies from the op's done callback
 * once the engine has committed.
 */
#include <stdlib.h>

#include "rpc/handlers.h"
#include "rpc/internal.h"
#include "rpc/wf_convert.h"
#include "rpc/wf_validate.h"

static void
start_done(struct engine_op *op)
{
	struct rpc_ctx *c = op->arg;
	Cairn__V1__StartWorkflowResponse resp
	    = CAIRN__V1__START_WORKFLOW_RESPONSE__INIT;

	if (!rpc_done_error(c)) {
		resp.run_id = op->out.wf.run->id;
		resp.workflow_id = op->out.wf.run->workflow_id;
		resp.created = op->out.wf.created;
		c->closure(&resp.base, c);
	}
}

void
rpc_start_workflow(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__StartWorkflowRequest *in,
    Cairn__V1__StartWorkflowResponse_Closure closure, void *data)
{
	struct rpc_ctx *c = data;
	int rv
	    = rpc_check_wf_start(in, c->srv->cfg.limits.max_payload, c->msg);

	if (rv != CAIRN_OK) {
		rpc_reply_error(c, rv);
		return;
	}
	c->op.kind = OP_WF_START;
	c->op.in.wf_start = (struct wf_start) {
		.workflow_id = in->workflow_id,
		.type = in->type,
		.queue = in->queue,
		.input = in->input.data,
		.input_len = in->input.len,
	};
	rpc_submit(c, (ProtobufCClosure) closure, start_done);
}

static void
lease_done(struct engine_op *op)
{
	struct rpc_ctx *c = op->arg;
	struct wf_leased *l = &op->out.wf_leased;
	Cairn__V1__LeaseWorkflowResponse resp
	    = CAIRN__V1__LEASE_WORKFLOW_RESPONSE__INIT;
	Cairn__V1__LeasedRun leased = CAIRN__V1__LEASED_RUN__INIT;
	Cairn__V1__WorkflowRun run;
	Cairn__V1__Entry **entries = NULL;

	if (rpc_done_error(c)) {
		return;
	}
	if (l->run.id != 0) {
		if ((entries = rpc_entries_to_pb(l->entries, l->n)) == NULL) {
			rpc_refuse(c, CAIRN_RESOURCE_EXHAUSTED,
			    "out of memory; the run stays leased until its "
			    "deadline");
			return;
		}
		rpc_run_to_pb(&l->run, &run);
		leased.run = &run;
		leased.lease_token = l->run.lease_token;
		leased.deadline_ms = l->run.lease_deadline_ms;
		leased.entries = entries;
		leased.n_entries = l->n;
		leased.delta = l->delta;
		resp.leased = &leased;
	}
	c->closure(&resp.base, c);
	free(entries);
}

void
rpc_lease_workflow(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__LeaseWorkflowRequest *in,
    Cairn__V1__LeaseWorkflowResponse_Closure closure, void *data)
{
	struct rpc_ctx *c = data;
	struct wf_known *known = NULL;
	int rv = rpc_check_wf_lease(in, c->msg);

	if (rv != CAIRN_OK) {
		rpc_reply_error(c, rv);
		return;
	}
	if (in->n_known > 0) {
		if ((known = calloc(in->n_known, sizeof(*known))) == NULL) {
			rpc_refuse(
			    c, CAIRN_RESOURCE_EXHAUSTED, "out of memory");
			return;
		}
		for (size_t i = 0; i < in->n_known; i++) {
			known[i] = (struct wf_known) {
				.run_id = in->known[i]->run_id,
				.log_length = in->known[i]->log_length,
				.resolved_count = in->known[i]->resolved_count,
			};
		}
		c->scratch = known;
	}
	c->op.kind = OP_WF_LEASE;
	c->op.in.wf_lease.req = (struct wf_lease_request) {
		.queues = (const char *const *) in->queues,
		.nqueues = in->n_queues,
		.worker_id = in->worker_id,
		.lease_timeout_ms = in->lease_timeout_ms,
		.known = known,
		.nknown = in->n_known,
	};
	c->op.in.wf_lease.wait_ms = in->wait_ms;
	c->op.bind_conn = in->release_on_disconnect;
	rpc_submit(c, (ProtobufCClosure) closure, lease_done);
}

static void
heartbeat_done(struct engine_op *op)
{
	struct rpc_ctx *c = op->arg;
	Cairn__V1__HeartbeatWorkflowResponse resp
	    = CAIRN__V1__HEARTBEAT_WORKFLOW_RESPONSE__INIT;

	if (!rpc_done_error(c)) {
		resp.cancel_requested = op->out.wf.cancel_requested;
		resp.deadline_ms = op->out.wf.at;
		c->closure(&resp.base, c);
	}
}

/* check_run_lease: a run id and a lease token. */
static int
check_run_lease(uint64_t run_id, const char *token, char *msg)
{
	int rv = rpc_check_id("run_id", run_id, msg);

	return (
	    rv != CAIRN_OK ? rv : rpc_check_token("lease_token", token, msg));
}

void
rpc_heartbeat_workflow(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__HeartbeatWorkflowRequest *in,
    Cairn__V1__HeartbeatWorkflowResponse_Closure closure, void *data)
{
	struct rpc_ctx *c = data;
	int rv = check_run_lease(in->run_id, in->lease_token, c->msg);

	if (rv != CAIRN_OK) {
		rpc_reply_error(c, rv);
		return;
	}
	c->op.kind = OP_WF_HEARTBEAT;
	c->op.in.wf.run_id = in->run_id;
	c->op.in.wf.token = in->lease_token;
	rpc_submit(c, (ProtobufCClosure) closure, heartbeat_done);
}

static void
advance_done(struct engine_op *op)
{
	struct rpc_ctx *c = op->arg;
	struct wf_advanced *a = &op->out.wf_advanced;
	Cairn__V1__AdvanceWorkflowResponse resp
	    = CAIRN__V1__ADVANCE_WORKFLOW_RESPONSE__INIT;
	Cairn__V1__Entry **entries;

	if (rpc_done_error(c)) {
		return;
	}
	if ((entries = rpc_entries_to_pb(a->entries, a->n)) == NULL) {
		rpc_refuse(c, CAIRN_RESOURCE_EXHAUSTED,
		    "out of memory; the advance was recorded");
		return;
	}
	resp.entries = entries;
	resp.n_entries = a->n;
	resp.log_length = a->log_length;
	resp.deadline_ms = a->deadline;
	resp.cancel_requested = a->cancel_requested;
	c->closure(&resp.base, c);
	free(entries);
}

void
rpc_advance_workflow(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__AdvanceWorkflowRequest *in,
    Cairn__V1__AdvanceWorkflowResponse_Closure closure, void *data)
{
	struct rpc_ctx *c = data;
	const struct rpc_limits *l = &c->srv->cfg.limits;
	struct wf_command *cmds = NULL;
	int rv = rpc_check_advance(in, l->max_payload, c->msg);

	if (rv != CAIRN_OK) {
		rpc_reply_error(c, rv);
		return;
	}
	if (in->n_commands > 0) {
		if ((cmds = calloc(in->n_commands, sizeof(*cmds))) == NULL) {
			rpc_refuse(
			    c, CAIRN_RESOURCE_EXHAUSTED, "out of memory");
			return;
		}
		for (size_t i = 0; i < in->n_commands; i++) {
			rpc_command_from_pb(in->commands[i], &cmds[i]);
		}
		c->scratch = cmds;
	}
	c->op.kind = OP_WF_ADVANCE;
	c->op.in.wf_advance = (struct wf_advance) {
		.run_id = in->run_id,
		.token = in->lease_token,
		.expected_seq = in->expected_seq,
		.commands = cmds,
		.n = in->n_commands,
		.finish = (int) in->finish,
		.result = in->result.data,
		.result_len = in->result.len,
		.error = in->error,
		.keep_lease = in->keep_lease,
		.max_log = l->max_log,
	};
	rpc_submit(c, (ProtobufCClosure) closure, advance_done);
}

static void
fail_task_done(struct engine_op *op)
{
	struct rpc_ctx *c = op->arg;
	Cairn__V1__FailWorkflowTaskResponse resp
	    = CAIRN__V1__FAIL_WORKFLOW_TASK_RESPONSE__INIT;

	if (!rpc_done_error(c)) {
		resp.retry_at_ms = op->out.wf.at;
		c->closure(&resp.base, c);
	}
}

void
rpc_fail_workflow_task(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__FailWorkflowTaskRequest *in,
    Cairn__V1__FailWorkflowTaskResponse_Closure closure, void *data)
{
	struct rpc_ctx *c = data;
	int rv = check_run_lease(in->run_id, in->lease_token, c->msg);

	if (rv == CAIRN_OK) {
		rv = rpc_check_text("error", in->error, RPC_ERROR_MAX, c->msg);
	}
	if (rv != CAIRN_OK) {
		rpc_reply_error(c, rv);
		return;
	}
	c->op.kind = OP_WF_FAIL_TASK;
	c->op.in.wf.run_id = in->run_id;
	c->op.in.wf.token = in->lease_token;
	c->op.in.wf.text = in->error;
	c->op.in.wf.flag = in->nondeterminism;
	rpc_submit(c, (ProtobufCClosure) closure, fail_task_done);
}
