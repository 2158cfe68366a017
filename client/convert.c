/*
 * convert.c - deep copies from unpacked protobuf messages into the structs
 * of cairn.h, and the free functions for them.
 *
 * Every string of a cairn_task is non-NULL ("" when unset) except
 * lease_token, which only cairn_lease sets. Every byte buffer is non-NULL
 * and followed by a NUL byte not counted in its length, so that a caller
 * may print a text payload without copying it.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static char *
str_dup(const char *s)
{
	return (strdup(s != NULL ? s : ""));
}

static uint8_t *
bytes_dup(const ProtobufCBinaryData *b, size_t *len)
{
	uint8_t *p;

	if ((p = malloc(b->len + 1)) == NULL) {
		return (NULL);
	}
	if (b->len > 0) {
		memcpy(p, b->data, b->len);
	}
	p[b->len] = '\0';
	*len = b->len;
	return (p);
}

cairn_state
cairn__state_from_pb(Cairn__V1__TaskState s)
{
	/* The enums share their numbers; an unknown state from a newer
	 * server passes through and cairn_state_name says "unknown". */
	return ((cairn_state) s);
}

Cairn__V1__TaskState
cairn__state_to_pb(cairn_state s)
{
	return ((Cairn__V1__TaskState) s);
}

cairn_task *
cairn__task_from_pb(const Cairn__V1__Task *pb)
{
	cairn_task *t;

	if ((t = calloc(1, sizeof(*t))) == NULL) {
		return (NULL);
	}
	t->id = pb->id;
	t->priority = pb->priority;
	t->state = cairn__state_from_pb(pb->state);
	t->run_at_ms = pb->run_at_ms;
	t->attempt = pb->attempt;
	t->max_attempts = pb->max_attempts;
	if (pb->retry != NULL) {
		t->retry_initial_backoff_ms = pb->retry->initial_backoff_ms;
		t->retry_multiplier = pb->retry->multiplier;
		t->retry_max_backoff_ms = pb->retry->max_backoff_ms;
	}
	t->heartbeat_timeout_ms = pb->heartbeat_timeout_ms;
	t->start_to_close_timeout_ms = pb->start_to_close_timeout_ms;
	t->cancel_requested = pb->cancel_requested;
	t->lease_deadline_ms = pb->lease_deadline_ms;
	t->created_at_ms = pb->created_at_ms;
	t->updated_at_ms = pb->updated_at_ms;
	t->finished_at_ms = pb->finished_at_ms;

	if ((t->queue = str_dup(pb->queue)) == NULL
	    || (t->idempotency_key = str_dup(pb->idempotency_key)) == NULL
	    || (t->last_error = str_dup(pb->last_error)) == NULL
	    || (t->worker_id = str_dup(pb->worker_id)) == NULL
	    || (t->payload = bytes_dup(&pb->payload, &t->payload_len)) == NULL
	    || (t->details = bytes_dup(&pb->details, &t->details_len)) == NULL
	    || (t->result = bytes_dup(&pb->result, &t->result_len)) == NULL) {
		cairn_task_free(t);
		return (NULL);
	}
	return (t);
}

cairn_task **
cairn__tasks_from_pb(Cairn__V1__Task *const *pb, size_t n)
{
	cairn_task **v;

	/* One more than needed, so that n == 0 still gives a pointer that
	 * cairn_tasks_free accepts, and callers need no special case. */
	if ((v = calloc(n + 1, sizeof(*v))) == NULL) {
		return (NULL);
	}
	for (size_t i = 0; i < n; i++) {
		if ((v[i] = cairn__task_from_pb(pb[i])) == NULL) {
			cairn_tasks_free(v, i);
			return (NULL);
		}
	}
	return (v);
}

bool
cairn__stats_from_pb(cairn_queue_stats *out, const Cairn__V1__QueueStats *pb)
{
	if ((out->queue = str_dup(pb->queue)) == NULL) {
		return (false);
	}
	out->pending = pb->pending;
	out->active = pb->active;
	out->succeeded = pb->succeeded;
	out->failed = pb->failed;
	out->canceled = pb->canceled;
	out->due = pb->due;
	out->oldest_due_age_ms = pb->oldest_due_age_ms;
	return (true);
}

bool
cairn__event_from_pb(cairn_event *out, const Cairn__V1__Event *pb)
{
	out->at_ms = pb->at_ms;
	out->attempt = pb->attempt;
	out->kind = str_dup(pb->kind);
	out->worker_id = str_dup(pb->worker_id);
	out->message = str_dup(pb->message);
	return (out->kind != NULL && out->worker_id != NULL
	    && out->message != NULL);
}

void
cairn_task_free(cairn_task *t)
{
	if (t == NULL) {
		return;
	}
	free(t->queue);
	free(t->payload);
	free(t->idempotency_key);
	free(t->details);
	free(t->result);
	free(t->last_error);
	free(t->worker_id);
	free(t->lease_token);
	free(t);
}

void
cairn_tasks_free(cairn_task **tasks, size_t n)
{
	if (tasks == NULL) {
		return;
	}
	for (size_t i = 0; i < n; i++) {
		cairn_task_free(tasks[i]);
	}
	free(tasks);
}

void
cairn_stats_free(cairn_queue_stats *stats, size_t n)
{
	if (stats == NULL) {
		return;
	}
	for (size_t i = 0; i < n; i++) {
		free(stats[i].queue);
	}
	free(stats);
}

void
cairn_events_free(cairn_event *events, size_t n)
{
	if (events == NULL) {
		return;
	}
	for (size_t i = 0; i < n; i++) {
		free(events[i].kind);
		free(events[i].worker_id);
		free(events[i].message);
	}
	free(events);
}

void
cairn_free(void *p)
{
	free(p);
}

/* The two copies above, for the workflow conversions (wf_convert.c). */
char *
cairn__str_dup(const char *s)
{
	return (str_dup(s));
}

uint8_t *
cairn__bytes_dup(const ProtobufCBinaryData *b, size_t *len)
{
	return (bytes_dup(b, len));
}
