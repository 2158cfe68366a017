/*
 * wf_convert.c - the names of the workflow enums, deep copies of runs and
 * log entries out of unpacked messages, and their free functions. Strings
 * and buffers follow convert.c's rules: never NULL, buffers followed by a
 * NUL byte not counted in their length.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wf_internal.h"

static const char *const run_states[] = {
	[CAIRN_WF_STATE_ANY] = "any",
	[CAIRN_WF_RUNNING] = "running",
	[CAIRN_WF_SUCCEEDED] = "succeeded",
	[CAIRN_WF_FAILED] = "failed",
	[CAIRN_WF_CANCELED] = "canceled",
	[CAIRN_WF_TERMINATED] = "terminated",
};

static const char *const kinds[] = {
	[CAIRN_WF_STEP] = "step",
	[CAIRN_WF_ACTIVITY] = "activity",
	[CAIRN_WF_TIMER] = "timer",
	[CAIRN_WF_SIGNAL] = "signal",
	[CAIRN_WF_CHILD] = "child",
	[CAIRN_WF_MARKER] = "marker",
};

static const char *const statuses[] = {
	[CAIRN_WF_ENTRY_PENDING] = "pending",
	[CAIRN_WF_ENTRY_COMPLETED] = "completed",
	[CAIRN_WF_ENTRY_FAILED] = "failed",
	[CAIRN_WF_ENTRY_TIMED_OUT] = "timed_out",
	[CAIRN_WF_ENTRY_CANCELED] = "canceled",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* name_of and parse_name read one of the tables above, whose holes (NULL)
 * are values without a name. */
static const char *
name_of(const char *const *names, size_t n, int v)
{
	if (v < 0 || (size_t) v >= n || names[v] == NULL) {
		return ("unknown");
	}
	return (names[v]);
}

static bool
parse_name(const char *const *names, size_t n, const char *name, int *out)
{
	if (name == NULL) {
		return (false);
	}
	for (size_t i = 0; i < n; i++) {
		if (names[i] != NULL && strcmp(names[i], name) == 0) {
			*out = (int) i;
			return (true);
		}
	}
	return (false);
}

const char *
cairn_workflow_state_name(cairn_workflow_state s)
{
	return (name_of(run_states, NELEM(run_states), (int) s));
}

bool
cairn_workflow_state_parse(const char *name, cairn_workflow_state *out)
{
	int v;

	if (name != NULL && name[0] == '\0') {
		*out = CAIRN_WF_STATE_ANY;
		return (true);
	}
	if (!parse_name(run_states, NELEM(run_states), name, &v)) {
		return (false);
	}
	*out = (cairn_workflow_state) v;
	return (true);
}

const char *
cairn_wf_kind_name(cairn_wf_kind k)
{
	return (name_of(kinds, NELEM(kinds), (int) k));
}

bool
cairn_wf_kind_parse(const char *name, cairn_wf_kind *out)
{
	int v;

	if (!parse_name(kinds, NELEM(kinds), name, &v)) {
		return (false);
	}
	*out = (cairn_wf_kind) v;
	return (true);
}

const char *
cairn_wf_status_name(cairn_wf_status s)
{
	return (name_of(statuses, NELEM(statuses), (int) s));
}

bool
cairn_wf_status_parse(const char *name, cairn_wf_status *out)
{
	int v;

	if (!parse_name(statuses, NELEM(statuses), name, &v)) {
		return (false);
	}
	*out = (cairn_wf_status) v;
	return (true);
}

cairn_workflow_run *
cairn__wf_run_from_pb(const Cairn__V1__WorkflowRun *pb)
{
	cairn_workflow_run *r;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		return (NULL);
	}
	/* The enums share the wire's numbers; an unknown state from a newer
	 * server passes through and is named "unknown". */
	r->run_id = pb->run_id;
	r->state = (cairn_workflow_state) pb->state;
	r->cancel_requested = pb->cancel_requested;
	r->stuck = pb->stuck;
	r->log_length = pb->log_length;
	r->task_attempt = pb->task_attempt;
	r->leased = pb->leased;
	r->lease_deadline_ms = pb->lease_deadline_ms;
	r->parent_run_id = pb->parent_run_id;
	r->parent_seq = pb->parent_seq;
	r->created_at_ms = pb->created_at_ms;
	r->updated_at_ms = pb->updated_at_ms;
	r->finished_at_ms = pb->finished_at_ms;
	r->runnable = pb->runnable;
	r->resolved_count = pb->resolved_count;
	if ((r->workflow_id = cairn__str_dup(pb->workflow_id)) == NULL
	    || (r->type = cairn__str_dup(pb->type)) == NULL
	    || (r->queue = cairn__str_dup(pb->queue)) == NULL
	    || (r->error = cairn__str_dup(pb->error)) == NULL
	    || (r->stuck_reason = cairn__str_dup(pb->stuck_reason)) == NULL
	    || (r->worker_id = cairn__str_dup(pb->worker_id)) == NULL
	    || (r->input = cairn__bytes_dup(&pb->input, &r->input_len)) == NULL
	    || (r->result = cairn__bytes_dup(&pb->result, &r->result_len))
	        == NULL) {
		cairn_workflow_run_free(r);
		return (NULL);
	}
	return (r);
}

bool
cairn__wf_entry_from_pb(cairn_wf_entry *e, const Cairn__V1__Entry *pb)
{
	memset(e, 0, sizeof(*e));
	e->seq = pb->seq;
	e->kind = (cairn_wf_kind) pb->kind;
	e->input_hash = pb->input_hash;
	e->status = (cairn_wf_status) pb->status;
	e->created_at_ms = pb->created_at_ms;
	e->resolved_at_ms = pb->resolved_at_ms;
	e->resolved_order = pb->resolved_order;
	e->task_id = pb->task_id;
	e->child_run_id = pb->child_run_id;
	e->fire_at_ms = pb->fire_at_ms;
	e->attempts = pb->attempts;
	if ((e->name = cairn__str_dup(pb->name)) == NULL
	    || (e->error = cairn__str_dup(pb->error)) == NULL
	    || (e->queue = cairn__str_dup(pb->queue)) == NULL
	    || (e->input = cairn__bytes_dup(&pb->input, &e->input_len)) == NULL
	    || (e->result = cairn__bytes_dup(&pb->result, &e->result_len))
	        == NULL) {
		cairn__wf_entry_clear(e);
		return (false);
	}
	return (true);
}

cairn_wf_entry *
cairn__wf_entries_from_pb(Cairn__V1__Entry *const *pb, size_t n)
{
	cairn_wf_entry *v;

	if ((v = calloc(n + 1, sizeof(*v))) == NULL) {
		return (NULL);
	}
	for (size_t i = 0; i < n; i++) {
		if (!cairn__wf_entry_from_pb(&v[i], pb[i])) {
			cairn_wf_entries_free(v, i);
			return (NULL);
		}
	}
	return (v);
}

void
cairn__wf_entry_clear(cairn_wf_entry *e)
{
	free(e->name);
	free(e->input);
	free(e->result);
	free(e->error);
	free(e->queue);
	memset(e, 0, sizeof(*e));
}

void
cairn_wf_entries_free(cairn_wf_entry *entries, size_t n)
{
	if (entries == NULL) {
		return;
	}
	for (size_t i = 0; i < n; i++) {
		cairn__wf_entry_clear(&entries[i]);
	}
	free(entries);
}

void
cairn_workflow_run_free(cairn_workflow_run *r)
{
	if (r == NULL) {
		return;
	}
	free(r->workflow_id);
	free(r->type);
	free(r->queue);
	free(r->input);
	free(r->result);
	free(r->error);
	free(r->stuck_reason);
	free(r->worker_id);
	free(r);
}

void
cairn_workflow_runs_free(cairn_workflow_run **runs, size_t n)
{
	if (runs == NULL) {
		return;
	}
	for (size_t i = 0; i < n; i++) {
		cairn_workflow_run_free(runs[i]);
	}
	free(runs);
}

void
cairn_leased_run_free(cairn_leased_run *lr)
{
	if (lr == NULL) {
		return;
	}
	cairn_workflow_run_free(lr->run);
	free(lr->lease_token);
	cairn_wf_entries_free(lr->entries, lr->nentries);
	free(lr);
}

bool
cairn__wf_log_push(struct cairn__wf_log *log, cairn_wf_entry *e)
{
	if (log->n == log->cap) {
		size_t cap = log->cap > 0 ? log->cap * 2 : 16;
		cairn_wf_entry *v = realloc(log->v, cap * sizeof(*v));
		if (v == NULL) {
			return (false);
		}
		log->v = v;
		log->cap = cap;
	}
	log->v[log->n++] = *e;
	memset(e, 0, sizeof(*e));
	return (true);
}

void
cairn__wf_log_clear(struct cairn__wf_log *log)
{
	for (size_t i = 0; i < log->n; i++) {
		cairn__wf_entry_clear(&log->v[i]);
	}
	free(log->v);
	memset(log, 0, sizeof(*log));
}

bool
cairn__wf_log_check(const struct cairn__wf_log *log, char *buf, size_t len)
{
	for (size_t i = 0; i < log->n; i++) {
		if (log->v[i].seq != i + 1) {
			snprintf(buf, len,
			    "the log's entry %zu has seq %u, not %zu", i,
			    (unsigned) log->v[i].seq, i + 1);
			return (false);
		}
	}
	return (true);
}
