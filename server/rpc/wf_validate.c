/*
 * rpc/wf_validate.c - checks on the requests of durable workflows
 * (wf_validate.h). A refusal names the field and the rule.
 */
#include <stdio.h>
#include <string.h>

#include "rpc/wf_validate.h"

int
rpc_check_wf_ref(const char *workflow_id, uint64_t run_id, char *msg)
{
	if (run_id > INT64_MAX) {
		return (rpc_invalid(msg, "run_id: %llu is not a run id",
		    (unsigned long long) run_id));
	}
	if (run_id == 0 && (workflow_id == NULL || workflow_id[0] == 0)) {
		return (
		    rpc_invalid(msg, "name the run: run_id or workflow_id"));
	}
	return (rpc_check_text("workflow_id", workflow_id, WF_ID_MAX, msg));
}

int
rpc_check_wf_name(const char *field, const char *name, char *msg)
{
	/* Types name functions and are shown and filtered on: the rule of
	 * queue names keeps them printable and portable. */
	int rv = rpc_check_queue(field, name, msg);

	if (rv != CAIRN_OK) {
		char m[RPC_MSG_MAX];
		snprintf(m, sizeof(m), "%s", msg);
		char *q = strstr(m, "queue name");
		return (rpc_invalid(msg, "%.*sname%s",
		    q != NULL ? (int) (q - m) : 0, m,
		    q != NULL ? q + strlen("queue name") : ""));
	}
	return (CAIRN_OK);
}

int
rpc_check_wf_start(
    const Cairn__V1__StartWorkflowRequest *in, size_t max_payload, char *msg)
{
	int rv;

	if ((rv = rpc_check_text(
	         "workflow_id", in->workflow_id, WF_ID_MAX, msg))
	        != CAIRN_OK
	    || (rv = rpc_check_wf_name("type", in->type, msg)) != CAIRN_OK
	    || (rv = rpc_check_queue("queue", in->queue, msg)) != CAIRN_OK
	    || (rv = rpc_check_bytes("input", in->input.len, max_payload, msg))
	        != CAIRN_OK) {
		return (rv);
	}
	return (CAIRN_OK);
}

int
rpc_check_wf_lease(const Cairn__V1__LeaseWorkflowRequest *in, char *msg)
{
	int rv;

	if (in->n_queues == 0 || in->n_queues > 16) {
		return (rpc_invalid(msg, "queues: name 1 to 16 queues"));
	}
	for (size_t i = 0; i < in->n_queues; i++) {
		if ((rv = rpc_check_queue("queues", in->queues[i], msg))
		    != 0) {
			return (rv);
		}
	}
	if (in->n_known > RPC_WF_KNOWN_MAX) {
		return (rpc_invalid(msg, "known: at most %d runs, not %zu",
		    RPC_WF_KNOWN_MAX, in->n_known));
	}
	if ((rv = rpc_check_duration("wait_ms", in->wait_ms, msg)) != 0
	    || (rv = rpc_check_duration(
	            "lease_timeout_ms", in->lease_timeout_ms, msg))
	        != 0) {
		return (rv);
	}
	return (rpc_check_text(
	    "worker_id", in->worker_id, RPC_WORKER_ID_MAX, msg));
}

/* check_outcome: a step's or marker's recorded outcome. */
static int
check_outcome(
    const char *f, const Cairn__V1__Command *c, size_t max_payload, char *msg)
{
	bool marker = c->kind == CAIRN__V1__ENTRY_KIND__ENTRY_KIND_MARKER;

	if (c->status != CAIRN__V1__ENTRY_STATUS__ENTRY_STATUS_COMPLETED
	    && (marker
	        || c->status
	            != CAIRN__V1__ENTRY_STATUS__ENTRY_STATUS_FAILED)) {
		return (rpc_invalid(msg, "%s.status: a %s is recorded %s", f,
		    marker ? "marker" : "step",
		    marker ? "COMPLETED" : "COMPLETED or FAILED"));
	}
	int rv = rpc_check_bytes("result", c->result.len, max_payload, msg);
	return (rv != CAIRN_OK
	        ? rv
	        : rpc_check_text("error", c->error, RPC_ERROR_MAX, msg));
}

/* check_activity: an activity's task, as an Enqueue checks it. */
static int
check_activity(
    size_t i, const Cairn__V1__Command *c, size_t max_payload, char *msg)
{
	char inner[RPC_MSG_MAX];
	int rv;

	if (c->activity == NULL) {
		return (rpc_invalid(msg,
		    "commands[%zu].activity: required (its "
		    "queue at least)",
		    i));
	}
	if ((rv = rpc_check_spec(0, c->activity, max_payload, inner)) != 0) {
		/* Its messages name "tasks[0]": say where it really is. */
		const char *dot = strchr(inner, '.');
		return (rpc_invalid(msg, "commands[%zu].activity%s", i,
		    dot != NULL ? dot : inner));
	}
	return (CAIRN_OK);
}

int
rpc_check_command(
    size_t i, const Cairn__V1__Command *c, size_t max_payload, char *msg)
{
	char f[48];
	int rv;

	snprintf(f, sizeof(f), "commands[%zu]", i);
	if (c->kind < CAIRN__V1__ENTRY_KIND__ENTRY_KIND_STEP
	    || c->kind > CAIRN__V1__ENTRY_KIND__ENTRY_KIND_MARKER) {
		return (rpc_invalid(msg, "%s.kind: %d is not a kind of entry",
		    f, (int) c->kind));
	}
	bool named = c->kind != CAIRN__V1__ENTRY_KIND__ENTRY_KIND_TIMER;
	if (named && (c->name == NULL || c->name[0] == 0)) {
		return (rpc_invalid(msg, "%s.name: required", f));
	}
	if ((rv = rpc_check_text("name", c->name, WF_NAME_MAX, msg)) != 0
	    || (rv = rpc_check_bytes("input", c->input.len, max_payload, msg))
	        != 0
	    || (rv = rpc_check_duration("duration_ms", c->duration_ms, msg))
	        != 0) {
		return (rv);
	}
	switch (c->kind) {
	case CAIRN__V1__ENTRY_KIND__ENTRY_KIND_STEP:
	case CAIRN__V1__ENTRY_KIND__ENTRY_KIND_MARKER:
		return (check_outcome(f, c, max_payload, msg));
	case CAIRN__V1__ENTRY_KIND__ENTRY_KIND_ACTIVITY:
		rv = check_activity(i, c, max_payload, msg);
		break;
	case CAIRN__V1__ENTRY_KIND__ENTRY_KIND_CHILD:
		if ((rv = rpc_check_wf_name("name", c->name, msg)) != 0
		    || (rv = rpc_check_text("child_workflow_id",
		            c->child_workflow_id, WF_ID_MAX, msg))
		        != 0) {
			return (rv);
		}
		if (c->child_queue != NULL && c->child_queue[0] != 0) {
			rv = rpc_check_queue(
			    "child_queue", c->child_queue, msg);
		}
		break;
	default:
		break;
	}
	if (rv == CAIRN_OK && c->status != 0
	    && c->status != CAIRN__V1__ENTRY_STATUS__ENTRY_STATUS_PENDING) {
		return (rpc_invalid(msg,
		    "%s.status: the server gives a %s its "
		    "outcome",
		    f, wf_kind_name((int) c->kind)));
	}
	return (rv);
}

int
rpc_check_advance(
    const Cairn__V1__AdvanceWorkflowRequest *in, size_t max_payload, char *msg)
{
	int rv;

	if (in->run_id == 0 || in->run_id > INT64_MAX) {
		return (rpc_invalid(msg, "run_id: required"));
	}
	if ((rv = rpc_check_token("lease_token", in->lease_token, msg)) != 0) {
		return (rv);
	}
	if (in->expected_seq == 0) {
		return (rpc_invalid(
		    msg, "expected_seq: the first entry is seq 1"));
	}
	if (in->n_commands > WF_ADVANCE_MAX) {
		return (rpc_invalid(msg,
		    "commands: at most %d in one advance, not "
		    "%zu",
		    WF_ADVANCE_MAX, in->n_commands));
	}
	switch (in->finish) {
	case CAIRN__V1__WORKFLOW_STATE__WORKFLOW_STATE_UNSPECIFIED:
	case CAIRN__V1__WORKFLOW_STATE__WORKFLOW_STATE_SUCCEEDED:
	case CAIRN__V1__WORKFLOW_STATE__WORKFLOW_STATE_FAILED:
	case CAIRN__V1__WORKFLOW_STATE__WORKFLOW_STATE_CANCELED:
		break;
	default:
		return (rpc_invalid(msg,
		    "finish: SUCCEEDED, FAILED, CANCELED or "
		    "none, not %d",
		    (int) in->finish));
	}
	if (in->finish != 0 && in->keep_lease) {
		return (rpc_invalid(
		    msg, "keep_lease: a finished run keeps nothing"));
	}
	if ((rv = rpc_check_bytes("result", in->result.len, max_payload, msg))
	        != 0
	    || (rv = rpc_check_text("error", in->error, RPC_ERROR_MAX, msg))
	        != 0) {
		return (rv);
	}
	for (size_t i = 0; i < in->n_commands; i++) {
		if ((rv = rpc_check_command(
		         i, in->commands[i], max_payload, msg))
		    != CAIRN_OK) {
			return (rv);
		}
	}
	return (CAIRN_OK);
}

int
rpc_check_wf_list(const Cairn__V1__ListWorkflowsRequest *in, char *msg)
{
	int rv;

	if (in->type != NULL && in->type[0] != 0
	    && (rv = rpc_check_wf_name("type", in->type, msg)) != 0) {
		return (rv);
	}
	if (in->queue != NULL && in->queue[0] != 0
	    && (rv = rpc_check_queue("queue", in->queue, msg)) != 0) {
		return (rv);
	}
	switch (in->state) {
	case CAIRN__V1__WORKFLOW_STATE__WORKFLOW_STATE_UNSPECIFIED:
	case CAIRN__V1__WORKFLOW_STATE__WORKFLOW_STATE_RUNNING:
	case CAIRN__V1__WORKFLOW_STATE__WORKFLOW_STATE_SUCCEEDED:
	case CAIRN__V1__WORKFLOW_STATE__WORKFLOW_STATE_FAILED:
	case CAIRN__V1__WORKFLOW_STATE__WORKFLOW_STATE_CANCELED:
	case CAIRN__V1__WORKFLOW_STATE__WORKFLOW_STATE_TERMINATED:
		break;
	default:
		return (rpc_invalid(msg, "state: %d is not a workflow state",
		    (int) in->state));
	}
	if (in->limit > 1000) {
		return (rpc_invalid(
		    msg, "limit: at most 1000, not %u", in->limit));
	}
	return (CAIRN_OK);
}
