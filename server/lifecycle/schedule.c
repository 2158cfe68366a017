/*
 * lifecycle/schedule.c - cron schedules above the store (schedule.h):
 * their changes, and the firing of their ticks from the engine's
 * housekeeping.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lifecycle/cron.h"
#include "lifecycle/schedule.h"
#include "lifecycle/util.h"
#include "ops/metrics.h"

#define TICKS_MAX 100000 /* missed ticks counted at most, then guessed */

int64_t
lifecycle_sched_next(const struct schedule *sc, int64_t after)
{
	struct cron c;
	char err[128];

	if (!cron_parse(sc->cron, &c, err, sizeof(err))) {
		return (TASK_TIME_NEVER);
	}
	int64_t t = cron_next(&c, sc->zone, after);
	return (t == INT64_MAX ? TASK_TIME_NEVER : t);
}

/* copy makes *out a deep copy of sc. */
static int
copy(const struct schedule *sc, struct schedule *out)
{
	*out = *sc;
	out->name = strdup(sc->name);
	out->cron = strdup(sc->cron);
	out->zone = strdup(sc->zone != NULL ? sc->zone : "");
	out->queue = strdup(sc->queue);
	out->payload = sc->payload_len > 0 ? malloc(sc->payload_len) : NULL;
	if (out->payload != NULL) {
		memcpy(out->payload, sc->payload, sc->payload_len);
	}
	if (out->name == NULL || out->cron == NULL || out->zone == NULL
	    || out->queue == NULL
	    || (sc->payload_len > 0 && out->payload == NULL)) {
		schedule_clear(out);
		return (CAIRN_RESOURCE_EXHAUSTED);
	}
	return (CAIRN_OK);
}

/* queue_known says whether queue holds a task (of any state) or has
 * settings: a queue that has neither is most likely a typing error. */
static int
queue_known(struct store *s, const char *queue, bool *yes)
{
	struct task **tasks = NULL;
	struct queue_settings q;
	size_t n = 0;
	int rv = store_list(s, queue, 0, 1, 0, &tasks, &n);

	if (rv != CAIRN_OK) {
		return (rv);
	}
	task_array_free(tasks, n);
	*yes = n > 0;
	if (!*yes && store_has_queues(s)) {
		rv = store_queue_get(s, queue, false, &q);
		*yes = rv == CAIRN_OK;
		rv = rv == CAIRN_NOT_FOUND ? CAIRN_OK : rv;
	}
	return (rv);
}

int
lifecycle_sched_add(struct store *s, const struct schedule *sc, bool replace,
    bool create_queue, int64_t now, struct schedule *out, char *msg)
{
	struct schedule old = { 0 }, row = *sc;
	bool known = create_queue;
	int rv;

	if (!known && (rv = queue_known(s, sc->queue, &known)) != 0) {
		return (lc_fault(s, rv, msg));
	}
	if (!known) {
		return (lc_refuse(CAIRN_INVALID_ARGUMENT, msg,
		    "task.queue: unknown queue '%s' (no tasks and no "
		    "settings); set create_queue (the CLI's --create-queue) "
		    "to schedule into a new queue",
		    sc->queue));
	}
	row.created_ms = row.updated_ms = now;
	row.last_fire_ms = 0;
	row.last_task_id = 0;
	row.next_fire_ms = lifecycle_sched_next(sc, now);
	if (replace && (rv = store_sched_load(s, sc->name, &old)) == 0) {
		row.created_ms = old.created_ms;
		row.last_fire_ms = old.last_fire_ms;
		row.last_task_id = old.last_task_id;
		rv = store_sched_save(s, &row);
		schedule_clear(&old);
	} else if (replace && rv != CAIRN_NOT_FOUND) {
		return (lc_fault(s, rv, msg));
	} else {
		rv = store_sched_insert(s, &row);
	}
	if (rv != CAIRN_OK) {
		return (lc_fault(s, rv, msg));
	}
	if (copy(&row, out) != CAIRN_OK) {
		return (lc_refuse(CAIRN_RESOURCE_EXHAUSTED, msg, "no memory"));
	}
	return (CAIRN_OK);
}

int
lifecycle_sched_pause(struct store *s, const char *name, bool paused,
    int64_t now, struct schedule *out, char *msg)
{
	struct schedule row = { 0 };
	int rv;

	if ((rv = store_sched_load(s, name, &row)) != CAIRN_OK) {
		return (lc_fault(s, rv, msg));
	}
	if (row.paused != paused) {
		row.paused = paused;
		row.updated_ms = now;
		if (!paused) {
			/* The ticks of the pause are not made up. */
			row.next_fire_ms = lifecycle_sched_next(&row, now);
		}
		if ((rv = store_sched_save(s, &row)) != CAIRN_OK) {
			schedule_clear(&row);
			return (lc_fault(s, rv, msg));
		}
	}
	*out = row;
	return (CAIRN_OK);
}

int
lifecycle_sched_delete(struct store *s, const char *name, char *msg)
{
	int rv = store_sched_remove(s, name);

	return (rv == CAIRN_OK ? rv : lc_fault(s, rv, msg));
}

/* latest returns the latest tick of sc that is <= now (sc's next tick is
 * one). */
static int64_t
latest(const struct schedule *sc, int64_t now)
{
	int64_t t = sc->next_fire_ms;

	for (uint32_t i = 0; i < TICKS_MAX; i++) {
		int64_t next = lifecycle_sched_next(sc, t);
		if (next > now) {
			return (t);
		}
		t = next;
	}
	return (t); /* down for very long: a late tick, as good as any */
}

/* enqueue_tick enqueues the task of sc's tick, due now; *id is its. */
static int
enqueue_tick(struct store *s, const struct schedule *sc, int64_t tick,
    int64_t now, uint64_t *id, char *msg)
{
	char key[SCHED_NAME_MAX + 48];
	bool created;
	struct task_spec spec = {
		.queue = sc->queue,
		.payload = sc->payload,
		.payload_len = sc->payload_len,
		.priority = sc->priority,
		.max_attempts = sc->max_attempts,
		.retry = sc->retry,
		.heartbeat_timeout_ms = sc->heartbeat_timeout_ms,
		.start_to_close_ms = sc->start_to_close_ms,
		.idempotency_key = key,
	};

	snprintf(key, sizeof(key), "schedule:%s:%lld", sc->name,
	    (long long) (tick / 1000));
	int rv = lifecycle_enqueue(s, &spec, 1, now, id, &created, msg);
	if (rv == CAIRN_OK && created) {
		store_note_due(s, sc->queue); /* a parked lease may take it */
	}
	return (rv);
}

/* fire_one fires the due ticks of schedule name, if it is still due
 * once locked; *n counts the tasks enqueued. */
static int
fire_one(struct store *s, const char *name, int64_t now, size_t *n, char *msg)
{
	struct schedule sc = { 0 };
	uint64_t id = 0;
	int rv;

	if ((rv = store_sched_load(s, name, &sc)) != CAIRN_OK) {
		/* Deleted since the pick: nothing to fire. */
		return (
		    rv == CAIRN_NOT_FOUND ? CAIRN_OK : lc_fault(s, rv, msg));
	}
	if (sc.paused || sc.next_fire_ms > now) {
		schedule_clear(&sc);
		return (CAIRN_OK); /* another server fired it meanwhile */
	}
	int64_t tick = latest(&sc, now);
	bool fire
	    = sc.missed != SCHED_MISSED_SKIP || now - tick <= SCHED_ON_TIME_MS;
	if (fire
	    && (rv = enqueue_tick(s, &sc, tick, now, &id, msg)) != CAIRN_OK) {
		schedule_clear(&sc);
		return (rv);
	}
	if (fire) {
		metrics_schedule_tick();
		sc.last_fire_ms = tick;
		sc.last_task_id = id;
		(*n)++;
	}
	sc.next_fire_ms = lifecycle_sched_next(&sc, now);
	sc.updated_ms = now;
	rv = store_sched_save(s, &sc);
	schedule_clear(&sc);
	return (rv == CAIRN_OK ? rv : lc_fault(s, rv, msg));
}

int
lifecycle_sched_fire(
    struct store *s, int64_t now, uint32_t limit, size_t *n, char *msg)
{
	char **names;
	size_t got;
	int rv;

	*n = 0;
	if ((rv = store_sched_pick_due(s, now, limit, &names, &got)) != 0) {
		return (lc_fault(s, rv, msg));
	}
	for (size_t i = 0; i < got && rv == CAIRN_OK; i++) {
		rv = fire_one(s, names[i], now, n, msg);
	}
	names_free(names, got);
	return (rv);
}
