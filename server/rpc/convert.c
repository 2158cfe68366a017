/*
 * rpc/convert.c - server structs to wire messages.
 */
#include <stdlib.h>

#include "rpc/convert.h"

void
rpc_spec_from_pb(const Cairn__V1__TaskSpec *t, struct task_spec *spec)
{
	*spec = (struct task_spec) {
		.queue = t->queue,
		.payload = t->payload.data,
		.payload_len = t->payload.len,
		.priority = t->priority,
		.run_at_ms = t->run_at_ms,
		.delay_ms = t->delay_ms,
		.max_attempts = t->max_attempts,
		.heartbeat_timeout_ms = t->heartbeat_timeout_ms,
		.start_to_close_ms = t->start_to_close_timeout_ms,
		.idempotency_key = t->idempotency_key,
	};
	if (t->retry != NULL) {
		spec->retry.initial_ms = t->retry->initial_backoff_ms;
		spec->retry.multiplier = t->retry->multiplier;
		spec->retry.max_ms = t->retry->max_backoff_ms;
	}
}

void
rpc_task_to_pb(const struct task *t, struct pb_task *pb)
{
	Cairn__V1__Task *m = &pb->task;

	cairn__v1__task__init(m);
	cairn__v1__retry_policy__init(&pb->retry);
	pb->retry.initial_backoff_ms = t->retry.initial_ms;
	pb->retry.multiplier = t->retry.multiplier;
	pb->retry.max_backoff_ms = t->retry.max_ms;
	m->id = t->id;
	m->queue = rpc_text(t->queue);
	m->payload = rpc_bin(t->payload, t->payload_len);
	m->priority = t->priority;
	m->state = (Cairn__V1__TaskState) t->state;
	m->run_at_ms = t->run_at_ms;
	m->attempt = t->attempt;
	m->max_attempts = t->max_attempts;
	m->retry = &pb->retry;
	m->heartbeat_timeout_ms = t->heartbeat_timeout_ms;
	m->start_to_close_timeout_ms = t->start_to_close_ms;
	m->idempotency_key = rpc_text(t->idempotency_key);
	m->details = rpc_bin(t->details, t->details_len);
	m->result = rpc_bin(t->result, t->result_len);
	m->last_error = rpc_text(t->last_error);
	m->cancel_requested = t->cancel_requested;
	m->worker_id = rpc_text(t->worker_id);
	m->lease_deadline_ms
	    = t->state == CAIRN_ACTIVE ? t->lease_deadline_ms : 0;
	m->created_at_ms = t->created_ms;
	m->updated_at_ms = t->updated_ms;
	m->finished_at_ms = t->finished_ms;
}

Cairn__V1__Task **
rpc_tasks_to_pb(struct task *const *tasks, size_t n)
{
	void **ptrs = NULL;
	struct pb_task *bodies = cairn__pb_array(n, sizeof(*bodies), &ptrs);

	if (bodies == NULL) {
		return (NULL);
	}
	for (size_t i = 0; i < n; i++) {
		rpc_task_to_pb(tasks[i], &bodies[i]);
	}
	/* Each pointer is to a pb_task, whose first member is its Task. */
	return ((Cairn__V1__Task **) ptrs);
}

void
rpc_leased_to_pb(
    const struct task *t, Cairn__V1__LeasedTask *lt, struct pb_task *pb)
{
	cairn__v1__leased_task__init(lt);
	rpc_task_to_pb(t, pb);
	lt->task = &pb->task;
	lt->lease_token = (char *) t->lease_token;
	lt->deadline_ms = t->lease_deadline_ms;
}
