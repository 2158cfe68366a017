/*
 * rpc/wf_convert.c - runs and log entries to wire messages, and the
 * commands of an AdvanceWorkflow from the wire. Messages built here point
 * into the structs they come from (no copies): pack them first.
 */
#include <stdlib.h>

#include "rpc/convert.h"
#include "rpc/wf_convert.h"

void
rpc_run_to_pb(const struct wf_run *r, Cairn__V1__WorkflowRun *m)
{
	cairn__v1__workflow_run__init(m);
	m->run_id = r->id;
	m->workflow_id = rpc_text(r->workflow_id);
	m->type = rpc_text(r->type);
	m->queue = rpc_text(r->queue);
	m->input = rpc_bin(r->input, r->input_len);
	m->state = (Cairn__V1__WorkflowState) r->state;
	m->result = rpc_bin(r->result, r->result_len);
	m->error = rpc_text(r->error);
	m->cancel_requested = r->cancel_requested;
	m->stuck = r->stuck;
	m->stuck_reason = rpc_text(r->stuck_reason);
	m->log_length = r->next_seq - 1;
	m->task_attempt = r->task_attempt;
	m->leased = r->state == WF_RUNNING && r->phase == WF_LEASED;
	m->runnable = r->state == WF_RUNNING && r->phase == WF_RUNNABLE;
	m->worker_id = rpc_text(r->worker_id);
	m->lease_deadline_ms = m->leased ? r->lease_deadline_ms : 0;
	m->parent_run_id = r->parent_run;
	m->parent_seq = r->parent_seq;
	m->created_at_ms = r->created_ms;
	m->updated_at_ms = r->updated_ms;
	m->finished_at_ms = r->finished_ms;
	m->resolved_count = r->resolved_count;
}

Cairn__V1__WorkflowRun **
rpc_runs_to_pb(struct wf_run *const *runs, size_t n)
{
	void **ptrs = NULL;
	Cairn__V1__WorkflowRun *m = cairn__pb_array(n, sizeof(*m), &ptrs);

	if (m == NULL) {
		return (NULL);
	}
	for (size_t i = 0; i < n; i++) {
		rpc_run_to_pb(runs[i], &m[i]);
	}
	return ((Cairn__V1__WorkflowRun **) ptrs);
}

Cairn__V1__Entry **
rpc_entries_to_pb(const struct wf_entry *e, size_t n)
{
	void **ptrs = NULL;
	Cairn__V1__Entry *m = cairn__pb_array(n, sizeof(*m), &ptrs);

	if (m == NULL) {
		return (NULL);
	}
	for (size_t i = 0; i < n; i++) {
		cairn__v1__entry__init(&m[i]);
		m[i].seq = e[i].seq;
		m[i].kind = (Cairn__V1__EntryKind) e[i].kind;
		m[i].name = rpc_text(e[i].name);
		m[i].input_hash = e[i].input_hash;
		m[i].input = rpc_bin(e[i].input, e[i].input_len);
		m[i].status = (Cairn__V1__EntryStatus) e[i].status;
		m[i].result = rpc_bin(e[i].result, e[i].result_len);
		m[i].error = rpc_text(e[i].error);
		m[i].created_at_ms = e[i].created_ms;
		m[i].resolved_at_ms = e[i].resolved_ms;
		m[i].resolved_order = e[i].resolved_order;
		m[i].task_id = e[i].task_id;
		m[i].child_run_id = e[i].child_run;
		m[i].fire_at_ms = e[i].fire_at_ms;
		m[i].attempts = e[i].attempts;
		m[i].queue = rpc_text(e[i].queue);
	}
	return ((Cairn__V1__Entry **) ptrs);
}

void
rpc_command_from_pb(const Cairn__V1__Command *m, struct wf_command *c)
{
	*c = (struct wf_command) {
		.kind = (int) m->kind,
		.name = m->name,
		.input = m->input.data,
		.input_len = m->input.len,
		.status = (int) m->status,
		.result = m->result.data,
		.result_len = m->result.len,
		.error = m->error,
		.duration_ms = m->duration_ms,
		.child_workflow_id = m->child_workflow_id,
		.child_queue = m->child_queue,
	};
	if (m->kind == CAIRN__V1__ENTRY_KIND__ENTRY_KIND_ACTIVITY
	    && m->activity != NULL) {
		/* The payload and key are the server's (lifecycle). */
		rpc_spec_from_pb(m->activity, &c->activity);
		c->activity.payload = NULL;
		c->activity.payload_len = 0;
		c->activity.idempotency_key = NULL;
	}
}
