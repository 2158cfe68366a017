/*
 * rpc_admin.c - the rpcs that operators and producers use to steer and
 * inspect tasks: Cancel, Retry (both mutating), Get, List, Stats, Await,
 * History and Ping.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define NOMEM(c, what)                                                        \
	cairn__fail((c), CAIRN_RESOURCE_EXHAUSTED, "out of memory %s", (what))

/* task_out converts the task of a reply, which must be there. */
static int
task_out(cairn_client *c, const char *method, const Cairn__V1__Task *pb,
    cairn_task **out)
{
	cairn_task *t = NULL;

	if (pb == NULL) {
		return (cairn__fail(c, CAIRN_INTERNAL,
		    "%s reply from %s without a task", method, c->url));
	}
	if ((t = cairn__task_from_pb(pb)) == NULL) {
		return (NOMEM(c, "reading a task"));
	}
	*out = t;
	return (CAIRN_OK);
}

/*
 * task_reply finishes the rpcs that answer with one task (Retry, Get,
 * Await): it converts pb, the task of reply m, into *out and frees m.
 * When out is NULL the task is not wanted and not looked at.
 */
static int
task_reply(cairn_client *c, const char *method, ProtobufCMessage *m,
    const Cairn__V1__Task *pb, cairn_task **out)
{
	int rv = CAIRN_OK;

	if (out != NULL) {
		rv = task_out(c, method, pb, out);
	}
	protobuf_c_message_free_unpacked(m, NULL);
	return (rv);
}

int
cairn_cancel(cairn_client *c, uint64_t id, cairn_state *state)
{
	Cairn__V1__CancelRequest req = CAIRN__V1__CANCEL_REQUEST__INIT;
	ProtobufCMessage *m;
	int rv;

	if (c == NULL) {
		return (CAIRN_INVALID_ARGUMENT);
	}
	req.id = id;
	if ((rv = cairn__call(c, "Cancel", &req.base, 0, CAIRN__MUTATING, &m))
	    != CAIRN_OK) {
		return (rv);
	}
	if (state != NULL) {
		*state = cairn__state_from_pb(
		    ((Cairn__V1__CancelResponse *) m)->state);
	}
	protobuf_c_message_free_unpacked(m, NULL);
	return (CAIRN_OK);
}

int
cairn_retry(cairn_client *c, uint64_t id, cairn_task **task)
{
	Cairn__V1__RetryRequest req = CAIRN__V1__RETRY_REQUEST__INIT;
	ProtobufCMessage *m;
	int rv;

	if (c == NULL) {
		return (CAIRN_INVALID_ARGUMENT);
	}
	req.id = id;
	if ((rv = cairn__call(c, "Retry", &req.base, 0, CAIRN__MUTATING, &m))
	    != CAIRN_OK) {
		return (rv);
	}
	return (task_reply(
	    c, "Retry", m, ((Cairn__V1__RetryResponse *) m)->task, task));
}

int
cairn_get(cairn_client *c, uint64_t id, cairn_task **task)
{
	Cairn__V1__GetRequest req = CAIRN__V1__GET_REQUEST__INIT;
	ProtobufCMessage *m;
	int rv;

	if (c == NULL) {
		return (CAIRN_INVALID_ARGUMENT);
	}
	if (task == NULL) {
		return (cairn__fail(
		    c, CAIRN_INVALID_ARGUMENT, "cairn_get: task is NULL"));
	}
	req.id = id;
	if ((rv = cairn__call(c, "Get", &req.base, 0, 0, &m)) != CAIRN_OK) {
		return (rv);
	}
	return (task_reply(
	    c, "Get", m, ((Cairn__V1__GetResponse *) m)->task, task));
}

int
cairn_list(cairn_client *c, const char *queue, cairn_state state,
    uint32_t limit, uint64_t after_id, cairn_task ***tasks, size_t *n,
    uint64_t *next_after_id)
{
	Cairn__V1__ListRequest req = CAIRN__V1__LIST_REQUEST__INIT;
	Cairn__V1__ListResponse *resp;
	ProtobufCMessage *m;
	cairn_task **v;
	int rv;

	if (c == NULL) {
		return (CAIRN_INVALID_ARGUMENT);
	}
	if (queue == NULL || tasks == NULL || n == NULL) {
		return (cairn__fail(c, CAIRN_INVALID_ARGUMENT,
		    "cairn_list: %s is NULL",
		    queue == NULL ? "queue"
		                  : (tasks == NULL ? "tasks" : "n")));
	}
	req.queue = (char *) queue;
	req.state = cairn__state_to_pb(state);
	req.limit = limit;
	req.after_id = after_id;
	if ((rv = cairn__call(c, "List", &req.base, 0, 0, &m)) != CAIRN_OK) {
		return (rv);
	}
	resp = (Cairn__V1__ListResponse *) m;
	if ((v = cairn__tasks_from_pb(resp->tasks, resp->n_tasks)) == NULL) {
		rv = NOMEM(c, "reading a List reply");
	} else {
		*tasks = v;
		*n = resp->n_tasks;
		if (next_after_id != NULL) {
			*next_after_id = resp->next_after_id;
		}
	}
	protobuf_c_message_free_unpacked(m, NULL);
	return (rv);
}

int
cairn_stats(
    cairn_client *c, const char *queue, cairn_queue_stats **stats, size_t *n)
{
	Cairn__V1__StatsRequest req = CAIRN__V1__STATS_REQUEST__INIT;
	Cairn__V1__StatsResponse *resp;
	ProtobufCMessage *m;
	cairn_queue_stats *v;
	int rv = CAIRN_OK;

	if (c == NULL) {
		return (CAIRN_INVALID_ARGUMENT);
	}
	if (stats == NULL || n == NULL) {
		return (cairn__fail(c, CAIRN_INVALID_ARGUMENT,
		    "cairn_stats: stats or n is NULL"));
	}
	if (queue != NULL) {
		req.queue = (char *) queue;
	}
	if ((rv = cairn__call(c, "Stats", &req.base, 0, 0, &m)) != CAIRN_OK) {
		return (rv);
	}
	resp = (Cairn__V1__StatsResponse *) m;
	/* One spare element, so that an empty answer is not a NULL array. */
	if ((v = calloc(resp->n_queues + 1, sizeof(*v))) == NULL) {
		rv = NOMEM(c, "reading a Stats reply");
		goto out;
	}
	for (size_t i = 0; i < resp->n_queues; i++) {
		if (!cairn__stats_from_pb(&v[i], resp->queues[i])) {
			cairn_stats_free(v, i + 1);
			rv = NOMEM(c, "reading a Stats reply");
			goto out;
		}
	}
	*stats = v;
	*n = resp->n_queues;
out:
	protobuf_c_message_free_unpacked(m, NULL);
	return (rv);
}

int
cairn_await(cairn_client *c, uint64_t id, int64_t wait_ms, cairn_task **task,
    bool *done)
{
	Cairn__V1__AwaitRequest req = CAIRN__V1__AWAIT_REQUEST__INIT;
	Cairn__V1__AwaitResponse *resp;
	ProtobufCMessage *m;
	bool d;
	int rv;

	if (c == NULL) {
		return (CAIRN_INVALID_ARGUMENT);
	}
	if (task == NULL) {
		return (cairn__fail(
		    c, CAIRN_INVALID_ARGUMENT, "cairn_await: task is NULL"));
	}
	req.id = id;
	req.wait_ms = wait_ms;
	if ((rv = cairn__call(c, "Await", &req.base, wait_ms, 0, &m))
	    != CAIRN_OK) {
		return (rv);
	}
	resp = (Cairn__V1__AwaitResponse *) m;
	d = resp->done; /* task_reply frees resp */
	if ((rv = task_reply(c, "Await", m, resp->task, task)) == CAIRN_OK
	    && done != NULL) {
		*done = d;
	}
	return (rv);
}

int
cairn_history(cairn_client *c, uint64_t id, cairn_event **events, size_t *n)
{
	Cairn__V1__HistoryRequest req = CAIRN__V1__HISTORY_REQUEST__INIT;
	Cairn__V1__HistoryResponse *resp;
	ProtobufCMessage *m;
	cairn_event *v;
	int rv = CAIRN_OK;

	if (c == NULL) {
		return (CAIRN_INVALID_ARGUMENT);
	}
	if (events == NULL || n == NULL) {
		return (cairn__fail(c, CAIRN_INVALID_ARGUMENT,
		    "cairn_history: events or n is NULL"));
	}
	req.id = id;
	if ((rv = cairn__call(c, "History", &req.base, 0, 0, &m))
	    != CAIRN_OK) {
		return (rv);
	}
	resp = (Cairn__V1__HistoryResponse *) m;
	if ((v = calloc(resp->n_events + 1, sizeof(*v))) == NULL) {
		rv = NOMEM(c, "reading a History reply");
		goto out;
	}
	for (size_t i = 0; i < resp->n_events; i++) {
		if (!cairn__event_from_pb(&v[i], resp->events[i])) {
			cairn_events_free(v, i + 1);
			rv = NOMEM(c, "reading a History reply");
			goto out;
		}
	}
	*events = v;
	*n = resp->n_events;
out:
	protobuf_c_message_free_unpacked(m, NULL);
	return (rv);
}

int
cairn_ping(cairn_client *c, int64_t *server_time_ms, char **version)
{
	Cairn__V1__PingRequest req = CAIRN__V1__PING_REQUEST__INIT;
	Cairn__V1__PingResponse *resp;
	ProtobufCMessage *m;
	char *v = NULL;
	int rv;

	if (c == NULL) {
		return (CAIRN_INVALID_ARGUMENT);
	}
	if ((rv = cairn__call(c, "Ping", &req.base, 0, 0, &m)) != CAIRN_OK) {
		return (rv);
	}
	resp = (Cairn__V1__PingResponse *) m;
	if (version != NULL && (v = strdup(resp->version)) == NULL) {
		protobuf_c_message_free_unpacked(m, NULL);
		return (NOMEM(c, "reading a Ping reply"));
	}
	if (server_time_ms != NULL) {
		*server_time_ms = resp->server_time_ms;
	}
	if (version != NULL) {
		*version = v;
	}
	protobuf_c_message_free_unpacked(m, NULL);
	return (CAIRN_OK);
}
