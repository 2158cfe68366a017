/*
 * ops/api_json.c - the server's tasks, runs, log entries and events as
 * JSON, with the field names of the CLI's --json (and of the protocol),
 * so that a script reads the API and `cairn ... --json` alike.
 */
#include <string.h>

#include "ops/api_internal.h"

/* bytes writes a bytes field as json_kv_bytes does (text, or
 * NAME_base64), cut to max bytes (0: no cut) at a character boundary,
 * with NAME_size when it was cut. */
static void
bytes(struct json *j, const char *name, const uint8_t *p, size_t n, size_t max)
{
	char key[64];
	size_t cut = n;

	if (max > 0 && n > max) {
		cut = max;
		/* Back off to the start of a character, so that a long
		 * text stays text. */
		while (cut > 0 && cut > max - 4 && (p[cut] & 0xc0) == 0x80) {
			cut--;
		}
		snprintf(key, sizeof(key), "%s_size", name);
		json_kv_uint(j, key, n);
	}
	json_kv_bytes(j, name, p, cut);
}

static const char *
entry_status_name(int status)
{
	static const char *const names[] = { "unknown", "pending", "completed",
		"failed", "timed_out", "canceled" };

	return (status >= WF_PENDING && status <= WF_CANCELED_ENTRY
	        ? names[status]
	        : names[0]);
}

void
api_json_task_brief(struct json *j, const struct task *t)
{
	json_begin_object(j);
	json_kv_uint(j, "id", t->id);
	json_kv_string(j, "queue", t->queue);
	json_kv_string(j, "state", cairn_state_name(t->state));
	json_kv_int(j, "priority", t->priority);
	json_kv_uint(j, "attempt", t->attempt);
	json_kv_uint(j, "max_attempts", t->max_attempts);
	json_kv_int(j, "run_at_ms", t->run_at_ms);
	json_kv_int(j, "created_at_ms", t->created_ms);
	json_kv_int(j, "updated_at_ms", t->updated_ms);
	json_kv_string(
	    j, "worker_id", t->worker_id != NULL ? t->worker_id : "");
	json_kv_string(j, "idempotency_key",
	    t->idempotency_key != NULL ? t->idempotency_key : "");
	bytes(j, "last_error",
	    (const uint8_t *) (t->last_error ? t->last_error : ""),
	    t->last_error != NULL ? strlen(t->last_error) : 0, 200);
	bytes(j, "payload", t->payload, t->payload_len, 96);
	json_kv_uint(j, "payload_size", t->payload_len);
	json_end_object(j);
}

void
api_json_task(struct json *j, const struct task *t, size_t max)
{
	json_begin_object(j);
	json_kv_uint(j, "id", t->id);
	json_kv_string(j, "queue", t->queue);
	bytes(j, "payload", t->payload, t->payload_len, max);
	json_kv_int(j, "priority", t->priority);
	json_kv_string(j, "state", cairn_state_name(t->state));
	json_kv_int(j, "run_at_ms", t->run_at_ms);
	json_kv_uint(j, "attempt", t->attempt);
	json_kv_uint(j, "max_attempts", t->max_attempts);
	json_key(j, "retry");
	json_begin_object(j);
	json_kv_int(j, "initial_backoff_ms", t->retry.initial_ms);
	json_key(j, "multiplier");
	json_double(j, t->retry.multiplier);
	json_kv_int(j, "max_backoff_ms", t->retry.max_ms);
	json_end_object(j);
	json_kv_int(j, "heartbeat_timeout_ms", t->heartbeat_timeout_ms);
	json_kv_int(j, "start_to_close_timeout_ms", t->start_to_close_ms);
	json_kv_string(j, "idempotency_key",
	    t->idempotency_key != NULL ? t->idempotency_key : "");
	bytes(j, "details", t->details, t->details_len, max);
	bytes(j, "result", t->result, t->result_len, max);
	json_kv_string(
	    j, "last_error", t->last_error != NULL ? t->last_error : "");
	json_kv_bool(j, "cancel_requested", t->cancel_requested);
	json_kv_string(
	    j, "worker_id", t->worker_id != NULL ? t->worker_id : "");
	json_kv_int(j, "lease_deadline_ms",
	    t->state == CAIRN_ACTIVE ? t->lease_deadline_ms : 0);
	json_kv_int(j, "created_at_ms", t->created_ms);
	json_kv_int(j, "updated_at_ms", t->updated_ms);
	json_kv_int(j, "finished_at_ms", t->finished_ms);
	json_end_object(j);
}

void
api_json_run(struct json *j, const struct wf_run *r, size_t max)
{
	bool leased = r->state == WF_RUNNING && r->phase == WF_LEASED;

	json_begin_object(j);
	json_kv_uint(j, "run_id", r->id);
	json_kv_string(j, "workflow_id", r->workflow_id);
	json_kv_string(j, "type", r->type);
	json_kv_string(j, "queue", r->queue);
	if (max > 0) {
		bytes(j, "input", r->input, r->input_len, max);
		bytes(j, "result", r->result, r->result_len, max);
	}
	json_kv_string(j, "state", wf_state_name(r->state));
	json_kv_string(j, "error", r->error != NULL ? r->error : "");
	json_kv_bool(j, "cancel_requested", r->cancel_requested);
	json_kv_bool(j, "stuck", r->stuck);
	json_kv_string(
	    j, "stuck_reason", r->stuck_reason != NULL ? r->stuck_reason : "");
	json_kv_uint(j, "log_length", r->next_seq > 0 ? r->next_seq - 1 : 0);
	json_kv_uint(j, "task_attempt", r->task_attempt);
	json_kv_bool(j, "leased", leased);
	json_kv_bool(
	    j, "runnable", r->state == WF_RUNNING && r->phase == WF_RUNNABLE);
	json_kv_string(
	    j, "worker_id", r->worker_id != NULL ? r->worker_id : "");
	json_kv_int(j, "lease_deadline_ms", leased ? r->lease_deadline_ms : 0);
	json_kv_uint(j, "parent_run_id", r->parent_run);
	json_kv_uint(j, "parent_seq", r->parent_seq);
	json_kv_int(j, "created_at_ms", r->created_ms);
	json_kv_int(j, "updated_at_ms", r->updated_ms);
	json_kv_int(j, "finished_at_ms", r->finished_ms);
	json_end_object(j);
}

void
api_json_entry(struct json *j, const struct wf_entry *e, size_t max)
{
	json_begin_object(j);
	json_kv_uint(j, "seq", e->seq);
	json_kv_string(j, "kind", wf_kind_name(e->kind));
	json_kv_string(j, "name", e->name != NULL ? e->name : "");
	bytes(j, "input", e->input, e->input_len, max);
	json_kv_string(j, "status", entry_status_name(e->status));
	bytes(j, "result", e->result, e->result_len, max);
	json_kv_string(j, "error", e->error != NULL ? e->error : "");
	json_kv_int(j, "created_at_ms", e->created_ms);
	json_kv_int(j, "resolved_at_ms", e->resolved_ms);
	json_kv_uint(j, "resolved_order", e->resolved_order);
	json_kv_uint(j, "task_id", e->task_id);
	json_kv_uint(j, "child_run_id", e->child_run);
	json_kv_int(j, "fire_at_ms", e->fire_at_ms);
	json_kv_uint(j, "attempts", e->attempts);
	json_kv_string(j, "queue", e->queue != NULL ? e->queue : "");
	json_end_object(j);
}

void
api_json_events(struct json *j, const struct task_event *ev, size_t n)
{
	json_begin_array(j);
	for (size_t i = 0; i < n; i++) {
		/* A run of heartbeats of one attempt is one item: a task
		 * that heartbeats for a day would otherwise send
		 * thousands. */
		size_t k = i;
		while (strcmp(ev[i].kind, "heartbeat") == 0 && k + 1 < n
		    && strcmp(ev[k + 1].kind, "heartbeat") == 0
		    && ev[k + 1].attempt == ev[i].attempt) {
			k++;
		}
		json_begin_object(j);
		json_kv_int(j, "at_ms", ev[i].at_ms);
		json_kv_string(j, "kind", ev[i].kind);
		json_kv_uint(j, "attempt", ev[i].attempt);
		json_kv_string(j, "worker_id",
		    ev[i].worker_id != NULL ? ev[i].worker_id : "");
		json_kv_string(
		    j, "message", ev[i].message != NULL ? ev[i].message : "");
		if (k > i) {
			json_kv_uint(j, "count", k - i + 1);
			json_kv_int(j, "last_at_ms", ev[k].at_ms);
		}
		json_end_object(j);
		i = k;
	}
	json_end_array(j);
}
