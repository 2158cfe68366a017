/*
 * ops/activity.h - what the workers of each queue did lately: attempts that
 * succeeded and attempts that failed (an error or an expired lease, retried
 * or not), in buckets of ACTIVITY_BUCKET_MS over the last ACTIVITY_BUCKETS
 * buckets, for the dashboard's throughput chart (ops/api.c).
 *
 * The task rules count each outcome as they apply it, inside the engine's
 * transaction (as metrics.h counts lease expiries), at the engine's clock.
 * Counting outcomes where they happen, rather than sampling counts of the
 * store, costs no read of the store, sees every attempt (a retried one
 * leaves no trace in the counts by state) and is not thrown off by the
 * pruning of finished tasks; the chart is there as soon as a page opens.
 * The numbers are this process's, like the process they describe: with
 * several cairnd on one PostgreSQL, each counts what it applied. They
 * start empty at each start of the process.
 */
#ifndef CAIRN_ACTIVITY_H
#define CAIRN_ACTIVITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACTIVITY_BUCKET_MS 10000
#define ACTIVITY_BUCKETS   60 /* ten minutes */
#define ACTIVITY_QUEUES                                                       \
	1024 /* queues followed at most; later ones are                       \
	        not counted */

/* What the workers of one queue did, bucket by bucket, oldest first; the
 * last bucket is the one that holds `now` of activity_read. */
struct activity {
	uint32_t succeeded[ACTIVITY_BUCKETS];
	uint32_t failed[ACTIVITY_BUCKETS];
};

/* activity_note counts one attempt of a task of queue that ended at now
 * (ms since the epoch): succeeded, or failed. Thread-safe; called by the
 * task rules on the engine thread. */
void activity_note(const char *queue, int64_t now, bool succeeded);

/* activity_read writes into *out what queue's workers did in the buckets
 * up to the one that holds now; zeros for a queue never counted. Returns
 * whether the queue was counted at all. Thread-safe. */
bool activity_read(const char *queue, int64_t now, struct activity *out);

#endif /* CAIRN_ACTIVITY_H */
