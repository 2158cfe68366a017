/*
 * rpc/validate.c - checks on every field a client sends (validate.h). A
 * refusal names the field and the rule.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rpc/validate.h"

/* Ten years: far beyond any sane timeout, far from overflow when added to
 * the current time. */
#define DURATION_MAX (10LL * 365 * 24 * 3600 * 1000)

int
rpc_invalid(char *msg, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, RPC_MSG_MAX, fmt, ap);
	va_end(ap);
	return (CAIRN_INVALID_ARGUMENT);
}

int
rpc_check_queue(const char *field, const char *q, char *msg)
{
	size_t n = q != NULL ? strlen(q) : 0;

	if (n == 0 || n > TASK_QUEUE_MAX) {
		return (
		    rpc_invalid(msg, "%s: a queue name has 1 to %d characters",
		        field, TASK_QUEUE_MAX));
	}
	if (strspn(q,
	        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	        "0123456789_.:-")
	    != n) {
		return (rpc_invalid(msg,
		    "%s: invalid queue name (allowed: A-Z a-z 0-9 _ . : -)",
		    field));
	}
	return (CAIRN_OK);
}

int
rpc_check_duration(const char *field, int64_t ms, char *msg)
{
	if (ms < 0 || ms > DURATION_MAX) {
		return (rpc_invalid(msg,
		    "%s: %lld ms is not a valid duration (0 to 10 years)",
		    field, (long long) ms));
	}
	return (CAIRN_OK);
}

int
rpc_check_bytes(const char *field, size_t len, size_t max, char *msg)
{
	if (len > max) {
		return (rpc_invalid(msg,
		    "%s: %zu bytes exceeds the limit of %zu bytes", field, len,
		    max));
	}
	return (CAIRN_OK);
}

int
rpc_check_text(const char *field, const char *s, size_t max, char *msg)
{
	if (s == NULL) {
		return (CAIRN_OK);
	}
	size_t n = strlen(s);
	if (n > max) {
		return (
		    rpc_invalid(msg, "%s: longer than %zu bytes", field, max));
	}
	/* So that every backend can store it as text. */
	if (!cairn__utf8_valid(s, n)) {
		return (rpc_invalid(msg, "%s: not valid UTF-8", field));
	}
	return (CAIRN_OK);
}

int
rpc_check_id(const char *field, uint64_t id, char *msg)
{
	if (id == 0 || id > INT64_MAX) {
		return (rpc_invalid(msg, "%s: %llu is not a task id", field,
		    (unsigned long long) id));
	}
	return (CAIRN_OK);
}

int
rpc_check_token(const char *field, const char *token, char *msg)
{
	if (token == NULL || token[0] == 0) {
		return (rpc_invalid(msg, "%s: required", field));
	}
	return (rpc_check_text(field, token, RPC_TOKEN_MAX, msg));
}

int
rpc_check_spec(
    size_t i, const Cairn__V1__TaskSpec *spec, size_t max_payload, char *msg)
{
	const Cairn__V1__RetryPolicy *r = spec->retry;
	char f[64];
	int rv;

#define FIELD(name) (snprintf(f, sizeof(f), "tasks[%zu].%s", i, name), f)
	if ((rv = rpc_check_queue(FIELD("queue"), spec->queue, msg))
	        != CAIRN_OK
	    || (rv = rpc_check_bytes(
	            FIELD("payload"), spec->payload.len, max_payload, msg))
	        != CAIRN_OK
	    || (rv = rpc_check_duration(
	            FIELD("delay_ms"), spec->delay_ms, msg))
	        != CAIRN_OK
	    || (rv = rpc_check_duration(FIELD("heartbeat_timeout_ms"),
	            spec->heartbeat_timeout_ms, msg))
	        != CAIRN_OK
	    || (rv = rpc_check_duration(FIELD("start_to_close_timeout_ms"),
	            spec->start_to_close_timeout_ms, msg))
	        != CAIRN_OK
	    || (rv = rpc_check_text(FIELD("idempotency_key"),
	            spec->idempotency_key, RPC_KEY_MAX, msg))
	        != CAIRN_OK) {
		return (rv);
	}
	if (spec->run_at_ms < 0) {
		return (rpc_invalid(msg, "%s: negative", FIELD("run_at_ms")));
	}
	if (r != NULL
	    && ((rv = rpc_check_duration(FIELD("retry.initial_backoff_ms"),
	             r->initial_backoff_ms, msg))
	            != CAIRN_OK
	        || (rv = rpc_check_duration(
	                FIELD("retry.max_backoff_ms"), r->max_backoff_ms, msg))
	            != CAIRN_OK)) {
		return (rv);
	}
	if (r != NULL
	    && (!isfinite(r->multiplier)
	        || (r->multiplier != 0 && r->multiplier < 1)
	        || r->multiplier > 1000)) {
		return (rpc_invalid(msg,
		    "%s: must be 0 (default) or from 1 to 1000",
		    FIELD("retry.multiplier")));
	}
#undef FIELD
	return (CAIRN_OK);
}

int
rpc_check_item(size_t i, uint64_t id, const char *token, size_t len,
    const char *data_field, size_t max_payload, char *msg)
{
	char f[64];
	int rv;

	snprintf(f, sizeof(f), "tasks[%zu].id", i);
	if ((rv = rpc_check_id(f, id, msg)) != CAIRN_OK) {
		return (rv);
	}
	snprintf(f, sizeof(f), "tasks[%zu].lease_token", i);
	if ((rv = rpc_check_token(f, token, msg)) != CAIRN_OK) {
		return (rv);
	}
	snprintf(f, sizeof(f), "tasks[%zu].%s", i, data_field);
	return (rpc_check_bytes(f, len, max_payload, msg));
}
