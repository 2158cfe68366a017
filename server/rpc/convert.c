/*
 * rpc/convert.c - server structs to wire messages.
 */
#include <stdlib.h>

#include "rpc/convert.h"

static ProtobufCBinaryData
bin(const uint8_t *p, size_t len)
{
	return ((ProtobufCBinaryData) { .len = len, .data = (uint8_t *) p });
}

static char *
text(const char *s)
{
	/* protobuf-c packs NULL strings as absent; "" reads back alike. */
	return ((char *) (s != NULL ? s : ""));
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
	m->queue = text(t->queue);
	m->payload = bin(t->payload, t->payload_len);
	m->priority = t->priority;
	m->state = (Cairn__V1__TaskState) t->state;
	m->run_at_ms = t->run_at_ms;
	m->attempt = t->attempt;
	m->max_attempts = t->max_attempts;
	m->retry = &pb->retry;
	m->heartbeat_timeout_ms = t->heartbeat_timeout_ms;
	m->start_to_close_timeout_ms = t->start_to_close_ms;
	m->idempotency_key = text(t->idempotency_key);
	m->details = bin(t->details, t->details_len);
	m->result = bin(t->result, t->result_len);
	m->last_error = text(t->last_error);
	m->cancel_requested = t->cancel_requested;
	m->worker_id = text(t->worker_id);
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
