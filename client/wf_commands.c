/*
 * wf_commands.c - the commands a workflow function issues (cairn_wf_*):
 * activities, steps, timers, signal waits, children, recorded values and
 * the ends of a run, each matched against the log by wf_ctx.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cairn_wire.h"
#include "wf_ctx.h"

/* Names are sent as protobuf strings: they must be there. */
static int
need(cairn_wf_ctx *ctx, const char *fn, const void *p, const char *what)
{
	if (p == NULL) {
		return (cairn__wf_poison(
		    ctx, CAIRN_INVALID_ARGUMENT, "%s: %s is NULL", fn, what));
	}
	return (CAIRN_OK);
}

/*
 * start places a command that is waited for apart (activity, timer,
 * signal, child): the matching entry of the log, or cmd as a new one.
 * *h is its seq.
 */
static int
start(cairn_wf_ctx *ctx, const char *fn, const cairn_wf_command *cmd,
    bool hashed, cairn_wf_handle *h)
{
	const cairn_wf_entry *e;
	uint32_t seq;
	int rv;

	if ((rv = cairn__wf_enter(ctx)) != CAIRN_OK
	    || (rv = need(ctx, fn, cmd->name, "name")) != CAIRN_OK
	    || (rv = need(ctx, fn, h, "the handle")) != CAIRN_OK) {
		return (rv);
	}
	if (cmd->input == NULL && cmd->input_len > 0) {
		return (need(ctx, fn, NULL, "input"));
	}
	if ((rv = cairn__wf_locate(ctx, cmd->kind, cmd->name, cmd->input,
	         cmd->input_len, hashed, &e))
	    != CAIRN_OK) {
		return (rv);
	}
	if (e != NULL) {
		seq = e->seq;
	} else if ((rv = cairn__wf_push(ctx, cmd, &seq)) != CAIRN_OK) {
		return (rv);
	}
	*h = seq;
	return (CAIRN_OK);
}

/* check_handle: a handle is the seq of a command of this turn. */
static int
check_handle(cairn_wf_ctx *ctx, const char *fn, cairn_wf_handle h)
{
	if (h == 0 || h >= ctx->p) {
		return (cairn__wf_poison(ctx, CAIRN_INVALID_ARGUMENT,
		    "%s: handle %" PRIu32 " was not started in this turn", fn,
		    h));
	}
	return (CAIRN_OK);
}

static int
suspend(cairn_wf_ctx *ctx, cairn_wf_handle h)
{
	char what[160];

	cairn__wf_describe(ctx, h, what, sizeof(what));
	return (cairn__wf_poison(ctx, CAIRN_WF_SUSPEND,
	    "waiting for seq %" PRIu32 " (%s)", h, what));
}

int
cairn_wf_wait(cairn_wf_ctx *ctx, cairn_wf_handle h, cairn_wf_outcome *out)
{
	uint64_t order;
	int rv;

	if ((rv = cairn__wf_enter(ctx)) != CAIRN_OK
	    || (rv = check_handle(ctx, "cairn_wf_wait", h)) != CAIRN_OK) {
		return (rv);
	}
	if (!cairn__wf_resolved(ctx, h, out, &order)) {
		return (suspend(ctx, h));
	}
	return (CAIRN_OK);
}

static int
check_handles(
    cairn_wf_ctx *ctx, const char *fn, const cairn_wf_handle *hs, size_t n)
{
	int rv;

	if ((rv = cairn__wf_enter(ctx)) != CAIRN_OK) {
		return (rv);
	}
	if (hs == NULL || n == 0) {
		return (cairn__wf_poison(
		    ctx, CAIRN_INVALID_ARGUMENT, "%s: no handles given", fn));
	}
	for (size_t i = 0; i < n; i++) {
		if ((rv = check_handle(ctx, fn, hs[i])) != CAIRN_OK) {
			return (rv);
		}
	}
	return (CAIRN_OK);
}

int
cairn_wf_wait_all(cairn_wf_ctx *ctx, const cairn_wf_handle *hs, size_t n,
    cairn_wf_outcome *outs)
{
	uint64_t order;
	int rv;

	if ((rv = check_handles(ctx, "cairn_wf_wait_all", hs, n))
	    != CAIRN_OK) {
		return (rv);
	}
	for (size_t i = 0; i < n; i++) {
		if (!cairn__wf_resolved(
		        ctx, hs[i], outs != NULL ? &outs[i] : NULL, &order)) {
			return (suspend(ctx, hs[i]));
		}
	}
	return (CAIRN_OK);
}

int
cairn_wf_wait_any(cairn_wf_ctx *ctx, const cairn_wf_handle *hs, size_t n,
    cairn_wf_handle *which, cairn_wf_outcome *out)
{
	cairn_wf_outcome o, best_o = { 0 };
	cairn_wf_handle best = 0;
	uint64_t order, best_order = UINT64_MAX;
	int rv;

	if ((rv = check_handles(ctx, "cairn_wf_wait_any", hs, n))
	    != CAIRN_OK) {
		return (rv);
	}
	/* The first to resolve, as the server numbered them; seq breaks a
	 * tie between outcomes whose order is unknown. */
	for (size_t i = 0; i < n; i++) {
		if (!cairn__wf_resolved(ctx, hs[i], &o, &order)) {
			continue;
		}
		if (best == 0 || order < best_order
		    || (order == best_order && hs[i] < best)) {
			best = hs[i];
			best_order = order;
			best_o = o;
		}
	}
	if (best == 0) {
		return (cairn__wf_poison(ctx, CAIRN_WF_SUSPEND,
		    "waiting for any of %zu commands (seq %" PRIu32 "...)", n,
		    hs[0]));
	}
	if (which != NULL) {
		*which = best;
	}
	if (out != NULL) {
		*out = best_o;
	}
	return (CAIRN_OK);
}

int
cairn_wf_start_activity(cairn_wf_ctx *ctx, const char *name, const void *input,
    size_t input_len, const cairn_wf_activity_options *opts,
    cairn_wf_handle *h)
{
	cairn_wf_command k = {
		.kind = CAIRN_WF_ACTIVITY,
		.name = name,
		.input = input,
		.input_len = input_len,
	};

	if (opts != NULL) {
		k.activity = *opts;
	}
	if (k.activity.queue == NULL) {
		k.activity.queue = name;
	}
	return (start(ctx, "cairn_wf_start_activity", &k, true, h));
}

int
cairn_wf_activity(cairn_wf_ctx *ctx, const char *name, const void *input,
    size_t input_len, const cairn_wf_activity_options *opts,
    cairn_wf_outcome *out)
{
	cairn_wf_handle h;
	int rv;

	rv = cairn_wf_start_activity(ctx, name, input, input_len, opts, &h);
	return (rv != CAIRN_OK ? rv : cairn_wf_wait(ctx, h, out));
}

int
cairn_wf_start_timer(cairn_wf_ctx *ctx, const char *name, int64_t duration_ms,
    cairn_wf_handle *h)
{
	cairn_wf_command k = {
		.kind = CAIRN_WF_TIMER,
		.name = name != NULL ? name : "",
		.duration_ms = duration_ms,
	};

	if (duration_ms < 0 && cairn__wf_enter(ctx) == CAIRN_OK) {
		return (cairn__wf_poison(ctx, CAIRN_INVALID_ARGUMENT,
		    "cairn_wf_start_timer: negative duration %" PRId64 " ms",
		    duration_ms));
	}
	return (start(ctx, "cairn_wf_start_timer", &k, false, h));
}

int
cairn_wf_sleep(cairn_wf_ctx *ctx, int64_t duration_ms, cairn_wf_outcome *out)
{
	cairn_wf_handle h;
	int rv;

	rv = cairn_wf_start_timer(ctx, NULL, duration_ms, &h);
	return (rv != CAIRN_OK ? rv : cairn_wf_wait(ctx, h, out));
}

int
cairn_wf_start_signal(cairn_wf_ctx *ctx, const char *name, int64_t timeout_ms,
    cairn_wf_handle *h)
{
	cairn_wf_command k = {
		.kind = CAIRN_WF_SIGNAL,
		.name = name,
		.duration_ms = timeout_ms,
	};

	if (timeout_ms < 0 && cairn__wf_enter(ctx) == CAIRN_OK) {
		return (cairn__wf_poison(ctx, CAIRN_INVALID_ARGUMENT,
		    "cairn_wf_start_signal: negative timeout %" PRId64 " ms",
		    timeout_ms));
	}
	return (start(ctx, "cairn_wf_start_signal", &k, false, h));
}

int
cairn_wf_wait_signal(cairn_wf_ctx *ctx, const char *name, int64_t timeout_ms,
    cairn_wf_outcome *out)
{
	cairn_wf_handle h;
	int rv;

	rv = cairn_wf_start_signal(ctx, name, timeout_ms, &h);
	return (rv != CAIRN_OK ? rv : cairn_wf_wait(ctx, h, out));
}

int
cairn_wf_start_child(cairn_wf_ctx *ctx, const char *type, const void *input,
    size_t input_len, const cairn_wf_child_options *opts, cairn_wf_handle *h)
{
	cairn_wf_command k = {
		.kind = CAIRN_WF_CHILD,
		.name = type,
		.input = input,
		.input_len = input_len,
	};

	if (opts != NULL) {
		k.child_workflow_id = opts->workflow_id;
		k.child_queue = opts->queue;
	}
	return (start(ctx, "cairn_wf_start_child", &k, true, h));
}

int
cairn_wf_child(cairn_wf_ctx *ctx, const char *type, const void *input,
    size_t input_len, const cairn_wf_child_options *opts,
    cairn_wf_outcome *out)
{
	cairn_wf_handle h;
	int rv;

	rv = cairn_wf_start_child(ctx, type, input, input_len, opts, &h);
	return (rv != CAIRN_OK ? rv : cairn_wf_wait(ctx, h, out));
}
