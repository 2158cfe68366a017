/*
 * rpc_queues.c - the rpcs of per-queue settings: SetQueue, GetQueue and
 * ListQueues.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define NOMEM(c, what)                                                        \
	cairn__fail((c), CAIRN_RESOURCE_EXHAUSTED, "out of memory %s", (what))

/* The names SetQueue's fields take, by CAIRN_QUEUE_ bit. */
static const char *const field_names[] = {
	"paused",
	"max_active",
	"rate",
	"max_attempts",
	"retry",
	"heartbeat_timeout_ms",
	"start_to_close_timeout_ms",
};

static bool
from_pb(cairn_queue_settings *out, const Cairn__V1__QueueSettings *pb)
{
	memset(out, 0, sizeof(*out));
	if ((out->queue = cairn__str_dup(pb->queue)) == NULL) {
		return (false);
	}
	out->paused = pb->paused;
	out->max_active = pb->max_active;
	if (pb->rate != NULL) {
		out->rate_count = pb->rate->count;
		out->rate_interval_ms = pb->rate->interval_ms;
		out->rate_burst = pb->rate->burst;
	}
	out->max_attempts = pb->max_attempts;
	if (pb->retry != NULL) {
		out->retry_initial_backoff_ms = pb->retry->initial_backoff_ms;
		out->retry_multiplier = pb->retry->multiplier;
		out->retry_max_backoff_ms = pb->retry->max_backoff_ms;
	}
	out->heartbeat_timeout_ms = pb->heartbeat_timeout_ms;
	out->start_to_close_timeout_ms = pb->start_to_close_timeout_ms;
	out->updated_at_ms = pb->updated_at_ms;
	return (true);
}

/* one_out converts the settings of a reply (consumed), which must be
 * there, into *out (when out is not NULL). */
static int
one_out(cairn_client *c, const char *method, ProtobufCMessage *m,
    const Cairn__V1__QueueSettings *pb, cairn_queue_settings **out)
{
	cairn_queue_settings *v = NULL;
	int rv = CAIRN_OK;

	if (pb == NULL) {
		rv = cairn__fail(
		    c, CAIRN_INTERNAL, "%s reply without settings", method);
	} else if (out != NULL
	    && ((v = calloc(1, sizeof(*v))) == NULL || !from_pb(v, pb))) {
		free(v);
		rv = NOMEM(c, "reading queue settings");
	} else if (out != NULL) {
		*out = v;
	}
	protobuf_c_message_free_unpacked(m, NULL);
	return (rv);
}

int
cairn_queue_set(cairn_client *c, const cairn_queue_settings *s,
    unsigned fields, cairn_queue_settings **out)
{
	Cairn__V1__SetQueueRequest req = CAIRN__V1__SET_QUEUE_REQUEST__INIT;
	Cairn__V1__QueueSettings qs = CAIRN__V1__QUEUE_SETTINGS__INIT;
	Cairn__V1__RateLimit rate = CAIRN__V1__RATE_LIMIT__INIT;
	Cairn__V1__RetryPolicy retry = CAIRN__V1__RETRY_POLICY__INIT;
	char *names[sizeof(field_names) / sizeof(field_names[0])];
	ProtobufCMessage *m;
	int rv;

	if (c == NULL) {
		return (CAIRN_INVALID_ARGUMENT);
	}
	if (s == NULL || s->queue == NULL || (fields & CAIRN_QUEUE_ALL) == 0) {
		return (cairn__fail(c, CAIRN_INVALID_ARGUMENT,
		    "cairn_queue_set: no queue, or no field to change"));
	}
	qs.queue = s->queue;
	qs.paused = s->paused;
	qs.max_active = s->max_active;
	rate.count = s->rate_count;
	rate.interval_ms = s->rate_interval_ms;
	rate.burst = s->rate_burst;
	qs.rate = &rate;
	qs.max_attempts = s->max_attempts;
	retry.initial_backoff_ms = s->retry_initial_backoff_ms;
	retry.multiplier = s->retry_multiplier;
	retry.max_backoff_ms = s->retry_max_backoff_ms;
	qs.retry = &retry;
	qs.heartbeat_timeout_ms = s->heartbeat_timeout_ms;
	qs.start_to_close_timeout_ms = s->start_to_close_timeout_ms;
	req.settings = &qs;
	req.fields = names;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (fields & (1u << i)) {
			names[req.n_fields++] = (char *) field_names[i];
		}
	}
	req.create = (fields & CAIRN_QUEUE_CREATE) != 0;
	/* Replacing fields with values is the same when done twice: no
	 * request id needed. */
	if ((rv = cairn__call(c, "SetQueue", &req.base, 0, 0, &m)) != 0) {
		return (rv);
	}
	return (one_out(c, "SetQueue", m,
	    ((Cairn__V1__SetQueueResponse *) m)->settings, out));
}

int
cairn_queue_get(cairn_client *c, const char *queue, cairn_queue_settings **out)
{
	Cairn__V1__GetQueueRequest req = CAIRN__V1__GET_QUEUE_REQUEST__INIT;
	ProtobufCMessage *m;
	int rv;

	if (c == NULL) {
		return (CAIRN_INVALID_ARGUMENT);
	}
	if (queue == NULL || out == NULL) {
		return (cairn__fail(c, CAIRN_INVALID_ARGUMENT,
		    "cairn_queue_get: queue or out is NULL"));
	}
	req.queue = (char *) queue;
	if ((rv = cairn__call(c, "GetQueue", &req.base, 0, 0, &m)) != 0) {
		return (rv);
	}
	return (one_out(c, "GetQueue", m,
	    ((Cairn__V1__GetQueueResponse *) m)->settings, out));
}

int
cairn_queue_list(cairn_client *c, cairn_queue_settings **out, size_t *n)
{
	Cairn__V1__ListQueuesRequest req
	    = CAIRN__V1__LIST_QUEUES_REQUEST__INIT;
	Cairn__V1__ListQueuesResponse *resp;
	cairn_queue_settings *v;
	ProtobufCMessage *m;
	int rv = CAIRN_OK;

	if (c == NULL) {
		return (CAIRN_INVALID_ARGUMENT);
	}
	if (out == NULL || n == NULL) {
		return (cairn__fail(c, CAIRN_INVALID_ARGUMENT,
		    "cairn_queue_list: out or n is NULL"));
	}
	if ((rv = cairn__call(c, "ListQueues", &req.base, 0, 0, &m)) != 0) {
		return (rv);
	}
	resp = (Cairn__V1__ListQueuesResponse *) m;
	/* One spare element, so that an empty answer is not a NULL array. */
	if ((v = calloc(resp->n_queues + 1, sizeof(*v))) == NULL) {
		rv = NOMEM(c, "reading a ListQueues reply");
		goto out;
	}
	for (size_t i = 0; i < resp->n_queues; i++) {
		if (!from_pb(&v[i], resp->queues[i])) {
			cairn_queue_settings_free(v, i + 1);
			rv = NOMEM(c, "reading a ListQueues reply");
			goto out;
		}
	}
	*out = v;
	*n = resp->n_queues;
out:
	protobuf_c_message_free_unpacked(m, NULL);
	return (rv);
}

void
cairn_queue_settings_free(cairn_queue_settings *s, size_t n)
{
	if (s == NULL) {
		return;
	}
	for (size_t i = 0; i < n; i++) {
		free(s[i].queue);
	}
	free(s);
}
