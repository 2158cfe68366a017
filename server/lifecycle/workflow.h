/*
 * lifecycle/workflow.h - the rules of durable workflows (proto/README.md,
 * "Durable workflows"), applied on top of the row-level storage interface
 * so that every backend behaves alike, as lifecycle.h does for tasks.
 *
 * Every function runs inside the engine's open transaction on the engine
 * thread. On failure it returns a cairn_status with a message in msg
 * (LC_MSG_MAX bytes) and, unless it is a storage fault (which rolls the
 * whole transaction back), has written nothing, except that a lease found
 * expired stays expired. What a change means for parked long-polls (runs
 * made runnable, runs finished, tasks made due) is told through the
 * store's notes (store_note_*).
 */
#ifndef CAIRN_LIFECYCLE_WORKFLOW_H
#define CAIRN_LIFECYCLE_WORKFLOW_H

#include "lifecycle/lifecycle.h"
#include "store/workflow.h"

#define WF_ADVANCE_MAX 1000 /* commands per AdvanceWorkflow */

/* A run that a worker holds in memory (LeaseWorkflow's `known`). */
struct wf_known {
	uint64_t run_id;
	uint32_t log_length;
	uint64_t resolved_count;
};

struct wf_lease_request {
	const char *const *queues;
	size_t nqueues;
	const char *worker_id;
	int64_t lease_timeout_ms; /* 0: WF_DEFAULT_LEASE */
	const struct wf_known *known;
	size_t nknown;
};

/* A leased run: the run (lease_token, lease_deadline_ms set) and its log,
 * whole or, with delta, what the worker lacks. Freed with
 * wf_leased_clear. */
struct wf_leased {
	struct wf_run run;
	struct wf_entry *entries;
	size_t n;
	bool delta;
};

/* One command of an advance. Pointers are borrowed for the call. */
struct wf_command {
	int kind; /* enum wf_kind */
	const char *name;
	const uint8_t *input;
	size_t input_len;
	int status; /* step, marker: WF_COMPLETED or WF_FAILED_ENTRY */
	const uint8_t *result;
	size_t result_len;
	const char *error;
	struct task_spec activity;     /* activity: queue and policy */
	int64_t duration_ms;           /* timer; signal timeout (0: none) */
	const char *child_workflow_id; /* "" or NULL: derived */
	const char *child_queue;       /* "" or NULL: the parent's */
};

struct wf_advance {
	uint64_t run_id;
	const char *token;
	uint32_t expected_seq;
	struct wf_command *commands;
	size_t n;
	int finish; /* 0, WF_SUCCEEDED, WF_FAILED or WF_CANCELED */
	const uint8_t *result;
	size_t result_len;
	const char *error;
	bool keep_lease;
	uint32_t max_log; /* entries per run at most; 0: WF_DEFAULT_MAX_LOG */
};

/* What an advance recorded; entries freed with wf_advanced_clear. */
struct wf_advanced {
	struct wf_entry *entries;
	size_t n;
	uint32_t log_length;
	int64_t deadline; /* keep_lease */
	bool cancel_requested;
};

void wf_leased_clear(struct wf_leased *l);
void wf_advanced_clear(struct wf_advanced *a);

/* lifecycle_wf_find sets *id to run_id when it is not 0 (checking that
 * the run exists), else to the run of workflow_id; NOT_FOUND otherwise. */
int lifecycle_wf_find(struct store *s, const char *workflow_id,
    uint64_t run_id, uint64_t *id, char *msg);

/* lifecycle_wf_start creates a runnable run, or finds the run that holds
 * st->workflow_id (*created false). request_id (NULL: none) makes a
 * resend of a start without a workflow_id find the run it created. */
int lifecycle_wf_start(struct store *s, const struct wf_start *st,
    const char *request_id, int64_t now, uint64_t *run_id, bool *created,
    char *msg);

/* lifecycle_wf_lease leases the runnable run of req's queues that has
 * waited longest; out->run.id is 0 when there was none. A resend (the
 * same request_id) answers the run it leased. */
int lifecycle_wf_lease(struct store *s, const struct wf_lease_request *req,
    const char *request_id, int64_t now, struct wf_leased *out, char *msg);

/* lifecycle_wf_release ends the lease of run_id under token as its
 * expiry would (the run is runnable again at once): the worker's
 * connection closed. A repeat with the same token answers OK. */
int lifecycle_wf_release(struct store *s, uint64_t run_id, const char *token,
    int64_t now, char *msg);

int lifecycle_wf_heartbeat(struct store *s, uint64_t run_id, const char *token,
    int64_t now, bool *cancel_requested, int64_t *deadline, char *msg);

/* lifecycle_wf_advance appends a's commands, fenced by token and
 * expected_seq, and ends the turn as a says. A resend (the same
 * request_id) answers what the first one recorded. */
int lifecycle_wf_advance(struct store *s, const struct wf_advance *a,
    const char *request_id, int64_t now, struct wf_advanced *out, char *msg);

int lifecycle_wf_fail_task(struct store *s, uint64_t run_id, const char *token,
    const char *error, bool nondeterminism, int64_t now, int64_t *retry_at,
    char *msg);

/* lifecycle_wf_signal completes the run's oldest wait for name, or keeps
 * the signal in its inbox (*delivered 0). */
int lifecycle_wf_signal(struct store *s, uint64_t run_id, const char *name,
    const uint8_t *payload, size_t len, const char *request_id, int64_t now,
    uint32_t *delivered, char *msg);

int lifecycle_wf_cancel(struct store *s, uint64_t run_id, const char *reason,
    int64_t now, int *state, char *msg);
int lifecycle_wf_terminate(struct store *s, uint64_t run_id,
    const char *reason, int64_t now, int *state, char *msg);

/* lifecycle_wf_expire ends up to limit leases of runs whose deadline has
 * passed; lifecycle_wf_fire resolves up to limit timers and signal
 * timeouts that are due. Both set *n. */
int lifecycle_wf_expire(
    struct store *s, int64_t now, uint32_t limit, size_t *n, char *msg);
int lifecycle_wf_fire(
    struct store *s, int64_t now, uint32_t limit, size_t *n, char *msg);

/* lifecycle_wf_task_done resolves the activity entry of a task that has
 * just become terminal (row as saved); nothing for other tasks. Called by
 * the task rules (lifecycle.c). */
int lifecycle_wf_task_done(
    struct store *s, const struct task_row *row, int64_t now);

#endif /* CAIRN_LIFECYCLE_WORKFLOW_H */
