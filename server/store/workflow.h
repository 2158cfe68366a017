/*
 * workflow.h - the server's view of workflow runs and their execution
 * logs (proto/README.md, "Durable workflows"), independent of the wire and
 * of any storage engine, as task.h is for tasks.
 */
#ifndef CAIRN_STORE_WORKFLOW_H
#define CAIRN_STORE_WORKFLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/task.h"

#define WF_ID_MAX          256 /* bytes of a workflow_id */
#define WF_NAME_MAX        256 /* bytes of an entry's name */
#define WF_DEFAULT_LEASE   60000
#define WF_DEFAULT_MAX_LOG 10000 /* entries per run */
#define WF_RETRY_FIRST_MS  1000  /* after a failed workflow task ... */
#define WF_RETRY_MAX_MS    60000 /* ... doubling up to this */

/* Run states; the terminal ones share their numbers with cairn_state's. */
enum wf_state {
	WF_RUNNING = 1,
	WF_SUCCEEDED = 3,
	WF_FAILED = 4,
	WF_CANCELED = 5,
	WF_TERMINATED = 6,
};

/* Where a RUNNING run stands with its workflow tasks. */
enum wf_phase {
	WF_WAITING = 0,  /* for an entry to resolve (or finished) */
	WF_RUNNABLE = 1, /* for a workflow worker, from ready_at on */
	WF_LEASED = 2,   /* a worker holds it until lease_deadline */
};

enum wf_kind {
	WF_STEP = 1,
	WF_ACTIVITY = 2,
	WF_TIMER = 3,
	WF_SIGNAL = 4,
	WF_CHILD = 5,
	WF_MARKER = 6,
};

enum wf_status {
	WF_PENDING = 1,
	WF_COMPLETED = 2,
	WF_FAILED_ENTRY = 3,
	WF_TIMED_OUT = 4,
	WF_CANCELED_ENTRY = 5,
};

/* A run as stored. Every pointer is owned by the struct (wf_run_clear). */
struct wf_run {
	uint64_t id;
	char *workflow_id;
	char *type;
	char *queue;
	uint8_t *input;
	size_t input_len;
	int state; /* enum wf_state */
	int phase; /* enum wf_phase; WAITING once finished */
	int64_t ready_at_ms;
	uint8_t *result;
	size_t result_len;
	char *error;
	bool cancel_requested;
	bool cancel_delivered; /* some wait resolved CANCELED because of it */
	bool stuck;
	char *stuck_reason;
	uint32_t next_seq;       /* the seq the next entry gets */
	uint64_t resolved_count; /* entries resolved so far */
	uint64_t lease_resolved; /* resolved_count when leased */
	uint32_t task_attempt;   /* workflow tasks leased */
	uint32_t failures;       /* consecutive failed workflow tasks */
	char *worker_id;
	char lease_token[TASK_TOKEN_LEN + 1];
	int64_t lease_deadline_ms;
	int64_t lease_timeout_ms;
	int lease_outcome;   /* how the last lease ended (lifecycle) */
	uint64_t parent_run; /* 0: none */
	uint32_t parent_seq;
	int64_t created_ms;
	int64_t updated_ms;
	int64_t finished_ms;
};

/* One log entry. Every pointer is owned by the struct (wf_entry_clear). */
struct wf_entry {
	uint32_t seq;
	int kind;   /* enum wf_kind */
	char *name; /* "" when none */
	uint64_t input_hash;
	uint8_t *input;
	size_t input_len;
	int status; /* enum wf_status */
	uint8_t *result;
	size_t result_len;
	char *error;
	int64_t created_ms;
	int64_t resolved_ms;
	uint64_t resolved_order; /* 0 while pending */
	uint64_t task_id;        /* activity */
	uint64_t child_run;      /* child */
	int64_t fire_at_ms;      /* timer; signal timeout; 0: none */
	/* Read with the history only: the activity's task. */
	uint32_t attempts;
	char *queue;
};

/* A run to create. Pointers are borrowed for the call. */
struct wf_start {
	const char *workflow_id;
	const char *type;
	const char *queue;
	const uint8_t *input;
	size_t input_len;
	uint64_t parent_run; /* 0: none */
	uint32_t parent_seq;
};

/* Which entries of a run to read (store_ops.wf_entries). */
struct wf_read {
	uint64_t run_id;
	uint32_t after_seq; /* entries with a higher seq ... */
	bool delta;         /* ... or a resolved_order above after_order */
	uint64_t after_order;
	bool pending_only;
	bool with_input; /* and the history's extras (attempts, queue) */
	uint32_t limit;  /* 0: no limit */
};

/* A filter of ListWorkflows; NULL or 0 members match anything. */
struct wf_filter {
	const char *type;
	const char *queue;
	int state;
	bool stuck;
};

/* Runs per type and state, for metrics. */
struct wf_type_stats {
	char *type;
	uint64_t count[WF_TERMINATED + 1]; /* indexed by enum wf_state */
	uint64_t stuck;
};

/* An entry named by its run and seq. */
struct wf_ref {
	uint64_t run_id;
	uint32_t seq;
};

void wf_run_clear(struct wf_run *r);
void wf_run_free(struct wf_run *r);
void wf_run_array_free(struct wf_run **runs, size_t n);
void wf_entry_clear(struct wf_entry *e);
void wf_entries_free(struct wf_entry *e, size_t n);
void wf_type_stats_free(struct wf_type_stats *st, size_t n);

/* wf_hash is FNV-1a 64 of data, the input_hash of proto/README.md. */
uint64_t wf_hash(const void *data, size_t len);

static inline bool
wf_state_is_terminal(int state)
{
	return (state >= WF_SUCCEEDED && state <= WF_TERMINATED);
}

/* wf_state_name returns "running", "succeeded", ... */
const char *wf_state_name(int state);
/* wf_kind_name returns "step", "activity", ... */
const char *wf_kind_name(int kind);

/* wf_retry_delay returns how long a run waits after its failures-th
 * consecutive failed workflow task (1-based). */
int64_t wf_retry_delay(uint32_t failures);

#endif /* CAIRN_STORE_WORKFLOW_H */
