/*
 * wf_fixture.h - what the end-to-end workflow tests share: a real cairnd,
 * a client, task workers for the activities of the test flows
 * (wf_flows.h), workflow workers in threads or in processes of their own,
 * and waits on runs.
 */
#ifndef CAIRN_WF_FIXTURE_H
#define CAIRN_WF_FIXTURE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/types.h>

#include "cairn.h"
#include "harness.h"
#include "wf_flows.h"

struct wf_thread {
	cairn_wf_worker *w;
	struct wf_flows_config cfg;
	pthread_t t;
	bool running;
	int rv;
};

struct wf_fx {
	struct server srv;
	cairn_client *c;
	/* On PostgreSQL (CAIRN_TEST_STORE) a second cairnd on the same
	 * database: the task workers, workflow worker slot 1 and every other
	 * spawned worker go through it, so that runs move between servers. */
	struct server srv2;
	cairn_client *c2; /* srv2's, or c on SQLite */
	int spawned;
	cairn_worker *tasks; /* the activities' task workers */
	pthread_t tasks_thread;
	atomic_int done[WF_FLOWS_NQUEUES]; /* activities completed */
	atomic_int slow_started;
	atomic_int slow_reason; /* how the slow activity was stopped */
	struct wf_thread wf[2];
	char step_log[256];
	pid_t pids[4]; /* wf_test_worker processes alive */
};

/* wf_setup starts cairnd (two on PostgreSQL), the client and the task
 * workers; the teardown stops whatever runs. For cmocka's setup and
 * teardown. */
int wf_setup(void **state);
int wf_teardown(void **state);

/* wf_start_worker runs a workflow worker of the flows (version 1 or 2)
 * in thread slot i; cache false: every lease sends the whole log. */
void wf_start_worker(struct wf_fx *f, int i, int version, bool cache);

/* wf_stop_worker stops slot i's worker and waits for it; returns what
 * cairn_wf_worker_run returned. stats (may be NULL) gets its counters. */
int wf_stop_worker(struct wf_fx *f, int i, cairn_wf_worker_stats *stats);

/* wf_spawn_worker starts wf_test_worker (path in $WF_TEST_WORKER) with
 * the arguments (NULL-ended) after the URL; returns its pid. */
pid_t wf_spawn_worker(struct wf_fx *f, const char *const *args);

/* wf_kill_worker sends sig to a process of wf_spawn_worker and reaps
 * it. The teardown kills those left. */
void wf_kill_worker(struct wf_fx *f, pid_t pid, int sig);

/* wf_start starts a run of type with workflow_id and input; returns its
 * run id. */
uint64_t wf_start(
    struct wf_fx *f, const char *type, const char *id, const char *input);

/* wf_await waits up to ms for run_id to finish and returns it (the test
 * fails when it does not). Free with cairn_workflow_run_free. */
cairn_workflow_run *wf_await(struct wf_fx *f, uint64_t run_id, int64_t ms);

/* wf_wait_log waits up to ms until the run's log holds an entry of kind
 * (and name, unless NULL); returns whether it did. */
bool wf_wait_log(struct wf_fx *f, uint64_t run_id, cairn_wf_kind kind,
    const char *name, int64_t ms);

/* wf_wait_stuck waits up to ms until the run is marked stuck; returns it
 * (free it) or NULL. */
cairn_workflow_run *wf_wait_stuck(
    struct wf_fx *f, uint64_t run_id, int64_t ms);

/* wf_history returns the run's whole log (free with
 * cairn_wf_entries_free). */
cairn_wf_entry *wf_history(struct wf_fx *f, uint64_t run_id, size_t *n);

/* wf_count_lines counts the lines of the step log equal to line. */
int wf_count_lines(struct wf_fx *f, const char *line);

int64_t wf_now_ms(void);
void wf_sleep_ms(int64_t ms);

#endif /* CAIRN_WF_FIXTURE_H */
