/*
 * rpc_workflow.c - the rpcs that start, steer and inspect workflow runs:
 * StartWorkflow, SignalWorkflow, CancelWorkflow, TerminateWorkflow (all
 * mutating), GetWorkflow, ListWorkflows, WorkflowHistory and
 * AwaitWorkflow.
 *
 * As in rpc_work.c, checks here stop only what cannot be encoded or would
 * crash; the server is the authority on names, sizes and states.
 */
#include <stdlib.h>
#include <string.h>

#include "wf_internal.h"

#define NOMEM(c, what)                                                        \
	cairn__fail((c), CAIRN_RESOURCE_EXHAUSTED, "out of memory %s", (what))

/*
 * run_name checks that a run is named, by run_id or else by workflow_id,
 * and gives the workflow_id to send (protobuf-c wants a non-NULL string).
 */
static int
run_name(cairn_client *c, const char *fn, uint64_t run_id,
    const char *workflow_id, char **wire)
{
	if (run_id == 0 && (workflow_id == NULL || workflow_id[0] == '\0')) {
		return (cairn__fail(c, CAIRN_INVALID_ARGUMENT,
		    "%s: name the run by run_id or workflow_id", fn));
	}
	*wire = (char *) (workflow_id != NULL ? workflow_id : "");
	return (CAIRN_OK);
}

/* run_out converts the run of a reply, which must be there. */
static int
run_out(cairn_client *c, const char *method, const Cairn__V1__WorkflowRun *pb,
    cairn_workflow_run **out)
{
	cairn_workflow_run *r;

	if (pb == NULL) {
		return (cairn__fail(c, CAIRN_INTERNAL,
		    "%s reply from %s without a run", method, c->url));
	}
	if ((r = cairn__wf_run_from_pb(pb)) == NULL) {
		return (NOMEM(c, "reading a run"));
	}
	*out = r;
	return (CAIRN_OK);
}

int
cairn_workflow_start(cairn_client *c, const char *workflow_id,
    const char *type, const char *queue, const void *input, size_t input_len,
    uint64_t *run_id, char **workflow_id_out, bool *created)
{
	Cairn__V1__StartWorkflowRequest req
	    = CAIRN__V1__START_WORKFLOW_REQUEST__INIT;
	Cairn__V1__StartWorkflowResponse *resp;
	ProtobufCMessage *m;
	char *id = NULL;
	int rv;

	if (c == NULL) {
		return (CAIRN_INVALID_ARGUMENT);
	}
	if (type == NULL || (input == NULL && input_len > 0)) {
		return (cairn__fail(c, CAIRN_INVALID_ARGUMENT,
		    "cairn_workflow_start: %s is NULL",
		    type == NULL ? "type" : "input"));
	}
	req.workflow_id = (char *) (workflow_id != NULL ? workflow_id : "");
	req.type = (char *) type;
	req.queue = (char *) (queue != NULL ? queue : CAIRN_WF_DEFAULT_QUEUE);
	req.input.data = (uint8_t *) input;
	req.input.len = input_len;
	if ((rv = cairn__call(
	         c, "StartWorkflow", &req.base, 0, CAIRN__MUTATING, &m))
	    != CAIRN_OK) {
		return (rv);
	}
	resp = (Cairn__V1__StartWorkflowResponse *) m;
	if (workflow_id_out != NULL
	    && (id = strdup(resp->workflow_id)) == NULL) {
		protobuf_c_message_free_unpacked(m, NULL);
		return (NOMEM(c, "reading a StartWorkflow reply"));
	}
	if (run_id != NULL) {
		*run_id = resp->run_id;
	}
	if (workflow_id_out != NULL) {
		*workflow_id_out = id;
	}
	if (created != NULL) {
		*created = resp->created;
	}
	protobuf_c_message_free_unpacked(m, NULL);
	return (CAIRN_OK);
}

int
cairn_workflow_signal(cairn_client *c, uint64_t run_id,
    const char *workflow_id, const char *name, const void *payload,
    size_t payload_len, uint64_t *run_id_out, uint32_t *delivered_seq)
{
	Cairn__V1__SignalWorkflowRequest req
	    = CAIRN__V1__SIGNAL_WORKFLOW_REQUEST__INIT;
	Cairn__V1__SignalWorkflowResponse *resp;
	ProtobufCMessage *m;
	int rv;

	if (c == NULL) {
		return (CAIRN_INVALID_ARGUMENT);
	}
	if ((rv = run_name(c, "cairn_workflow_signal", run_id, workflow_id,
	         &req.workflow_id))
	    != CAIRN_OK) {
		return (rv);
	}
	if (name == NULL || (payload == NULL && payload_len > 0)) {
		return (cairn__fail(c, CAIRN_INVALID_ARGUMENT,
		    "cairn_workflow_signal: %s is NULL",
		    name == NULL ? "name" : "payload"));
	}
	req.run_id = run_id;
	req.name = (char *) name;
	req.payload.data = (uint8_t *) payload;
	req.payload.len = payload_len;
	if ((rv = cairn__call(
	         c, "SignalWorkflow", &req.base, 0, CAIRN__MUTATING, &m))
	    != CAIRN_OK) {
		return (rv);
	}
	resp = (Cairn__V1__SignalWorkflowResponse *) m;
	if (run_id_out != NULL) {
		*run_id_out = resp->run_id;
	}
	if (delivered_seq != NULL) {
		*delivered_seq = resp->delivered_seq;
	}
	protobuf_c_message_free_unpacked(m, NULL);
	return (CAIRN_OK);
}

/*
 * stop_run makes CancelWorkflow or TerminateWorkflow, whose requests and
 * replies have the same fields: the run, a reason; the state after.
 */
static int
stop_run(cairn_client *c, bool terminate, uint64_t run_id,
    const char *workflow_id, const char *reason, cairn_workflow_state *state)
{
	Cairn__V1__CancelWorkflowRequest cancel
	    = CAIRN__V1__CANCEL_WORKFLOW_REQUEST__INIT;
	Cairn__V1__TerminateWorkflowRequest term
	    = CAIRN__V1__TERMINATE_WORKFLOW_REQUEST__INIT;
	char **wire = terminate ? &term.workflow_id : &cancel.workflow_id;
	ProtobufCMessage *m;
	int rv;

	if (c == NULL) {
		return (CAIRN_INVALID_ARGUMENT);
	}
	rv = run_name(c,
	    terminate ? "cairn_workflow_terminate" : "cairn_workflow_cancel",
	    run_id, workflow_id, wire);
	if (rv != CAIRN_OK) {
		return (rv);
	}
	cancel.run_id = term.run_id = run_id;
	cancel.reason = term.reason = (char *) (reason != NULL ? reason : "");
	rv = cairn__call(c, terminate ? "TerminateWorkflow" : "CancelWorkflow",
	    terminate ? &term.base : &cancel.base, 0, CAIRN__MUTATING, &m);
	if (rv != CAIRN_OK) {
		return (rv);
	}
	if (state != NULL) {
		*state = (cairn_workflow_state) (terminate
		        ? ((Cairn__V1__TerminateWorkflowResponse *) m)->state
		        : ((Cairn__V1__CancelWorkflowResponse *) m)->state);
	}
	protobuf_c_message_free_unpacked(m, NULL);
	return (CAIRN_OK);
}

int
cairn_workflow_cancel(cairn_client *c, uint64_t run_id,
    const char *workflow_id, const char *reason, cairn_workflow_state *state)
{
	return (stop_run(c, false, run_id, workflow_id, reason, state));
}

int
cairn_workflow_terminate(cairn_client *c, uint64_t run_id,
    const char *workflow_id, const char *reason, cairn_workflow_state *state)
{
	return (stop_run(c, true, run_id, workflow_id, reason, state));
}

int
cairn_workflow_get(cairn_client *c, uint64_t run_id, const char *workflow_id,
    cairn_workflow_run **run)
{
	Cairn__V1__GetWorkflowRequest req
	    = CAIRN__V1__GET_WORKFLOW_REQUEST__INIT;
	ProtobufCMessage *m;
	int rv;

	if (c == NULL) {
		return (CAIRN_INVALID_ARGUMENT);
	}
	if ((rv = run_name(c, "cairn_workflow_get", run_id, workflow_id,
	         &req.workflow_id))
	    != CAIRN_OK) {
		return (rv);
	}
	if (run == NULL) {
		return (cairn__fail(c, CAIRN_INVALID_ARGUMENT,
		    "cairn_workflow_get: run is NULL"));
	}
	req.run_id = run_id;
	if ((rv = cairn__call(c, "GetWorkflow", &req.base, 0, 0, &m))
	    != CAIRN_OK) {
		return (rv);
	}
	rv = run_out(c, "GetWorkflow",
	    ((Cairn__V1__GetWorkflowResponse *) m)->run, run);
	protobuf_c_message_free_unpacked(m, NULL);
	return (rv);
}

/* runs_out converts the runs of a List reply into *out (n + 1 slots). */
static int
runs_out(cairn_client *c, Cairn__V1__WorkflowRun *const *pb, size_t n,
    cairn_workflow_run ***out)
{
	cairn_workflow_run **v;

	if ((v = calloc(n + 1, sizeof(*v))) == NULL) {
		return (NOMEM(c, "reading a ListWorkflows reply"));
	}
	for (size_t i = 0; i < n; i++) {
		if ((v[i] = cairn__wf_run_from_pb(pb[i])) == NULL) {
			cairn_workflow_runs_free(v, i);
			return (NOMEM(c, "reading a ListWorkflows reply"));
		}
	}
	*out = v;
	return (CAIRN_OK);
}

int
cairn_workflow_list(cairn_client *c, const cairn_workflow_filter *filter,
    uint32_t limit, uint64_t after_run_id, cairn_workflow_run ***runs,
    size_t *n, uint64_t *next_after_run_id)
{
	static const cairn_workflow_filter any = { 0 };
	Cairn__V1__ListWorkflowsRequest req
	    = CAIRN__V1__LIST_WORKFLOWS_REQUEST__INIT;
	Cairn__V1__ListWorkflowsResponse *resp;
	ProtobufCMessage *m;
	int rv;

	if (c == NULL) {
		return (CAIRN_INVALID_ARGUMENT);
	}
	if (runs == NULL || n == NULL) {
		return (cairn__fail(c, CAIRN_INVALID_ARGUMENT,
		    "cairn_workflow_list: runs or n is NULL"));
	}
	if (filter == NULL) {
		filter = &any;
	}
	req.type = (char *) (filter->type != NULL ? filter->type : "");
	req.state = (Cairn__V1__WorkflowState) filter->state;
	req.queue = (char *) (filter->queue != NULL ? filter->queue : "");
	req.stuck = filter->stuck;
	req.limit = limit;
	req.after_run_id = after_run_id;
	if ((rv = cairn__call(c, "ListWorkflows", &req.base, 0, 0, &m))
	    != CAIRN_OK) {
		return (rv);
	}
	resp = (Cairn__V1__ListWorkflowsResponse *) m;
	if ((rv = runs_out(c, resp->runs, resp->n_runs, runs)) == CAIRN_OK) {
		*n = resp->n_runs;
		if (next_after_run_id != NULL) {
			*next_after_run_id = resp->next_after_run_id;
		}
	}
	protobuf_c_message_free_unpacked(m, NULL);
	return (rv);
}

int
cairn_workflow_history(cairn_client *c, uint64_t run_id,
    const char *workflow_id, uint32_t after_seq, uint32_t limit,
    cairn_workflow_run **run, cairn_wf_entry **entries, size_t *n,
    uint32_t *next_after_seq)
{
	Cairn__V1__WorkflowHistoryRequest req
	    = CAIRN__V1__WORKFLOW_HISTORY_REQUEST__INIT;
	Cairn__V1__WorkflowHistoryResponse *resp;
	cairn_workflow_run *r = NULL;
	cairn_wf_entry *v;
	ProtobufCMessage *m;
	int rv;

	if (c == NULL) {
		return (CAIRN_INVALID_ARGUMENT);
	}
	if ((rv = run_name(c, "cairn_workflow_history", run_id, workflow_id,
	         &req.workflow_id))
	    != CAIRN_OK) {
		return (rv);
	}
	if (entries == NULL || n == NULL) {
		return (cairn__fail(c, CAIRN_INVALID_ARGUMENT,
		    "cairn_workflow_history: entries or n is NULL"));
	}
	req.run_id = run_id;
	req.after_seq = after_seq;
	req.limit = limit;
	if ((rv = cairn__call(c, "WorkflowHistory", &req.base, 0, 0, &m))
	    != CAIRN_OK) {
		return (rv);
	}
	resp = (Cairn__V1__WorkflowHistoryResponse *) m;
	if (run != NULL
	    && (rv = run_out(c, "WorkflowHistory", resp->run, &r))
	        != CAIRN_OK) {
		goto out;
	}
	v = cairn__wf_entries_from_pb(resp->entries, resp->n_entries);
	if (v == NULL) {
		cairn_workflow_run_free(r);
		rv = NOMEM(c, "reading a WorkflowHistory reply");
		goto out;
	}
	*entries = v;
	*n = resp->n_entries;
	if (run != NULL) {
		*run = r;
	}
	if (next_after_seq != NULL) {
		*next_after_seq = resp->next_after_seq;
	}
out:
	protobuf_c_message_free_unpacked(m, NULL);
	return (rv);
}

int
cairn_workflow_await(cairn_client *c, uint64_t run_id, const char *workflow_id,
    int64_t wait_ms, cairn_workflow_run **run, bool *done)
{
	Cairn__V1__AwaitWorkflowRequest req
	    = CAIRN__V1__AWAIT_WORKFLOW_REQUEST__INIT;
	Cairn__V1__AwaitWorkflowResponse *resp;
	ProtobufCMessage *m;
	int rv;

	if (c == NULL) {
		return (CAIRN_INVALID_ARGUMENT);
	}
	if ((rv = run_name(c, "cairn_workflow_await", run_id, workflow_id,
	         &req.workflow_id))
	    != CAIRN_OK) {
		return (rv);
	}
	if (run == NULL || done == NULL) {
		return (cairn__fail(c, CAIRN_INVALID_ARGUMENT,
		    "cairn_workflow_await: run or done is NULL"));
	}
	req.run_id = run_id;
	req.wait_ms = wait_ms;
	/* The long-poll's wait adds to the call's time budget. */
	if ((rv = cairn__call(c, "AwaitWorkflow", &req.base,
	         wait_ms > 0 ? wait_ms : 0, 0, &m))
	    != CAIRN_OK) {
		return (rv);
	}
	resp = (Cairn__V1__AwaitWorkflowResponse *) m;
	if ((rv = run_out(c, "AwaitWorkflow", resp->run, run)) == CAIRN_OK) {
		*done = resp->done;
	}
	protobuf_c_message_free_unpacked(m, NULL);
	return (rv);
}
