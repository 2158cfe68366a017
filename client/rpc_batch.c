/*
 * rpc_batch.c - the rpcs that do more per request: CompleteBatch,
 * HeartbeatBatch and Complete with lease_next. They carry a request id
 * (CAIRN__MUTATING) like every rpc that changes state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define NOMEM(c, what)                                                        \
	cairn__fail((c), CAIRN_RESOURCE_EXHAUSTED, "out of memory %s", (what))

/* item_status maps a per-item code from the wire to a status. */
static int
item_status(Cairn__V1__Code code)
{
	int status = (int) code;

	return (status < 0 || status > CAIRN_UNAUTHENTICATED ? CAIRN_UNKNOWN
	                                                     : status);
}

/* note_refusal keeps the first refused item's message as the thread's
 * errmsg, so that the caller can say why. */
static void
note_refusal(cairn_client *c, bool *noted, uint64_t id, const char *msg)
{
	char text[512];

	if (*noted) {
		return;
	}
	snprintf(text, sizeof(text), "task %llu: %s", (unsigned long long) id,
	    msg != NULL && msg[0] != '\0' ? msg : "refused");
	cairn__errmsg_set(c->id, text);
	*noted = true;
}

int
cairn_complete_batch(
    cairn_client *c, const cairn_completion *items, size_t n, int *statuses)
{
	Cairn__V1__CompleteBatchRequest req
	    = CAIRN__V1__COMPLETE_BATCH_REQUEST__INIT;
	Cairn__V1__CompleteBatchResponse *resp;
	Cairn__V1__CompleteRequest *pbs = NULL, **ptrs = NULL;
	ProtobufCMessage *m;
	bool noted = false;
	int rv;

	if (c == NULL) {
		return (CAIRN_INVALID_ARGUMENT);
	}
	if (items == NULL || n == 0 || statuses == NULL) {
		return (cairn__fail(c, CAIRN_INVALID_ARGUMENT,
		    "cairn_complete_batch: no items or no statuses"));
	}
	if ((pbs = calloc(n, sizeof(*pbs))) == NULL
	    || (ptrs = calloc(n, sizeof(*ptrs))) == NULL) {
		rv = NOMEM(c, "building a CompleteBatch request");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (items[i].lease_token == NULL
		    || (items[i].result == NULL && items[i].result_len > 0)) {
			rv = cairn__fail(c, CAIRN_INVALID_ARGUMENT,
			    "cairn_complete_batch: item %zu: lease_token or "
			    "result is NULL",
			    i);
			goto out;
		}
		cairn__v1__complete_request__init(&pbs[i]);
		pbs[i].id = items[i].id;
		pbs[i].lease_token = (char *) items[i].lease_token;
		pbs[i].result.data = (uint8_t *) items[i].result;
		pbs[i].result.len = items[i].result_len;
		ptrs[i] = &pbs[i];
	}
	req.n_tasks = n;
	req.tasks = ptrs;
	rv = cairn__call(
	    c, "CompleteBatch", &req.base, 0, CAIRN__MUTATING, &m);
	if (rv != CAIRN_OK) {
		goto out;
	}
	resp = (Cairn__V1__CompleteBatchResponse *) m;
	if (resp->n_results != n) {
		rv = cairn__fail(c, CAIRN_INTERNAL,
		    "server answered %zu results for %zu tasks",
		    resp->n_results, n);
	} else {
		for (size_t i = 0; i < n; i++) {
			statuses[i] = item_status(resp->results[i]->code);
			if (statuses[i] != CAIRN_OK) {
				note_refusal(c, &noted, items[i].id,
				    resp->results[i]->message);
			}
		}
	}
	protobuf_c_message_free_unpacked(m, NULL);
out:
	free(ptrs);
	free(pbs);
	return (rv);
}

/* heartbeat_results copies a HeartbeatBatch reply into items. */
static int
heartbeat_results(cairn_client *c, const Cairn__V1__HeartbeatBatchResponse *r,
    cairn_heartbeat_item *items, size_t n)
{
	bool noted = false;

	if (r->n_results != n) {
		return (cairn__fail(c, CAIRN_INTERNAL,
		    "server answered %zu results for %zu tasks", r->n_results,
		    n));
	}
	for (size_t i = 0; i < n; i++) {
		const Cairn__V1__HeartbeatBatchResult *x = r->results[i];
		items[i].status = item_status(x->code);
		items[i].cancel_requested = x->cancel_requested;
		items[i].deadline_ms = x->deadline_ms;
		if (items[i].status != CAIRN_OK) {
			note_refusal(c, &noted, items[i].id, x->message);
		}
	}
	return (CAIRN_OK);
}

int
cairn_heartbeat_batch(cairn_client *c, cairn_heartbeat_item *items, size_t n)
{
	Cairn__V1__HeartbeatBatchRequest req
	    = CAIRN__V1__HEARTBEAT_BATCH_REQUEST__INIT;
	Cairn__V1__HeartbeatRequest *pbs = NULL, **ptrs = NULL;
	ProtobufCMessage *m;
	int rv;

	if (c == NULL) {
		return (CAIRN_INVALID_ARGUMENT);
	}
	if (items == NULL || n == 0) {
		return (cairn__fail(c, CAIRN_INVALID_ARGUMENT,
		    "cairn_heartbeat_batch: no items"));
	}
	if ((pbs = calloc(n, sizeof(*pbs))) == NULL
	    || (ptrs = calloc(n, sizeof(*ptrs))) == NULL) {
		rv = NOMEM(c, "building a HeartbeatBatch request");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (items[i].lease_token == NULL
		    || (items[i].details == NULL
		        && items[i].details_len > 0)) {
			rv = cairn__fail(c, CAIRN_INVALID_ARGUMENT,
			    "cairn_heartbeat_batch: item %zu: lease_token or "
			    "details is NULL",
			    i);
			goto out;
		}
		cairn__v1__heartbeat_request__init(&pbs[i]);
		pbs[i].id = items[i].id;
		pbs[i].lease_token = (char *) items[i].lease_token;
		pbs[i].details.data = (uint8_t *) items[i].details;
		pbs[i].details.len = items[i].details_len;
		ptrs[i] = &pbs[i];
	}
	req.n_tasks = n;
	req.tasks = ptrs;
	rv = cairn__call(
	    c, "HeartbeatBatch", &req.base, 0, CAIRN__MUTATING, &m);
	if (rv == CAIRN_OK) {
		rv = heartbeat_results(
		    c, (Cairn__V1__HeartbeatBatchResponse *) m, items, n);
		protobuf_c_message_free_unpacked(m, NULL);
	}
out:
	free(ptrs);
	free(pbs);
	return (rv);
}

/* next_task converts the task that Complete leased into *out. */
static int
next_task(cairn_client *c, const Cairn__V1__LeasedTask *lt, cairn_task **out)
{
	cairn_task *t;

	if (lt == NULL) {
		*out = NULL;
		return (CAIRN_OK);
	}
	if (lt->task == NULL) {
		return (cairn__fail(c, CAIRN_INTERNAL,
		    "Complete reply from %s with an empty next task", c->url));
	}
	if ((t = cairn__task_from_pb(lt->task)) == NULL
	    || (t->lease_token = strdup(lt->lease_token)) == NULL) {
		cairn_task_free(t);
		return (NOMEM(c, "reading a Complete reply"));
	}
	if (lt->deadline_ms != 0) {
		t->lease_deadline_ms = lt->deadline_ms;
	}
	*out = t;
	return (CAIRN_OK);
}

int
cairn_complete_next(cairn_client *c, uint64_t id, const char *lease_token,
    const void *result, size_t result_len, const cairn_lease_options *opts,
    cairn_task **next)
{
	Cairn__V1__CompleteRequest req = CAIRN__V1__COMPLETE_REQUEST__INIT;
	ProtobufCMessage *m;
	char worker[300], host[256];
	int rv;

	if (c == NULL) {
		return (CAIRN_INVALID_ARGUMENT);
	}
	if (lease_token == NULL || next == NULL
	    || (result == NULL && result_len > 0)) {
		return (cairn__fail(c, CAIRN_INVALID_ARGUMENT,
		    "cairn_complete_next: lease_token, result or next is "
		    "NULL"));
	}
	if (opts == NULL || opts->worker_id == NULL) {
		/* As cairn_lease: "host:pid" finds the process. */
		if (gethostname(host, sizeof(host)) != 0) {
			strcpy(host, "unknown");
		}
		host[sizeof(host) - 1] = '\0';
		snprintf(
		    worker, sizeof(worker), "%s:%ld", host, (long) getpid());
	}
	req.id = id;
	req.lease_token = (char *) lease_token;
	req.result.data = (uint8_t *) result;
	req.result.len = result_len;
	req.lease_next = true;
	req.worker_id = opts != NULL && opts->worker_id != NULL
	    ? (char *) opts->worker_id
	    : worker;
	req.lease_timeout_ms = opts != NULL ? opts->lease_timeout_ms : 0;
	rv = cairn__call(c, "Complete", &req.base, 0, CAIRN__MUTATING, &m);
	if (rv != CAIRN_OK) {
		return (rv);
	}
	rv = next_task(c, ((Cairn__V1__CompleteResponse *) m)->next, next);
	protobuf_c_message_free_unpacked(m, NULL);
	return (rv);
}
