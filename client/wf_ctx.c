/*
 * wf_ctx.c - the replay engine's core: a turn's context, the matching of
 * commands against the log (proto/README.md, "Replay, as a worker must do
 * it"), outcomes, checkpoints, and how a turn ends.
 *
 * C has no coroutines, so a wait that the log cannot answer does not
 * block: it poisons the context with CAIRN_WF_SUSPEND and the function
 * returns it. The function runs again from the start at the next turn.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wf_ctx.h"

static const uint8_t empty[1] = { 0 };

int
cairn__wf_poison(cairn_wf_ctx *ctx, int code, const char *fmt, ...)
{
	va_list ap;

	if (ctx->poison != CAIRN_OK) {
		return (ctx->poison); /* the first cause is the one to tell */
	}
	ctx->poison = code;
	va_start(ap, fmt);
	vsnprintf(ctx->errmsg, sizeof(ctx->errmsg), fmt, ap);
	va_end(ap);
	return (code);
}

int
cairn__wf_enter(cairn_wf_ctx *ctx)
{
	if (ctx->poison != CAIRN_OK) {
		return (ctx->poison);
	}
	if (atomic_load(&ctx->lost)) {
		return (cairn__wf_poison(ctx, CAIRN_FAILED_PRECONDITION,
		    "lease lost: another worker may hold the run now"));
	}
	if (ctx->ended) {
		return (cairn__wf_poison(ctx, CAIRN_FAILED_PRECONDITION,
		    "a command after the workflow function ended the run"));
	}
	return (CAIRN_OK);
}

static bool
hashed_kind(cairn_wf_kind k)
{
	return (k == CAIRN_WF_STEP || k == CAIRN_WF_ACTIVITY
	    || k == CAIRN_WF_CHILD);
}

int
cairn__wf_locate(cairn_wf_ctx *ctx, cairn_wf_kind kind, const char *name,
    const void *input, size_t len, bool hashed, const cairn_wf_entry **e)
{
	const cairn_wf_entry *have;
	uint64_t h;

	*e = NULL;
	if (ctx->p >= ctx->base) {
		return (CAIRN_OK); /* new */
	}
	have = &ctx->log->v[ctx->p - 1];
	h = hashed ? cairn_wf_hash(input, len) : 0;
	if (have->kind != kind || strcmp(have->name, name) != 0
	    || (hashed && have->input_hash != h)) {
		char want[64] = "", got[64] = "";
		if (hashed) {
			snprintf(want, sizeof(want),
			    " (input hash %016" PRIx64 ")", h);
		}
		if (hashed_kind(have->kind)) {
			snprintf(got, sizeof(got),
			    " (input hash %016" PRIx64 ")", have->input_hash);
		}
		return (cairn__wf_poison(ctx, CAIRN_WF_NONDETERMINISM,
		    "non-determinism at seq %" PRIu32 ": the code asks for %s "
		    "\"%s\"%s, the log holds %s \"%s\"%s",
		    ctx->p, cairn_wf_kind_name(kind), name, want,
		    cairn_wf_kind_name(have->kind), have->name, got));
	}
	ctx->p++;
	*e = have;
	return (CAIRN_OK);
}

static char *
dup_str(const char *s, bool *ok)
{
	char *d;

	if (s == NULL) {
		return (NULL);
	}
	if ((d = strdup(s)) == NULL) {
		*ok = false;
	}
	return (d);
}

static void *
dup_bytes(const void *p, size_t n, bool *ok)
{
	uint8_t *d;

	if ((d = malloc(n + 1)) == NULL) {
		*ok = false;
		return (NULL);
	}
	if (n > 0) {
		memcpy(d, p, n);
	}
	d[n] = '\0';
	return (d);
}

/* command_free frees what a command of cmds owns. */
static void
command_free(cairn_wf_command *k)
{
	free((void *) k->name);
	free((void *) k->input);
	free((void *) k->result);
	free((void *) k->error);
	free((void *) k->activity.queue);
	free((void *) k->child_workflow_id);
	free((void *) k->child_queue);
}

int
cairn__wf_push(cairn_wf_ctx *ctx, const cairn_wf_command *cmd, uint32_t *seq)
{
	cairn_wf_command k = *cmd;
	bool ok = true;

	if (ctx->ncmds == ctx->cap) {
		size_t cap = ctx->cap > 0 ? ctx->cap * 2 : 8;
		cairn_wf_command *v = realloc(ctx->cmds, cap * sizeof(*v));
		if (v == NULL) {
			return (cairn__wf_poison(ctx, CAIRN_RESOURCE_EXHAUSTED,
			    "out of memory recording a command"));
		}
		ctx->cmds = v;
		ctx->cap = cap;
	}
	k.name = dup_str(cmd->name != NULL ? cmd->name : "", &ok);
	k.input = dup_bytes(cmd->input, cmd->input_len, &ok);
	k.result = dup_bytes(cmd->result, cmd->result_len, &ok);
	k.error = dup_str(cmd->error != NULL ? cmd->error : "", &ok);
	k.activity.queue = dup_str(cmd->activity.queue, &ok);
	k.child_workflow_id = dup_str(cmd->child_workflow_id, &ok);
	k.child_queue = dup_str(cmd->child_queue, &ok);
	if (!ok) {
		command_free(&k);
		return (cairn__wf_poison(ctx, CAIRN_RESOURCE_EXHAUSTED,
		    "out of memory recording a command"));
	}
	ctx->cmds[ctx->ncmds++] = k;
	if (seq != NULL) {
		*seq = ctx->p;
	}
	ctx->p++;
	return (CAIRN_OK);
}

static bool
has_outcome(cairn_wf_status s)
{
	return (
	    s != CAIRN_WF_ENTRY_PENDING && s != CAIRN_WF_ENTRY_UNSPECIFIED);
}

bool
cairn__wf_resolved(const cairn_wf_ctx *ctx, uint32_t seq,
    cairn_wf_outcome *out, uint64_t *order)
{
	cairn_wf_outcome o;

	if (seq <= ctx->log->n) {
		const cairn_wf_entry *e = &ctx->log->v[seq - 1];
		if (!has_outcome(e->status)) {
			return (false);
		}
		o.status = e->status;
		o.result = e->result != NULL ? e->result : empty;
		o.result_len = e->result != NULL ? e->result_len : 0;
		o.error = e->error != NULL ? e->error : "";
		*order
		    = e->resolved_order > 0 ? e->resolved_order : UINT64_MAX;
	} else {
		/* Not appended yet: only a step or marker has its outcome,
		 * the one it was made with. */
		const cairn_wf_command *k = &ctx->cmds[seq - ctx->base];
		if (!has_outcome(k->status)) {
			return (false);
		}
		o.status = k->status;
		o.result = k->result;
		o.result_len = k->result_len;
		o.error = k->error;
		*order = UINT64_MAX;
	}
	if (out != NULL) {
		*out = o;
	}
	return (true);
}

void
cairn__wf_describe(
    const cairn_wf_ctx *ctx, uint32_t seq, char *buf, size_t len)
{
	cairn_wf_kind kind;
	const char *name;

	if (seq <= ctx->log->n) {
		kind = ctx->log->v[seq - 1].kind;
		name = ctx->log->v[seq - 1].name;
	} else {
		kind = ctx->cmds[seq - ctx->base].kind;
		name = ctx->cmds[seq - ctx->base].name;
	}
	snprintf(buf, len, "%s \"%s\"", cairn_wf_kind_name(kind),
	    name != NULL ? name : "");
}

cairn_wf_ctx *
cairn__wf_ctx_new(const cairn_workflow_run *run, struct cairn__wf_log *log,
    cairn__wf_checkpoint checkpoint, void *arg)
{
	cairn_wf_ctx *ctx;

	if ((ctx = calloc(1, sizeof(*ctx))) == NULL) {
		return (NULL);
	}
	ctx->run = run;
	ctx->log = log;
	ctx->checkpoint = checkpoint;
	ctx->cp_arg = arg;
	ctx->base = (uint32_t) log->n + 1;
	ctx->p = 1;
	atomic_init(&ctx->lost, false);
	atomic_init(&ctx->cancel, run->cancel_requested);
	/* A log with holes cannot be replayed: say so rather than guess. */
	if (!cairn__wf_log_check(log, ctx->errmsg, sizeof(ctx->errmsg))) {
		ctx->poison = CAIRN_INTERNAL;
	}
	return (ctx);
}

void
cairn__wf_ctx_free(cairn_wf_ctx *ctx)
{
	if (ctx == NULL) {
		return;
	}
	for (size_t i = 0; i < ctx->ncmds; i++) {
		command_free(&ctx->cmds[i]);
	}
	free(ctx->cmds);
	free(ctx->result);
	free(ctx->error);
	free(ctx);
}

void
cairn__wf_ctx_unsent(const cairn_wf_ctx *ctx, const cairn_wf_command **cmds,
    size_t *n, uint32_t *expected_seq)
{
	*cmds = ctx->cmds + ctx->nsent;
	*n = ctx->ncmds - ctx->nsent;
	*expected_seq = ctx->base + (uint32_t) ctx->nsent;
}

/* sent_check says whether entries are the unsent commands, recorded. */
static bool
sent_check(const cairn_wf_ctx *ctx, const cairn_wf_entry *entries, size_t n)
{
	if (n != ctx->ncmds - ctx->nsent) {
		return (false);
	}
	for (size_t i = 0; i < n; i++) {
		const cairn_wf_command *k = &ctx->cmds[ctx->nsent + i];
		if (entries[i].seq != ctx->base + ctx->nsent + i
		    || entries[i].kind != k->kind) {
			return (false);
		}
	}
	return (true);
}

int
cairn__wf_ctx_sent(cairn_wf_ctx *ctx, cairn_wf_entry *entries, size_t n)
{
	if (!sent_check(ctx, entries, n)) {
		cairn_wf_entries_free(entries, n);
		return (cairn__wf_poison(ctx, CAIRN_INTERNAL,
		    "the server recorded other entries than the %zu sent "
		    "from seq %zu",
		    ctx->ncmds - ctx->nsent, ctx->base + ctx->nsent));
	}
	for (size_t i = 0; i < n; i++) {
		const cairn_wf_command *k = &ctx->cmds[ctx->nsent];
		cairn_wf_entry *e = &entries[i];
		bool ok = true;
		/* A step's or marker's outcome is the one it was sent with,
		 * whether or not the reply repeats it. */
		if (has_outcome(k->status) && !has_outcome(e->status)) {
			e->status = k->status;
		}
		if ((k->kind == CAIRN_WF_STEP || k->kind == CAIRN_WF_MARKER)
		    && e->result_len == 0 && k->result_len > 0) {
			free(e->result);
			e->result = dup_bytes(k->result, k->result_len, &ok);
			e->result_len = k->result_len;
		}
		if (!ok || !cairn__wf_log_push(ctx->log, e)) {
			for (size_t j = i; j < n; j++) {
				cairn__wf_entry_clear(&entries[j]);
			}
			free(entries);
			return (cairn__wf_poison(ctx, CAIRN_RESOURCE_EXHAUSTED,
			    "out of memory recording the log"));
		}
		ctx->nsent++;
	}
	free(entries);
	return (CAIRN_OK);
}

void
cairn__wf_ctx_lost(cairn_wf_ctx *ctx)
{
	atomic_store(&ctx->lost, true);
}

void
cairn__wf_ctx_set_cancel(cairn_wf_ctx *ctx)
{
	atomic_store(&ctx->cancel, true);
}

/* returned classifies what fn returned when it did not poison ctx. */
static void
returned(cairn_wf_ctx *ctx, int rv)
{
	if (ctx->ended && rv == CAIRN_OK) {
		return;
	}
	if (rv == CAIRN_OK) {
		ctx->ended = true; /* no end given: succeeds, empty result */
		ctx->finish = CAIRN_WF_SUCCEEDED;
		return;
	}
	if (rv == CAIRN_WF_SUSPEND) {
		cairn__wf_poison(ctx, CAIRN_INTERNAL,
		    "the workflow function returned CAIRN_WF_SUSPEND without "
		    "waiting for anything");
	} else if (rv == CAIRN_WF_NONDETERMINISM) {
		cairn__wf_poison(ctx, CAIRN_WF_NONDETERMINISM,
		    "non-determinism: the workflow function returned "
		    "CAIRN_WF_NONDETERMINISM");
	} else {
		cairn__wf_poison(ctx, rv,
		    "the workflow function returned %s (%d)",
		    cairn_strerror(rv), rv);
	}
}

/* leftover makes a turn that ends before the end of its log
 * non-determinism (README step 3). */
static void
leftover(cairn_wf_ctx *ctx)
{
	char next[160];
	const char *how;

	if (ctx->p >= ctx->base) {
		return;
	}
	how = ctx->poison == CAIRN_WF_SUSPEND ? "waits" : "ends the run";
	cairn__wf_describe(ctx, ctx->p, next, sizeof(next));
	/* Replace the suspension: it is not the story any more. */
	ctx->poison = CAIRN_OK;
	cairn__wf_poison(ctx, CAIRN_WF_NONDETERMINISM,
	    "non-determinism at seq %" PRIu32 ": the code %s there, but the "
	    "log goes on to seq %" PRIu32 " (seq %" PRIu32 " is %s)",
	    ctx->p, how, ctx->base - 1, ctx->p, next);
}

void
cairn__wf_ctx_run(
    cairn_wf_ctx *ctx, cairn_wf_fn fn, void *arg, struct cairn__wf_end *end)
{
	int rv = CAIRN_OK;

	memset(end, 0, sizeof(*end));
	if (ctx->poison == CAIRN_OK) {
		rv = fn(ctx, ctx->run->input, ctx->run->input_len, arg);
	}
	if (atomic_load(&ctx->lost)) {
		end->kind = CAIRN__WF_LOST;
		return;
	}
	if (ctx->poison == CAIRN_OK) {
		returned(ctx, rv);
	}
	if (ctx->poison == CAIRN_OK || ctx->poison == CAIRN_WF_SUSPEND) {
		leftover(ctx);
	}
	if (ctx->poison == CAIRN_OK || ctx->poison == CAIRN_WF_SUSPEND) {
		end->kind = CAIRN__WF_ADVANCE;
		if (ctx->poison == CAIRN_OK) {
			end->finish = ctx->finish;
			end->result
			    = ctx->result != NULL ? ctx->result : empty;
			end->result_len = ctx->result_len;
			end->error = ctx->error != NULL ? ctx->error : "";
		}
		return;
	}
	end->kind = CAIRN__WF_FAIL;
	end->nondeterminism = ctx->poison == CAIRN_WF_NONDETERMINISM;
	end->message = ctx->errmsg;
}
