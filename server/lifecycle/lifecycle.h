/*
 * lifecycle/lifecycle.h - the task lifecycle rules (as proto/README.md
 * states them to clients), applied on top of the row-level storage
 * interface, so that every backend behaves alike.
 *
 * Every function runs inside the engine's open transaction on the engine
 * thread, and writes nothing unless it succeeds, except where a lease is
 * found expired: that expiry is a real change and stays. On failure it
 * returns a cairn_status with a message in msg (LC_MSG_MAX bytes); store
 * faults carry store_errmsg().
 */
#ifndef CAIRN_LIFECYCLE_H
#define CAIRN_LIFECYCLE_H

#include "lifecycle/rules.h"
#include "store/store.h"

#define LC_MSG_MAX   256
#define LC_LEASE_MAX 1000 /* tasks per lease request */

struct lease_request {
	const char *const *queues;
	size_t nqueues;
	uint32_t max_tasks;
	const char *worker_id;
	int64_t lease_timeout_ms; /* 0: each task's heartbeat timeout */
};

struct fail_request {
	uint64_t id;
	const char *token;
	const char *error;
	bool non_retryable;
	int64_t retry_delay_ms; /* > 0 overrides the backoff */
};

/* How a lease is given back before it ends (lifecycle_release). */
struct release_request {
	uint64_t id;
	const char *token;
	const char *reason; /* history; NULL or "": "released" */
	/* false: PENDING and due now, the attempt not counted; true: a
	 * retryable failure under the task's retry policy. */
	bool count_attempt;
	/* The server ends the lease because the connection that took it
	 * closed: counted, with the cause "worker disconnected". */
	bool disconnected;
};

/* lifecycle_enqueue creates n tasks (defaults applied to specs in place)
 * and writes ids and created flags. */
int lifecycle_enqueue(struct store *s, struct task_spec *specs, size_t n,
    int64_t now, uint64_t *ids, bool *created, char *msg);

/* lifecycle_lease leases due tasks; *out (task_array_free) holds *n tasks
 * with lease_token and lease_deadline_ms set. */
int lifecycle_lease(struct store *s, const struct lease_request *req,
    int64_t now, struct task ***out, size_t *n, char *msg);

int lifecycle_heartbeat(struct store *s, uint64_t id, const char *token,
    const uint8_t *details, size_t details_len, int64_t now,
    bool *cancel_requested, int64_t *deadline, char *msg);

int lifecycle_complete(struct store *s, uint64_t id, const char *token,
    const uint8_t *result, size_t result_len, int64_t now, char *msg);

/* lifecycle_complete_q is lifecycle_complete that also copies the task's
 * queue into queue (TASK_QUEUE_MAX + 1 bytes) when it returns OK, so that
 * the next task of that queue can be leased in the same transaction. */
int lifecycle_complete_q(struct store *s, uint64_t id, const char *token,
    const uint8_t *result, size_t result_len, int64_t now, char *queue,
    char *msg);

int lifecycle_fail(struct store *s, const struct fail_request *req,
    int64_t now, cairn_state *state, int64_t *run_at, char *msg);

int lifecycle_cancel(
    struct store *s, uint64_t id, int64_t now, cairn_state *state, char *msg);

/* lifecycle_retry puts a FAILED or CANCELED task back to PENDING with a
 * fresh attempt budget; *out (task_free) is the task after it. */
int lifecycle_retry(
    struct store *s, uint64_t id, int64_t now, struct task **out, char *msg);

/* lifecycle_release ends the lease of task id under token as req says
 * and writes the task's state after it (and run_at when PENDING), and its
 * queue into queue (TASK_QUEUE_MAX + 1 bytes). A repeated release with
 * the same token answers OK. */
int lifecycle_release(struct store *s, const struct release_request *req,
    int64_t now, cairn_state *state, int64_t *run_at, char *queue, char *msg);

/* lifecycle_expire ends up to limit leases whose deadline has passed, as
 * if each attempt had failed with "lease expired", and sets *n. */
int lifecycle_expire(
    struct store *s, int64_t now, uint32_t limit, size_t *n, char *msg);

#endif /* CAIRN_LIFECYCLE_H */
