/*
 * wf_flows.c - the workflows of the end-to-end tests (wf_flows.h), written
 * as a user of the C SDK would write them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wf_flows.h"

const char *const wf_flows_activity_queues[]
    = { "reserve", "charge", "ship", "slow", "charge2" };

/* CHECK returns from the workflow function when a command says so. */
#define CHECK(call)                                                           \
	do {                                                                  \
		int rv_ = (call);                                             \
		if (rv_ != CAIRN_OK) {                                        \
			return (rv_);                                         \
		}                                                             \
	} while (0)

/* failed ends the run as FAILED, naming the outcome that was not a
 * success. */
static int
failed(cairn_wf_ctx *ctx, const char *what, const cairn_wf_outcome *o)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "%s %s: %s", what,
	    cairn_wf_status_name(o->status), o->error);
	return (cairn_wf_fail(ctx, msg));
}

static void
append_line(const char *path, const char *word, const void *id, size_t len)
{
	FILE *f;

	if (path == NULL || (f = fopen(path, "a")) == NULL) {
		return;
	}
	fprintf(f, "%s %.*s\n", word, (int) len, (const char *) id);
	fclose(f);
}

static int
receipt_step(cairn_wf_step_ctx *s, const void *in, size_t len, void *arg)
{
	const struct wf_flows_config *cfg = arg;
	struct timespec ts = { cfg->step_sleep_ms / 1000,
		(cfg->step_sleep_ms % 1000) * 1000000 };
	char out[128];

	append_line(cfg->step_log, "start", in, len);
	nanosleep(&ts, NULL);
	append_line(cfg->step_log, "done", in, len);
	snprintf(
	    out, sizeof(out), "receipt:%.*s", (int) len, (const char *) in);
	return (cairn_wf_step_result(s, out, strlen(out)));
}

static int
order(cairn_wf_ctx *ctx, const void *in, size_t len, void *arg)
{
	const struct wf_flows_config *cfg = arg;
	cairn_wf_activity_options quick
	    = { .max_attempts = 3, .retry_initial_backoff_ms = 100 };
	cairn_wf_outcome r, c, s, sh;
	char out[512];

	CHECK(cairn_wf_activity(ctx, "reserve", in, len, &quick, &r));
	if (r.status != CAIRN_WF_ENTRY_COMPLETED) {
		return (failed(ctx, "reserve", &r));
	}
	CHECK(cairn_wf_activity(ctx, "charge", in, len, &quick, &c));
	if (c.status != CAIRN_WF_ENTRY_COMPLETED) {
		return (failed(ctx, "charge", &c));
	}
	CHECK(cairn_wf_step(
	    ctx, "receipt", receipt_step, in, len, (void *) cfg, &s));
	CHECK(cairn_wf_sleep(ctx, cfg->timer_ms, NULL));
	CHECK(cairn_wf_activity(ctx, "ship", in, len, &quick, &sh));
	if (sh.status != CAIRN_WF_ENTRY_COMPLETED) {
		return (failed(ctx, "ship", &sh));
	}
	snprintf(out, sizeof(out), "%s|%s|%s|%s", r.result, c.result, s.result,
	    sh.result);
	return (cairn_wf_succeed(ctx, out, strlen(out)));
}

static int
approval(cairn_wf_ctx *ctx, const void *in, size_t len, void *arg)
{
	const struct wf_flows_config *cfg = arg;
	cairn_wf_outcome o, sig;
	char out[256];

	CHECK(cairn_wf_activity(ctx, "reserve", in, len, NULL, &o));
	if (cfg->version == 2) {
		/* The change: an activity where the log holds the wait. */
		CHECK(cairn_wf_activity(ctx, "charge2", in, len, NULL, &o));
	}
	CHECK(cairn_wf_wait_signal(ctx, "approve", 0, &sig));
	if (sig.status == CAIRN_WF_ENTRY_CANCELED) {
		return (cairn_wf_cancelled(ctx, "approval canceled"));
	}
	CHECK(cairn_wf_activity(
	    ctx, "ship", sig.result, sig.result_len, NULL, &o));
	snprintf(out, sizeof(out), "approved:%s", o.result);
	return (cairn_wf_succeed(ctx, out, strlen(out)));
}

static int
inbox(cairn_wf_ctx *ctx, const void *in, size_t len, void *arg)
{
	cairn_wf_outcome sig;

	CHECK(cairn_wf_sleep(ctx, 1000, NULL));
	CHECK(cairn_wf_wait_signal(ctx, "go", 30000, &sig));
	if (sig.status != CAIRN_WF_ENTRY_COMPLETED) {
		return (failed(ctx, "signal go", &sig));
	}
	return (cairn_wf_succeed(ctx, sig.result, sig.result_len));
}

static int
parent(cairn_wf_ctx *ctx, const void *in, size_t len, void *arg)
{
	cairn_wf_outcome o;
	char out[256];

	CHECK(cairn_wf_child(ctx, "child", in, len, NULL, &o));
	if (o.status != CAIRN_WF_ENTRY_COMPLETED) {
		return (failed(ctx, "child", &o));
	}
	snprintf(out, sizeof(out), "parent(%s)", o.result);
	return (cairn_wf_succeed(ctx, out, strlen(out)));
}

static int
child(cairn_wf_ctx *ctx, const void *in, size_t len, void *arg)
{
	char out[256];

	snprintf(out, sizeof(out), "child:%.*s", (int) len, (const char *) in);
	return (cairn_wf_succeed(ctx, out, strlen(out)));
}

static int
slow(cairn_wf_ctx *ctx, const void *in, size_t len, void *arg)
{
	cairn_wf_activity_options o = { .heartbeat_timeout_ms = 1500 };
	cairn_wf_outcome r;

	CHECK(cairn_wf_activity(ctx, "slow", in, len, &o, &r));
	if (r.status == CAIRN_WF_ENTRY_CANCELED) {
		/* Clean-up would go here; then the run ends as canceled. */
		return (cairn_wf_cancelled(ctx, "canceled while slow ran"));
	}
	return (cairn_wf_succeed(ctx, r.result, r.result_len));
}

static int
expect(cairn_wf_ctx *ctx, const void *in, size_t len, void *arg)
{
	cairn_wf_outcome sig;

	CHECK(cairn_wf_wait_signal(ctx, "never", 300, &sig));
	return (cairn_wf_succeed(ctx, cairn_wf_status_name(sig.status),
	    strlen(cairn_wf_status_name(sig.status))));
}

int
wf_flows_register(cairn_wf_worker *w, const struct wf_flows_config *cfg)
{
	static const struct {
		const char *type;
		cairn_wf_fn fn;
	} flows[] = {
		{ "order", order },
		{ "approval", approval },
		{ "inbox", inbox },
		{ "parent", parent },
		{ "child", child },
		{ "slow", slow },
		{ "expect", expect },
	};
	int rv;

	for (size_t i = 0; i < sizeof(flows) / sizeof(flows[0]); i++) {
		rv = cairn_wf_worker_register(
		    w, flows[i].type, flows[i].fn, (void *) cfg);
		if (rv != CAIRN_OK) {
			return (rv);
		}
	}
	return (CAIRN_OK);
}
