/*
 * workflow.c - rules about runs and log entries that do not depend on
 * storage: freeing, names, the input hash, the retry delay.
 */
#include <stdlib.h>
#include <string.h>

#include "cairn_wire.h"
#include "store/workflow.h"

void
wf_run_clear(struct wf_run *r)
{
	free(r->workflow_id);
	free(r->type);
	free(r->queue);
	free(r->input);
	free(r->result);
	free(r->error);
	free(r->stuck_reason);
	free(r->worker_id);
	memset(r, 0, sizeof(*r));
}

void
wf_run_free(struct wf_run *r)
{
	if (r == NULL) {
		return;
	}
	wf_run_clear(r);
	free(r);
}

void
wf_run_array_free(struct wf_run **runs, size_t n)
{
	if (runs == NULL) {
		return;
	}
	for (size_t i = 0; i < n; i++) {
		wf_run_free(runs[i]);
	}
	free(runs);
}

void
wf_entry_clear(struct wf_entry *e)
{
	free(e->name);
	free(e->input);
	free(e->result);
	free(e->error);
	free(e->queue);
	memset(e, 0, sizeof(*e));
}

void
wf_entries_free(struct wf_entry *e, size_t n)
{
	if (e == NULL) {
		return;
	}
	for (size_t i = 0; i < n; i++) {
		wf_entry_clear(&e[i]);
	}
	free(e);
}

void
wf_type_stats_free(struct wf_type_stats *st, size_t n)
{
	if (st == NULL) {
		return;
	}
	for (size_t i = 0; i < n; i++) {
		free(st[i].type);
	}
	free(st);
}

uint64_t
wf_hash(const void *data, size_t len)
{
	return (cairn__fnv1a64(data, len));
}

const char *
wf_state_name(int state)
{
	switch (state) {
	case WF_RUNNING:
		return ("running");
	case WF_SUCCEEDED:
		return ("succeeded");
	case WF_FAILED:
		return ("failed");
	case WF_CANCELED:
		return ("canceled");
	case WF_TERMINATED:
		return ("terminated");
	default:
		return ("unknown");
	}
}

const char *
wf_kind_name(int kind)
{
	static const char *const names[] = { "unknown", "step", "activity",
		"timer", "signal", "child", "marker" };

	return (kind >= WF_STEP && kind <= WF_MARKER ? names[kind] : names[0]);
}

int64_t
wf_retry_delay(uint32_t failures)
{
	int64_t d = WF_RETRY_FIRST_MS;

	for (uint32_t i = 1; i < failures && d < WF_RETRY_MAX_MS; i++) {
		d *= 2;
	}
	return (d < WF_RETRY_MAX_MS ? d : WF_RETRY_MAX_MS);
}
