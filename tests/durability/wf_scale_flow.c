/*
 * wf_scale_flow.c - the long workflows of the scale proofs (wf_scale.h).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wf_crash.h"
#include "wf_scale.h"

static atomic_uint_fast64_t replayed;

uint64_t
wfs_replayed_commands(void)
{
	return (atomic_load(&replayed));
}

/* count notes a command issued during replay. */
static void
count(cairn_wf_ctx *ctx)
{
	if (cairn_wf_is_replaying(ctx)) {
		atomic_fetch_add(&replayed, 1);
	}
}

static int
input_n(const void *in, size_t len)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%.*s", (int) (len < 15 ? len : 15),
	    (const char *) in);
	return (atoi(buf));
}

static int
step_fn(cairn_wf_step_ctx *step, const void *in, size_t len, void *arg)
{
	char out[32];

	(void) arg;
	snprintf(out, sizeof(out), "r%.*s", (int) len, (const char *) in);
	return (cairn_wf_step_result(step, out, strlen(out)));
}

/* finish succeeds with "PREFIX:N:" and the fold's hex digits. */
static int
finish(cairn_wf_ctx *ctx, const char *prefix, int n, uint64_t h)
{
	char out[64], hex[17];

	wfc_hex(h, hex);
	snprintf(out, sizeof(out), "%s:%d:%s", prefix, n, hex);
	return (cairn_wf_succeed(ctx, out, strlen(out)));
}

static int
steps(cairn_wf_ctx *ctx, const void *in, size_t len, void *arg)
{
	int n = input_n(in, len), rv;
	uint64_t h = WFC_FOLD_INIT;
	cairn_wf_outcome o;
	char i_s[16];

	(void) arg;
	for (int i = 0; i < n; i++) {
		snprintf(i_s, sizeof(i_s), "%d", i);
		count(ctx);
		rv = cairn_wf_step(
		    ctx, "s", step_fn, i_s, strlen(i_s), NULL, &o);
		if (rv != CAIRN_OK) {
			return (rv);
		}
		h = wfc_fold(h, o.result, o.result_len);
	}
	return (finish(ctx, "steps", n, h));
}

static const cairn_wf_activity_options opts = { .queue = WFS_TASK_QUEUE,
	.max_attempts = 20,
	.retry_initial_backoff_ms = 50 };

static int
fan(cairn_wf_ctx *ctx, const void *in, size_t len, void *arg)
{
	int n = input_n(in, len), rv;
	cairn_wf_handle *hs = calloc((size_t) n + 1, sizeof(*hs));
	cairn_wf_outcome *outs = calloc((size_t) n + 1, sizeof(*outs));
	uint64_t h = WFC_FOLD_INIT;
	char i_s[16];

	(void) arg;
	if (hs == NULL || outs == NULL) {
		rv = CAIRN_RESOURCE_EXHAUSTED;
		goto out;
	}
	for (int i = 0; i < n; i++) {
		snprintf(i_s, sizeof(i_s), "%d", i);
		count(ctx);
		rv = cairn_wf_start_activity(
		    ctx, "t", i_s, strlen(i_s), &opts, &hs[i]);
		if (rv != CAIRN_OK) {
			goto out;
		}
	}
	if ((rv = cairn_wf_wait_all(ctx, hs, (size_t) n, outs)) != CAIRN_OK) {
		goto out;
	}
	for (int i = 0; i < n; i++) {
		h = wfc_fold(h, outs[i].result, outs[i].result_len);
	}
	rv = finish(ctx, "fan", n, h);
out:
	free(hs);
	free(outs);
	return (rv);
}

static int
seq(cairn_wf_ctx *ctx, const void *in, size_t len, void *arg)
{
	int n = input_n(in, len), rv;
	uint64_t h = WFC_FOLD_INIT;
	cairn_wf_outcome o;
	char i_s[16];

	(void) arg;
	for (int i = 0; i < n; i++) {
		snprintf(i_s, sizeof(i_s), "%d", i);
		count(ctx);
		rv = cairn_wf_activity(ctx, "t", i_s, strlen(i_s), &opts, &o);
		if (rv != CAIRN_OK) {
			return (rv);
		}
		h = wfc_fold(h, o.result, o.result_len);
	}
	return (finish(ctx, "seq", n, h));
}

void
wfs_expected(const char *type, int n, char *out, size_t len)
{
	uint64_t h = WFC_FOLD_INIT;
	char i_s[16], r[32], hex[17];

	for (int i = 0; i < n; i++) {
		snprintf(i_s, sizeof(i_s), "%d", i);
		if (strcmp(type, "wfs_steps") == 0) {
			snprintf(r, sizeof(r), "r%s", i_s);
		} else {
			wfc_activity_result(i_s, strlen(i_s), r);
		}
		h = wfc_fold(h, r, strlen(r));
	}
	wfc_hex(h, hex);
	snprintf(out, len, "%s:%d:%s", type + 4, n, hex);
}

int
wfs_register(cairn_wf_worker *w)
{
	int rv;

	if ((rv = cairn_wf_worker_register(w, "wfs_steps", steps, NULL))
	        != CAIRN_OK
	    || (rv = cairn_wf_worker_register(w, "wfs_fan", fan, NULL))
	        != CAIRN_OK) {
		return (rv);
	}
	return (cairn_wf_worker_register(w, "wfs_seq", seq, NULL));
}
