/*
 * rpc_convert.h - server structs to wire messages. The messages built here
 * point into the structs (no copies): pack them before freeing those.
 */
#ifndef CAIRN_RPC_CONVERT_H
#define CAIRN_RPC_CONVERT_H

#include "cairn.pb-c.h"
#include "task.h"

/* A Task message with the storage its sub-message needs. */
struct pb_task {
	Cairn__V1__Task task;
	Cairn__V1__RetryPolicy retry;
};

/* rpc_task_to_pb fills pb from t; pb->task points into t and pb. */
void rpc_task_to_pb(const struct task *t, struct pb_task *pb);

/* rpc_tasks_to_pb returns an array of n Task pointers for tasks, in one
 * allocation that the caller frees with free(); NULL when out of memory. */
Cairn__V1__Task **rpc_tasks_to_pb(struct task *const *tasks, size_t n);

/* rpc_pb_array allocates, in one zeroed block that the caller frees with
 * free(*ptrs), n pointers followed by the n messages of size bytes they
 * point to: the shape of a repeated message field. Returns the first
 * message, or NULL (and *ptrs untouched) when out of memory. */
void *rpc_pb_array(size_t n, size_t size, void ***ptrs);

#endif /* CAIRN_RPC_CONVERT_H */
