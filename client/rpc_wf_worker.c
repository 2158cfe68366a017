/*
 * rpc_wf_worker.c - the rpcs of a workflow worker: LeaseWorkflow,
 * HeartbeatWorkflow, AdvanceWorkflow and FailWorkflowTask. They are public
 * so that a binding in another language can replay runs in its own
 * language over libcairn's transport; the worker of wf_worker.c uses them.
 */
#include <stdlib.h>
#include <string.h>

#include "wf_internal.h"

#define NOMEM(c, what)                                                        \
	cairn__fail((c), CAIRN_RESOURCE_EXHAUSTED, "out of memory %s", (what))

/* leased_out converts a LeasedRun (with its run) into *out. */
static int
leased_out(
    cairn_client *c, const Cairn__V1__LeasedRun *pb, cairn_leased_run **out)
{
	cairn_leased_run *lr;

	if (pb->run == NULL) {
		return (cairn__fail(c, CAIRN_INTERNAL,
		    "LeaseWorkflow reply from %s without a run", c->url));
	}
	if ((lr = calloc(1, sizeof(*lr))) == NULL) {
		return (NOMEM(c, "reading a LeaseWorkflow reply"));
	}
	lr->deadline_ms = pb->deadline_ms;
	lr->delta = pb->delta;
	lr->nentries = pb->n_entries;
	if ((lr->run = cairn__wf_run_from_pb(pb->run)) == NULL
	    || (lr->lease_token = strdup(pb->lease_token)) == NULL
	    || (lr->entries
	           = cairn__wf_entries_from_pb(pb->entries, pb->n_entries))
	        == NULL) {
		lr->nentries = 0;
		cairn_leased_run_free(lr);
		return (NOMEM(c, "reading a LeaseWorkflow reply"));
	}
	*out = lr;
	return (CAIRN_OK);
}

static int
lease_check(cairn_client *c, const char *const *queues, size_t nqueues,
    const cairn_wf_lease_options *o, cairn_leased_run **out)
{
	if (queues == NULL || nqueues == 0) {
		return (cairn__fail(c, CAIRN_INVALID_ARGUMENT,
		    "cairn_workflow_lease: no queues given"));
	}
	for (size_t i = 0; i < nqueues; i++) {
		if (queues[i] == NULL) {
			return (cairn__fail(c, CAIRN_INVALID_ARGUMENT,
			    "cairn_workflow_lease: queue %zu is NULL", i));
		}
	}
	if (o->nknown > 0 && o->known == NULL) {
		return (cairn__fail(c, CAIRN_INVALID_ARGUMENT,
		    "cairn_workflow_lease: known is NULL"));
	}
	if (out == NULL) {
		return (cairn__fail(c, CAIRN_INVALID_ARGUMENT,
		    "cairn_workflow_lease: out is NULL"));
	}
	return (CAIRN_OK);
}

int
cairn_workflow_lease(cairn_client *c, const char *const *queues,
    size_t nqueues, const cairn_wf_lease_options *opts, cairn_leased_run **out)
{
	static const cairn_wf_lease_options defaults = { 0 };
	Cairn__V1__LeaseWorkflowRequest req
	    = CAIRN__V1__LEASE_WORKFLOW_REQUEST__INIT;
	Cairn__V1__LeaseWorkflowResponse *resp;
	Cairn__V1__KnownRun **known = NULL;
	Cairn__V1__KnownRun *k;
	cairn_lease_options lo = { 0 };
	ProtobufCMessage *m;
	char worker[300];
	int rv;

	if (c == NULL) {
		return (CAIRN_INVALID_ARGUMENT);
	}
	if (opts == NULL) {
		opts = &defaults;
	}
	if ((rv = lease_check(c, queues, nqueues, opts, out)) != CAIRN_OK) {
		return (rv);
	}
	if (opts->nknown > 0) {
		k = cairn__pb_array(
		    opts->nknown, sizeof(*k), (void ***) &known);
		if (k == NULL) {
			return (NOMEM(c, "building a LeaseWorkflow request"));
		}
		for (size_t i = 0; i < opts->nknown; i++) {
			cairn__v1__known_run__init(known[i]);
			known[i]->run_id = opts->known[i].run_id;
			known[i]->log_length = opts->known[i].log_length;
			known[i]->resolved_count
			    = opts->known[i].resolved_count;
		}
	}
	lo.worker_id = opts->worker_id;
	req.queues = (char **) queues;
	req.n_queues = nqueues;
	req.wait_ms = opts->wait_ms;
	req.worker_id = (char *) cairn__worker_id(&lo, worker, sizeof(worker));
	req.lease_timeout_ms = opts->lease_timeout_ms;
	req.release_on_disconnect = opts->release_on_disconnect;
	req.known = known;
	req.n_known = opts->nknown;
	rv = cairn__call(
	    c, "LeaseWorkflow", &req.base, opts->wait_ms, CAIRN__MUTATING, &m);
	free(known);
	if (rv != CAIRN_OK) {
		return (rv);
	}
	resp = (Cairn__V1__LeaseWorkflowResponse *) m;
	*out = NULL;
	if (resp->leased != NULL) {
		rv = leased_out(c, resp->leased, out);
	}
	protobuf_c_message_free_unpacked(m, NULL);
	return (rv);
}

int
cairn_workflow_heartbeat(cairn_client *c, uint64_t run_id,
    const char *lease_token, bool *cancel_requested, int64_t *deadline_ms)
{
	Cairn__V1__HeartbeatWorkflowRequest req
	    = CAIRN__V1__HEARTBEAT_WORKFLOW_REQUEST__INIT;
	Cairn__V1__HeartbeatWorkflowResponse *resp;
	ProtobufCMessage *m;
	int rv;

	if (c == NULL) {
		return (CAIRN_INVALID_ARGUMENT);
	}
	if (lease_token == NULL) {
		return (cairn__fail(c, CAIRN_INVALID_ARGUMENT,
		    "cairn_workflow_heartbeat: lease_token is NULL"));
	}
	req.run_id = run_id;
	req.lease_token = (char *) lease_token;
	if ((rv = cairn__call(
	         c, "HeartbeatWorkflow", &req.base, 0, CAIRN__MUTATING, &m))
	    != CAIRN_OK) {
		return (rv);
	}
	resp = (Cairn__V1__HeartbeatWorkflowResponse *) m;
	if (cancel_requested != NULL) {
		*cancel_requested = resp->cancel_requested;
	}
	if (deadline_ms != NULL) {
		*deadline_ms = resp->deadline_ms;
	}
	protobuf_c_message_free_unpacked(m, NULL);
	return (CAIRN_OK);
}

/* The pieces of one Command that point to memory of the request. */
struct cmd_pb {
	Cairn__V1__TaskSpec spec;
	Cairn__V1__RetryPolicy retry;
};

static void
command_to_pb(
    const cairn_wf_command *in, Cairn__V1__Command *pb, struct cmd_pb *mem)
{
	const cairn_wf_activity_options *a = &in->activity;

	cairn__v1__command__init(pb);
	/* protobuf-c's fields are not const, but packing only reads them. */
	pb->kind = (Cairn__V1__EntryKind) in->kind;
	pb->name = (char *) (in->name != NULL ? in->name : "");
	pb->input.data = (uint8_t *) in->input;
	pb->input.len = in->input_len;
	pb->status = (Cairn__V1__EntryStatus) in->status;
	pb->result.data = (uint8_t *) in->result;
	pb->result.len = in->result_len;
	pb->error = (char *) (in->error != NULL ? in->error : "");
	pb->duration_ms = in->duration_ms;
	pb->child_workflow_id
	    = (char *) (in->child_workflow_id != NULL ? in->child_workflow_id
	                                              : "");
	pb->child_queue
	    = (char *) (in->child_queue != NULL ? in->child_queue : "");
	if (in->kind != CAIRN_WF_ACTIVITY) {
		return;
	}
	cairn__v1__task_spec__init(&mem->spec);
	mem->spec.queue = (char *) (a->queue != NULL ? a->queue : "");
	mem->spec.priority = a->priority;
	mem->spec.max_attempts = a->max_attempts;
	mem->spec.heartbeat_timeout_ms = a->heartbeat_timeout_ms;
	mem->spec.start_to_close_timeout_ms = a->start_to_close_timeout_ms;
	if (a->retry_initial_backoff_ms != 0 || a->retry_multiplier != 0
	    || a->retry_max_backoff_ms != 0) {
		cairn__v1__retry_policy__init(&mem->retry);
		mem->retry.initial_backoff_ms = a->retry_initial_backoff_ms;
		mem->retry.multiplier = a->retry_multiplier;
		mem->retry.max_backoff_ms = a->retry_max_backoff_ms;
		mem->spec.retry = &mem->retry;
	}
	pb->activity = &mem->spec;
}

static int
advance_check(cairn_client *c, const cairn_wf_advance *r)
{
	const char *fn = "cairn_workflow_advance";

	if (r == NULL || r->lease_token == NULL) {
		return (cairn__fail(c, CAIRN_INVALID_ARGUMENT,
		    "%s: request or lease_token is NULL", fn));
	}
	if ((r->commands == NULL && r->ncommands > 0)
	    || (r->result == NULL && r->result_len > 0)) {
		return (cairn__fail(c, CAIRN_INVALID_ARGUMENT,
		    "%s: commands or result is NULL", fn));
	}
	for (size_t i = 0; i < r->ncommands; i++) {
		const cairn_wf_command *k = &r->commands[i];
		if ((k->input == NULL && k->input_len > 0)
		    || (k->result == NULL && k->result_len > 0)) {
			return (cairn__fail(c, CAIRN_INVALID_ARGUMENT,
			    "%s: command %zu: input or result is NULL", fn,
			    i));
		}
	}
	if (r->request_id != NULL && strlen(r->request_id) > 128) {
		return (cairn__fail(c, CAIRN_INVALID_ARGUMENT,
		    "%s: request_id is longer than 128 characters", fn));
	}
	return (CAIRN_OK);
}

/* advanced_out converts the reply of AdvanceWorkflow into *out. */
static int
advanced_out(cairn_client *c, const Cairn__V1__AdvanceWorkflowResponse *resp,
    cairn_wf_advanced *out)
{
	cairn_wf_entry *v;

	v = cairn__wf_entries_from_pb(resp->entries, resp->n_entries);
	if (v == NULL) {
		return (NOMEM(c, "reading an AdvanceWorkflow reply"));
	}
	out->entries = v;
	out->nentries = resp->n_entries;
	out->log_length = resp->log_length;
	out->deadline_ms = resp->deadline_ms;
	out->cancel_requested = resp->cancel_requested;
	return (CAIRN_OK);
}

int
cairn_workflow_advance(
    cairn_client *c, const cairn_wf_advance *r, cairn_wf_advanced *out)
{
	Cairn__V1__AdvanceWorkflowRequest req
	    = CAIRN__V1__ADVANCE_WORKFLOW_REQUEST__INIT;
	Cairn__V1__Command **cmds = NULL;
	struct cmd_pb *mem = NULL;
	ProtobufCMessage *m;
	int rv;

	if (c == NULL) {
		return (CAIRN_INVALID_ARGUMENT);
	}
	if ((rv = advance_check(c, r)) != CAIRN_OK) {
		return (rv);
	}
	if (r->ncommands > 0
	    && (cairn__pb_array(r->ncommands, sizeof(**cmds), (void ***) &cmds)
	            == NULL
	        || (mem = calloc(r->ncommands, sizeof(*mem))) == NULL)) {
		free(cmds);
		return (NOMEM(c, "building an AdvanceWorkflow request"));
	}
	for (size_t i = 0; i < r->ncommands; i++) {
		command_to_pb(&r->commands[i], cmds[i], &mem[i]);
	}
	req.run_id = r->run_id;
	req.lease_token = (char *) r->lease_token;
	req.expected_seq = r->expected_seq;
	req.commands = cmds;
	req.n_commands = r->ncommands;
	req.finish = (Cairn__V1__WorkflowState) r->finish;
	req.result.data = (uint8_t *) r->result;
	req.result.len = r->result_len;
	req.error = (char *) (r->error != NULL ? r->error : "");
	req.keep_lease = r->keep_lease;
	rv = cairn__call_rid(c, "AdvanceWorkflow", &req.base, 0,
	    CAIRN__MUTATING, r->request_id, &m);
	free(mem);
	free(cmds);
	if (rv != CAIRN_OK) {
		return (rv);
	}
	if (out != NULL) {
		rv = advanced_out(
		    c, (Cairn__V1__AdvanceWorkflowResponse *) m, out);
	}
	protobuf_c_message_free_unpacked(m, NULL);
	return (rv);
}

int
cairn_workflow_fail_task(cairn_client *c, uint64_t run_id,
    const char *lease_token, const char *error, bool nondeterminism,
    int64_t *retry_at_ms)
{
	Cairn__V1__FailWorkflowTaskRequest req
	    = CAIRN__V1__FAIL_WORKFLOW_TASK_REQUEST__INIT;
	ProtobufCMessage *m;
	int rv;

	if (c == NULL) {
		return (CAIRN_INVALID_ARGUMENT);
	}
	if (lease_token == NULL) {
		return (cairn__fail(c, CAIRN_INVALID_ARGUMENT,
		    "cairn_workflow_fail_task: lease_token is NULL"));
	}
	req.run_id = run_id;
	req.lease_token = (char *) lease_token;
	req.error = (char *) (error != NULL ? error : "");
	req.nondeterminism = nondeterminism;
	if ((rv = cairn__call(
	         c, "FailWorkflowTask", &req.base, 0, CAIRN__MUTATING, &m))
	    != CAIRN_OK) {
		return (rv);
	}
	if (retry_at_ms != NULL) {
		*retry_at_ms
		    = ((Cairn__V1__FailWorkflowTaskResponse *) m)->retry_at_ms;
	}
	protobuf_c_message_free_unpacked(m, NULL);
	return (CAIRN_OK);
}

uint64_t
cairn_wf_hash(const void *data, size_t len)
{
	return (cairn__fnv1a64(data, len));
}
