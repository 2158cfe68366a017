/*
 * rpc_work.c - the rpcs that producers and workers make: Enqueue, Lease,
 * Heartbeat, Complete and Fail. All of them change state, so all of them
 * carry a request id (CAIRN__MUTATING).
 *
 * Checks here stop only what cannot be encoded or would crash (NULL where
 * a value is needed, a count of zero). The server is the authority on
 * everything else: queue names, limits, negative durations.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define NOMEM(c, what)                                                        \
	cairn__fail((c), CAIRN_RESOURCE_EXHAUSTED, "out of memory %s", (what))

void
cairn__spec_to_pb(const cairn_task_spec *s, Cairn__V1__TaskSpec *pb,
    Cairn__V1__RetryPolicy *retry)
{
	cairn__v1__task_spec__init(pb);
	/* protobuf-c's fields are not const, but packing only reads them. */
	pb->queue = (char *) s->queue;
	pb->payload.data = (uint8_t *) s->payload;
	pb->payload.len = s->payload_len;
	pb->priority = s->priority;
	pb->delay_ms = s->delay_ms;
	pb->run_at_ms = s->run_at_ms;
	pb->max_attempts = s->max_attempts;
	pb->heartbeat_timeout_ms = s->heartbeat_timeout_ms;
	pb->start_to_close_timeout_ms = s->start_to_close_timeout_ms;
	if (s->idempotency_key != NULL) {
		pb->idempotency_key = (char *) s->idempotency_key;
	}
	/* An absent policy and an all-zero one both mean the defaults;
	 * leaving it out keeps the request small. */
	if (s->retry_initial_backoff_ms != 0 || s->retry_multiplier != 0
	    || s->retry_max_backoff_ms != 0) {
		cairn__v1__retry_policy__init(retry);
		retry->initial_backoff_ms = s->retry_initial_backoff_ms;
		retry->multiplier = s->retry_multiplier;
		retry->max_backoff_ms = s->retry_max_backoff_ms;
		pb->retry = retry;
	}
}

static int
enqueue_check(cairn_client *c, const cairn_task_spec *specs, size_t n,
    const cairn_enqueue_result *results)
{
	if (specs == NULL || n == 0) {
		return (cairn__fail(c, CAIRN_INVALID_ARGUMENT,
		    "cairn_enqueue: no tasks given"));
	}
	if (results == NULL) {
		return (cairn__fail(c, CAIRN_INVALID_ARGUMENT,
		    "cairn_enqueue: results is NULL"));
	}
	for (size_t i = 0; i < n; i++) {
		if (specs[i].queue == NULL) {
			return (cairn__fail(c, CAIRN_INVALID_ARGUMENT,
			    "cairn_enqueue: task %zu: queue is NULL", i));
		}
		if (specs[i].payload == NULL && specs[i].payload_len > 0) {
			return (cairn__fail(c, CAIRN_INVALID_ARGUMENT,
			    "cairn_enqueue: task %zu: payload is NULL", i));
		}
	}
	return (CAIRN_OK);
}

int
cairn_enqueue(cairn_client *c, const cairn_task_spec *specs, size_t n,
    cairn_enqueue_result *results)
{
	Cairn__V1__EnqueueRequest req = CAIRN__V1__ENQUEUE_REQUEST__INIT;
	Cairn__V1__EnqueueResponse *resp;
	Cairn__V1__TaskSpec **ptrs = NULL;
	Cairn__V1__RetryPolicy *retries = NULL;
	ProtobufCMessage *m;
	int rv;

	if (c == NULL) {
		return (CAIRN_INVALID_ARGUMENT);
	}
	if ((rv = enqueue_check(c, specs, n, results)) != CAIRN_OK) {
		return (rv);
	}
	if (cairn__pb_array(n, sizeof(**ptrs), (void ***) &ptrs) == NULL
	    || (retries = calloc(n, sizeof(*retries))) == NULL) {
		rv = NOMEM(c, "building an Enqueue request");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		cairn__spec_to_pb(&specs[i], ptrs[i], &retries[i]);
	}
	req.n_tasks = n;
	req.tasks = ptrs;
	if ((rv = cairn__call(c, "Enqueue", &req.base, 0, CAIRN__MUTATING, &m))
	    != CAIRN_OK) {
		goto out;
	}
	resp = (Cairn__V1__EnqueueResponse *) m;
	if ((rv = cairn__reply_count(c, resp->n_results, n)) == CAIRN_OK) {
		for (size_t i = 0; i < n; i++) {
			results[i].id = resp->results[i]->id;
			results[i].created = resp->results[i]->created;
		}
	}
	protobuf_c_message_free_unpacked(m, NULL);
out:
	free(retries);
	free(ptrs);
	return (rv);
}

const char *
cairn__worker_id(const cairn_lease_options *opts, char *buf, size_t len)
{
	char host[256];

	if (opts != NULL && opts->worker_id != NULL) {
		return (opts->worker_id);
	}
	/* "host:pid" is what an operator looking at a task's history needs
	 * to find the process. */
	if (gethostname(host, sizeof(host)) != 0) {
		strcpy(host, "unknown");
	}
	host[sizeof(host) - 1] = '\0';
	snprintf(buf, len, "%s:%ld", host, (long) getpid());
	return (buf);
}

/* leased_to_tasks converts the reply of Lease into *out (n + 1 slots). */
static int
leased_to_tasks(
    cairn_client *c, const Cairn__V1__LeaseResponse *resp, cairn_task ***out)
{
	cairn_task **v;
	size_t n = resp->n_tasks;

	if ((v = calloc(n + 1, sizeof(*v))) == NULL) {
		return (NOMEM(c, "reading a Lease reply"));
	}
	for (size_t i = 0; i < n; i++) {
		const Cairn__V1__LeasedTask *lt = resp->tasks[i];
		if (lt->task == NULL) {
			cairn_tasks_free(v, i);
			return (cairn__fail(c, CAIRN_INTERNAL,
			    "Lease reply from %s without a task", c->url));
		}
		if ((v[i] = cairn__leased_from_pb(lt)) == NULL) {
			cairn_tasks_free(v, i);
			return (NOMEM(c, "reading a Lease reply"));
		}
	}
	*out = v;
	return (CAIRN_OK);
}

static int
lease_check(cairn_client *c, const char *const *queues, size_t nqueues,
    cairn_task ***tasks, size_t *n)
{
	if (queues == NULL || nqueues == 0) {
		return (cairn__fail(c, CAIRN_INVALID_ARGUMENT,
		    "cairn_lease: no queues given"));
	}
	for (size_t i = 0; i < nqueues; i++) {
		if (queues[i] == NULL) {
			return (cairn__fail(c, CAIRN_INVALID_ARGUMENT,
			    "cairn_lease: queue %zu is NULL", i));
		}
	}
	if (tasks == NULL || n == NULL) {
		return (cairn__fail(c, CAIRN_INVALID_ARGUMENT,
		    "cairn_lease: tasks or n is NULL"));
	}
	return (CAIRN_OK);
}

int
cairn_lease(cairn_client *c, const char *const *queues, size_t nqueues,
    const cairn_lease_options *opts, cairn_task ***tasks, size_t *n)
{
	static const cairn_lease_options defaults = { 0 };
	Cairn__V1__LeaseRequest req = CAIRN__V1__LEASE_REQUEST__INIT;
	Cairn__V1__LeaseResponse *resp;
	ProtobufCMessage *m;
	cairn_task **v = NULL;
	char worker[300];
	int rv;

	if (c == NULL) {
		return (CAIRN_INVALID_ARGUMENT);
	}
	if ((rv = lease_check(c, queues, nqueues, tasks, n)) != CAIRN_OK) {
		return (rv);
	}
	if (opts == NULL) {
		opts = &defaults;
	}
	req.queues = (char **) queues;
	req.n_queues = nqueues;
	req.max_tasks = opts->max_tasks;
	req.wait_ms = opts->wait_ms;
	req.worker_id
	    = (char *) cairn__worker_id(opts, worker, sizeof(worker));
	req.lease_timeout_ms = opts->lease_timeout_ms;
	req.release_on_disconnect = opts->release_on_disconnect;

	/* The long-poll's wait adds to the call's time budget. */
	if ((rv = cairn__call(
	         c, "Lease", &req.base, opts->wait_ms, CAIRN__MUTATING, &m))
	    != CAIRN_OK) {
		return (rv);
	}
	resp = (Cairn__V1__LeaseResponse *) m;
	rv = leased_to_tasks(c, resp, &v);
	if (rv == CAIRN_OK) {
		*tasks = v;
		*n = resp->n_tasks;
	}
	protobuf_c_message_free_unpacked(m, NULL);
	return (rv);
}

/*
 * token_check checks what Heartbeat, Complete and Fail are given alike:
 * the lease's token, and data (named name in the message) unless it is
 * empty. fn is the public function, for the message.
 */
static int
token_check(cairn_client *c, const char *fn, const char *lease_token,
    const void *data, size_t len, const char *name)
{
	if (lease_token == NULL) {
		return (cairn__fail(
		    c, CAIRN_INVALID_ARGUMENT, "%s: lease_token is NULL", fn));
	}
	if (data == NULL && len > 0) {
		return (cairn__fail(
		    c, CAIRN_INVALID_ARGUMENT, "%s: %s is NULL", fn, name));
	}
	return (CAIRN_OK);
}

int
cairn_heartbeat(cairn_client *c, uint64_t id, const char *lease_token,
    const void *details, size_t details_len, bool *cancel_requested,
    int64_t *deadline_ms)
{
	Cairn__V1__HeartbeatRequest req = CAIRN__V1__HEARTBEAT_REQUEST__INIT;
	Cairn__V1__HeartbeatResponse *resp;
	ProtobufCMessage *m;
	int rv;

	if (c == NULL) {
		return (CAIRN_INVALID_ARGUMENT);
	}
	if ((rv = token_check(c, "cairn_heartbeat", lease_token, details,
	         details_len, "details"))
	    != CAIRN_OK) {
		return (rv);
	}
	req.id = id;
	req.lease_token = (char *) lease_token;
	req.details.data = (uint8_t *) details;
	req.details.len = details_len;
	if ((rv = cairn__call(
	         c, "Heartbeat", &req.base, 0, CAIRN__MUTATING, &m))
	    != CAIRN_OK) {
		return (rv);
	}
	resp = (Cairn__V1__HeartbeatResponse *) m;
	if (cancel_requested != NULL) {
		*cancel_requested = resp->cancel_requested;
	}
	if (deadline_ms != NULL) {
		*deadline_ms = resp->deadline_ms;
	}
	protobuf_c_message_free_unpacked(m, NULL);
	return (CAIRN_OK);
}

int
cairn_complete(cairn_client *c, uint64_t id, const char *lease_token,
    const void *result, size_t result_len)
{
	Cairn__V1__CompleteRequest req = CAIRN__V1__COMPLETE_REQUEST__INIT;
	ProtobufCMessage *m;
	int rv;

	if (c == NULL) {
		return (CAIRN_INVALID_ARGUMENT);
	}
	if ((rv = token_check(c, "cairn_complete", lease_token, result,
	         result_len, "result"))
	    != CAIRN_OK) {
		return (rv);
	}
	req.id = id;
	req.lease_token = (char *) lease_token;
	req.result.data = (uint8_t *) result;
	req.result.len = result_len;
	if ((rv = cairn__call(
	         c, "Complete", &req.base, 0, CAIRN__MUTATING, &m))
	    != CAIRN_OK) {
		return (rv);
	}
	protobuf_c_message_free_unpacked(m, NULL);
	return (CAIRN_OK);
}

int
cairn_fail(cairn_client *c, uint64_t id, const char *lease_token,
    const char *error, bool retryable, int64_t retry_delay_ms,
    cairn_state *state, int64_t *run_at_ms)
{
	Cairn__V1__FailRequest req = CAIRN__V1__FAIL_REQUEST__INIT;
	Cairn__V1__FailResponse *resp;
	ProtobufCMessage *m;
	int rv;

	if (c == NULL) {
		return (CAIRN_INVALID_ARGUMENT);
	}
	if ((rv = token_check(c, "cairn_fail", lease_token, NULL, 0, NULL))
	    != CAIRN_OK) {
		return (rv);
	}
	req.id = id;
	req.lease_token = (char *) lease_token;
	if (error != NULL) {
		req.error = (char *) error;
	}
	req.non_retryable = !retryable;
	req.retry_delay_ms = retry_delay_ms;
	if ((rv = cairn__call(c, "Fail", &req.base, 0, CAIRN__MUTATING, &m))
	    != CAIRN_OK) {
		return (rv);
	}
	resp = (Cairn__V1__FailResponse *) m;
	if (state != NULL) {
		*state = cairn__state_from_pb(resp->state);
	}
	if (run_at_ms != NULL) {
		*run_at_ms = resp->run_at_ms;
	}
	protobuf_c_message_free_unpacked(m, NULL);
	return (CAIRN_OK);
}

int
cairn_release(cairn_client *c, uint64_t id, const char *lease_token,
    const char *reason, bool count_attempt, cairn_state *state)
{
	Cairn__V1__ReleaseRequest req = CAIRN__V1__RELEASE_REQUEST__INIT;
	ProtobufCMessage *m;
	int rv;

	if (c == NULL) {
		return (CAIRN_INVALID_ARGUMENT);
	}
	if ((rv = token_check(c, "cairn_release", lease_token, NULL, 0, NULL))
	    != CAIRN_OK) {
		return (rv);
	}
	req.id = id;
	req.lease_token = (char *) lease_token;
	if (reason != NULL) {
		req.reason = (char *) reason;
	}
	req.count_attempt = count_attempt;
	if ((rv = cairn__call(c, "Release", &req.base, 0, CAIRN__MUTATING, &m))
	    != CAIRN_OK) {
		return (rv);
	}
	if (state != NULL) {
		*state = cairn__state_from_pb(
		    ((Cairn__V1__ReleaseResponse *) m)->state);
	}
	protobuf_c_message_free_unpacked(m, NULL);
	return (CAIRN_OK);
}
