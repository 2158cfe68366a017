/*
 * rpc/wf_admin.c - the rpcs that steer and inspect runs: SignalWorkflow,
 * CancelWorkflow, TerminateWorkflow, GetWorkflow, ListWorkflows,
 * WorkflowHistory and AwaitWorkflow. A run is named by run_id or, when it
 * is 0, by workflow_id.
 */
#include <stdlib.h>

#include "rpc/handlers.h"
#include "rpc/internal.h"
#include "rpc/wf_convert.h"
#include "rpc/wf_validate.h"

#define LIST_DEFAULT    100
#define LIST_MAX        1000
#define HISTORY_DEFAULT 1000
#define HISTORY_MAX     10000
#define REASON_MAX      1024

/* on_run checks the name of a run and sets up an op on it; false when
 * the request was refused. */
static bool
on_run(struct rpc_ctx *c, enum engine_op_kind kind, const char *workflow_id,
    uint64_t run_id)
{
	int rv = rpc_check_wf_ref(workflow_id, run_id, c->msg);

	if (rv != CAIRN_OK) {
		rpc_reply_error(c, rv);
		return (false);
	}
	c->op.kind = kind;
	c->op.in.wf.workflow_id = workflow_id;
	c->op.in.wf.run_id = run_id;
	return (true);
}

static void
signal_done(struct engine_op *op)
{
	struct rpc_ctx *c = op->arg;
	Cairn__V1__SignalWorkflowResponse resp
	    = CAIRN__V1__SIGNAL_WORKFLOW_RESPONSE__INIT;

	if (!rpc_done_error(c)) {
		resp.run_id = op->out.wf.run_id;
		resp.delivered_seq = op->out.wf.delivered;
		c->closure(&resp.base, c);
	}
}

void
rpc_signal_workflow(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__SignalWorkflowRequest *in,
    Cairn__V1__SignalWorkflowResponse_Closure closure, void *data)
{
	struct rpc_ctx *c = data;
	size_t max = c->srv->cfg.limits.max_payload;
	int rv;

	if ((rv = rpc_check_text("name", in->name, WF_NAME_MAX, c->msg)) != 0
	    || (rv = rpc_check_bytes("payload", in->payload.len, max, c->msg))
	        != 0) {
		rpc_reply_error(c, rv);
		return;
	}
	if (in->name[0] == 0) {
		rpc_refuse(c, CAIRN_INVALID_ARGUMENT, "name: required");
		return;
	}
	if (on_run(c, OP_WF_SIGNAL, in->workflow_id, in->run_id)) {
		c->op.in.wf.name = in->name;
		c->op.in.wf.data = in->payload.data;
		c->op.in.wf.len = in->payload.len;
		rpc_submit(c, (ProtobufCClosure) closure, signal_done);
	}
}

static void
state_done(struct engine_op *op)
{
	struct rpc_ctx *c = op->arg;

	if (rpc_done_error(c)) {
		return;
	}
	if (op->kind == OP_WF_CANCEL) {
		Cairn__V1__CancelWorkflowResponse r
		    = CAIRN__V1__CANCEL_WORKFLOW_RESPONSE__INIT;
		r.state = (Cairn__V1__WorkflowState) op->out.wf.state;
		c->closure(&r.base, c);
	} else {
		Cairn__V1__TerminateWorkflowResponse r
		    = CAIRN__V1__TERMINATE_WORKFLOW_RESPONSE__INIT;
		r.state = (Cairn__V1__WorkflowState) op->out.wf.state;
		c->closure(&r.base, c);
	}
}

/* end_run serves Cancel and Terminate, which differ only in their op. */
static void
end_run(struct rpc_ctx *c, enum engine_op_kind kind, const char *workflow_id,
    uint64_t run_id, const char *reason, ProtobufCClosure closure)
{
	int rv = rpc_check_text("reason", reason, REASON_MAX, c->msg);

	if (rv != CAIRN_OK) {
		rpc_reply_error(c, rv);
		return;
	}
	if (on_run(c, kind, workflow_id, run_id)) {
		c->op.in.wf.text = reason;
		rpc_submit(c, closure, state_done);
	}
}

void
rpc_cancel_workflow(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__CancelWorkflowRequest *in,
    Cairn__V1__CancelWorkflowResponse_Closure closure, void *data)
{
	end_run(data, OP_WF_CANCEL, in->workflow_id, in->run_id, in->reason,
	    (ProtobufCClosure) closure);
}

void
rpc_terminate_workflow(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__TerminateWorkflowRequest *in,
    Cairn__V1__TerminateWorkflowResponse_Closure closure, void *data)
{
	end_run(data, OP_WF_TERMINATE, in->workflow_id, in->run_id, in->reason,
	    (ProtobufCClosure) closure);
}

/* run_done answers Get and Await, which carry one run. */
static void
run_done(struct engine_op *op)
{
	struct rpc_ctx *c = op->arg;
	Cairn__V1__WorkflowRun run;

	if (rpc_done_error(c)) {
		return;
	}
	rpc_run_to_pb(op->out.wf.run, &run);
	if (op->kind == OP_WF_AWAIT) {
		Cairn__V1__AwaitWorkflowResponse r
		    = CAIRN__V1__AWAIT_WORKFLOW_RESPONSE__INIT;
		r.run = &run;
		r.done = op->out.wf.done;
		c->closure(&r.base, c);
	} else {
		Cairn__V1__GetWorkflowResponse r
		    = CAIRN__V1__GET_WORKFLOW_RESPONSE__INIT;
		r.run = &run;
		c->closure(&r.base, c);
	}
}

void
rpc_get_workflow(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__GetWorkflowRequest *in,
    Cairn__V1__GetWorkflowResponse_Closure closure, void *data)
{
	struct rpc_ctx *c = data;

	if (on_run(c, OP_WF_GET, in->workflow_id, in->run_id)) {
		rpc_submit(c, (ProtobufCClosure) closure, run_done);
	}
}

void
rpc_await_workflow(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__AwaitWorkflowRequest *in,
    Cairn__V1__AwaitWorkflowResponse_Closure closure, void *data)
{
	struct rpc_ctx *c = data;
	int rv = rpc_check_duration("wait_ms", in->wait_ms, c->msg);

	if (rv != CAIRN_OK) {
		rpc_reply_error(c, rv);
		return;
	}
	if (on_run(c, OP_WF_AWAIT, in->workflow_id, in->run_id)) {
		c->op.in.wf.wait_ms = in->wait_ms;
		rpc_submit(c, (ProtobufCClosure) closure, run_done);
	}
}

static void
list_done(struct engine_op *op)
{
	struct rpc_ctx *c = op->arg;
	Cairn__V1__ListWorkflowsResponse resp
	    = CAIRN__V1__LIST_WORKFLOWS_RESPONSE__INIT;
	Cairn__V1__WorkflowRun **runs;

	if (rpc_done_error(c)) {
		return;
	}
	runs = rpc_runs_to_pb(op->out.wf_runs.runs, op->out.wf_runs.n);
	if (runs == NULL) {
		rpc_refuse(c, CAIRN_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	resp.runs = runs;
	resp.n_runs = op->out.wf_runs.n;
	resp.next_after_run_id = op->out.wf_runs.next_after_id;
	c->closure(&resp.base, c);
	free(runs);
}

static const char *
or_null(const char *s)
{
	return (s != NULL && s[0] != 0 ? s : NULL);
}

void
rpc_list_workflows(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__ListWorkflowsRequest *in,
    Cairn__V1__ListWorkflowsResponse_Closure closure, void *data)
{
	struct rpc_ctx *c = data;
	int rv = rpc_check_wf_list(in, c->msg);

	if (rv != CAIRN_OK) {
		rpc_reply_error(c, rv);
		return;
	}
	c->op.kind = OP_WF_LIST;
	c->op.in.wf_list.filter = (struct wf_filter) {
		.type = or_null(in->type),
		.queue = or_null(in->queue),
		.state = (int) in->state,
		.stuck = in->stuck,
	};
	c->op.in.wf_list.limit = in->limit == 0 ? LIST_DEFAULT : in->limit;
	c->op.in.wf_list.after_id = in->after_run_id;
	rpc_submit(c, (ProtobufCClosure) closure, list_done);
}

static void
history_done(struct engine_op *op)
{
	struct rpc_ctx *c = op->arg;
	Cairn__V1__WorkflowHistoryResponse resp
	    = CAIRN__V1__WORKFLOW_HISTORY_RESPONSE__INIT;
	Cairn__V1__WorkflowRun run;
	Cairn__V1__Entry **entries;

	if (rpc_done_error(c)) {
		return;
	}
	entries = rpc_entries_to_pb(op->out.wf.entries, op->out.wf.n);
	if (entries == NULL) {
		rpc_refuse(c, CAIRN_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	rpc_run_to_pb(op->out.wf.run, &run);
	resp.run = &run;
	resp.entries = entries;
	resp.n_entries = op->out.wf.n;
	resp.next_after_seq = op->out.wf.next_after_seq;
	c->closure(&resp.base, c);
	free(entries);
}

void
rpc_workflow_history(Cairn__V1__Queue_Service *svc,
    const Cairn__V1__WorkflowHistoryRequest *in,
    Cairn__V1__WorkflowHistoryResponse_Closure closure, void *data)
{
	struct rpc_ctx *c = data;

	if (in->limit > HISTORY_MAX) {
		rpc_refuse(c, CAIRN_INVALID_ARGUMENT,
		    "limit: at most %d, not %u", HISTORY_MAX, in->limit);
		return;
	}
	if (on_run(c, OP_WF_HISTORY, in->workflow_id, in->run_id)) {
		c->op.in.wf.after_seq = in->after_seq;
		c->op.in.wf.limit
		    = in->limit == 0 ? HISTORY_DEFAULT : in->limit;
		rpc_submit(c, (ProtobufCClosure) closure, history_done);
	}
}
