/*
 * store/task.h - the server's own view of tasks, independent of the wire and
 * of any storage engine. The rules that every backend must apply the same way
 * (defaults, backoff, lease deadlines) live in task.c.
 */
#ifndef CAIRN_TASK_H
#define CAIRN_TASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn_wire.h"

#define TASK_QUEUE_MAX  128
#define TASK_TOKEN_LEN  32 /* hex characters of a lease token */
#define TASK_TIME_NEVER INT64_MAX

/* How the last lease of a task ended; lets a repeated Complete or Fail with
 * the same token be answered OK, and a stale one be told why it lost. */
enum lease_outcome {
	LEASE_NONE = 0, /* never leased, or leased now */
	LEASE_COMPLETED = 1,
	LEASE_FAILED = 2,
	LEASE_EXPIRED_HEARTBEAT = 3,
	LEASE_EXPIRED_START_TO_CLOSE = 4,
	LEASE_CANCELED = 5,
	LEASE_RETRIED = 6,      /* released by a manual retry */
	LEASE_RELEASED = 7,     /* given back by its worker (Release) */
	LEASE_DISCONNECTED = 8, /* its worker's connection closed */
};

struct retry_policy {
	int64_t initial_ms;
	double multiplier;
	int64_t max_ms;
};

/* A task to create. Pointers are borrowed from the caller for the call. */
struct task_spec {
	const char *queue;
	const uint8_t *payload;
	size_t payload_len;
	int32_t priority;
	int64_t run_at_ms; /* absolute; 0: now + delay_ms */
	int64_t delay_ms;
	uint32_t max_attempts;
	struct retry_policy retry;
	int64_t heartbeat_timeout_ms;
	int64_t start_to_close_ms;   /* 0: none */
	const char *idempotency_key; /* NULL: none */
	uint64_t wf_run;             /* an activity's run; 0: none */
	uint32_t wf_seq;             /* and its entry */
};

/* A task as stored. Every pointer is owned by the struct (task_free). */
struct task {
	uint64_t id;
	char *queue;
	uint8_t *payload;
	size_t payload_len;
	int32_t priority;
	cairn_state state;
	int64_t run_at_ms;
	uint32_t attempt;
	uint32_t max_attempts;
	struct retry_policy retry;
	int64_t heartbeat_timeout_ms;
	int64_t start_to_close_ms;
	char *idempotency_key; /* NULL: none */
	uint8_t *details;
	size_t details_len;
	uint8_t *result;
	size_t result_len;
	char *last_error;
	bool cancel_requested;
	char *worker_id;
	char lease_token[TASK_TOKEN_LEN + 1]; /* "" when never leased */
	int64_t lease_deadline_ms;            /* ACTIVE only */
	int64_t created_ms;
	int64_t updated_ms;
	int64_t finished_ms; /* terminal only */
};

struct task_event {
	int64_t at_ms;
	char *kind;
	uint32_t attempt;
	char *worker_id;
	char *message;
};

struct queue_stats {
	char *queue;
	uint64_t count[CAIRN_CANCELED + 1]; /* indexed by cairn_state */
	uint64_t due;
	int64_t oldest_due_age_ms;
};

/* task_clear frees what t owns and zeroes it. */
void task_clear(struct task *t);
/* task_free frees t and everything it owns; NULL is a no-op. */
void task_free(struct task *t);
/* task_array_free frees n tasks and the array. */
void task_array_free(struct task **tasks, size_t n);
void task_events_free(struct task_event *ev, size_t n);
void queue_stats_free(struct queue_stats *st, size_t n);

/* task_state_is_terminal says whether s is SUCCEEDED, FAILED or CANCELED. */
static inline bool
task_state_is_terminal(cairn_state s)
{
	return (
	    s == CAIRN_SUCCEEDED || s == CAIRN_FAILED || s == CAIRN_CANCELED);
}

#endif /* CAIRN_TASK_H */
