/*
 * rpc/convert.h - server structs to wire messages. The messages built here
 * point into the structs (no copies): pack them before freeing those.
 */
#ifndef CAIRN_RPC_CONVERT_H
#define CAIRN_RPC_CONVERT_H

#include "cairn_wire.h"

#include "cairn.pb-c.h"
#include "store/store_queue.h"
#include "store/task.h"

/* A Task message with the storage its sub-message needs. */
struct pb_task {
	Cairn__V1__Task task;
	Cairn__V1__RetryPolicy retry;
};

/* rpc_bin and rpc_text wrap what a message field points to; NULL text is
 * packed as "" (protobuf-c packs NULL strings as absent, which reads back
 * alike). */
static inline ProtobufCBinaryData
rpc_bin(const uint8_t *p, size_t len)
{
	return ((ProtobufCBinaryData) { .len = len, .data = (uint8_t *) p });
}
static inline char *
rpc_text(const char *s)
{
	return ((char *) (s != NULL ? s : ""));
}

/* rpc_spec_from_pb fills spec from a validated TaskSpec; spec points into
 * t. */
void rpc_spec_from_pb(const Cairn__V1__TaskSpec *t, struct task_spec *spec);

/* rpc_task_to_pb fills pb from t; pb->task points into t and pb. */
void rpc_task_to_pb(const struct task *t, struct pb_task *pb);

/* rpc_tasks_to_pb returns an array of n Task pointers for tasks, in one
 * allocation that the caller frees with free(); NULL when out of memory. */
Cairn__V1__Task **rpc_tasks_to_pb(struct task *const *tasks, size_t n);

/* rpc_leased_to_pb fills lt (and pb, its task's storage) from a leased
 * task; lt points into t and pb. */
void rpc_leased_to_pb(
    const struct task *t, Cairn__V1__LeasedTask *lt, struct pb_task *pb);

/* A QueueSettings with the storage of its members. */
struct pb_queue {
	Cairn__V1__QueueSettings s;
	Cairn__V1__RateLimit rate;
	Cairn__V1__RetryPolicy retry;
};

/* rpc_queue_to_pb fills pb from q; pb->s points into q and pb
 * (rpc/queues.c). */
void rpc_queue_to_pb(const struct queue_settings *q, struct pb_queue *pb);

#endif /* CAIRN_RPC_CONVERT_H */
