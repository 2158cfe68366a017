/*
 * run.c - one measured run: the backlog, the client threads, the progress
 * line, and the gathering of what the threads measured.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

/* open_clients gives every thread its own connection, opened before the
 * clock starts so that dialing is not measured. */
static int
open_clients(struct bench_thread *t, int n, const struct bench_options *opt,
    struct bench_shared *sh, char *err, size_t errlen)
{
	cairn_client_options co = { .timeout_ms = 30000 };

	for (int i = 0; i < n; i++) {
		t[i].opt = opt;
		t[i].sh = sh;
		t[i].index = i;
		t[i].producer = i < opt->producers;
		int rv = cairn_client_open(
		    &t[i].client, sh->url, &co, err, errlen);
		if (rv != CAIRN_OK) {
			return (rv);
		}
	}
	return (CAIRN_OK);
}

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* watch prints a progress line once a second until the deadline or until
 * every thread has ended, then tells the threads to stop. */
static void
watch(struct bench_shared *sh, const struct bench_options *opt, uint64_t start)
{
	uint64_t next = start + 1000000000u, ops0 = 0, tasks0 = 0;

	while (atomic_load(&sh->running) > 0
	    && bench_now_ns() < sh->deadline_ns) {
		sleep_ms(20);
		if (opt->quiet || bench_now_ns() < next) {
			continue;
		}
		uint64_t ops = atomic_load(&sh->done_ops);
		uint64_t tasks = atomic_load(&sh->done_tasks);
		fprintf(stderr, "\r[%3.0fs] %8llu requests/s %8llu tasks/s ",
		    (double) (next - start) / 1e9,
		    (unsigned long long) (ops - ops0),
		    (unsigned long long) (tasks - tasks0));
		ops0 = ops;
		tasks0 = tasks;
		next += 1000000000u;
	}
	atomic_store(&sh->stop, true);
	if (!opt->quiet && next > start + 1000000000u) {
		fprintf(stderr, "\n");
	}
}

/* gather merges what the threads measured into r. */
static void
gather(struct bench_thread *t, int n, struct bench_result *r, uint64_t start,
    const struct bench_shared *sh)
{
	uint64_t last = start;
	bool all_early = true;

	for (int i = 0; i < n; i++) {
		r->requests += t[i].requests;
		r->tasks += t[i].tasks;
		r->activities += t[i].activities;
		r->errors += t[i].errors;
		for (int k = 0; k < RPC_COUNT_; k++) {
			hist_merge(&r->h[k], &t[i].h[k]);
		}
		if (t[i].errors > 0 && r->first_error == NULL) {
			r->first_error = t[i].err;
		}
		last = t[i].last_ns > last ? t[i].last_ns : last;
		all_early &= t[i].last_ns < sh->deadline_ns;
	}
	/* A drain that emptied its queue early ends with its last rpc. */
	uint64_t end = all_early && last > start ? last : sh->deadline_ns;
	r->elapsed_s = (double) (end - start) / 1e9;
}

static uint8_t *
make_payload(size_t n)
{
	uint8_t *p = malloc(n > 0 ? n : 1);

	for (size_t i = 0; p != NULL && i < n; i++) {
		p[i] = (uint8_t) ('a' + i % 26);
	}
	return (p);
}

int
bench_run(const struct bench_options *opt, struct bench_result *r,
    const char *url, const char *metrics, pid_t pid,
    const struct bench_fsyncs *fsyncs, char *err, size_t errlen)
{
	struct bench_shared sh = { .url = url };
	struct bench_thread *t = NULL;
	struct bench_wf *wf = NULL;
	char queue[64], wf_queue[80];
	int n = opt->clients, started = 0, rv = -1;

	snprintf(queue, sizeof(queue), "bench-%d-%llu", (int) getpid(),
	    (unsigned long long) (bench_now_ns() % 1000000000u));
	sh.queue = opt->queue != NULL ? opt->queue : queue;
	snprintf(wf_queue, sizeof(wf_queue), "%s-wf", sh.queue);
	sh.wf_queue = wf_queue;
	if ((sh.payload = make_payload(opt->payload)) == NULL
	    || (t = calloc((size_t) n, sizeof(*t))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (opt->backlog > 0) {
		uint64_t f0 = bench_now_ns();
		if (bench_fill(&sh, opt, opt->backlog, err, errlen) != 0) {
			goto out;
		}
		r->fill_s = (double) (bench_now_ns() - f0) / 1e9;
		r->backlog_filled = opt->backlog;
		r->rss_after_fill_kib = bench_rss_kib(pid, false);
	}
	if (open_clients(t, n, opt, &sh, err, errlen) != CAIRN_OK) {
		goto out;
	}
	if (opt->workload == WL_WORKFLOW
	    && (wf = bench_wf_start(&sh, opt, err, errlen)) == NULL) {
		goto out;
	}
	if (opt->workload == WL_HEARTBEAT
	    && bench_hold(t, n, err, errlen) != CAIRN_OK) {
		goto out;
	}
	bench_metrics_read(metrics, &r->before);
	bench_usage_of(pid, &r->srv0);
	bench_io_of(pid, &r->io0);
	r->have_fsyncs = bench_fsyncs_read(fsyncs, &r->fsyncs0);
	bench_usage_of(0, &r->cli0);
	uint64_t start = bench_now_ns();
	sh.deadline_ns = start + (uint64_t) (opt->duration_s * 1e9);
	atomic_store(&sh.running, n);
	for (; started < n; started++) {
		if (pthread_create(&t[started].thread, NULL, bench_thread_main,
		        &t[started])
		    != 0) {
			snprintf(
			    err, errlen, "cannot start thread %d", started);
			atomic_store(&sh.stop, true);
			break;
		}
	}
	atomic_fetch_sub(&sh.running, n - started);
	watch(&sh, opt, start);
	for (int i = 0; i < started; i++) {
		pthread_join(t[i].thread, NULL);
	}
	bench_wf_stop(wf, r);
	wf = NULL;
	bench_usage_of(pid, &r->srv1);
	bench_io_of(pid, &r->io1);
	r->have_fsyncs &= bench_fsyncs_read(fsyncs, &r->fsyncs1);
	bench_usage_of(0, &r->cli1);
	gather(t, started, r, start, &sh);
	bench_metrics_read(metrics, &r->after);
	r->rss_kib = bench_rss_kib(pid, false);
	r->rss_peak_kib = bench_rss_kib(pid, true);
	rv = started == n ? 0 : -1;
out:
	bench_wf_stop(wf, r);
	for (int i = 0; t != NULL && i < n; i++) {
		cairn_task_free(t[i].held);
		cairn_client_close(t[i].client);
	}
	/* r->first_error points into t: keep a copy before freeing. */
	if (r->first_error != NULL) {
		static char first[256];
		snprintf(first, sizeof(first), "%s", r->first_error);
		r->first_error = first;
	}
	free(t);
	free(sh.payload);
	return (rv);
}
