/*
 * store/store_sched.h - the storage interface of cron schedules: one row
 * per schedule, with the task each tick enqueues and when it fires next.
 * A backend's store_ops points at its struct store_sched_ops (a third
 * table, as workflows have theirs); a backend without schedules leaves it
 * NULL and their rpcs answer UNIMPLEMENTED.
 *
 * The rules of store.h hold: one thread, inside the engine's transaction,
 * time passed in, cairn_status returns with detail in store_errmsg(),
 * outputs written only on success. load locks the row for update where the
 * backend has locks (PostgreSQL), and pick_due skips rows that another
 * server holds, so that two servers never fire one schedule at once.
 * Every member is required.
 */
#ifndef CAIRN_STORE_SCHED_H
#define CAIRN_STORE_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/task.h"

/* What a schedule does with ticks it missed (the server was down). */
enum sched_missed {
	SCHED_MISSED_FIRE_ONCE = 1, /* one task for the latest of them */
	SCHED_MISSED_SKIP = 2,      /* none; the next tick fires */
};

/* A schedule. Every pointer is owned by the struct (schedule_clear). */
struct schedule {
	char *name;
	char *cron;  /* as given: 5 fields, a macro, or "@every DUR" */
	char *zone;  /* IANA name; "": UTC */
	char *queue; /* what each tick enqueues: */
	uint8_t *payload;
	size_t payload_len;
	int32_t priority;
	uint32_t max_attempts; /* 0: the default */
	struct retry_policy retry;
	int64_t heartbeat_timeout_ms;
	int64_t start_to_close_ms;
	int missed; /* enum sched_missed */
	bool paused;
	int64_t next_fire_ms;  /* the next tick */
	int64_t last_fire_ms;  /* the last tick that enqueued; 0: none */
	uint64_t last_task_id; /* and its task */
	int64_t created_ms;
	int64_t updated_ms;
};

struct store;

struct store_sched_ops {
	/* insert creates sc; ALREADY_EXISTS when a schedule has its name. */
	int (*insert)(struct store *s, const struct schedule *sc);
	/* load reads schedule name into *out (schedule_clear frees it);
	 * NOT_FOUND when there is none. */
	int (*load)(struct store *s, const char *name, struct schedule *out);
	/* save writes back every field of sc but its name and created_ms. */
	int (*save)(struct store *s, const struct schedule *sc);
	/* remove deletes schedule name; NOT_FOUND when there is none. */
	int (*remove)(struct store *s, const char *name);
	/* list returns every schedule, by name, as an array of *n
	 * (schedules_free). */
	int (*list)(struct store *s, struct schedule **out, size_t *n);
	/* pick_due returns the names of up to max schedules, not paused,
	 * whose next tick is <= now, as an array of *n (names_free). */
	int (*pick_due)(struct store *s, int64_t now, uint32_t max,
	    char ***names, size_t *n);
	/* next_fire sets *at to the earliest next tick of the schedules not
	 * paused (TASK_TIME_NEVER: none). */
	int (*next_fire)(struct store *s, int64_t *at);
};

/* schedule_clear frees what sc owns and zeroes it; schedules_free frees
 * an array of n; names_free an array of n names (store/task.c). */
void schedule_clear(struct schedule *sc);
void schedules_free(struct schedule *v, size_t n);
void names_free(char **v, size_t n);

#endif /* CAIRN_STORE_SCHED_H */
