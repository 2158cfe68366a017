/*
 * store/store_queue.h - per-queue settings in the storage interface: the
 * limits that leases obey (paused, max_active, a rate limit) and the
 * defaults of the tasks enqueued into a queue, one row per configured
 * queue. A queue without a row has no limits and the server's defaults.
 *
 * The row also holds the queue's token bucket, so that every server that
 * shares the database draws from one bucket: PostgreSQL locks the row for
 * the lease's transaction (store_queue_ops.get with lock), which makes
 * servers take turns at a limited queue and see each other's leases.
 */
#ifndef CAIRN_STORE_QUEUE_H
#define CAIRN_STORE_QUEUE_H

#include <stdbool.h>
#include <stdint.h>

#include "store/task.h"

/* Bounds of the settings, checked by the rpc layer (rpc/validate.c). */
#define QUEUE_MAX_ACTIVE_MAX 1000000
#define QUEUE_RATE_MAX       1000000
#define QUEUE_INTERVAL_MAX   86400000 /* a day, in ms */

struct queue_settings {
	char queue[TASK_QUEUE_MAX + 1];
	bool paused;         /* leases take nothing; enqueues go on */
	uint32_t max_active; /* ACTIVE tasks at most; 0: no limit */
	uint32_t rate_count; /* tasks leased per rate_interval_ms; 0: none */
	int64_t rate_interval_ms;
	uint32_t rate_burst; /* the bucket's size; 0: rate_count */
	/* Defaults of tasks enqueued without their own value; 0: the
	 * server's (lifecycle/rules.c). */
	uint32_t max_attempts;
	struct retry_policy retry;
	int64_t heartbeat_timeout_ms;
	int64_t start_to_close_ms;
	int64_t updated_ms;
	/* The token bucket, kept as credit in task-milliseconds (a token is
	 * worth rate_interval_ms of credit, and credit grows by rate_count
	 * per ms), as it was at bucket_at_ms: integers, so that every server
	 * computes the same. */
	int64_t bucket_credit;
	int64_t bucket_at_ms;
};

/* The fields of struct queue_settings that a change names (SetQueue's
 * fields), as bits. */
enum queue_field {
	QUEUE_F_PAUSED = 1 << 0,
	QUEUE_F_MAX_ACTIVE = 1 << 1,
	QUEUE_F_RATE = 1 << 2, /* count, interval and burst */
	QUEUE_F_MAX_ATTEMPTS = 1 << 3,
	QUEUE_F_RETRY = 1 << 4,
	QUEUE_F_HEARTBEAT = 1 << 5,
	QUEUE_F_START_TO_CLOSE = 1 << 6,
	QUEUE_F_ALL_ = (1 << 7) - 1
};

/* queue_settings_limited says whether leases of the queue obey a limit. */
static inline bool
queue_settings_limited(const struct queue_settings *q)
{
	return (q->paused || q->max_active > 0 || q->rate_count > 0);
}

struct store;

/*
 * The calls on per-queue settings, made on the engine thread inside its
 * transaction like every store_ops call; each may block.
 */
struct store_queue_ops {
	/* get reads the settings of queue into *out; NOT_FOUND when it has
	 * none. With lock, it reads only a row that limits leases (NOT_FOUND
	 * otherwise) and locks it until the transaction ends where other
	 * servers share the database, so that their leases of the queue wait
	 * for this transaction's. */
	int (*get)(struct store *s, const char *queue, bool lock,
	    struct queue_settings *out);
	/* put creates or replaces the row of q->queue (bucket included). */
	int (*put)(struct store *s, const struct queue_settings *q);
	/* list returns every configured queue, sorted by name, as an array
	 * of *n (caller free()s it). */
	int (*list)(struct store *s, struct queue_settings **out, size_t *n);
	/* active sets *n to the ACTIVE tasks of queue, this transaction's
	 * leases included. */
	int (*active)(struct store *s, const char *queue, uint32_t *n);
	/* bucket saves the token bucket of queue's row. */
	int (*bucket)(
	    struct store *s, const char *queue, int64_t credit, int64_t at);
};

#endif /* CAIRN_STORE_QUEUE_H */
