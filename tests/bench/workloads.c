/*
 * workloads.c - the client threads of cairn-bench. Each thread has its own
 * connection and runs a closed loop (one request in flight at a time) until
 * the deadline, timing every rpc into its own histograms.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

/* How long a worker's Lease may park: short, so that the end of a run is
 * noticed quickly, long enough that an idle worker costs nothing. */
#define WORKER_WAIT_MS 100

/* Tasks per Enqueue while filling a backlog. */
#define FILL_BATCH 1000

bool
bench_record(
    struct bench_thread *t, enum bench_rpc rpc, uint64_t start, int rv)
{
	uint64_t end = bench_now_ns();

	if (rv != CAIRN_OK) {
		if (t->errors++ == 0) {
			snprintf(t->err, sizeof(t->err), "%s: %s: %s",
			    bench_rpc_name[rpc], cairn_strerror(rv),
			    cairn_client_errmsg(t->client));
		}
		return (false);
	}
	if (end > t->sh->deadline_ns) {
		return (false); /* after the clock stopped: not counted */
	}
	hist_record(&t->h[rpc], end - start);
	t->requests++;
	t->last_ns = end;
	atomic_fetch_add(&t->sh->done_ops, 1);
	return (true);
}

void
bench_count(struct bench_thread *t, uint64_t n)
{
	t->tasks += n;
	atomic_fetch_add(&t->sh->done_tasks, n);
}

bool
bench_running(const struct bench_thread *t)
{
	return (!atomic_load(&t->sh->stop));
}

static void
run_ping(struct bench_thread *t)
{
	while (bench_running(t)) {
		uint64_t t0 = bench_now_ns();
		if (!bench_record(
		        t, RPC_PING, t0, cairn_ping(t->client, NULL, NULL))) {
			break;
		}
		bench_count(t, 1);
	}
}

/* make_specs builds n specs of the run's queue and payload. */
static cairn_task_spec *
make_specs(
    const struct bench_shared *sh, const struct bench_options *opt, size_t n)
{
	cairn_task_spec *specs = calloc(n, sizeof(*specs));

	for (size_t i = 0; specs != NULL && i < n; i++) {
		specs[i].queue = sh->queue;
		specs[i].payload = sh->payload;
		specs[i].payload_len = opt->payload;
	}
	return (specs);
}

static void
run_producer(struct bench_thread *t)
{
	uint32_t n = t->opt->batch;
	cairn_task_spec *specs = make_specs(t->sh, t->opt, n);
	cairn_enqueue_result *res = calloc(n, sizeof(*res));

	while (specs != NULL && res != NULL && bench_running(t)) {
		uint64_t t0 = bench_now_ns();
		int rv = cairn_enqueue(t->client, specs, n, res);
		if (!bench_record(t, RPC_ENQUEUE, t0, rv)) {
			break;
		}
		/* With workers, a task counts once: when it completes. */
		if (t->opt->workload == WL_ENQUEUE) {
			bench_count(t, n);
		}
	}
	free(res);
	free(specs);
}

/* complete_all completes the leased tasks, one rpc each; returns how many
 * were completed before the deadline. */
static size_t
complete_all(struct bench_thread *t, cairn_task **tasks, size_t n)
{
	size_t done = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t t0 = bench_now_ns();
		int rv = cairn_complete(
		    t->client, tasks[i]->id, tasks[i]->lease_token, NULL, 0);
		if (!bench_record(t, RPC_COMPLETE, t0, rv)) {
			break;
		}
		done++;
	}
	return (done);
}

/* complete_batch completes the leased tasks with one CompleteBatch. */
static size_t
complete_batch(struct bench_thread *t, cairn_task **tasks, size_t n)
{
	cairn_completion items[1000];
	int statuses[1000];
	size_t done = 0;

	for (size_t i = 0; i < n; i++) {
		items[i] = (cairn_completion) { .id = tasks[i]->id,
			.lease_token = tasks[i]->lease_token };
	}
	uint64_t t0 = bench_now_ns();
	int rv = cairn_complete_batch(t->client, items, n, statuses);
	if (!bench_record(t, RPC_COMPLETE_BATCH, t0, rv)) {
		return (0);
	}
	for (size_t i = 0; i < n; i++) {
		done += statuses[i] == CAIRN_OK;
	}
	if (done < n && t->errors++ == 0) {
		snprintf(t->err, sizeof(t->err), "CompleteBatch: %s",
		    cairn_client_errmsg(t->client));
	}
	return (done);
}

/* complete_chain completes a task and gets the next of the queue in the
 * same rpc, for as long as there is one; returns how many it completed. */
static size_t
complete_chain(struct bench_thread *t, cairn_task *first)
{
	cairn_lease_options lo = { .worker_id = "cairn-bench" };
	cairn_task *cur = first, *next = NULL;
	size_t done = 0;

	while (cur != NULL) {
		uint64_t t0 = bench_now_ns();
		int rv = cairn_complete_next(
		    t->client, cur->id, cur->lease_token, NULL, 0, &lo, &next);
		if (cur != first) {
			cairn_task_free(cur);
		}
		if (!bench_record(t, RPC_COMPLETE, t0, rv)) {
			cairn_task_free(next);
			break;
		}
		done++;
		bench_count(t, 1);
		cur = next;
		next = NULL;
		if (!bench_running(t)) {
			cairn_task_free(cur);
			break;
		}
	}
	return (done);
}

/* run_worker leases and completes until the deadline, or (drain) until a
 * lease finds the queue empty. */
static void
run_worker(struct bench_thread *t, bool drain)
{
	const char *queues[1] = { t->sh->queue };
	cairn_lease_options lo = {
		.max_tasks = t->opt->lease_batch,
		.wait_ms = drain ? 0 : WORKER_WAIT_MS,
		.worker_id = "cairn-bench",
		.release_on_disconnect = t->opt->bind,
	};

	while (bench_running(t)) {
		cairn_task **tasks = NULL;
		size_t n = 0;
		uint64_t t0 = bench_now_ns();
		int rv = cairn_lease(t->client, queues, 1, &lo, &tasks, &n);
		bool ok = bench_record(t, RPC_LEASE, t0, rv);
		if (ok && n > 0 && !t->opt->single_complete
		    && (t->opt->workload == WL_BATCH
		        || t->opt->lease_batch > 1)) {
			bench_count(t, complete_batch(t, tasks, n));
		} else if (ok && t->opt->complete_next && n == 1) {
			complete_chain(t, tasks[0]);
		} else if (ok) {
			bench_count(t, complete_all(t, tasks, n));
		}
		cairn_tasks_free(tasks, n);
		if (!ok || (drain && n == 0)) {
			break;
		}
	}
}

/* run_heartbeat extends the lease of the thread's own task, again and
 * again, with no details: what a heartbeat costs by itself, next to the
 * size of the task's payload. */
static void
run_heartbeat(struct bench_thread *t)
{
	cairn_task *task = t->held;

	while (task != NULL && bench_running(t)) {
		uint64_t t0 = bench_now_ns();
		int rv = cairn_heartbeat(t->client, task->id,
		    task->lease_token, NULL, 0, NULL, NULL);
		if (!bench_record(t, RPC_HEARTBEAT, t0, rv)) {
			break;
		}
		bench_count(t, 1);
	}
}

int
bench_hold(struct bench_thread *t, int n, char *err, size_t errlen)
{
	const struct bench_shared *sh = t[0].sh;
	cairn_task_spec *spec = make_specs(sh, t[0].opt, 1);
	const char *queues[1] = { sh->queue };
	cairn_lease_options lo
	    = { .max_tasks = 1, .wait_ms = 1000, .worker_id = "cairn-bench" };
	cairn_enqueue_result res;
	int rv = spec == NULL ? CAIRN_RESOURCE_EXHAUSTED : CAIRN_OK;

	/* One at a time, so that each lease finds the task just enqueued. */
	for (int i = 0; i < n && rv == CAIRN_OK; i++) {
		cairn_task **tasks = NULL;
		size_t got = 0;
		rv = cairn_enqueue(t[i].client, spec, 1, &res);
		if (rv == CAIRN_OK) {
			rv = cairn_lease(
			    t[i].client, queues, 1, &lo, &tasks, &got);
		}
		if (rv == CAIRN_OK && got != 1) {
			rv = CAIRN_NOT_FOUND;
		}
		if (rv != CAIRN_OK) {
			snprintf(err, errlen, "holding a task: %s: %s",
			    cairn_strerror(rv),
			    cairn_client_errmsg(t[i].client));
		} else {
			t[i].held = tasks[0];
			tasks[0] = NULL;
		}
		cairn_tasks_free(tasks, got);
	}
	free(spec);
	return (rv);
}

void *
bench_thread_main(void *arg)
{
	struct bench_thread *t = arg;

	switch (t->opt->workload) {
	case WL_PING:
		run_ping(t);
		break;
	case WL_ENQUEUE:
		run_producer(t);
		break;
	case WL_DRAIN:
		run_worker(t, true);
		break;
	case WL_LIFECYCLE:
	case WL_BATCH:
		if (t->producer) {
			run_producer(t);
		} else {
			run_worker(t, false);
		}
		break;
	case WL_WORKFLOW:
		if (t->producer) {
			bench_wf_producer(t);
		} else {
			bench_wf_tasks(t);
		}
		break;
	case WL_HEARTBEAT:
		run_heartbeat(t);
		break;
	case WL_FSYNC:
		break;
	}
	atomic_fetch_sub(&t->sh->running, 1);
	return (NULL);
}

int
bench_fill(struct bench_shared *sh, const struct bench_options *opt,
    uint64_t n, char *err, size_t errlen)
{
	cairn_task_spec *specs = make_specs(sh, opt, FILL_BATCH);
	cairn_enqueue_result *res = calloc(FILL_BATCH, sizeof(*res));
	uint64_t done = 0, last = bench_now_ns();
	cairn_client *c = NULL;
	int rv = CAIRN_RESOURCE_EXHAUSTED;

	if (specs == NULL || res == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if ((rv = cairn_client_open(&c, sh->url, NULL, err, errlen)) != 0) {
		goto out;
	}
	while (done < n) {
		size_t k = n - done < FILL_BATCH ? n - done : FILL_BATCH;
		if ((rv = cairn_enqueue(c, specs, k, res)) != CAIRN_OK) {
			snprintf(err, errlen, "filling the backlog: %s: %s",
			    cairn_strerror(rv), cairn_client_errmsg(c));
			goto out;
		}
		done += k;
		if (!opt->quiet && bench_now_ns() - last > 1000000000u) {
			last = bench_now_ns();
			fprintf(stderr, "\rfilling: %llu of %llu tasks",
			    (unsigned long long) done, (unsigned long long) n);
		}
	}
	if (!opt->quiet && n >= FILL_BATCH) {
		fprintf(stderr, "\rfilling: %llu of %llu tasks\n",
		    (unsigned long long) done, (unsigned long long) n);
	}
out:
	cairn_client_close(c);
	free(res);
	free(specs);
	return (rv);
}
