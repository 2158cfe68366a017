/*
 * wf_values.c - the commands of a workflow function that record a value
 * made in the worker: steps, now, random and patch markers; the ends of a
 * run; and the context's accessors.
 *
 * A marker's value is sent both as the command's input (what
 * proto/README.md names) and as its result, because leases leave inputs
 * out of the log and replay must read the value back. Values are decimal
 * text, so that `cairn workflow history` shows them as they are.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cairn_wire.h"
#include "wf_ctx.h"

struct cairn_wf_step_ctx {
	uint8_t *result;
	size_t result_len;
	char *error; /* set: the step failed */
	bool oom;
};

int
cairn_wf_step_result(cairn_wf_step_ctx *s, const void *result, size_t len)
{
	uint8_t *p;

	if (s == NULL || (result == NULL && len > 0)) {
		return (CAIRN_INVALID_ARGUMENT);
	}
	if ((p = malloc(len + 1)) == NULL) {
		s->oom = true;
		return (CAIRN_RESOURCE_EXHAUSTED);
	}
	if (len > 0) {
		memcpy(p, result, len);
	}
	p[len] = '\0';
	free(s->result);
	s->result = p;
	s->result_len = len;
	return (CAIRN_OK);
}

int
cairn_wf_step_fail(cairn_wf_step_ctx *s, const char *error)
{
	char *e;

	if (s == NULL) {
		return (CAIRN_INVALID_ARGUMENT);
	}
	if ((e = strdup(error != NULL ? error : "")) == NULL) {
		s->oom = true;
		return (CAIRN_RESOURCE_EXHAUSTED);
	}
	free(s->error);
	s->error = e;
	return (CAIRN_OK);
}

/* run_step runs a step for the first time, records it and checkpoints. */
static int
run_step(cairn_wf_ctx *ctx, const char *name, cairn_wf_step_fn fn,
    const void *input, size_t len, void *arg, uint32_t *seq)
{
	struct cairn_wf_step_ctx s = { 0 };
	cairn_wf_command k = {
		.kind = CAIRN_WF_STEP,
		.name = name,
		.input = input,
		.input_len = len,
	};
	int rv;

	rv = fn(&s, input, len, arg);
	if (rv == CAIRN_OK && s.oom) {
		rv = CAIRN_RESOURCE_EXHAUSTED;
	}
	if (rv != CAIRN_OK) {
		free(s.result);
		free(s.error);
		return (cairn__wf_poison(ctx, rv,
		    "step \"%s\" returned %s: not recorded, the turn will be "
		    "tried again",
		    name, cairn_strerror(rv)));
	}
	k.status = s.error != NULL ? CAIRN_WF_ENTRY_FAILED
	                           : CAIRN_WF_ENTRY_COMPLETED;
	k.result = s.result;
	k.result_len = s.result_len;
	k.error = s.error;
	rv = cairn__wf_push(ctx, &k, seq);
	free(s.result);
	free(s.error);
	if (rv != CAIRN_OK || ctx->checkpoint == NULL) {
		return (rv);
	}
	/* Recorded before anything else happens, so that a crash from now on
	 * does not run the step again (README step 4). */
	if ((rv = ctx->checkpoint(ctx, ctx->cp_arg)) != CAIRN_OK) {
		return (cairn__wf_poison(ctx, rv,
		    "recording step \"%s\" failed: %s", name,
		    cairn_strerror(rv)));
	}
	return (CAIRN_OK);
}

int
cairn_wf_step(cairn_wf_ctx *ctx, const char *name, cairn_wf_step_fn fn,
    const void *input, size_t len, void *arg, cairn_wf_outcome *out)
{
	const cairn_wf_entry *e;
	uint64_t order;
	uint32_t seq;
	int rv;

	if ((rv = cairn__wf_enter(ctx)) != CAIRN_OK) {
		return (rv);
	}
	if (name == NULL || fn == NULL || (input == NULL && len > 0)) {
		return (cairn__wf_poison(ctx, CAIRN_INVALID_ARGUMENT,
		    "cairn_wf_step: %s is NULL",
		    name == NULL ? "name" : (fn == NULL ? "fn" : "input")));
	}
	if ((rv = cairn__wf_locate(
	         ctx, CAIRN_WF_STEP, name, input, len, true, &e))
	    != CAIRN_OK) {
		return (rv);
	}
	if (e != NULL) {
		seq = e->seq;
	} else if ((rv = run_step(ctx, name, fn, input, len, arg, &seq))
	    != CAIRN_OK) {
		return (rv);
	}
	if (!cairn__wf_resolved(ctx, seq, out, &order)) {
		return (cairn__wf_poison(ctx, CAIRN_INTERNAL,
		    "step \"%s\" at seq %" PRIu32 " has no outcome in the log",
		    name, seq));
	}
	return (CAIRN_OK);
}

/*
 * value places a marker name holding a number: the recorded one when the
 * log has it, else fresh, recorded now. *out is the number.
 */
static int
value(cairn_wf_ctx *ctx, const char *name, uint64_t fresh, uint64_t *out)
{
	const cairn_wf_entry *e;
	char text[32];
	int rv;

	if ((rv = cairn__wf_locate(
	         ctx, CAIRN_WF_MARKER, name, NULL, 0, false, &e))
	    != CAIRN_OK) {
		return (rv);
	}
	if (e != NULL) {
		const uint8_t *v = e->result_len > 0 ? e->result : e->input;
		size_t n = e->result_len > 0 ? e->result_len : e->input_len;
		char *end;
		if (n == 0 || n >= sizeof(text)) {
			goto bad;
		}
		memcpy(text, v, n);
		text[n] = '\0';
		errno = 0;
		*out = strtoull(text, &end, 10);
		if (errno != 0 || *end != '\0' || text[0] < '0'
		    || text[0] > '9') {
			goto bad;
		}
		return (CAIRN_OK);
	bad:
		return (cairn__wf_poison(ctx, CAIRN_INTERNAL,
		    "marker \"%s\" at seq %" PRIu32 " holds no number", name,
		    e->seq));
	}
	snprintf(text, sizeof(text), "%" PRIu64, fresh);
	cairn_wf_command k = {
		.kind = CAIRN_WF_MARKER,
		.name = name,
		.input = text,
		.input_len = strlen(text),
		.status = CAIRN_WF_ENTRY_COMPLETED,
		.result = text,
		.result_len = strlen(text),
	};
	if ((rv = cairn__wf_push(ctx, &k, NULL)) != CAIRN_OK) {
		return (rv);
	}
	*out = fresh;
	return (CAIRN_OK);
}

int
cairn_wf_now(cairn_wf_ctx *ctx, int64_t *ms)
{
	struct timespec ts;
	uint64_t v;
	int rv;

	if ((rv = cairn__wf_enter(ctx)) != CAIRN_OK) {
		return (rv);
	}
	if (ms == NULL) {
		return (cairn__wf_poison(
		    ctx, CAIRN_INVALID_ARGUMENT, "cairn_wf_now: ms is NULL"));
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	v = (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
	if ((rv = value(ctx, "now", v, &v)) == CAIRN_OK) {
		*ms = (int64_t) v;
	}
	return (rv);
}

int
cairn_wf_random(cairn_wf_ctx *ctx, uint64_t *out)
{
	uint64_t v = 0;
	int rv;

	if ((rv = cairn__wf_enter(ctx)) != CAIRN_OK) {
		return (rv);
	}
	if (out == NULL) {
		return (cairn__wf_poison(ctx, CAIRN_INVALID_ARGUMENT,
		    "cairn_wf_random: out is NULL"));
	}
	/* Only drawn when the value is new; a failure then is the
	 * kernel's, and the turn is tried again later. */
	if (cairn_wf_is_replaying(ctx) == false
	    && !cairn__random_bytes(&v, sizeof(v))) {
		return (cairn__wf_poison(ctx, CAIRN_INTERNAL,
		    "cairn_wf_random: getrandom: %s", strerror(errno)));
	}
	return (value(ctx, "random", v, out));
}

int
cairn_wf_patched(cairn_wf_ctx *ctx, const char *id, bool *out)
{
	char name[160];
	int rv;

	if ((rv = cairn__wf_enter(ctx)) != CAIRN_OK) {
		return (rv);
	}
	if (id == NULL || out == NULL
	    || (size_t) snprintf(name, sizeof(name), "patch:%s", id)
	        >= sizeof(name)) {
		return (cairn__wf_poison(ctx, CAIRN_INVALID_ARGUMENT,
		    "cairn_wf_patched: id is NULL or too long"));
	}
	/* README step 5: the marker where the log has it; anything else
	 * there means the run was recorded by the code before the patch. */
	if (ctx->p < ctx->base) {
		const cairn_wf_entry *e = &ctx->log->v[ctx->p - 1];
		*out
		    = e->kind == CAIRN_WF_MARKER && strcmp(e->name, name) == 0;
		if (*out) {
			ctx->p++;
		}
		return (CAIRN_OK);
	}
	cairn_wf_command k = {
		.kind = CAIRN_WF_MARKER,
		.name = name,
		.status = CAIRN_WF_ENTRY_COMPLETED,
	};
	if ((rv = cairn__wf_push(ctx, &k, NULL)) == CAIRN_OK) {
		*out = true;
	}
	return (rv);
}

/* end_run records how the run ends, to be sent when fn returns. */
static int
end_run(cairn_wf_ctx *ctx, cairn_workflow_state state, const void *result,
    size_t len, const char *error)
{
	int rv;

	if ((rv = cairn__wf_enter(ctx)) != CAIRN_OK) {
		return (rv);
	}
	if (result == NULL && len > 0) {
		return (cairn__wf_poison(ctx, CAIRN_INVALID_ARGUMENT,
		    "cairn_wf_succeed: result is NULL"));
	}
	if ((ctx->result = malloc(len + 1)) == NULL
	    || (ctx->error = strdup(error != NULL ? error : "")) == NULL) {
		return (cairn__wf_poison(ctx, CAIRN_RESOURCE_EXHAUSTED,
		    "out of memory ending the run"));
	}
	if (len > 0) {
		memcpy(ctx->result, result, len);
	}
	ctx->result[len] = '\0';
	ctx->result_len = len;
	ctx->finish = state;
	ctx->ended = true;
	return (CAIRN_OK);
}

int
cairn_wf_succeed(cairn_wf_ctx *ctx, const void *result, size_t len)
{
	return (end_run(ctx, CAIRN_WF_SUCCEEDED, result, len, NULL));
}

int
cairn_wf_fail(cairn_wf_ctx *ctx, const char *error)
{
	return (end_run(ctx, CAIRN_WF_FAILED, NULL, 0, error));
}

int
cairn_wf_cancelled(cairn_wf_ctx *ctx, const char *reason)
{
	return (end_run(ctx, CAIRN_WF_CANCELED, NULL, 0,
	    reason != NULL ? reason : "canceled"));
}

uint64_t
cairn_wf_run_id(const cairn_wf_ctx *ctx)
{
	return (ctx->run->run_id);
}

const char *
cairn_wf_workflow_id(const cairn_wf_ctx *ctx)
{
	return (ctx->run->workflow_id);
}

const char *
cairn_wf_type(const cairn_wf_ctx *ctx)
{
	return (ctx->run->type);
}

uint32_t
cairn_wf_attempt(const cairn_wf_ctx *ctx)
{
	return (ctx->run->task_attempt);
}

bool
cairn_wf_is_replaying(const cairn_wf_ctx *ctx)
{
	return (ctx->p < ctx->base);
}

bool
cairn_wf_cancel_requested(const cairn_wf_ctx *ctx)
{
	return (atomic_load(&((cairn_wf_ctx *) ctx)->cancel));
}

const char *
cairn_wf_errmsg(const cairn_wf_ctx *ctx)
{
	return (ctx->errmsg);
}
