/*
 * wf_bench.c - the workflow workload of cairn-bench: producers start runs
 * of a workflow of --activities activities (one after the other, or with
 * --parallel all at once) and await each run's result; task worker
 * threads lease and complete the activities; a C workflow worker
 * (cairn_wf_worker, --wf-workers turns at once, with its log cache unless
 * --no-cache) drives the runs. A run counts once, when its producer has
 * its result; the time from its start to its result goes into the
 * "start-to-result" histogram.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define WF_TYPE "bench_wf"

struct bench_wf {
	const struct bench_options *opt;
	const struct bench_shared *sh;
	cairn_client *c;
	cairn_wf_worker *w;
	pthread_t thread;
	atomic_uint_fast64_t replayed; /* commands issued while replaying */
	atomic_uint_fast64_t code_ns;  /* time in the workflow function */
	pthread_mutex_t mu;            /* protects the snapshot */
	cairn_wf_worker_stats at_last; /* when the last result was counted */
	uint64_t replayed_at_last, code_ns_at_last;
};

/* snapshot keeps the worker's counters as they are now. */
static void
snapshot(struct bench_wf *w)
{
	cairn_wf_worker_stats st;

	cairn_wf_worker_get_stats(w->w, &st);
	pthread_mutex_lock(&w->mu);
	w->at_last = st;
	w->replayed_at_last = atomic_load(&w->replayed);
	w->code_ns_at_last = atomic_load(&w->code_ns);
	pthread_mutex_unlock(&w->mu);
}

/* flow_body: the activities, each on the run's input, then the last
 * result as the run's. */
static int
flow_body(cairn_wf_ctx *ctx, const void *in, size_t len, struct bench_wf *w)
{
	cairn_wf_activity_options ao = { .queue = w->sh->queue };
	uint32_t n = w->opt->activities;
	cairn_wf_handle *hs = NULL;
	cairn_wf_outcome o = { 0 };
	int rv = CAIRN_OK;

	if (w->opt->parallel
	    && (hs = calloc(n > 0 ? n : 1, sizeof(*hs))) == NULL) {
		return (CAIRN_RESOURCE_EXHAUSTED);
	}
	for (uint32_t i = 0; i < n && rv == CAIRN_OK; i++) {
		if (cairn_wf_is_replaying(ctx)) {
			atomic_fetch_add(&w->replayed, 1);
		}
		rv = w->opt->parallel
		    ? cairn_wf_start_activity(ctx, "act", in, len, &ao, &hs[i])
		    : cairn_wf_activity(ctx, "act", in, len, &ao, &o);
		if (rv == CAIRN_OK && !w->opt->parallel
		    && o.status != CAIRN_WF_ENTRY_COMPLETED) {
			rv = cairn_wf_fail(ctx, o.error);
			free(hs);
			return (rv);
		}
	}
	if (rv == CAIRN_OK && w->opt->parallel && n > 0) {
		rv = cairn_wf_wait_all(ctx, hs, n, NULL);
	}
	free(hs);
	if (rv != CAIRN_OK) {
		return (rv);
	}
	return (cairn_wf_succeed(ctx, o.result, o.result_len));
}

static int
flow(cairn_wf_ctx *ctx, const void *in, size_t len, void *arg)
{
	struct bench_wf *w = arg;
	uint64_t t0 = bench_now_ns();
	int rv = flow_body(ctx, in, len, w);

	atomic_fetch_add(&w->code_ns, bench_now_ns() - t0);
	return (rv);
}

/* await_result waits for run id until it has finished or the run is
 * over; false when the run is over or an rpc failed. */
static bool
await_result(struct bench_thread *t, uint64_t id, uint64_t t0)
{
	while (bench_running(t)) {
		cairn_workflow_run *run = NULL;
		bool done = false;
		int rv = cairn_workflow_await(
		    t->client, id, NULL, 1000, &run, &done);
		if (rv == CAIRN_OK && done
		    && run->state != CAIRN_WF_SUCCEEDED) {
			snprintf(t->err, sizeof(t->err), "run %llu is %s: %s",
			    (unsigned long long) id,
			    cairn_workflow_state_name(run->state), run->error);
			t->errors++;
			rv = CAIRN_INTERNAL;
		}
		cairn_workflow_run_free(run);
		if (rv != CAIRN_OK) {
			return (bench_record(t, RPC_WF_RESULT, t0, rv));
		}
		if (done) {
			uint64_t end = bench_now_ns();
			if (end > t->sh->deadline_ns) {
				return (false);
			}
			hist_record(&t->h[RPC_WF_RESULT], end - t0);
			bench_count(t, 1);
			snapshot(t->sh->wf);
			return (true);
		}
	}
	return (false);
}

void
bench_wf_producer(struct bench_thread *t)
{
	while (bench_running(t)) {
		uint64_t id = 0, t0 = bench_now_ns();
		int rv = cairn_workflow_start(t->client, NULL, WF_TYPE,
		    t->sh->wf_queue, t->sh->payload, t->opt->payload, &id,
		    NULL, NULL);
		if (!bench_record(t, RPC_START_WORKFLOW, t0, rv)
		    || !await_result(t, id, t0)) {
			break;
		}
	}
}

void
bench_wf_tasks(struct bench_thread *t)
{
	const char *queues[1] = { t->sh->queue };
	cairn_lease_options lo = { .max_tasks = t->opt->lease_batch,
		.wait_ms = 100,
		.worker_id = "cairn-bench" };

	while (bench_running(t)) {
		cairn_task **tasks = NULL;
		size_t n = 0;
		uint64_t t0 = bench_now_ns();
		int rv = cairn_lease(t->client, queues, 1, &lo, &tasks, &n);
		bool ok = bench_record(t, RPC_LEASE, t0, rv);
		for (size_t i = 0; ok && i < n; i++) {
			t0 = bench_now_ns();
			rv = cairn_complete(t->client, tasks[i]->id,
			    tasks[i]->lease_token, "ok", 2);
			if ((ok = bench_record(t, RPC_COMPLETE, t0, rv))) {
				t->activities++;
			}
		}
		cairn_tasks_free(tasks, n);
		if (!ok) {
			break;
		}
	}
}

static void *
worker_main(void *arg)
{
	struct bench_wf *w = arg;

	cairn_wf_worker_run(w->w);
	return (NULL);
}

struct bench_wf *
bench_wf_start(struct bench_shared *sh, const struct bench_options *opt,
    char *err, size_t errlen)
{
	struct bench_wf *w = calloc(1, sizeof(*w));
	cairn_client_options co = { .timeout_ms = 30000 };
	cairn_wf_worker_options wo = { .queues = &sh->wf_queue,
		.nqueues = 1,
		.concurrency = (unsigned) opt->wf_workers,
		.poll_wait_ms = 100,
		.no_cache = opt->no_cache };

	if (w == NULL) {
		snprintf(err, errlen, "out of memory");
		return (NULL);
	}
	w->opt = opt;
	w->sh = sh;
	atomic_init(&w->replayed, 0);
	atomic_init(&w->code_ns, 0);
	pthread_mutex_init(&w->mu, NULL);
	if (cairn_client_open(&w->c, sh->url, &co, err, errlen) != CAIRN_OK) {
		free(w);
		return (NULL);
	}
	if (cairn_wf_worker_new(&w->w, w->c, &wo) != CAIRN_OK
	    || cairn_wf_worker_register(w->w, WF_TYPE, flow, w) != CAIRN_OK
	    || pthread_create(&w->thread, NULL, worker_main, w) != 0) {
		snprintf(err, errlen, "workflow worker: %s",
		    cairn_client_errmsg(w->c));
		cairn_wf_worker_free(w->w);
		cairn_client_close(w->c);
		pthread_mutex_destroy(&w->mu);
		free(w);
		return (NULL);
	}
	sh->wf = w;
	return (w);
}

void
bench_wf_stop(struct bench_wf *w, struct bench_result *r)
{
	if (w == NULL) {
		return;
	}
	cairn_wf_worker_stop(w->w);
	pthread_join(w->thread, NULL);
	r->wf = w->at_last;
	r->wf_replayed = w->replayed_at_last;
	r->wf_code_ns = w->code_ns_at_last;
	pthread_mutex_destroy(&w->mu);
	cairn_wf_worker_free(w->w);
	cairn_client_close(w->c);
	free(w);
}
