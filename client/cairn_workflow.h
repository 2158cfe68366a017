/*
 * cairn_workflow.h - durable workflows in the C client of Cairn. Included
 * by cairn.h; include that one.
 *
 * Three layers, each usable alone:
 *
 *  1. Client calls that start, steer and inspect runs (cairn_workflow_*).
 *  2. The worker rpcs (lease, heartbeat, advance, fail), public so that a
 *     binding in another language can replay runs in that language.
 *  3. The workflow SDK: a registered function replayed over the run's log
 *     by return codes (cairn_wf_*), and a worker loop that leases runs,
 *     replays them and advances them (cairn_wf_worker_*).
 *
 * The rules (replay, fencing, cancel) are those of proto/README.md,
 * "Durable workflows"; docs/WORKFLOWS.md explains them. Ownership is as in
 * cairn.h: what the library hands out is freed with its own free
 * functions, NULL-safe; what is passed in is copied before the call
 * returns.
 */
#ifndef CAIRN_WORKFLOW_H
#define CAIRN_WORKFLOW_H

#include "cairn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The workflow queue used when none is given (start, worker). */
#define CAIRN_WF_DEFAULT_QUEUE "workflows"

/* A run's state, numbered as cairn.v1.WorkflowState. */
typedef enum cairn_workflow_state {
	CAIRN_WF_STATE_ANY = 0, /* in filters only */
	CAIRN_WF_RUNNING = 1,
	CAIRN_WF_SUCCEEDED = 3,
	CAIRN_WF_FAILED = 4,
	CAIRN_WF_CANCELED = 5,   /* the code ended on a cancellation */
	CAIRN_WF_TERMINATED = 6, /* ended at once by a terminate */
} cairn_workflow_state;

/* cairn_workflow_state_name returns "running", "succeeded", ..., "any",
 * or "unknown"; cairn_workflow_state_parse reads those names back ("" and
 * "any" give CAIRN_WF_STATE_ANY) and returns false on any other. */
CAIRN_API const char *cairn_workflow_state_name(cairn_workflow_state s);
CAIRN_API bool cairn_workflow_state_parse(
    const char *name, cairn_workflow_state *out);

/* A log entry's kind, numbered as cairn.v1.EntryKind. */
typedef enum cairn_wf_kind {
	CAIRN_WF_KIND_UNSPECIFIED = 0,
	CAIRN_WF_STEP = 1,     /* code the workflow worker ran */
	CAIRN_WF_ACTIVITY = 2, /* a task run by task workers */
	CAIRN_WF_TIMER = 3,
	CAIRN_WF_SIGNAL = 4, /* a wait for a named signal */
	CAIRN_WF_CHILD = 5,  /* another run */
	CAIRN_WF_MARKER = 6, /* a recorded value: now, random, patch */
} cairn_wf_kind;

/* "step", "activity", "timer", "signal", "child", "marker"; "unknown". */
CAIRN_API const char *cairn_wf_kind_name(cairn_wf_kind k);
CAIRN_API bool cairn_wf_kind_parse(const char *name, cairn_wf_kind *out);

/* An entry's outcome, numbered as cairn.v1.EntryStatus. */
typedef enum cairn_wf_status {
	CAIRN_WF_ENTRY_UNSPECIFIED = 0,
	CAIRN_WF_ENTRY_PENDING = 1,   /* no outcome yet */
	CAIRN_WF_ENTRY_COMPLETED = 2, /* result set */
	CAIRN_WF_ENTRY_FAILED = 3,    /* error set */
	CAIRN_WF_ENTRY_TIMED_OUT = 4, /* a signal wait whose timeout came
	                                 first */
	CAIRN_WF_ENTRY_CANCELED = 5,  /* a cancel of the run, or of the
	                                 activity's task */
} cairn_wf_status;

/* "pending", "completed", "failed", "timed_out", "canceled"; "unknown". */
CAIRN_API const char *cairn_wf_status_name(cairn_wf_status s);
CAIRN_API bool cairn_wf_status_parse(const char *name, cairn_wf_status *out);

/*
 * A run as the server reports it. Free with cairn_workflow_run_free.
 * Strings are never NULL ("" when unset); byte buffers are never NULL and
 * are followed by a NUL byte not counted in their length.
 */
typedef struct cairn_workflow_run {
	uint64_t run_id;
	char *workflow_id;
	char *type;
	char *queue; /* where its workflow tasks are leased */
	uint8_t *input;
	size_t input_len;
	cairn_workflow_state state;
	uint8_t *result; /* SUCCEEDED */
	size_t result_len;
	char *error; /* FAILED, CANCELED, TERMINATED */
	bool cancel_requested;
	bool stuck; /* its last workflow task failed; still RUNNING */
	char *stuck_reason;
	uint32_t log_length; /* entries recorded */
	uint32_t task_attempt;
	bool leased; /* a workflow worker holds it now */
	char *worker_id;
	int64_t lease_deadline_ms;
	uint64_t parent_run_id; /* a child: its parent, and the entry */
	uint32_t parent_seq;    /* that waits for it */
	int64_t created_at_ms;
	int64_t updated_at_ms;
	int64_t finished_at_ms;
	bool runnable;
	uint64_t resolved_count;
} cairn_workflow_run;

/* cairn_workflow_run_free frees a run; NULL is a no-op. */
CAIRN_API void cairn_workflow_run_free(cairn_workflow_run *run);

/* cairn_workflow_runs_free frees an array of n runs from the library. */
CAIRN_API void cairn_workflow_runs_free(cairn_workflow_run **runs, size_t n);

/* One log entry; strings and buffers as in cairn_workflow_run. */
typedef struct cairn_wf_entry {
	uint32_t seq;
	cairn_wf_kind kind;
	char *name;
	uint64_t input_hash; /* cairn_wf_hash of the input */
	uint8_t *input;      /* empty in leases; History has it */
	size_t input_len;
	cairn_wf_status status;
	uint8_t *result;
	size_t result_len;
	char *error;
	int64_t created_at_ms;
	int64_t resolved_at_ms;
	uint64_t resolved_order; /* 1, 2, ... as outcomes came; 0: pending */
	uint64_t task_id;        /* activity */
	uint64_t child_run_id;   /* child */
	int64_t fire_at_ms;      /* timer; signal: its timeout */
	uint32_t attempts;       /* activity: its task's (History) */
	char *queue;             /* activity: its task's queue */
} cairn_wf_entry;

/* cairn_wf_entries_free frees an array of n entries; NULL is a no-op. */
CAIRN_API void cairn_wf_entries_free(cairn_wf_entry *entries, size_t n);

/*
 * cairn_wf_hash returns the 64-bit FNV-1a hash of data[0..len), the
 * input_hash that the server records and replay compares.
 */
CAIRN_API uint64_t cairn_wf_hash(const void *data, size_t len);

/* ---- 1. Client calls ------------------------------------------------ */

/*
 * A run is named by run_id or, when run_id is 0, by workflow_id; naming
 * neither gives CAIRN_INVALID_ARGUMENT. An unknown run: CAIRN_NOT_FOUND.
 */

/*
 * cairn_workflow_start starts a run of the workflow type on queue (NULL:
 * CAIRN_WF_DEFAULT_QUEUE) with input. workflow_id NULL or "" lets the
 * server choose one; a run that already has that id is not started again:
 * *created is then false and the outputs name that run. Outputs may be
 * NULL: *run_id, *workflow_id_out (free with cairn_free), *created.
 */
CAIRN_API int cairn_workflow_start(cairn_client *c, const char *workflow_id,
    const char *type, const char *queue, const void *input, size_t input_len,
    uint64_t *run_id, char **workflow_id_out, bool *created);

/*
 * cairn_workflow_signal sends the signal name with payload to a run. It
 * completes the run's oldest wait for that name, or waits in the run's
 * inbox for the next one. *delivered_seq (may be NULL) is the entry it
 * completed, 0 when it was kept; *run_id_out (may be NULL) the run's id.
 * A finished run refuses it with CAIRN_FAILED_PRECONDITION.
 */
CAIRN_API int cairn_workflow_signal(cairn_client *c, uint64_t run_id,
    const char *workflow_id, const char *name, const void *payload,
    size_t payload_len, uint64_t *run_id_out, uint32_t *delivered_seq);

/*
 * cairn_workflow_cancel asks a run to wind down: its pending waits end
 * canceled and the code decides how to finish. *state (may be NULL) is the
 * run's state after the call (RUNNING while it winds down). Repeating it
 * changes nothing.
 */
CAIRN_API int cairn_workflow_cancel(cairn_client *c, uint64_t run_id,
    const char *workflow_id, const char *reason, cairn_workflow_state *state);

/* cairn_workflow_terminate ends a run at once as TERMINATED with reason as
 * its error, without running its code again. */
CAIRN_API int cairn_workflow_terminate(cairn_client *c, uint64_t run_id,
    const char *workflow_id, const char *reason, cairn_workflow_state *state);

/* cairn_workflow_get returns the run in *run (free with
 * cairn_workflow_run_free). */
CAIRN_API int cairn_workflow_get(cairn_client *c, uint64_t run_id,
    const char *workflow_id, cairn_workflow_run **run);

/* What cairn_workflow_list keeps; zero fields keep everything. */
typedef struct cairn_workflow_filter {
	const char *type;           /* NULL or "": any */
	cairn_workflow_state state; /* CAIRN_WF_STATE_ANY: any */
	const char *queue;          /* NULL or "": any */
	bool stuck;                 /* only runs marked stuck */
} cairn_workflow_filter;

/*
 * cairn_workflow_list returns up to limit runs (0: the server's default,
 * 100) that pass filter (may be NULL), with run_id > after_run_id, in
 * run_id order: *runs is an array of *n, freed with
 * cairn_workflow_runs_free. *next_after_run_id (may be NULL) is the next
 * page's token, 0 on the last page.
 */
CAIRN_API int cairn_workflow_list(cairn_client *c,
    const cairn_workflow_filter *filter, uint32_t limit, uint64_t after_run_id,
    cairn_workflow_run ***runs, size_t *n, uint64_t *next_after_run_id);

/*
 * cairn_workflow_history returns a page of a run's log with inputs, and
 * per activity the attempts of its task: up to limit entries (0: the
 * server's default, 1000) with seq > after_seq. *entries is an array of
 * *n (free with cairn_wf_entries_free); *run (may be NULL; free with
 * cairn_workflow_run_free) the run; *next_after_seq (may be NULL) the next
 * page's token, 0 on the last page.
 */
CAIRN_API int cairn_workflow_history(cairn_client *c, uint64_t run_id,
    const char *workflow_id, uint32_t after_seq, uint32_t limit,
    cairn_workflow_run **run, cairn_wf_entry **entries, size_t *n,
    uint32_t *next_after_seq);

/*
 * cairn_workflow_await waits up to wait_ms for the run to finish and
 * returns it in *run (free with cairn_workflow_run_free); *done says
 * whether it has finished.
 */
CAIRN_API int cairn_workflow_await(cairn_client *c, uint64_t run_id,
    const char *workflow_id, int64_t wait_ms, cairn_workflow_run **run,
    bool *done);

/* ---- 2. Worker rpcs -------------------------------------------------- */

/* A run whose log a worker holds: a lease of it sends only what it lacks
 * (entries with a higher seq or a higher resolved_order). */
typedef struct cairn_wf_known {
	uint64_t run_id;
	uint32_t log_length;
	uint64_t resolved_count;
} cairn_wf_known;

/* Options for cairn_workflow_lease; zero means the default. */
typedef struct cairn_wf_lease_options {
	int64_t wait_ms;          /* long-poll; 0 answers at once */
	const char *worker_id;    /* default host:pid */
	int64_t lease_timeout_ms; /* default 60000 */
	const cairn_wf_known *known;
	size_t nknown;
	/* Bind the lease to this client's connection: when it closes (the
	 * worker died), the run is runnable again after the server's grace
	 * period. The workflow worker (cairn_wf_worker) sets it. */
	bool release_on_disconnect;
} cairn_wf_lease_options;

/* A leased run. Free with cairn_leased_run_free. */
typedef struct cairn_leased_run {
	cairn_workflow_run *run;
	char *lease_token;
	int64_t deadline_ms;
	cairn_wf_entry *entries; /* seq order; inputs left out */
	size_t nentries;
	bool delta; /* only what the named known run lacked */
} cairn_leased_run;

CAIRN_API void cairn_leased_run_free(cairn_leased_run *lr);

/*
 * cairn_workflow_lease leases the runnable run of queues that has waited
 * longest. *out (free with cairn_leased_run_free) is NULL when none was
 * runnable within opts->wait_ms. opts may be NULL.
 */
CAIRN_API int cairn_workflow_lease(cairn_client *c, const char *const *queues,
    size_t nqueues, const cairn_wf_lease_options *opts,
    cairn_leased_run **out);

/* cairn_workflow_heartbeat moves the lease's deadline forward. Outputs
 * may be NULL. A lost lease: CAIRN_FAILED_PRECONDITION. */
CAIRN_API int cairn_workflow_heartbeat(cairn_client *c, uint64_t run_id,
    const char *lease_token, bool *cancel_requested, int64_t *deadline_ms);

/* Options of an activity command, as in cairn_task_spec; zero fields take
 * the server's defaults. */
typedef struct cairn_wf_activity_options {
	const char *queue; /* NULL: the activity's name */
	int32_t priority;
	uint32_t max_attempts;
	int64_t retry_initial_backoff_ms;
	double retry_multiplier;
	int64_t retry_max_backoff_ms;
	int64_t heartbeat_timeout_ms;
	int64_t start_to_close_timeout_ms;
} cairn_wf_activity_options;

/* One command of an advance (cairn.v1.Command). */
typedef struct cairn_wf_command {
	cairn_wf_kind kind;
	const char *name;
	const void *input; /* activity payload, child input, step argument,
	                      marker value */
	size_t input_len;
	cairn_wf_status status; /* step, marker: the outcome */
	const void *result;
	size_t result_len;
	const char *error;
	cairn_wf_activity_options activity; /* activity; queue required */
	int64_t duration_ms; /* timer: delay; signal: timeout (0: none) */
	const char *child_workflow_id; /* NULL: "<workflow_id>/<seq>" */
	const char *child_queue;       /* NULL: the parent's */
} cairn_wf_command;

/* What cairn_workflow_advance sends. */
typedef struct cairn_wf_advance {
	uint64_t run_id;
	const char *lease_token;
	uint32_t expected_seq; /* the run's log_length + 1 */
	const cairn_wf_command *commands;
	size_t ncommands;
	cairn_workflow_state finish; /* ANY: the run goes on */
	const void *result;          /* finish SUCCEEDED */
	size_t result_len;
	const char *error; /* finish FAILED or CANCELED */
	bool keep_lease;   /* a checkpoint: the turn goes on */
	/* Makes a resend recognisable: give the same text (at most 128
	 * characters) when sending the same advance again after an unknown
	 * outcome, and the server answers as it did the first time. NULL: a
	 * fresh one (a resend whose first copy took effect is then refused
	 * with CAIRN_FAILED_PRECONDITION). */
	const char *request_id;
} cairn_wf_advance;

/* What cairn_workflow_advance returns; free entries with
 * cairn_wf_entries_free(entries, nentries). */
typedef struct cairn_wf_advanced {
	cairn_wf_entry *entries; /* the appended entries as recorded */
	size_t nentries;
	uint32_t log_length;
	int64_t deadline_ms; /* keep_lease: the new deadline */
	bool cancel_requested;
} cairn_wf_advanced;

/*
 * cairn_workflow_advance appends commands to the run's log at
 * expected_seq and, with finish, ends the run, in one commit, fenced by
 * the lease: a stale token or another expected_seq is refused with
 * CAIRN_FAILED_PRECONDITION and nothing is written. out may be NULL.
 */
CAIRN_API int cairn_workflow_advance(
    cairn_client *c, const cairn_wf_advance *req, cairn_wf_advanced *out);

/*
 * cairn_workflow_fail_task ends a turn that could not advance: the run is
 * marked stuck with error and runnable again after a backoff. Set
 * nondeterminism when the code asked for something else than its log
 * records. *retry_at_ms (may be NULL) is when it is runnable again.
 */
CAIRN_API int cairn_workflow_fail_task(cairn_client *c, uint64_t run_id,
    const char *lease_token, const char *error, bool nondeterminism,
    int64_t *retry_at_ms);

/* ---- 3. The workflow SDK -------------------------------------------- */

/*
 * Replay by return codes. A workflow function is called once per turn
 * from its start, over the run's log. Each command (activity, step,
 * timer, signal wait, child, now, random, patched) returns:
 *
 *   CAIRN_OK                 it has its outcome (or, for a start_*, it
 *                            is recorded or will be): go on.
 *   CAIRN_WF_SUSPEND         the log has no outcome for what the code
 *                            waits for yet: return it now; the run waits
 *                            and the function runs again once it has.
 *   CAIRN_WF_NONDETERMINISM  the code asked for something else than the
 *                            log holds at that place (cairn_wf_errmsg
 *                            says what): return it; the run is marked
 *                            stuck until code that replays cleanly
 *                            takes it.
 *   another status           the worker could not go on (a lost lease, a
 *                            bad argument, a step that asked to be
 *                            retried): return it.
 *
 * After anything but CAIRN_OK the context is poisoned: every later call
 * returns the same code and records nothing, so code that ignores a code
 * cannot corrupt the log. Business outcomes are not return codes: an
 * activity that failed, a canceled wait or a signal that timed out return
 * CAIRN_OK with the outcome's status.
 *
 * The code must be deterministic: the same commands, in the same order,
 * with the same inputs, given the same outcomes. Read the time with
 * cairn_wf_now, random numbers with cairn_wf_random, and change code under
 * running runs with cairn_wf_patched.
 */
#define CAIRN_WF_SUSPEND        1000
#define CAIRN_WF_NONDETERMINISM 1001

typedef struct cairn_wf_ctx cairn_wf_ctx;

/* The outcome of a command. The pointers point into the context's memory
 * and stay valid until the workflow function returns. */
typedef struct cairn_wf_outcome {
	cairn_wf_status status; /* COMPLETED, FAILED, TIMED_OUT, CANCELED */
	const uint8_t *result;  /* COMPLETED; never NULL, NUL-terminated */
	size_t result_len;
	const char *error; /* FAILED, CANCELED; never NULL */
} cairn_wf_outcome;

/* A command started and not yet waited for: its entry's seq. */
typedef uint32_t cairn_wf_handle;

/*
 * cairn_wf_fn is a workflow function: it gets the run's input and the arg
 * given at registration, and returns what a command returned, or the value
 * of cairn_wf_succeed / cairn_wf_fail / cairn_wf_cancelled. Returning
 * CAIRN_OK without one of those succeeds with an empty result. Any other
 * status fails the turn (not the run): the run is marked stuck with the
 * message and retried later, so that a bug in a worker never fails a run.
 */
typedef int (*cairn_wf_fn)(
    cairn_wf_ctx *ctx, const void *input, size_t input_len, void *arg);

/* cairn_wf_activity runs an activity (a task on opts->queue, default the
 * name) with input as its payload and waits for it; opts may be NULL. */
CAIRN_API int cairn_wf_activity(cairn_wf_ctx *ctx, const char *name,
    const void *input, size_t input_len, const cairn_wf_activity_options *opts,
    cairn_wf_outcome *out);

/* cairn_wf_start_activity starts it without waiting: *h is for
 * cairn_wf_wait, cairn_wf_wait_all and cairn_wf_wait_any. */
CAIRN_API int cairn_wf_start_activity(cairn_wf_ctx *ctx, const char *name,
    const void *input, size_t input_len, const cairn_wf_activity_options *opts,
    cairn_wf_handle *h);

/* cairn_wf_wait waits for one started command; out may be NULL. */
CAIRN_API int cairn_wf_wait(
    cairn_wf_ctx *ctx, cairn_wf_handle h, cairn_wf_outcome *out);

/* cairn_wf_wait_all waits until all n commands have outcomes; outs (may
 * be NULL) is an array of n that receives them. */
CAIRN_API int cairn_wf_wait_all(cairn_wf_ctx *ctx, const cairn_wf_handle *hs,
    size_t n, cairn_wf_outcome *outs);

/*
 * cairn_wf_wait_any waits until one of n commands has an outcome and
 * returns the one that got it first (the lowest resolved_order), so that
 * replay chooses as the first run did: *which (may be NULL) is its
 * handle, *out (may be NULL) its outcome.
 */
CAIRN_API int cairn_wf_wait_any(cairn_wf_ctx *ctx, const cairn_wf_handle *hs,
    size_t n, cairn_wf_handle *which, cairn_wf_outcome *out);

/* A step in progress: what its function gives cairn_wf_step_result or
 * cairn_wf_step_fail. */
typedef struct cairn_wf_step_ctx cairn_wf_step_ctx;

/*
 * cairn_wf_step_fn runs a step. It sets the outcome with
 * cairn_wf_step_result or cairn_wf_step_fail (neither: completed with an
 * empty result) and returns CAIRN_OK to have it recorded; any other
 * status records nothing and fails the turn, to be retried later (for a
 * transient failure that must not be recorded as the step's outcome).
 */
typedef int (*cairn_wf_step_fn)(
    cairn_wf_step_ctx *step, const void *input, size_t input_len, void *arg);

/* The step completed with result (copied). */
CAIRN_API int cairn_wf_step_result(
    cairn_wf_step_ctx *step, const void *result, size_t result_len);

/* The step failed with error (copied); recorded like a result. */
CAIRN_API int cairn_wf_step_fail(cairn_wf_step_ctx *step, const char *error);

/*
 * cairn_wf_step runs fn(step, input, input_len, arg) in the worker the
 * first time and records its outcome, sent at once (a checkpoint) so that
 * a crash after it does not run it again; on replay it returns the
 * recorded outcome without running fn. A step runs at least once: fn
 * should be safe to repeat until it has been recorded.
 */
CAIRN_API int cairn_wf_step(cairn_wf_ctx *ctx, const char *name,
    cairn_wf_step_fn fn, const void *input, size_t input_len, void *arg,
    cairn_wf_outcome *out);

/* cairn_wf_sleep waits duration_ms (a durable timer); out may be NULL
 * (its status is CANCELED when the run was canceled meanwhile). */
CAIRN_API int cairn_wf_sleep(
    cairn_wf_ctx *ctx, int64_t duration_ms, cairn_wf_outcome *out);

/* cairn_wf_start_timer starts a timer labelled name (may be NULL). */
CAIRN_API int cairn_wf_start_timer(cairn_wf_ctx *ctx, const char *name,
    int64_t duration_ms, cairn_wf_handle *h);

/*
 * cairn_wf_wait_signal waits for the signal name: COMPLETED with its
 * payload as result, TIMED_OUT after timeout_ms (0: waits for ever).
 * Signals sent before the wait are kept for it, in order.
 */
CAIRN_API int cairn_wf_wait_signal(cairn_wf_ctx *ctx, const char *name,
    int64_t timeout_ms, cairn_wf_outcome *out);
CAIRN_API int cairn_wf_start_signal(cairn_wf_ctx *ctx, const char *name,
    int64_t timeout_ms, cairn_wf_handle *h);

/* Options of a child run; zero fields take the defaults. */
typedef struct cairn_wf_child_options {
	const char *workflow_id; /* NULL: "<parent workflow_id>/<seq>" */
	const char *queue;       /* NULL: the parent's */
} cairn_wf_child_options;

/* cairn_wf_child runs a child run of type with input and waits for its
 * result (FAILED when it failed or was terminated); opts may be NULL. */
CAIRN_API int cairn_wf_child(cairn_wf_ctx *ctx, const char *type,
    const void *input, size_t input_len, const cairn_wf_child_options *opts,
    cairn_wf_outcome *out);
CAIRN_API int cairn_wf_start_child(cairn_wf_ctx *ctx, const char *type,
    const void *input, size_t input_len, const cairn_wf_child_options *opts,
    cairn_wf_handle *h);

/* cairn_wf_now sets *ms to the wall clock in ms since the epoch, recorded
 * the first time so that replay sees the same instant. */
CAIRN_API int cairn_wf_now(cairn_wf_ctx *ctx, int64_t *ms);

/* cairn_wf_random sets *out to 64 random bits, recorded likewise. */
CAIRN_API int cairn_wf_random(cairn_wf_ctx *ctx, uint64_t *out);

/*
 * cairn_wf_patched says whether the code may take the new path of the
 * change named id: true for runs that reach this place with the new code
 * (a marker is recorded), false for runs whose log was made by the code
 * before the change.
 */
CAIRN_API int cairn_wf_patched(cairn_wf_ctx *ctx, const char *id, bool *out);

/* The ends. Each returns the value the workflow function returns:
 * CAIRN_OK, or the poisoned context's code. result and error are copied. */
CAIRN_API int cairn_wf_succeed(
    cairn_wf_ctx *ctx, const void *result, size_t result_len);
CAIRN_API int cairn_wf_fail(cairn_wf_ctx *ctx, const char *error);
/* cairn_wf_cancelled ends the run as CANCELED (after a cancel was seen). */
CAIRN_API int cairn_wf_cancelled(cairn_wf_ctx *ctx, const char *reason);

/* Accessors. The strings are valid until the function returns. */
CAIRN_API uint64_t cairn_wf_run_id(const cairn_wf_ctx *ctx);
CAIRN_API const char *cairn_wf_workflow_id(const cairn_wf_ctx *ctx);
CAIRN_API const char *cairn_wf_type(const cairn_wf_ctx *ctx);
CAIRN_API uint32_t cairn_wf_attempt(const cairn_wf_ctx *ctx);
/* true while the code is before the end of the log: what it does was done
 * before (for logging once). */
CAIRN_API bool cairn_wf_is_replaying(const cairn_wf_ctx *ctx);
/* true once a cancel of the run was requested. */
CAIRN_API bool cairn_wf_cancel_requested(const cairn_wf_ctx *ctx);
/* The message of the code that poisoned the context ("" if none). */
CAIRN_API const char *cairn_wf_errmsg(const cairn_wf_ctx *ctx);

/*
 * The workflow worker: threads that lease runnable runs (long-poll), run
 * the function registered for each run's type over its log, advance it,
 * heartbeat while a turn runs, report non-determinism, and keep the logs
 * of recent runs so that the next lease of one sends only what changed.
 */
typedef struct cairn_wf_worker cairn_wf_worker;

typedef struct cairn_wf_worker_options {
	const char *const *queues; /* NULL: CAIRN_WF_DEFAULT_QUEUE */
	size_t nqueues;
	unsigned concurrency;     /* turns at once; default 1 */
	int64_t poll_wait_ms;     /* long-poll of each lease; default 5000;
	                             also how long a stop may take */
	int64_t lease_timeout_ms; /* default 60000 */
	int64_t heartbeat_ms;     /* default a third of the lease timeout */
	const char *worker_id;    /* default host:pid */
	unsigned cache_runs;      /* logs kept for delta leases; default 64 */
	bool no_cache;            /* keep none: every lease sends the log */
} cairn_wf_worker_options;

/* cairn_wf_worker_new makes a worker that leases through c. c and the
 * strings of opts (may be NULL) must outlive it. Free with
 * cairn_wf_worker_free. */
CAIRN_API int cairn_wf_worker_new(cairn_wf_worker **out, cairn_client *c,
    const cairn_wf_worker_options *opts);

/* cairn_wf_worker_register runs fn(ctx, input, len, arg) for runs of
 * type (copied). Register before cairn_wf_worker_run; registering a type
 * twice gives CAIRN_ALREADY_EXISTS. */
CAIRN_API int cairn_wf_worker_register(
    cairn_wf_worker *w, const char *type, cairn_wf_fn fn, void *arg);

/*
 * cairn_wf_worker_run leases and runs turns until cairn_wf_worker_stop,
 * then lets the turns in progress end and returns CAIRN_OK; or returns the
 * status of a lease that can never succeed (INVALID_ARGUMENT,
 * UNAUTHENTICATED, UNIMPLEMENTED...). A server that is down is waited for.
 */
CAIRN_API int cairn_wf_worker_run(cairn_wf_worker *w);

/* cairn_wf_worker_stop asks the worker to stop leasing; the turns in
 * progress end normally. Safe from any thread and a signal handler. */
CAIRN_API void cairn_wf_worker_stop(cairn_wf_worker *w);

/* Counters of a worker, for tests and measurements. */
typedef struct cairn_wf_worker_stats {
	uint64_t turns;          /* turns run */
	uint64_t leases_full;    /* leases that sent the whole log */
	uint64_t leases_delta;   /* leases that sent what changed */
	uint64_t entries_leased; /* entries received by leases */
	uint64_t history_loads;  /* logs read again with History */
	uint64_t advances;       /* advances sent (checkpoints included) */
	uint64_t task_failures;  /* turns that failed (FailWorkflowTask) */
	uint64_t nondeterminism; /* of them, non-determinism */
	uint64_t leases_lost;    /* turns whose lease was lost */
} cairn_wf_worker_stats;

CAIRN_API void cairn_wf_worker_get_stats(
    cairn_wf_worker *w, cairn_wf_worker_stats *out);

/* cairn_wf_worker_free frees w, which is not running; NULL is a no-op. */
CAIRN_API void cairn_wf_worker_free(cairn_wf_worker *w);

#ifdef __cplusplus
}
#endif

#endif /* CAIRN_WORKFLOW_H */
