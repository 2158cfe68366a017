/*
 * rpc_batch.c - the rpcs that do more per request: CompleteBatch,
 * HeartbeatBatch and Complete with lease_next. They carry a request id
 * (CAIRN__MUTATING) like every rpc that changes state.
 */
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

#define NOMEM(c, what)                                                        \
	cairn__fail((c), CAIRN_RESOURCE_EXHAUSTED, "out of memory %s", (what))

/*
 * item_check checks item i of a batch: its lease's token, and its data
 * (named name in the message) unless that is empty. fn is the public
 * function, for the message.
 */
static int
item_check(cairn_client *c, const char *fn, size_t i, const char *lease_token,
    const void *data, size_t len, const char *name)
{
	if (lease_token == NULL || (data == NULL && len > 0)) {
		return (cairn__fail(c, CAIRN_INVALID_ARGUMENT,
		    "%s: item %zu: lease_token or %s is NULL", fn, i, name));
	}
	return (CAIRN_OK);
}

/*
 * item_status maps the code of task id's result to a status. The first
 * refused item's message becomes the thread's errmsg, so that the caller
 * can say why; *noted says whether one was kept.
 */
static int
item_status(cairn_client *c, bool *noted, uint64_t id, Cairn__V1__Code code,
    const char *msg)
{
	int status = (int) code;
	char text[512];

	if (status < 0 || status > CAIRN_UNAUTHENTICATED) {
		status = CAIRN_UNKNOWN;
	}
	if (status != CAIRN_OK && !*noted) {
		snprintf(text, sizeof(text), "task %llu: %s",
		    (unsigned long long) id,
		    msg != NULL && msg[0] != '\0' ? msg : "refused");
		cairn__errmsg_set(c->id, text);
		*noted = true;
	}
	return (status);
}

/* complete_results copies a CompleteBatch reply into statuses. */
static int
complete_results(cairn_client *c, const Cairn__V1__CompleteBatchResponse *r,
    const cairn_completion *items, size_t n, int *statuses)
{
	bool noted = false;
	int rv;

	if ((rv = cairn__reply_count(c, r->n_results, n)) != CAIRN_OK) {
		return (rv);
	}
	for (size_t i = 0; i < n; i++) {
		statuses[i] = item_status(c, &noted, items[i].id,
		    r->results[i]->code, r->results[i]->message);
	}
	return (CAIRN_OK);
}

int
cairn_complete_batch(
    cairn_client *c, const cairn_completion *items, size_t n, int *statuses)
{
	Cairn__V1__CompleteBatchRequest req
	    = CAIRN__V1__COMPLETE_BATCH_REQUEST__INIT;
	Cairn__V1__CompleteRequest **ptrs = NULL;
	ProtobufCMessage *m;
	int rv;

	if (c == NULL) {
		return (CAIRN_INVALID_ARGUMENT);
	}
	if (items == NULL || n == 0 || statuses == NULL) {
		return (cairn__fail(c, CAIRN_INVALID_ARGUMENT,
		    "cairn_complete_batch: no items or no statuses"));
	}
	if (cairn__pb_array(n, sizeof(**ptrs), (void ***) &ptrs) == NULL) {
		return (NOMEM(c, "building a CompleteBatch request"));
	}
	for (size_t i = 0; i < n; i++) {
		const cairn_completion *x = &items[i];
		if ((rv = item_check(c, "cairn_complete_batch", i,
		         x->lease_token, x->result, x->result_len, "result"))
		    != CAIRN_OK) {
			goto out;
		}
		cairn__v1__complete_request__init(ptrs[i]);
		ptrs[i]->id = x->id;
		ptrs[i]->lease_token = (char *) x->lease_token;
		ptrs[i]->result.data = (uint8_t *) x->result;
		ptrs[i]->result.len = x->result_len;
	}
	req.n_tasks = n;
	req.tasks = ptrs;
	rv = cairn__call(
	    c, "CompleteBatch", &req.base, 0, CAIRN__MUTATING, &m);
	if (rv == CAIRN_OK) {
		rv = complete_results(c,
		    (Cairn__V1__CompleteBatchResponse *) m, items, n,
		    statuses);
		protobuf_c_message_free_unpacked(m, NULL);
	}
out:
	free(ptrs);
	return (rv);
}

/* heartbeat_results copies a HeartbeatBatch reply into items. */
static int
heartbeat_results(cairn_client *c, const Cairn__V1__HeartbeatBatchResponse *r,
    cairn_heartbeat_item *items, size_t n)
{
	bool noted = false;
	int rv;

	if ((rv = cairn__reply_count(c, r->n_results, n)) != CAIRN_OK) {
		return (rv);
	}
	for (size_t i = 0; i < n; i++) {
		const Cairn__V1__HeartbeatBatchResult *x = r->results[i];
		items[i].status
		    = item_status(c, &noted, items[i].id, x->code, x->message);
		items[i].cancel_requested = x->cancel_requested;
		items[i].deadline_ms = x->deadline_ms;
	}
	return (CAIRN_OK);
}

int
cairn_heartbeat_batch(cairn_client *c, cairn_heartbeat_item *items, size_t n)
{
	Cairn__V1__HeartbeatBatchRequest req
	    = CAIRN__V1__HEARTBEAT_BATCH_REQUEST__INIT;
	Cairn__V1__HeartbeatRequest **ptrs = NULL;
	ProtobufCMessage *m;
	int rv;

	if (c == NULL) {
		return (CAIRN_INVALID_ARGUMENT);
	}
	if (items == NULL || n == 0) {
		return (cairn__fail(c, CAIRN_INVALID_ARGUMENT,
		    "cairn_heartbeat_batch: no items"));
	}
	if (cairn__pb_array(n, sizeof(**ptrs), (void ***) &ptrs) == NULL) {
		return (NOMEM(c, "building a HeartbeatBatch request"));
	}
	for (size_t i = 0; i < n; i++) {
		const cairn_heartbeat_item *x = &items[i];
		if ((rv = item_check(c, "cairn_heartbeat_batch", i,
		         x->lease_token, x->details, x->details_len,
		         "details"))
		    != CAIRN_OK) {
			goto out;
		}
		cairn__v1__heartbeat_request__init(ptrs[i]);
		ptrs[i]->id = x->id;
		ptrs[i]->lease_token = (char *) x->lease_token;
		ptrs[i]->details.data = (uint8_t *) x->details;
		ptrs[i]->details.len = x->details_len;
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
	if ((t = cairn__leased_from_pb(lt)) == NULL) {
		return (NOMEM(c, "reading a Complete reply"));
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
	char worker[300];
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
	req.id = id;
	req.lease_token = (char *) lease_token;
	req.result.data = (uint8_t *) result;
	req.result.len = result_len;
	req.lease_next = true;
	req.worker_id
	    = (char *) cairn__worker_id(opts, worker, sizeof(worker));
	req.lease_timeout_ms = opts != NULL ? opts->lease_timeout_ms : 0;
	rv = cairn__call(c, "Complete", &req.base, 0, CAIRN__MUTATING, &m);
	if (rv != CAIRN_OK) {
		return (rv);
	}
	rv = next_task(c, ((Cairn__V1__CompleteResponse *) m)->next, next);
	protobuf_c_message_free_unpacked(m, NULL);
	return (rv);
}
