/*
 * wf_crash.h - the crash proofs of durable workflows: the workflow the
 * load runs (its code in wf_crash_flow.c, shared by the worker processes
 * and the checker), the lines worker processes write about what they did
 * and were told, and the checker's interface (wf_crash_check.c).
 *
 * The workflow "wfc_flow", whose input is its workflow id, records in
 * order: a step "plan" (its result names the process and a counter, so
 * that a lost and re-run step records a different value), a random
 * marker, the activity "wfc_a" (on plan's result), 2-4 activities
 * "wfc_b" in parallel, a timer, a wait for the signal "go", for one run
 * in three a child run "wfc_child", a step "sum" and the activity "wfc_c"
 * (on sum's result). Every outcome is folded, in seq order, into the
 * run's result: "ok:" and the hash. An activity's result is a function
 * of its payload and a name of the execution that returned it, so the
 * checker can recompute the whole run from its final log, and an
 * activity run again after its completion was lost records another
 * result.
 */
#ifndef CAIRN_WF_CRASH_H
#define CAIRN_WF_CRASH_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cairn.h"

#define WFC_TYPE       "wfc_flow"
#define WFC_CHILD_TYPE "wfc_child"
#define WFC_QUEUE      "wfc"
#define WFC_SIGNAL     "go"
#define WFC_LEASE_MS   1500 /* workflow and task leases */
#define WFC_ATTEMPTS                                                          \
	50                 /* an activity's attempts: kills must not          \
	                      exhaust them */
#define WFC_MAX_ENTRIES 16 /* the longest log of the flow */

extern const char *const wfc_activity_queues[];
#define WFC_NQUEUES 3

/* The shape a run's input gives it. */
struct wfc_shape {
	int nparallel; /* wfc_b activities, 2-4 */
	bool child;
	int64_t timer_ms;
};

void wfc_shape_of(const char *wfid, struct wfc_shape *s);

/* wfc_fold folds data into h (FNV-1a over a separator and the bytes). */
#define WFC_FOLD_INIT 0xcbf29ce484222325ULL
uint64_t wfc_fold(uint64_t h, const void *data, size_t len);

/* wfc_activity_result writes what an activity returns for payload:
 * "A:" and 16 hex digits (out has room for 19 bytes); the crash load's
 * task workers add ":" and the execution's name. */
void wfc_activity_result(const void *payload, size_t len, char *out);

/* wfc_hex writes 16 hex digits of h (out: 17 bytes). */
void wfc_hex(uint64_t h, char *out);

/*
 * The workflow worker side: wfc_register registers both workflow types
 * on w; their steps append "stepexec RUN SEQ" to log_fd each time they
 * run, and "stepack RUN SEQ RESULT" once a new step's checkpoint was
 * acknowledged; the code appends "seen RUN SEQ HASH" for every outcome
 * it got from the log (the hash of its result). step_sleep_ms bounds a random
 * pause in each step.
 */
int wfc_register(cairn_wf_worker *w, int log_fd, int step_sleep_ms);

/* wfc_line appends one line to fd in a single write, so that a process
 * killed at any moment leaves whole lines. */
void wfc_line(int fd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- The checker ----------------------------------------------------- */

/* What one observation of an entry said (a WorkflowHistory snapshot). */
struct wfc_seen {
	uint32_t seq;
	int kind;
	uint64_t name_hash, input_hash;
	int64_t created_ms, fire_at_ms;
	uint64_t task_id, child_run_id;
	int status;            /* PENDING: only the fields above are final */
	uint64_t outcome_hash; /* result and error */
	uint64_t resolved_order;
};

/* One run the clients were told about. */
struct wfc_run {
	char wfid[64];
	uint64_t run_id;      /* acknowledged by StartWorkflow */
	bool signaled;        /* SignalWorkflow acknowledged */
	int state;            /* the last state seen; 0: none */
	uint64_t result_hash; /* of a finished run, once seen */
	struct wfc_seen seen[WFC_MAX_ENTRIES];
	uint32_t nseen; /* the longest log seen */
};

/* The counts a run of the harness reports. */
struct wfc_counts {
	uint64_t started, signaled, observations, entries_observed;
	uint64_t finished_ok, entries_recorded, activities, child_runs;
	uint64_t activity_execs, activity_dups, foreign_result;
	uint64_t step_execs, step_dups, step_acks, task_acks, replay_seen;
	/* Each of these must be 0. */
	uint64_t missing, unfinished, wrong_result, extra_runs;
	uint64_t changed, shortened, step_acks_lost, task_acks_lost;
	uint64_t orphan_execs, replay_changed, integrity_failures;
};

/* wfc_violations is the sum of the counts that must be 0. */
uint64_t wfc_violations(const struct wfc_counts *c);

/* wfc_observe compares one snapshot of a run (its state, result and
 * log) with what was seen of it before and keeps what is new; changes
 * and logs that got shorter are counted into c. */
void wfc_observe(struct wfc_run *r, const cairn_workflow_run *run,
    const cairn_wf_entry *e, size_t n, struct wfc_counts *c);

/*
 * wfc_check_final checks the acknowledged runs (runs[0..n)) against the
 * server's final state, read through client c, and the worker processes'
 * lines (every *.log file of dir). Counts go into c.
 */
void wfc_check_final(cairn_client *c, struct wfc_run *runs, size_t n,
    const char *dir, struct wfc_counts *cnt);

/* ---- The load (wf_crash_load.c) --------------------------------------- */

/* Worker processes: workflow workers and task workers, killed at random
 * by the chaos thread and started again. */
#define WFC_MAX_PROCS 8

struct wfc_proc {
	pid_t pid;
	bool tasks; /* a task worker, else a workflow worker */
	int gen;    /* starts so far: names its events file */
};

struct wfc_load {
	const char *url;
	const char *dir;    /* events files go here */
	const char *worker; /* the wf_crash_worker binary */
	unsigned seed;
	int producers, observers, max_inflight;
	bool chaos; /* kill worker processes at random */

	pthread_mutex_t mu; /* protects what follows */
	struct wfc_run *runs;
	size_t nruns, cap;
	struct wfc_counts counts; /* what the observers counted */
	uint64_t finished_seen;
	struct wfc_proc procs[WFC_MAX_PROCS];
	int nprocs;
	uint64_t kills;

	atomic_bool stop_producers, stop_observers, stop_chaos;
	pthread_t thr[32];
	int nthr;
	pthread_t chaos_thr;
};

/* wfc_load_start starts nwf workflow worker and ntw task worker processes,
 * the producers, the observers and (with chaos) the chaos thread. */
int wfc_load_start(struct wfc_load *l, int nwf, int ntw);
/* wfc_load_stop_producers stops the producers and the chaos (the worker
 * processes stay up, so that the runs can finish). */
void wfc_load_stop_producers(struct wfc_load *l);
/* wfc_load_drain waits up to ms until no run of the flow is running;
 * returns how many still are. */
uint64_t wfc_load_drain(struct wfc_load *l, int ms);
/* wfc_load_stop stops the observers and the worker processes (SIGTERM,
 * then SIGKILL). */
void wfc_load_stop(struct wfc_load *l);

#endif /* CAIRN_WF_CRASH_H */
