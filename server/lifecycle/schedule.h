/*
 * lifecycle/schedule.h - the rules of cron schedules, above the store
 * (store/store_sched.h): adding, pausing, resuming and deleting them, and
 * firing their ticks. Each tick enqueues one task whose idempotency key is
 * "schedule:<name>:<the tick's Unix time in seconds>", in the transaction
 * that moves the schedule to its next tick, so that a tick enqueues
 * exactly one task across restarts and any number of servers.
 *
 * Missed ticks (no server was running, or the schedule's server fell
 * behind): with SCHED_MISSED_FIRE_ONCE, the latest tick that is due fires
 * and the earlier ones are dropped; with SCHED_MISSED_SKIP, the latest
 * fires only when it is on time (at most SCHED_ON_TIME_MS late). Either
 * way the schedule then waits for its first tick after now.
 *
 * Same conventions as lifecycle.h: engine thread, inside the open
 * transaction, a cairn_status and a message in msg (LC_MSG_MAX).
 */
#ifndef CAIRN_LIFECYCLE_SCHEDULE_H
#define CAIRN_LIFECYCLE_SCHEDULE_H

#include "lifecycle/lifecycle.h"

#define SCHED_ON_TIME_MS 5000 /* a tick fired later than this is late */
#define SCHED_NAME_MAX   128

/* lifecycle_sched_add stores sc (cron and zone already checked; the
 * times are set here): ALREADY_EXISTS when the name is taken, unless
 * replace, which keeps the old one's creation time and last tick;
 * INVALID_ARGUMENT when its queue has no tasks and no settings, unless
 * create_queue. *out (schedule_clear) is the schedule as stored. */
int lifecycle_sched_add(struct store *s, const struct schedule *sc,
    bool replace, bool create_queue, int64_t now, struct schedule *out,
    char *msg);

/* lifecycle_sched_pause pauses (paused true) or resumes schedule name; a
 * resumed schedule waits for its first tick after now. *out as above. */
int lifecycle_sched_pause(struct store *s, const char *name, bool paused,
    int64_t now, struct schedule *out, char *msg);

/* lifecycle_sched_delete deletes schedule name; its tasks stay. */
int lifecycle_sched_delete(struct store *s, const char *name, char *msg);

/* lifecycle_sched_fire fires the due ticks of up to limit schedules and
 * sets *n to how many tasks it enqueued. */
int lifecycle_sched_fire(
    struct store *s, int64_t now, uint32_t limit, size_t *n, char *msg);

/* lifecycle_sched_next returns the tick of sc after `after`, or
 * TASK_TIME_NEVER when its cron text no longer parses or has none. */
int64_t lifecycle_sched_next(const struct schedule *sc, int64_t after);

#endif /* CAIRN_LIFECYCLE_SCHEDULE_H */
