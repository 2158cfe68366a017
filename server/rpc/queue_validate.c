/*
 * rpc/queue_validate.c - the checks of SetQueue: which fields it changes,
 * and that each is in range, before anything reaches storage.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "rpc/validate.h"
#include "store/store_queue.h"

static const struct {
	const char *name;
	unsigned bit;
} fields[] = {
	{ "paused", QUEUE_F_PAUSED },
	{ "max_active", QUEUE_F_MAX_ACTIVE },
	{ "rate", QUEUE_F_RATE },
	{ "max_attempts", QUEUE_F_MAX_ATTEMPTS },
	{ "retry", QUEUE_F_RETRY },
	{ "heartbeat_timeout_ms", QUEUE_F_HEARTBEAT },
	{ "start_to_close_timeout_ms", QUEUE_F_START_TO_CLOSE },
};

static int
check_fields(char *const *names, size_t n, unsigned *bits, char *msg)
{
	*bits = n == 0 ? QUEUE_F_ALL_ : 0;
	for (size_t i = 0; i < n; i++) {
		size_t k = 0;
		while (k < sizeof(fields) / sizeof(fields[0])
		    && strcmp(fields[k].name, names[i]) != 0) {
			k++;
		}
		if (k == sizeof(fields) / sizeof(fields[0])) {
			return (rpc_invalid(msg,
			    "fields[%zu]: unknown field '%.64s' (paused, "
			    "max_active, rate, max_attempts, retry, "
			    "heartbeat_timeout_ms, start_to_close_timeout_ms)",
			    i, names[i]));
		}
		*bits |= fields[k].bit;
	}
	return (CAIRN_OK);
}

static int
check_rate(const Cairn__V1__RateLimit *r, char *msg)
{
	if (r == NULL) {
		return (CAIRN_OK);
	}
	if (r->count == 0) {
		if (r->interval_ms != 0 || r->burst != 0) {
			return (rpc_invalid(msg,
			    "settings.rate: count 0 (no rate limit) takes no "
			    "interval_ms or burst"));
		}
		return (CAIRN_OK);
	}
	if (r->count > QUEUE_RATE_MAX || r->burst > QUEUE_RATE_MAX) {
		return (rpc_invalid(msg,
		    "settings.rate: count and burst at most %d",
		    QUEUE_RATE_MAX));
	}
	if (r->interval_ms < 1 || r->interval_ms > QUEUE_INTERVAL_MAX) {
		return (rpc_invalid(msg,
		    "settings.rate.interval_ms: from 1 ms to a day (%d), "
		    "not %lld",
		    QUEUE_INTERVAL_MAX, (long long) r->interval_ms));
	}
	return (CAIRN_OK);
}

static int
check_retry(const Cairn__V1__RetryPolicy *r, char *msg)
{
	int rv;

	if (r == NULL) {
		return (CAIRN_OK);
	}
	if ((rv = rpc_check_duration("settings.retry.initial_backoff_ms",
	         r->initial_backoff_ms, msg))
	        != CAIRN_OK
	    || (rv = rpc_check_duration(
	            "settings.retry.max_backoff_ms", r->max_backoff_ms, msg))
	        != CAIRN_OK) {
		return (rv);
	}
	if (!isfinite(r->multiplier)
	    || (r->multiplier != 0 && r->multiplier < 1)
	    || r->multiplier > 1000) {
		return (rpc_invalid(msg,
		    "settings.retry.multiplier: must be 0 (default) or from "
		    "1 to 1000"));
	}
	return (CAIRN_OK);
}

int
rpc_check_queue_set(
    const Cairn__V1__SetQueueRequest *in, unsigned *bits, char *msg)
{
	const Cairn__V1__QueueSettings *s = in->settings;
	int rv;

	if (s == NULL) {
		return (rpc_invalid(msg, "settings: required"));
	}
	if ((rv = rpc_check_queue("settings.queue", s->queue, msg)) != 0
	    || (rv = check_fields(in->fields, in->n_fields, bits, msg)) != 0
	    || (rv = check_rate(s->rate, msg)) != 0
	    || (rv = check_retry(s->retry, msg)) != 0
	    || (rv = rpc_check_duration("settings.heartbeat_timeout_ms",
	            s->heartbeat_timeout_ms, msg))
	        != 0
	    || (rv = rpc_check_duration("settings.start_to_close_timeout_ms",
	            s->start_to_close_timeout_ms, msg))
	        != 0) {
		return (rv);
	}
	if (s->max_active > QUEUE_MAX_ACTIVE_MAX) {
		return (rpc_invalid(msg,
		    "settings.max_active: at most %d (0: no limit)",
		    QUEUE_MAX_ACTIVE_MAX));
	}
	return (CAIRN_OK);
}
