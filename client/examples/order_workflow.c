/*
 * order_workflow.c - a durable workflow in C: an order is reserved,
 * charged, waits two seconds for the warehouse (a durable timer) and is
 * shipped. Reserve, charge and ship are activities: ordinary Cairn tasks,
 * run here by a task worker of the same process, with retries. If the
 * charge fails, the reservation is released (a compensation) and the run
 * fails.
 *
 * Usage: order_workflow [--server URL] [--workers-only] [ORDER]
 *
 * It runs a workflow worker and a task worker, starts one run for ORDER
 * (default "book-42", also its workflow id: starting it twice gives the
 * same run), waits for its result and prints it. With --workers-only it
 * only runs the workers, until SIGINT: start runs with
 *   cairn workflow start order --id order-7 --input order-7
 * and kill the process in the middle to see another one finish the run
 * from its log. See client/examples/README.md.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn.h"

/* ---- the workflow ----------------------------------------------------- */

/* order runs once per turn from the start; each call returns CAIRN_OK
 * with the outcome when the run's log has it, and otherwise a code that
 * the function returns at once (the run then waits durably). */
static int
order(cairn_wf_ctx *ctx, const void *in, size_t len, void *arg)
{
	cairn_wf_activity_options retry
	    = { .max_attempts = 5, .retry_initial_backoff_ms = 200 };
	cairn_wf_outcome reserved, charged, shipped, o;
	char result[512];
	int rv;

	(void) arg;
	rv = cairn_wf_activity(ctx, "reserve", in, len, &retry, &reserved);
	if (rv != CAIRN_OK) {
		return (rv);
	}
	if (reserved.status != CAIRN_WF_ENTRY_COMPLETED) {
		return (cairn_wf_fail(ctx, reserved.error));
	}
	rv = cairn_wf_activity(ctx, "charge", in, len, &retry, &charged);
	if (rv != CAIRN_OK) {
		return (rv);
	}
	if (charged.status != CAIRN_WF_ENTRY_COMPLETED) {
		/* Undo what was done, durably too, then fail the run. */
		rv = cairn_wf_activity(ctx, "release", reserved.result,
		    reserved.result_len, &retry, &o);
		return (
		    rv != CAIRN_OK ? rv : cairn_wf_fail(ctx, charged.error));
	}
	if ((rv = cairn_wf_sleep(ctx, 2000, NULL)) != CAIRN_OK) {
		return (rv);
	}
	rv = cairn_wf_activity(ctx, "ship", in, len, &retry, &shipped);
	if (rv != CAIRN_OK) {
		return (rv);
	}
	if (shipped.status != CAIRN_WF_ENTRY_COMPLETED) {
		return (cairn_wf_fail(ctx, shipped.error));
	}
	snprintf(result, sizeof(result), "%s, %s, %s", reserved.result,
	    charged.result, shipped.result);
	return (cairn_wf_succeed(ctx, result, strlen(result)));
}

/* ---- the activities: a task worker ----------------------------------------
 */

static const char *const activity_queues[]
    = { "reserve", "charge", "ship", "release" };

static void
activity(cairn_job *job, const cairn_task *t, void *arg)
{
	char out[256];

	(void) arg;
	/* A real one would call a stock service, a payment provider... and
	 * be safe to repeat: an activity runs at least once. */
	snprintf(out, sizeof(out), "%s done for %.*s", t->queue,
	    (int) t->payload_len, (const char *) t->payload);
	fprintf(stderr, "order_workflow: %s (attempt %u)\n", out, t->attempt);
	cairn_job_complete(job, out, strlen(out));
}

/* ---- the program ------------------------------------------------------ */

static cairn_wf_worker *wf_worker;
static cairn_worker *task_worker;

static void
on_signal(int sig)
{
	(void) sig;
	cairn_wf_worker_stop(wf_worker);
	cairn_worker_stop(task_worker, false);
}

static void *
wf_main(void *arg)
{
	(void) arg;
	return ((void *) (intptr_t) cairn_wf_worker_run(wf_worker));
}

static void *
task_main(void *arg)
{
	(void) arg;
	return ((void *) (intptr_t) cairn_worker_run(task_worker));
}

/* run_one starts (or finds) the run of the order and waits for it. */
static int
run_one(cairn_client *c, const char *id)
{
	cairn_workflow_run *r = NULL;
	uint64_t run_id;
	bool created, done = false;
	int rv;

	rv = cairn_workflow_start(
	    c, id, "order", NULL, id, strlen(id), &run_id, NULL, &created);
	if (rv != CAIRN_OK) {
		return (rv);
	}
	printf("run %llu (%s)%s\n", (unsigned long long) run_id, id,
	    created ? "" : ", started before");
	while (rv == CAIRN_OK && !done) {
		cairn_workflow_run_free(r);
		r = NULL;
		rv = cairn_workflow_await(c, run_id, NULL, 30000, &r, &done);
	}
	if (rv == CAIRN_OK) {
		printf("%s: %s\n", cairn_workflow_state_name(r->state),
		    r->state == CAIRN_WF_SUCCEEDED ? (const char *) r->result
		                                   : r->error);
		rv = r->state == CAIRN_WF_SUCCEEDED ? CAIRN_OK : CAIRN_ABORTED;
	}
	cairn_workflow_run_free(r);
	return (rv);
}

int
main(int argc, char **argv)
{
	const char *url = getenv("CAIRN_SERVER"), *id = "book-42";
	cairn_worker_options to = {
		.queues = activity_queues, .nqueues = 4, .poll_wait_ms = 1000
	};
	cairn_wf_worker_options wo = { .poll_wait_ms = 1000 };
	bool workers_only = false;
	pthread_t wt, tt;
	cairn_client *c;
	char err[256];
	int rv;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--server") == 0 && i + 1 < argc) {
			url = argv[++i];
		} else if (strcmp(argv[i], "--workers-only") == 0) {
			workers_only = true;
		} else if (argv[i][0] != '-') {
			id = argv[i];
		} else {
			fprintf(stderr,
			    "usage: order_workflow [--server URL] "
			    "[--workers-only] [ORDER]\n");
			return (2);
		}
	}
	if (url == NULL || url[0] == '\0') {
		url = "tcp://127.0.0.1:7420";
	}
	if (cairn_client_open(&c, url, NULL, err, sizeof(err)) != CAIRN_OK) {
		fprintf(stderr, "order_workflow: %s\n", err);
		return (1);
	}
	if (cairn_wf_worker_new(&wf_worker, c, &wo) != CAIRN_OK
	    || cairn_wf_worker_register(wf_worker, "order", order, NULL)
	        != CAIRN_OK
	    || cairn_worker_new(&task_worker, c, &to, activity, NULL)
	        != CAIRN_OK) {
		fprintf(
		    stderr, "order_workflow: %s\n", cairn_client_errmsg(c));
		return (1);
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	pthread_create(&wt, NULL, wf_main, NULL);
	pthread_create(&tt, NULL, task_main, NULL);

	rv = workers_only ? CAIRN_OK : run_one(c, id);
	if (rv != CAIRN_OK && rv != CAIRN_ABORTED) {
		fprintf(stderr, "order_workflow: %s: %s\n", cairn_strerror(rv),
		    cairn_client_errmsg(c));
	}
	if (!workers_only) {
		on_signal(0);
	}
	pthread_join(wt, NULL);
	pthread_join(tt, NULL);
	cairn_wf_worker_free(wf_worker);
	cairn_worker_free(task_worker);
	cairn_client_close(c);
	return (rv == CAIRN_OK ? 0 : 1);
}
