/*
 * rpc/validate.c - checks on every field a client sends, made before
 * anything reaches storage. A refusal names the field and the rule.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "rpc/internal.h"

#define MAX_KEY   256
#define MAX_TOKEN 128

/* utf8_valid says whether s is well-formed UTF-8 (no overlongs, no
 * surrogates), so that every backend can store it as text. */
static bool
utf8_valid(const unsigned char *s)
{
	while (*s != 0) {
		unsigned c = *s, n;
		uint32_t cp;
		if (c < 0x80) {
			s++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			n = 1;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3;
			cp = c & 0x07;
		} else {
			return (false);
		}
		for (unsigned i = 1; i <= n; i++) {
			if ((s[i] & 0xc0) != 0x80) {
				return (false);
			}
			cp = (cp << 6) | (s[i] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800)
		    || (n == 3 && (cp < 0x10000 || cp > 0x10ffff))
		    || (cp >= 0xd800 && cp <= 0xdfff)) {
			return (false);
		}
		s += n + 1;
	}
	return (true);
}

bool
rpc_check_queue(struct rpc_ctx *c, const char *field, const char *q)
{
	size_t n = q != NULL ? strlen(q) : 0;

	if (n == 0 || n > TASK_QUEUE_MAX) {
		rpc_refuse(c, CAIRN_INVALID_ARGUMENT,
		    "%s: a queue name has 1 to %d characters", field,
		    TASK_QUEUE_MAX);
		return (false);
	}
	if (strspn(q,
	        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	        "0123456789_.:-")
	    != n) {
		rpc_refuse(c, CAIRN_INVALID_ARGUMENT,
		    "%s: invalid queue name (allowed: A-Z a-z 0-9 _ . : -)",
		    field);
		return (false);
	}
	return (true);
}

bool
rpc_check_duration(struct rpc_ctx *c, const char *field, int64_t ms)
{
	/* Ten years: far beyond any sane timeout, far from overflow when
	 * added to the current time. */
	if (ms < 0 || ms > 10LL * 365 * 24 * 3600 * 1000) {
		rpc_refuse(c, CAIRN_INVALID_ARGUMENT,
		    "%s: %lld ms is not a valid duration (0 to 10 years)",
		    field, (long long) ms);
		return (false);
	}
	return (true);
}

bool
rpc_check_bytes(struct rpc_ctx *c, const char *field, size_t len)
{
	if (len > c->srv->cfg.limits.max_payload) {
		rpc_refuse(c, CAIRN_INVALID_ARGUMENT,
		    "%s: %zu bytes exceeds the limit of %zu bytes", field, len,
		    c->srv->cfg.limits.max_payload);
		return (false);
	}
	return (true);
}

bool
rpc_check_text(struct rpc_ctx *c, const char *field, const char *s, size_t max)
{
	if (s == NULL) {
		return (true);
	}
	if (strlen(s) > max) {
		rpc_refuse(c, CAIRN_INVALID_ARGUMENT,
		    "%s: longer than %zu bytes", field, max);
		return (false);
	}
	if (!utf8_valid((const unsigned char *) s)) {
		rpc_refuse(
		    c, CAIRN_INVALID_ARGUMENT, "%s: not valid UTF-8", field);
		return (false);
	}
	return (true);
}

bool
rpc_check_id(struct rpc_ctx *c, uint64_t id)
{
	if (id == 0 || id > INT64_MAX) {
		rpc_refuse(c, CAIRN_INVALID_ARGUMENT,
		    "id: %llu is not a task id", (unsigned long long) id);
		return (false);
	}
	return (true);
}

bool
rpc_check_token(struct rpc_ctx *c, const char *token)
{
	if (token == NULL || token[0] == 0) {
		rpc_refuse(c, CAIRN_INVALID_ARGUMENT, "lease_token: required");
		return (false);
	}
	return (rpc_check_text(c, "lease_token", token, MAX_TOKEN));
}

bool
rpc_check_spec(struct rpc_ctx *c, size_t i, const Cairn__V1__TaskSpec *spec)
{
	char f[64];
	const Cairn__V1__RetryPolicy *r = spec->retry;

#define FIELD(name) (snprintf(f, sizeof(f), "tasks[%zu].%s", i, name), f)
	if (!rpc_check_queue(c, FIELD("queue"), spec->queue)
	    || !rpc_check_bytes(c, FIELD("payload"), spec->payload.len)
	    || !rpc_check_duration(c, FIELD("delay_ms"), spec->delay_ms)
	    || !rpc_check_duration(
	        c, FIELD("heartbeat_timeout_ms"), spec->heartbeat_timeout_ms)
	    || !rpc_check_duration(c, FIELD("start_to_close_timeout_ms"),
	        spec->start_to_close_timeout_ms)
	    || !rpc_check_text(
	        c, FIELD("idempotency_key"), spec->idempotency_key, MAX_KEY)) {
		return (false);
	}
	if (spec->run_at_ms < 0) {
		rpc_refuse(c, CAIRN_INVALID_ARGUMENT, "%s: negative",
		    FIELD("run_at_ms"));
		return (false);
	}
	if (r != NULL
	    && (!rpc_check_duration(c, FIELD("retry.initial_backoff_ms"),
	            r->initial_backoff_ms)
	        || !rpc_check_duration(
	            c, FIELD("retry.max_backoff_ms"), r->max_backoff_ms))) {
		return (false);
	}
	if (r != NULL
	    && (!isfinite(r->multiplier)
	        || (r->multiplier != 0 && r->multiplier < 1)
	        || r->multiplier > 1000)) {
		rpc_refuse(c, CAIRN_INVALID_ARGUMENT,
		    "%s: must be 0 (default) or from 1 to 1000",
		    FIELD("retry.multiplier"));
		return (false);
	}
#undef FIELD
	return (true);
}
