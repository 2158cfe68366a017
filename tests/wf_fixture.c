/*
 * wf_fixture.c - the shared fixture of the end-to-end workflow tests
 * (wf_fixture.h).
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "wf_fixture.h"

int64_t
wf_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

void
wf_sleep_ms(int64_t ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static int
queue_index(const char *queue)
{
	for (int i = 0; i < WF_FLOWS_NQUEUES; i++) {
		if (strcmp(wf_flows_activity_queues[i], queue) == 0) {
			return (i);
		}
	}
	return (-1);
}

/* activity: "slow" holds until told to stop; the others complete with
 * "QUEUE:PAYLOAD". */
static void
activity(cairn_job *job, const cairn_task *t, void *arg)
{
	struct wf_fx *f = arg;
	int i = queue_index(t->queue);
	char out[512];

	if (strcmp(t->queue, "slow") == 0) {
		atomic_store(&f->slow_started, 1);
		atomic_store(&f->slow_reason, cairn_job_wait_stop(job, 30000));
		return; /* a canceled job then ends CANCELED */
	}
	snprintf(out, sizeof(out), "%s:%.*s", t->queue, (int) t->payload_len,
	    (const char *) t->payload);
	if (cairn_job_complete(job, out, strlen(out)) == CAIRN_OK && i >= 0) {
		atomic_fetch_add(&f->done[i], 1);
	}
}

static void *
tasks_main(void *arg)
{
	struct wf_fx *f = arg;

	cairn_worker_run(f->tasks);
	return (NULL);
}

int
wf_setup(void **state)
{
	struct wf_fx *f = calloc(1, sizeof(*f));
	cairn_worker_options o = { .queues = wf_flows_activity_queues,
		.nqueues = WF_FLOWS_NQUEUES,
		.concurrency = 4,
		.poll_wait_ms = 300 };

	if (server_start(&f->srv, NULL) != 0) {
		fail_msg("cannot start cairnd");
	}
	assert_int_equal(
	    cairn_client_open(&f->c, f->srv.url, NULL, NULL, 0), CAIRN_OK);
	f->c2 = f->c;
	if (f->srv.schema[0] != 0) {
		if (server_start_beside(&f->srv2, &f->srv, NULL) != 0) {
			fail_msg("cannot start a second cairnd");
		}
		assert_int_equal(
		    cairn_client_open(&f->c2, f->srv2.url, NULL, NULL, 0),
		    CAIRN_OK);
	}
	snprintf(f->step_log, sizeof(f->step_log), "%s/steps.log", f->srv.dir);
	assert_int_equal(
	    cairn_worker_new(&f->tasks, f->c2, &o, activity, f), CAIRN_OK);
	assert_int_equal(
	    pthread_create(&f->tasks_thread, NULL, tasks_main, f), 0);
	*state = f;
	return (0);
}

int
wf_teardown(void **state)
{
	struct wf_fx *f = *state;

	for (int i = 0; i < 2; i++) {
		if (f->wf[i].running) {
			(void) wf_stop_worker(f, i, NULL);
		}
	}
	for (int i = 0; i < 4; i++) {
		if (f->pids[i] > 0) {
			wf_kill_worker(f, f->pids[i], SIGKILL);
		}
	}
	cairn_worker_stop(f->tasks, true);
	pthread_join(f->tasks_thread, NULL);
	cairn_worker_free(f->tasks);
	if (f->c2 != f->c) {
		cairn_client_close(f->c2);
		server_stop(&f->srv2);
	}
	cairn_client_close(f->c);
	server_stop(&f->srv);
	unlink(f->step_log);
	server_cleanup(&f->srv);
	free(f);
	return (0);
}

static void *
wf_main(void *arg)
{
	struct wf_thread *t = arg;

	t->rv = cairn_wf_worker_run(t->w);
	return (NULL);
}

void
wf_start_worker(struct wf_fx *f, int i, int version, bool cache)
{
	struct wf_thread *t = &f->wf[i];
	cairn_wf_worker_options o = { .poll_wait_ms = 300,
		.lease_timeout_ms = 5000,
		.no_cache = !cache };

	assert_false(t->running);
	t->cfg = (struct wf_flows_config) {
		.version = version, .timer_ms = 500, .step_log = f->step_log
	};
	assert_int_equal(
	    cairn_wf_worker_new(&t->w, i == 1 ? f->c2 : f->c, &o), CAIRN_OK);
	assert_int_equal(wf_flows_register(t->w, &t->cfg), CAIRN_OK);
	assert_int_equal(pthread_create(&t->t, NULL, wf_main, t), 0);
	t->running = true;
}

int
wf_stop_worker(struct wf_fx *f, int i, cairn_wf_worker_stats *stats)
{
	struct wf_thread *t = &f->wf[i];

	cairn_wf_worker_stop(t->w);
	pthread_join(t->t, NULL);
	if (stats != NULL) {
		cairn_wf_worker_get_stats(t->w, stats);
	}
	cairn_wf_worker_free(t->w);
	t->w = NULL;
	t->running = false;
	return (t->rv);
}

pid_t
wf_spawn_worker(struct wf_fx *f, const char *const *args)
{
	const char *bin = getenv("WF_TEST_WORKER");
	const char *argv[32];
	int n = 0;
	pid_t pid;

	if (bin == NULL) {
		fail_msg("set WF_TEST_WORKER to the wf_test_worker binary");
	}
	argv[n++] = bin;
	argv[n++] = f->spawned++ % 2 == 1 && f->c2 != f->c ? f->srv2.url
	                                                   : f->srv.url;
	for (; args != NULL && *args != NULL && n < 31; args++) {
		argv[n++] = *args;
	}
	argv[n] = NULL;
	if ((pid = fork()) == 0) {
		execv(bin, (char *const *) argv);
		_exit(127);
	}
	assert_true(pid > 0);
	for (int i = 0; i < 4; i++) {
		if (f->pids[i] == 0) {
			f->pids[i] = pid;
			break;
		}
	}
	return (pid);
}

void
wf_kill_worker(struct wf_fx *f, pid_t pid, int sig)
{
	kill(pid, sig);
	waitpid(pid, NULL, 0);
	for (int i = 0; i < 4; i++) {
		if (f->pids[i] == pid) {
			f->pids[i] = 0;
		}
	}
}

uint64_t
wf_start(struct wf_fx *f, const char *type, const char *id, const char *input)
{
	uint64_t run_id = 0;
	bool created = false;
	int rv;

	rv = cairn_workflow_start(f->c, id, type, NULL, input,
	    input != NULL ? strlen(input) : 0, &run_id, NULL, &created);
	if (rv != CAIRN_OK) {
		fail_msg("StartWorkflow %s: %s: %s", type, cairn_strerror(rv),
		    cairn_client_errmsg(f->c));
	}
	assert_true(created);
	assert_true(run_id > 0);
	return (run_id);
}

cairn_workflow_run *
wf_await(struct wf_fx *f, uint64_t run_id, int64_t ms)
{
	cairn_workflow_run *r = NULL;
	bool done = false;
	int rv;

	rv = cairn_workflow_await(f->c, run_id, NULL, ms, &r, &done);
	if (rv != CAIRN_OK) {
		fail_msg("AwaitWorkflow: %s: %s", cairn_strerror(rv),
		    cairn_client_errmsg(f->c));
	}
	if (!done) {
		fail_msg("run %llu not finished after %lld ms (state %s, "
		         "stuck: %s)",
		    (unsigned long long) run_id, (long long) ms,
		    cairn_workflow_state_name(r->state), r->stuck_reason);
	}
	return (r);
}

cairn_wf_entry *
wf_history(struct wf_fx *f, uint64_t run_id, size_t *n)
{
	cairn_wf_entry *e = NULL;
	uint32_t next = 0;
	int rv;

	rv = cairn_workflow_history(
	    f->c, run_id, NULL, 0, 0, NULL, &e, n, &next);
	if (rv != CAIRN_OK) {
		fail_msg("WorkflowHistory: %s: %s", cairn_strerror(rv),
		    cairn_client_errmsg(f->c));
	}
	assert_int_equal(next, 0); /* the tests' logs fit one page */
	return (e);
}

bool
wf_wait_log(struct wf_fx *f, uint64_t run_id, cairn_wf_kind kind,
    const char *name, int64_t ms)
{
	for (int64_t until = wf_now_ms() + ms; wf_now_ms() < until;) {
		size_t n;
		cairn_wf_entry *e = wf_history(f, run_id, &n);
		bool hit = false;
		for (size_t i = 0; i < n; i++) {
			hit = hit
			    || (e[i].kind == kind
			        && (name == NULL
			            || strcmp(e[i].name, name) == 0));
		}
		cairn_wf_entries_free(e, n);
		if (hit) {
			return (true);
		}
		wf_sleep_ms(50);
	}
	return (false);
}

cairn_workflow_run *
wf_wait_stuck(struct wf_fx *f, uint64_t run_id, int64_t ms)
{
	for (int64_t until = wf_now_ms() + ms; wf_now_ms() < until;) {
		cairn_workflow_run *r;
		assert_int_equal(
		    cairn_workflow_get(f->c, run_id, NULL, &r), CAIRN_OK);
		if (r->stuck) {
			return (r);
		}
		cairn_workflow_run_free(r);
		wf_sleep_ms(50);
	}
	return (NULL);
}

int
wf_count_lines(struct wf_fx *f, const char *line)
{
	char buf[256];
	FILE *fp = fopen(f->step_log, "r");
	int n = 0;

	if (fp == NULL) {
		return (0);
	}
	while (fgets(buf, sizeof(buf), fp) != NULL) {
		buf[strcspn(buf, "\n")] = '\0';
		n += strcmp(buf, line) == 0;
	}
	fclose(fp);
	return (n);
}
