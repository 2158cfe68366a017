/*
 * lifecycle/limits.h - what a queue's settings (store/store_queue.h) do to
 * the tasks of the queue: how many a lease may take now (paused,
 * max_active, the token bucket of the rate limit), and the defaults that
 * an enqueue without its own values takes. Inside the engine's
 * transaction, on the engine thread.
 */
#ifndef CAIRN_LIFECYCLE_LIMITS_H
#define CAIRN_LIFECYCLE_LIMITS_H

#include "store/store.h"

/* The limits of one queue for one lease. */
struct queue_gate {
	bool limited;            /* the queue has limits (q is read) */
	struct queue_settings q; /* with its bucket refilled to now */
	uint32_t allowed;        /* tasks the lease may take now */
	uint32_t want;           /* tasks it asked for */
	bool by_active;          /* max_active bounds allowed */
};

/* lc_gate_open reads the limits of queue (locking them where servers
 * share the database) and sets g->allowed to how many of want tasks a
 * lease may take at now. */
int lc_gate_open(struct store *s, const char *queue, int64_t now,
    uint32_t want, struct queue_gate *g);

/* lc_gate_close charges the lease's taken tasks to the queue's bucket,
 * and when the limits held the lease back, notes for the engine when to
 * try again (store_note_held). */
int lc_gate_close(
    struct store *s, const struct queue_gate *g, uint32_t taken, int64_t now);

/* lc_bucket_refill returns the credit of q's bucket at now (full when
 * never drawn from). */
int64_t lc_bucket_refill(const struct queue_settings *q, int64_t now);

/* The settings of the last queue that lc_queue_defaults read, so that a
 * batch of tasks of one queue reads them once. Zeroed: none read. */
struct queue_defaults {
	bool read, found;
	struct queue_settings q;
};

/* lc_queue_defaults fills the fields that spec leaves at zero with the
 * defaults of its queue's settings, when it has any (read into qd, or
 * taken from it when it holds that queue's). */
int lc_queue_defaults(
    struct store *s, struct queue_defaults *qd, struct task_spec *spec);

#endif /* CAIRN_LIFECYCLE_LIMITS_H */
