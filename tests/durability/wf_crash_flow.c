/*
 * wf_crash_flow.c - the workflow of the crash proofs (wf_crash.h): its
 * code, as a C workflow worker runs it, and the functions the checker
 * shares with it (the shape of a run, the fold, an activity's result).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wf_crash.h"

const char *const wfc_activity_queues[] = { "wfc_a", "wfc_b", "wfc_c" };

void
wfc_shape_of(const char *wfid, struct wfc_shape *s)
{
	uint64_t k = cairn_wf_hash(wfid, strlen(wfid));

	s->nparallel = 2 + (int) (k % 3);
	s->child = (k >> 8) % 3 == 0;
	s->timer_ms = 20 + (int64_t) ((k >> 16) % 80);
}

uint64_t
wfc_fold(uint64_t h, const void *data, size_t len)
{
	const uint8_t *p = data;

	h ^= 0xff;
	h *= 0x100000001b3ULL;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return (h);
}

void
wfc_hex(uint64_t h, char *out)
{
	snprintf(out, 17, "%016" PRIx64, h);
}

void
wfc_activity_result(const void *payload, size_t len, char *out)
{
	char hex[17];

	wfc_hex(wfc_fold(0x5eed, payload, len), hex);
	snprintf(out, 19, "A:%s", hex);
}

void
wfc_line(int fd, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0) {
		return;
	}
	if (n > (int) sizeof(buf) - 2) {
		n = (int) sizeof(buf) - 2;
	}
	buf[n++] = '\n';
	(void) !write(fd, buf, (size_t) n);
}

/* What the flow's steps need: the log, and the pause. */
struct flow_env {
	int fd;
	int step_sleep_ms;
	atomic_uint counter;
};

static struct flow_env env;

static void
pause_a_little(void)
{
	static _Thread_local unsigned seed;

	if (seed == 0) {
		seed = (unsigned) getpid() ^ (unsigned) (uintptr_t) &seed;
	}
	if (env.step_sleep_ms > 0) {
		int ms = rand_r(&seed) % env.step_sleep_ms;
		struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
		nanosleep(&ts, NULL);
	}
}

/* The step's argument: which run and seq it is, for the log lines. */
struct step_arg {
	uint64_t run_id;
	uint32_t seq;
	const char *wfid;
};

/* plan's result names this process and a counter: a step that ran again
 * after its first outcome was lost records something else. */
static int
plan_fn(cairn_wf_step_ctx *step, const void *in, size_t len, void *arg)
{
	struct step_arg *a = arg;
	char out[160];

	(void) in, (void) len;
	wfc_line(env.fd, "stepexec %" PRIu64 " %" PRIu32, a->run_id, a->seq);
	pause_a_little();
	snprintf(out, sizeof(out), "P:%s:%d.%u", a->wfid, (int) getpid(),
	    atomic_fetch_add(&env.counter, 1));
	return (cairn_wf_step_result(step, out, strlen(out)));
}

/* sum's and the child's step results are functions of their input. */
static int
echo_fn(cairn_wf_step_ctx *step, const void *in, size_t len, void *arg)
{
	struct step_arg *a = arg;
	char out[160];

	wfc_line(env.fd, "stepexec %" PRIu64 " %" PRIu32, a->run_id, a->seq);
	pause_a_little();
	snprintf(out, sizeof(out), "S:%.*s", (int) len, (const char *) in);
	return (cairn_wf_step_result(step, out, strlen(out)));
}

/* step runs a step at seq and, when it was new and its checkpoint was
 * answered OK, says so in the log. */
static int
step(cairn_wf_ctx *ctx, uint32_t seq, const char *name, cairn_wf_step_fn fn,
    const char *input, cairn_wf_outcome *o)
{
	struct step_arg a
	    = { cairn_wf_run_id(ctx), seq, cairn_wf_workflow_id(ctx) };
	bool fresh = !cairn_wf_is_replaying(ctx);
	int rv = cairn_wf_step(ctx, name, fn, input, strlen(input), &a, o);

	if (rv == CAIRN_OK && fresh) {
		wfc_line(env.fd, "stepack %" PRIu64 " %" PRIu32 " %.*s",
		    a.run_id, seq, (int) o->result_len,
		    (const char *) o->result);
	}
	return (rv);
}

/* seen tells the events file the outcome the code got at seq: what a
 * worker saw of the log, compared with the final log by the checker. A
 * fresh marker's value is not told: it is not recorded until the turn's
 * advance. */
static void
seen(cairn_wf_ctx *ctx, uint32_t seq, const void *result, size_t len)
{
	wfc_line(env.fd, "seen %" PRIu64 " %" PRIu32 " %016" PRIx64,
	    cairn_wf_run_id(ctx), seq, cairn_wf_hash(result, len));
}

static const cairn_wf_activity_options act_opts = {
	.max_attempts = WFC_ATTEMPTS,
	.retry_initial_backoff_ms = 50,
	.retry_multiplier = 2,
	.retry_max_backoff_ms = 500,
};

/* done checks an outcome: a failed one fails the run (the checker counts
 * it as a wrong result). */
#define NEED(o)                                                               \
	do {                                                                  \
		if ((o).status != CAIRN_WF_ENTRY_COMPLETED) {                 \
			return (cairn_wf_fail(ctx, (o).error));               \
		}                                                             \
	} while (0)

static int
flow(cairn_wf_ctx *ctx, const void *in, size_t len, void *arg)
{
	char wfid[64], buf[200], hex[17];
	cairn_wf_outcome o, b[4], a;
	cairn_wf_handle hs[4];
	struct wfc_shape sh;
	uint64_t h = WFC_FOLD_INIT, r;
	uint32_t seq = 1;
	int rv;

	(void) arg;
	snprintf(wfid, sizeof(wfid), "%.*s", (int) len, (const char *) in);
	wfc_shape_of(wfid, &sh);
	if ((rv = step(ctx, seq, "plan", plan_fn, "", &o)) != CAIRN_OK) {
		return (rv);
	}
	seen(ctx, seq++, o.result, o.result_len);
	h = wfc_fold(h, o.result, o.result_len);
	snprintf(buf, sizeof(buf), "%.*s|a", (int) o.result_len, o.result);
	bool replaying = cairn_wf_is_replaying(ctx);
	if ((rv = cairn_wf_random(ctx, &r)) != CAIRN_OK) {
		return (rv);
	}
	char rs[24];
	snprintf(rs, sizeof(rs), "%" PRIu64, r);
	if (replaying) {
		seen(ctx, seq, rs, strlen(rs));
	}
	seq++;
	h = wfc_fold(h, rs, strlen(rs));
	rv = cairn_wf_activity(ctx, "wfc_a", buf, strlen(buf), &act_opts, &a);
	if (rv != CAIRN_OK) {
		return (rv);
	}
	NEED(a);
	seen(ctx, seq++, a.result, a.result_len);
	h = wfc_fold(h, a.result, a.result_len);
	uint32_t first_b = seq;
	for (int i = 0; i < sh.nparallel; i++) {
		snprintf(buf, sizeof(buf), "%s|b%d|%s", wfid, i, a.result);
		rv = cairn_wf_start_activity(
		    ctx, "wfc_b", buf, strlen(buf), &act_opts, &hs[i]);
		if (rv != CAIRN_OK) {
			return (rv);
		}
		seq++;
	}
	if ((rv = cairn_wf_wait_all(ctx, hs, (size_t) sh.nparallel, b))
	    != CAIRN_OK) {
		return (rv);
	}
	for (int i = 0; i < sh.nparallel; i++) {
		NEED(b[i]);
		seen(
		    ctx, first_b + (uint32_t) i, b[i].result, b[i].result_len);
		h = wfc_fold(h, b[i].result, b[i].result_len);
	}
	if ((rv = cairn_wf_sleep(ctx, sh.timer_ms, &o)) != CAIRN_OK) {
		return (rv);
	}
	NEED(o);
	seen(ctx, seq++, o.result, o.result_len);
	h = wfc_fold(h, o.result, o.result_len);
	if ((rv = cairn_wf_wait_signal(ctx, WFC_SIGNAL, 0, &o)) != CAIRN_OK) {
		return (rv);
	}
	NEED(o);
	seen(ctx, seq++, o.result, o.result_len);
	h = wfc_fold(h, o.result, o.result_len);
	if (sh.child) {
		rv = cairn_wf_child(
		    ctx, WFC_CHILD_TYPE, wfid, strlen(wfid), NULL, &o);
		if (rv != CAIRN_OK) {
			return (rv);
		}
		NEED(o);
		seen(ctx, seq++, o.result, o.result_len);
		h = wfc_fold(h, o.result, o.result_len);
	}
	wfc_hex(h, hex);
	if ((rv = step(ctx, seq, "sum", echo_fn, hex, &o)) != CAIRN_OK) {
		return (rv);
	}
	seen(ctx, seq++, o.result, o.result_len);
	h = wfc_fold(h, o.result, o.result_len);
	rv = cairn_wf_activity(
	    ctx, "wfc_c", o.result, o.result_len, &act_opts, &a);
	if (rv != CAIRN_OK) {
		return (rv);
	}
	NEED(a);
	seen(ctx, seq, a.result, a.result_len);
	h = wfc_fold(h, a.result, a.result_len);
	wfc_hex(h, hex);
	snprintf(buf, sizeof(buf), "ok:%s", hex);
	return (cairn_wf_succeed(ctx, buf, strlen(buf)));
}

/* The child: an activity on "child|<parent's id>", a step, and its
 * result "child(" activity result ")". */
static int
child(cairn_wf_ctx *ctx, const void *in, size_t len, void *arg)
{
	char buf[200];
	cairn_wf_outcome a, o;
	int rv;

	(void) arg;
	snprintf(buf, sizeof(buf), "child|%.*s", (int) len, (const char *) in);
	rv = cairn_wf_activity(ctx, "wfc_a", buf, strlen(buf), &act_opts, &a);
	if (rv != CAIRN_OK) {
		return (rv);
	}
	NEED(a);
	seen(ctx, 1, a.result, a.result_len);
	snprintf(buf, sizeof(buf), "%.*s", (int) a.result_len, a.result);
	if ((rv = step(ctx, 2, "c", echo_fn, buf, &o)) != CAIRN_OK) {
		return (rv);
	}
	seen(ctx, 2, o.result, o.result_len);
	snprintf(
	    buf, sizeof(buf), "child(%.*s)", (int) a.result_len, a.result);
	return (cairn_wf_succeed(ctx, buf, strlen(buf)));
}

int
wfc_register(cairn_wf_worker *w, int log_fd, int step_sleep_ms)
{
	int rv;

	env.fd = log_fd;
	env.step_sleep_ms = step_sleep_ms;
	atomic_init(&env.counter, 0);
	if ((rv = cairn_wf_worker_register(w, WFC_TYPE, flow, NULL))
	    != CAIRN_OK) {
		return (rv);
	}
	return (cairn_wf_worker_register(w, WFC_CHILD_TYPE, child, NULL));
}
