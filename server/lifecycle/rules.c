/*
 * lifecycle/rules.c - rules about tasks that do not depend on storage:
 * defaults, backoff, lease deadlines and tokens (lifecycle/rules.h).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn_wire.h"
#include "lifecycle/rules.h"

void
task_spec_apply_defaults(struct task_spec *spec)
{
	if (spec->max_attempts == 0) {
		spec->max_attempts = TASK_DEFAULT_MAX_ATTEMPTS;
	}
	if (spec->heartbeat_timeout_ms == 0) {
		spec->heartbeat_timeout_ms = TASK_DEFAULT_HEARTBEAT_MS;
	}
	if (spec->retry.initial_ms == 0) {
		spec->retry.initial_ms = TASK_DEFAULT_BACKOFF_MS;
	}
	if (spec->retry.multiplier == 0) {
		spec->retry.multiplier = TASK_DEFAULT_MULTIPLIER;
	}
	if (spec->retry.max_ms == 0) {
		spec->retry.max_ms = TASK_DEFAULT_MAX_BACKOFF_MS;
	}
	if (spec->idempotency_key != NULL && spec->idempotency_key[0] == 0) {
		spec->idempotency_key = NULL;
	}
}

int64_t
task_backoff_ms(const struct retry_policy *p, uint32_t attempt)
{
	/* Computed in floating point and capped before converting back, so
	 * that a large attempt number cannot overflow. */
	double delay = (double) p->initial_ms;
	double mult = p->multiplier < 1.0 ? 1.0 : p->multiplier;

	if (attempt > 1) {
		delay *= pow(mult, (double) (attempt - 1));
	}
	if (!(delay < (double) p->max_ms)) {
		return (p->max_ms);
	}
	return ((int64_t) delay);
}

int64_t
task_lease_deadline(int64_t now, int64_t lease_timeout_ms,
    int64_t attempt_deadline, bool *by_start_to_close)
{
	int64_t d = now + lease_timeout_ms;

	*by_start_to_close = attempt_deadline <= d;
	return (*by_start_to_close ? attempt_deadline : d);
}

void
task_token_new(char buf[TASK_TOKEN_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t raw[TASK_TOKEN_LEN / 2];

	if (!cairn__random_bytes(raw, sizeof(raw))) {
		abort(); /* no entropy source: tokens would be guessable,
		            refuse to run */
	}
	for (size_t i = 0; i < sizeof(raw); i++) {
		buf[2 * i] = hex[raw[i] >> 4];
		buf[2 * i + 1] = hex[raw[i] & 15];
	}
	buf[TASK_TOKEN_LEN] = 0;
}

const char *
task_outcome_reason(enum lease_outcome outcome)
{
	switch (outcome) {
	case LEASE_COMPLETED:
		return ("lease lost: the task was already completed");
	case LEASE_FAILED:
		return ("lease lost: the attempt was already failed");
	case LEASE_EXPIRED_HEARTBEAT:
		return ("lease lost: heartbeat timeout expired");
	case LEASE_EXPIRED_START_TO_CLOSE:
		return ("lease lost: start-to-close timeout expired");
	case LEASE_CANCELED:
		return ("lease lost: the task was canceled");
	case LEASE_RETRIED:
		return ("lease lost: the task was retried");
	case LEASE_RELEASED:
		return ("lease lost: the lease was released");
	case LEASE_DISCONNECTED:
		return ("lease lost: released after the worker disconnected");
	default:
		return ("lease lost: the token does not match the task's "
		        "current lease");
	}
}
